/**
 * An `EventLog` on Redis Streams, so several server instances serve one resumable SSE stream: an
 * event appended on any instance reaches subscribers on every instance, and a client that
 * reconnects to another instance resumes after its `Last-Event-ID`. Switching from the in-memory
 * log is one `Layer`.
 *
 * - Append is `XADD` (through a small Lua script that also records the previous entry's id); the
 *   event's id is the Redis entry id (`"1718000000000-0"`), monotonic and resumable everywhere.
 * - Appends are batched: the appends waiting when a call is prepared go in one script call (one
 *   round trip, ids in call order), a few calls in flight; at most `maxPendingAppends` wait.
 * - Subscribe replays with `XRANGE` after the id (exclusive), then follows live entries: one
 *   blocking `XREAD` connection per log and instance decodes each entry once into a bounded window
 *   of the newest entries shared by the instance's subscribers; a live subscriber takes everything
 *   new in one chunk per pull, only when its downstream pulls, and one behind the window reads
 *   pages of `batchSize` entries from Redis with `XRANGE`. A slow client never makes the instance
 *   read unboundedly.
 * - Retention: `XADD MAXLEN` (approximate `~` by default) and `XTRIM MINID` by age. An id whose
 *   successors were trimmed gives the same `Reset` ("expired") as the in-memory log; an id that is
 *   not a stream id, or lies in the future, gives "unknown".
 * - Connection failures are retried on a `Schedule` from the last delivered id (ioredis reconnects);
 *   other failures are `EventLogError`s.
 *
 * @since 0.1.0
 */
import { EventLog } from "@streamwire/server"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import * as internal from "./internal/redisLog.js"

/**
 * How long entries stay in the stream. Both limits may be set; an entry goes when either says so.
 *
 * @example
 * ```ts
 * import type { RedisEventLog } from "@streamwire/redis"
 *
 * const retention: RedisEventLog.Retention = { maxLength: 10_000, minAge: "1 hour" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Retention {
  /** Trim to about this many entries on every append (`XADD MAXLEN ~ n`). Default: no limit by count. */
  readonly maxLength?: number | undefined
  /** Trim entries older than this (by their id's timestamp, Redis time) on every append (`XTRIM MINID`). */
  readonly minAge?: Duration.DurationInput | undefined
  /**
   * Trim exactly (`=`) instead of approximately (`~`). Approximate trimming is much cheaper for
   * Redis and keeps at least the limit; exact trimming keeps exactly the limit. Default `false`.
   */
  readonly exact?: boolean | undefined
}

/**
 * Options of a Redis event log.
 *
 * @example
 * ```ts
 * import type { RedisEventLog } from "@streamwire/redis"
 *
 * const options: RedisEventLog.Options = {
 *   url: "redis://127.0.0.1:6379",
 *   key: "streamwire:prices",
 *   retention: { maxLength: 10_000 }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A `redis://` / `rediss://` URL (default: ioredis's default, `127.0.0.1:6379`). */
  readonly url?: string | undefined
  /** ioredis options (host, port, password, tls, retryStrategy, ...); merged with the URL. */
  readonly redis?: RedisOptions | undefined
  /** The stream key: one key per topic. */
  readonly key: string
  /** See {@link Retention}. Default: keep everything (set a limit in production). */
  readonly retention?: Retention | undefined
  /**
   * Most entries per `XRANGE` page (`COUNT`): the replay's first page, and the pages of a subscriber
   * that is behind the shared window; default 100. The tail's `XREAD` reads up to 1,000 (or this,
   * if larger).
   */
  readonly batchSize?: number | undefined
  /**
   * Newest entries kept in memory, shared by the instance's live subscribers; default 1,000. At
   * least the last page the tail read is kept (0: only that).
   */
  readonly cacheSize?: number | undefined
  /** How long one `XREAD BLOCK` waits before it is reissued; default 5 seconds. */
  readonly blockTimeout?: Duration.DurationInput | undefined
  /**
   * How reads retry transient failures (connection lost, Redis loading its data) from the last
   * delivered id. Default: exponential from 50 ms, capped at 2 s, forever. When a bounded schedule
   * gives up, the subscription fails with an `EventLogError`.
   */
  readonly retry?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * How long the layer waits at start for Redis to answer (a `PING`); then it fails with an
   * `EventLogError` whose cause, a {@link RedisUnreachable}, names the URL (password redacted) and
   * the last connection error. Default 5 seconds.
   */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /**
   * Appends waiting to be sent to Redis, at most (appends are sent in batches, one script call per
   * batch, a few calls in flight). Past it an append fails at once with an `EventLogError` whose
   * cause is an {@link AppendQueueFull}. Default 10,000.
   */
  readonly maxPendingAppends?: number | undefined
}

/**
 * The cause of the `EventLogError` a subscription fails with when the entry after its position was
 * trimmed before it could read it (it fell behind retention), or the stream was recreated. An SSE
 * client then reconnects with its `Last-Event-ID` and gets a `Reset`.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 * import type { EventLog } from "@streamwire/server"
 *
 * const fellBehind = (error: EventLog.EventLogError) => error.cause instanceof RedisEventLog.StreamGap
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const StreamGap: typeof internal.StreamGap = internal.StreamGap

/**
 * The type of {@link StreamGap} errors: `key`, the subscriber's position `after`, and the `next`
 * retained entry with the id it follows (`nextPrev`).
 *
 * @example
 * ```ts
 * import type { RedisEventLog } from "@streamwire/redis"
 *
 * const describe = (gap: RedisEventLog.StreamGap) => `${gap.key}: nothing retained right after ${gap.after}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type StreamGap = internal.StreamGap

/**
 * The cause of the `EventLogError` an append fails with when `maxPendingAppends` appends already
 * wait to be sent (Redis does not keep up with the appenders, or is unreachable).
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 * import type { EventLog } from "@streamwire/server"
 *
 * const overloaded = (error: EventLog.EventLogError) => error.cause instanceof RedisEventLog.AppendQueueFull
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const AppendQueueFull: typeof internal.AppendQueueFull = internal.AppendQueueFull

/**
 * The type of {@link AppendQueueFull} errors: the stream `key` and the `limit` reached.
 *
 * @example
 * ```ts
 * import type { RedisEventLog } from "@streamwire/redis"
 *
 * const describe = (e: RedisEventLog.AppendQueueFull) => `${e.key}: more than ${e.limit} appends pending`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type AppendQueueFull = internal.AppendQueueFull

/**
 * A log on one stream key, for the life of the scope: two Redis connections (commands, and one
 * blocking reader), closed with the scope (`QUIT`). Fails with an `EventLogError` when Redis
 * cannot be reached at all.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 * import { SseResponse } from "@streamwire/server"
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const router = Effect.gen(function*() {
 *   const prices = yield* RedisEventLog.make({ url: "redis://127.0.0.1:6379", key: "prices" })
 *   const news = yield* RedisEventLog.make({ url: "redis://127.0.0.1:6379", key: "news" })
 *   return HttpRouter.empty.pipe(
 *     HttpRouter.get("/prices", SseResponse.fromEventLog(prices)),
 *     HttpRouter.get("/news", SseResponse.fromEventLog(news))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<EventLog.EventLog, EventLog.EventLogError, Scope.Scope> =
  internal.make

/**
 * The log as a scoped `Layer` of the server's `EventLog` service: the drop-in replacement for
 * `MemoryEventLog.layer()`.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 * import { EventLog } from "@streamwire/server"
 * import { Effect } from "effect"
 *
 * const program = Effect.flatMap(EventLog.EventLog, (log) => log.append({ type: "tick", data: "1" })).pipe(
 *   Effect.provide(RedisEventLog.layer({ url: "redis://127.0.0.1:6379", key: "ticks", retention: { maxLength: 1000 } }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<EventLog.EventLog, EventLog.EventLogError> =>
  Layer.scoped(EventLog.EventLog, make(options))

/**
 * The cause of the `EventLogError` the layer fails with when Redis does not answer within
 * `connectTimeout` (an unreachable host, a wrong port or URL, a server that is not Redis): the
 * URL with its password redacted, the timeout, and the last connection error.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 * import type { EventLog } from "@streamwire/server"
 *
 * const unreachable = (error: EventLog.EventLogError) => error.cause instanceof RedisEventLog.RedisUnreachable
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const RedisUnreachable: typeof internal.RedisUnreachable = internal.RedisUnreachable

/**
 * The type of {@link RedisUnreachable} errors.
 *
 * @example
 * ```ts
 * import type { RedisEventLog } from "@streamwire/redis"
 *
 * const where = (e: RedisEventLog.RedisUnreachable) => `${e.url}: ${e.message}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type RedisUnreachable = internal.RedisUnreachable

/**
 * The name of the environment variable {@link layerFromEnv} reads the URL from.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 *
 * const enabled = process.env[RedisEventLog.URL_VARIABLE] !== undefined
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const URL_VARIABLE = "STREAMWIRE_REDIS_URL"

/**
 * The name of the environment variable {@link layerFromEnv} reads the stream key from.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 *
 * const key = process.env[RedisEventLog.KEY_VARIABLE] ?? "streamwire:events"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const KEY_VARIABLE = "STREAMWIRE_REDIS_KEY"

/**
 * A Redis log when `STREAMWIRE_REDIS_URL` is set (the key from `STREAMWIRE_REDIS_KEY`, else
 * `options.key`, else `"streamwire:events"`), else the `fallback` layer. Read through Effect's
 * `Config`, so a `ConfigProvider` can supply them.
 *
 * @example
 * ```ts
 * import { RedisEventLog } from "@streamwire/redis"
 * import { MemoryEventLog } from "@streamwire/server"
 *
 * // Redis when STREAMWIRE_REDIS_URL is set, the in-memory log otherwise
 * const EventLogLive = RedisEventLog.layerFromEnv(MemoryEventLog.layer(), { retention: { maxLength: 10_000 } })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = <E, R>(
  fallback: Layer.Layer<EventLog.EventLog, E, R>,
  options?: Partial<Options>
): Layer.Layer<EventLog.EventLog, E | EventLog.EventLogError | ConfigError.ConfigError, R> =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const url = yield* Config.option(Config.nonEmptyString(URL_VARIABLE))
      if (Option.isNone(url)) return fallback
      const key = yield* Config.option(Config.nonEmptyString(KEY_VARIABLE))
      const resolvedKey = Option.getOrElse(key, () => options?.key ?? "streamwire:events")
      yield* Effect.logInfo(`EventLog: Redis stream "${resolvedKey}" at ${redactUrl(url.value)}`)
      return layer({ ...options, url: url.value, key: resolvedKey }) as Layer.Layer<
        EventLog.EventLog,
        E | EventLog.EventLogError,
        R
      >
    })
  )

const redactUrl = internal.redactUrl

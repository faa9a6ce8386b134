/**
 * `EventLog`: a log of events with ids, that any connection can follow from an id on. A
 * subscription replays what the log still retains after that id, then goes on with live events,
 * with no gap and no duplicate even when appends race the subscription. An id the log no longer
 * retains is never a silent gap: the subscription starts with a {@link Reset}.
 *
 * This module is the interface only. `MemoryEventLog` is the embedded implementation; an external
 * engine (Redis Streams, a database table) implements the same interface and runs the same
 * contract tests (`eventLogContract` of `@streamwire/server/testing`).
 *
 * @since 0.1.0
 */
import type { Sse } from "@streamwire/codec"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"

/**
 * What to append: the data, and the event type (`"message"` when absent). The log assigns the id.
 *
 * @example
 * ```ts
 * import type { EventLog } from "@streamwire/server"
 *
 * const input: EventLog.EventInput = { type: "tick", data: JSON.stringify({ n: 1 }) }
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface EventInput {
  readonly data: string
  readonly type?: string | undefined
}

/**
 * The first element of a subscription whose `after` id the log cannot resume from: `"expired"`
 * when the events after it have fallen out of retention, `"unknown"` when the log never issued it
 * (another log, a restarted in-memory log, an id from the future, garbage). What follows the reset
 * is everything the log still retains, then live events: the app should drop its state and
 * rebuild it from there.
 *
 * @example
 * ```ts
 * import { EventLog } from "@streamwire/server"
 * import { Effect, Stream } from "effect"
 *
 * const follow = (lastSeen: string) =>
 *   Effect.flatMap(EventLog.EventLog, (log) =>
 *     log.subscribe({ after: lastSeen }).pipe(
 *       Stream.runForEach((item) =>
 *         EventLog.isReset(item) ? Effect.log(`reset (${item.reason}), rebuilding`) : Effect.log(item.data)
 *       )
 *     ))
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Reset {
  readonly _tag: "Reset"
  /** The id the subscriber asked to resume after. */
  readonly requested: string
  readonly reason: "expired" | "unknown"
  /** The oldest id still retained, if any. */
  readonly oldest: Option.Option<string>
}

/**
 * What a subscription carries: events (whose `lastEventId` is their id in the log), and at most
 * one leading {@link Reset}.
 *
 * @since 0.1.0
 * @category model
 */
export type LogItem = Sse.SseEvent | Reset

/**
 * @example
 * ```ts
 * import { EventLog } from "@streamwire/server"
 * import { Option } from "effect"
 *
 * EventLog.isReset({ _tag: "Reset", requested: "7", reason: "expired", oldest: Option.none() }) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isReset = (item: LogItem): item is Reset => item._tag === "Reset"

/**
 * Where a subscription starts.
 *
 * @since 0.1.0
 * @category model
 */
export interface SubscribeOptions {
  /**
   * Resume after this id (e.g. the request's `Last-Event-ID`): what is retained after it, then
   * live. `None`/absent: see `initial`.
   */
  readonly after?: Option.Option<string> | string | undefined
  /**
   * Without an `after` id: `"live"` (default) delivers only events appended from now on,
   * `"retained"` replays everything the log retains first.
   */
  readonly initial?: "live" | "retained" | undefined
}

/**
 * The log's backend failed (an external engine is unreachable, say). The in-memory log never
 * fails; the type is here so other engines can.
 *
 * @example
 * ```ts
 * import { EventLog } from "@streamwire/server"
 *
 * new EventLog.EventLogError({ operation: "append", cause: new Error("connection refused") })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class EventLogError extends Data.TaggedError("EventLogError")<{
  readonly operation: "append" | "subscribe" | "read"
  readonly cause: unknown
}> {
  override get message(): string {
    return `event log ${this.operation} failed: ${String(this.cause)}`
  }
}

/**
 * The service. Ids are opaque strings issued by the log in increasing order; only the log compares
 * them. Appended events come back with their id in `lastEventId`, ready to be written as SSE.
 *
 * @example
 * ```ts
 * import { EventLog, MemoryEventLog } from "@streamwire/server"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const log = yield* EventLog.EventLog
 *   const first = yield* log.append({ type: "tick", data: "1" })
 *   yield* log.append({ type: "tick", data: "2" })
 *   // everything after the first event, then live (take 1 so the example ends)
 *   return yield* log.subscribe({ after: first.lastEventId }).pipe(Stream.take(1), Stream.runCollect)
 * }).pipe(Effect.provide(MemoryEventLog.layer()))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EventLog {
  /** Appends an event; the result carries its id. A type with CR or LF fails with `InvalidField`. */
  readonly append: (event: EventInput) => Effect.Effect<Sse.SseEvent, Sse.InvalidField | EventLogError>
  /** Replay after an id (or not, see {@link SubscribeOptions}), then live; ends only when interrupted. */
  readonly subscribe: (options?: SubscribeOptions) => Stream.Stream<LogItem, EventLogError>
  /** The id of the newest event, if any. */
  readonly lastId: Effect.Effect<Option.Option<string>, EventLogError>
  /** How many subscriptions are running now (in this process). */
  readonly subscriberCount: Effect.Effect<number>
}

/**
 * The tag of the service.
 *
 * @example
 * ```ts
 * import { EventLog } from "@streamwire/server"
 * import { Effect } from "effect"
 *
 * const publish = (n: number) => Effect.flatMap(EventLog.EventLog, (log) => log.append({ type: "tick", data: String(n) }))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const EventLog: Context.Tag<EventLog, EventLog> = Context.GenericTag<EventLog>("@streamwire/server/EventLog")

/**
 * Normalises the `after` option: an empty string means "no id", as `EventSource` sends none.
 *
 * @example
 * ```ts
 * import { EventLog } from "@streamwire/server"
 *
 * EventLog.afterId({ after: "" }) // Option.none()
 * EventLog.afterId({ after: "4" }) // Option.some("4")
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const afterId = (options: SubscribeOptions | undefined): Option.Option<string> => {
  const after = options?.after
  const id = after === undefined ? Option.none() : typeof after === "string" ? Option.some(after) : after
  return Option.filter(id, (s) => s !== "")
}

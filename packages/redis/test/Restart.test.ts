/**
 * Redis restarted mid-stream (its own redis-server, `--appendonly yes` so the data survives):
 * subscribers on two log instances recover from their last delivered id and lose nothing Redis
 * kept; a subscription started while Redis is down begins once it is back.
 */
import { describe, expect, it } from "@effect/vitest"
import { RedisEventLog } from "@streamwire/redis"
import type { EventLog } from "@streamwire/server"
import { Chunk, Effect, Fiber, Logger, LogLevel, Schedule, Stream } from "effect"
import type { RedisOptions } from "ioredis"
import { startRedis } from "./redisServer.js"

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i))

const collect = (log: EventLog.EventLog, options: EventLog.SubscribeOptions, n: number) =>
  log.subscribe(options).pipe(
    Stream.take(n),
    Stream.runCollect,
    Effect.map((items) => Chunk.toArray(items).map((i) => (i._tag === "Reset" ? `reset:${i.reason}` : i.data))),
    Effect.timeout("15 seconds"),
    Effect.fork
  )

const waitFor = (log: EventLog.EventLog, n: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5000
    while ((yield* log.subscriberCount) < n) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${n} subscribers`)
      yield* Effect.sleep("10 millis")
    }
  })

const cases: ReadonlyArray<readonly [string, RedisOptions]> = [
  ["ioredis defaults (offline queue, resend)", {}],
  // without ioredis's queue every call fails while Redis is down: the log's own retry Schedule works
  ["errors surfaced to the log", {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false
  }]
]

describe("Redis restarted mid-stream", () => {
  it.scopedLive.each(cases)(
    "subscribers recover from their position and lose nothing Redis kept: %s",
    ([, redisOptions]) =>
      Effect.gen(function*() {
        const redis = yield* Effect.acquireRelease(
          Effect.promise(() => startRedis({ appendonly: true })),
          (r) => Effect.promise(() => r.dispose())
        )
        const options = { url: redis.url, key: "restart", retention: { maxLength: 1000 }, redis: redisOptions }
        const a = yield* RedisEventLog.make(options)
        // instance B reads page by page from Redis (no cache), small pages
        const b = yield* RedisEventLog.make({ ...options, batchSize: 3, cacheSize: 0 })
        const first = yield* Effect.forEach(range(1, 5), (n) => a.append({ data: n }))

        const liveA = yield* collect(a, {}, 10)
        const replayB = yield* collect(b, { after: first[1]!.lastEventId }, 13)
        yield* waitFor(a, 1)
        yield* waitFor(b, 1)
        yield* Effect.forEach(range(6, 10), (n) => a.append({ data: n }))
        yield* Effect.sleep("200 millis")

        yield* Effect.promise(() => redis.stop())
        // a subscription that starts while Redis is down: its handshake is retried
        const duringOutage = yield* collect(b, { after: first[4]!.lastEventId }, 10)
        yield* Effect.sleep("500 millis")
        yield* Effect.promise(() => redis.start())

        // appends after the restart (ioredis reconnects; queued commands go through)
        // (appends are not retried by the log; without the offline queue the test retries them)
        yield* Effect.forEach(
          range(11, 15),
          (n) => b.append({ data: n }).pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }))
        )

        expect(yield* Fiber.join(liveA)).toEqual(range(6, 15))
        expect(yield* Fiber.join(replayB)).toEqual(range(3, 15))
        expect(yield* Fiber.join(duringOutage)).toEqual(range(6, 15))
        // and after the restart, everything appended before it is still there to resume from
        const again = yield* collect(a, { after: first[0]!.lastEventId }, 14)
        expect(yield* Fiber.join(again)).toEqual(range(2, 15))
      }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)),
    { timeout: 60_000 }
  )
})

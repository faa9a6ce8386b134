/**
 * Batched appends and the shared fan-out: many appends in flight on two instances of one key, many
 * subscribers on each; every subscriber gets every event once, all in the same order (the stream's),
 * whatever the pages the tail read and however far behind a subscriber fell.
 */
import { describe, expect, it } from "@effect/vitest"
import { RedisEventLog } from "@streamwire/redis"
import type { EventLog } from "@streamwire/server"
import { Cause, Chunk, Effect, Exit, Fiber, Option, Stream } from "effect"
import { Redis } from "ioredis"
import { inject } from "vitest"

const url = inject("redisUrl")
let counter = 0
const freshKey = (name: string) => `test:${name}:${process.pid}:${Date.now().toString(36)}:${counter++}`

const idsOf = (items: ReadonlyArray<EventLog.LogItem>) =>
  items.map((item) => (item._tag === "SseEvent" ? item.lastEventId : "reset"))

/** Stream ids in order: by milliseconds, then sequence number. */
const compareIds = (a: string, b: string) => {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint]
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint]
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1
}

const waitForSubscribers = (logs: ReadonlyArray<EventLog.EventLog>, n: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 5000
    while (true) {
      const counts = yield* Effect.forEach(logs, (l) => l.subscriberCount)
      if (counts.reduce((a, b) => a + b, 0) >= n) return
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${n} subscribers`)
      yield* Effect.sleep("5 millis")
    }
  })

const streamIds = (key: string) =>
  Effect.acquireUseRelease(
    Effect.sync(() => new Redis(url)),
    (redis) => Effect.promise(() => redis.xrange(key, "-", "+")),
    (redis) => Effect.promise(() => redis.quit())
  ).pipe(Effect.map((entries) => entries.map(([id]) => id)))

describe("RedisEventLog fan-out", () => {
  it.live(
    "concurrent appends on two instances: each gets its own id; every subscriber gets all, in stream order",
    () =>
      Effect.gen(function*() {
        const key = freshKey("fanout")
        const options: RedisEventLog.Options = { url, key, cacheSize: 50 }
        const logs = [yield* RedisEventLog.make(options), yield* RedisEventLog.make(options)]
        const total = 3000
        const fibers = yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
          logs[i % 2]!.subscribe().pipe(
            // some subscribers are slow: they fall behind the tail's window and read Redis instead
            Stream.zipWithIndex,
            Stream.tap(([, n]) => (i % 5 === 0 && n % 200 === 0 ? Effect.sleep("20 millis") : Effect.void)),
            Stream.map(([item]) =>
              item
            ),
            Stream.take(total),
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.fork
          ))
        yield* waitForSubscribers(logs, 20)
        const appended = yield* Effect.forEach(
          Array.from({ length: total }, (_, n) => n),
          (n) => logs[n % 2]!.append({ type: "n", data: String(n) }),
          { concurrency: 64 }
        )
        const ids = appended.map((e) => e.lastEventId)
        expect(new Set(ids).size).toBe(total)
        const inStream = yield* streamIds(key)
        expect([...ids].sort(compareIds)).toEqual(inStream)
        // each append's event carries its own data under its own id
        const byId = new Map(appended.map((e) => [e.lastEventId, e.data]))
        const got = yield* Fiber.joinAll(fibers).pipe(Effect.timeout("30 seconds"))
        for (const items of got) {
          expect(idsOf(items)).toEqual(inStream)
          for (const item of items) if (item._tag === "SseEvent") expect(item.data).toBe(byId.get(item.lastEventId))
        }
      }).pipe(Effect.scoped),
    60_000
  )

  it.live("appends in one call keep call order: a single appender's events come in its order", () =>
    Effect.gen(function*() {
      const log = yield* RedisEventLog.make({ url, key: freshKey("order") })
      const events = yield* Effect.forEach(
        Array.from({ length: 500 }, (_, n) => String(n)),
        (data) => log.append({ data }),
        { concurrency: "unbounded" }
      )
      const sorted = [...events].sort((a, b) => compareIds(a.lastEventId, b.lastEventId))
      expect(sorted.map((e) => e.data)).toEqual(events.map((e) => e.data))
      const replay = yield* log.subscribe({ initial: "retained" }).pipe(
        Stream.take(500),
        Stream.runCollect,
        Effect.map(Chunk.toArray)
      )
      expect(idsOf(replay)).toEqual(events.map((e) => e.lastEventId))
    }).pipe(Effect.scoped))

  it.live("more appends waiting than maxPendingAppends: the extra ones fail at once with AppendQueueFull", () =>
    Effect.gen(function*() {
      const log = yield* RedisEventLog.make({ url, key: freshKey("full"), maxPendingAppends: 4 })
      const exits = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, n) => String(n)),
        (data) => Effect.exit(log.append({ data })),
        { concurrency: "unbounded" }
      )
      const failures = exits.flatMap((exit) =>
        Exit.isFailure(exit) ? [Option.getOrNull(Cause.failureOption(exit.cause))] : []
      )
      expect(exits.filter(Exit.isSuccess).length).toBeGreaterThanOrEqual(4)
      expect(failures.length).toBeGreaterThan(0)
      for (const failure of failures) {
        expect(failure).toMatchObject({ _tag: "EventLogError", operation: "append" })
        expect(failure !== null && failure._tag === "EventLogError" ? failure.cause : undefined).toBeInstanceOf(
          RedisEventLog.AppendQueueFull
        )
      }
      // the log still works
      const after = yield* log.append({ data: "after" })
      expect(after.lastEventId).toMatch(/^[0-9]+-[0-9]+$/)
    }).pipe(Effect.scoped))

  it.live("a subscriber that leaves is cleaned up while the others go on", () =>
    Effect.gen(function*() {
      const log = yield* RedisEventLog.make({ url, key: freshKey("leave") })
      const stay = yield* Effect.fork(log.subscribe().pipe(Stream.take(40), Stream.runCollect))
      const leave = yield* Effect.fork(log.subscribe().pipe(Stream.take(10), Stream.runCollect))
      yield* waitForSubscribers([log], 2)
      yield* Effect.forEach(Array.from({ length: 40 }, (_, n) => String(n)), (data) => log.append({ data }), {
        concurrency: 8
      })
      expect(Chunk.size(yield* Fiber.join(leave))).toBe(10)
      expect(Chunk.size(yield* Fiber.join(stay))).toBe(40)
      expect(yield* log.subscriberCount).toBe(0)
    }).pipe(Effect.scoped))

  it.live("an entry that does not follow the last delivered one (written by hand) is a StreamGap for a live subscriber", () =>
    Effect.gen(function*() {
      const key = freshKey("handwritten")
      const log = yield* RedisEventLog.make({ url, key })
      const first = yield* log.append({ data: "1" })
      const fiber = yield* Effect.fork(log.subscribe({ after: first.lastEventId }).pipe(Stream.runCollect))
      yield* waitForSubscribers([log], 1)
      yield* log.append({ data: "2" })
      // an entry whose prev is not the entry before it, as an XDEL or another writer would leave
      yield* Effect.acquireUseRelease(
        Effect.sync(() => new Redis(url)),
        (redis) => Effect.promise(() => redis.xadd(key, "*", "type", "message", "data", "x", "prev", "1-1")),
        (redis) => Effect.promise(() => redis.quit())
      )
      const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("5 seconds"))
      const failure = Exit.isFailure(exit) ? Option.getOrNull(Cause.failureOption(exit.cause)) : null
      expect(failure).toMatchObject({ _tag: "EventLogError", operation: "read" })
      expect(failure !== null && failure._tag === "EventLogError" ? failure.cause : undefined).toBeInstanceOf(
        RedisEventLog.StreamGap
      )
    }).pipe(Effect.scoped))

  it.live("closing the log with many appends pending: each one completes (written or failed), none hangs", () =>
    Effect.gen(function*() {
      const exits = yield* Effect.scoped(
        Effect.gen(function*() {
          const log = yield* RedisEventLog.make({ url, key: freshKey("close") })
          return yield* Effect.forEach(
            Array.from({ length: 5000 }, (_, n) => String(n)),
            (data) => Effect.fork(Effect.exit(log.append({ data }))),
            { concurrency: "unbounded" }
          )
        })
      ).pipe(Effect.flatMap(Fiber.joinAll), Effect.timeout("10 seconds"))
      expect(exits).toHaveLength(5000)
      for (const exit of exits) {
        if (Exit.isFailure(exit)) {
          expect(Option.getOrNull(Cause.failureOption(exit.cause))).toMatchObject({ _tag: "EventLogError" })
        }
      }
    }))
})

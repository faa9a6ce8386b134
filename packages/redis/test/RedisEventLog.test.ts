import { describe, expect, it } from "@effect/vitest"
import { RedisEventLog } from "@streamwire/redis"
import { EventLog, MemoryEventLog } from "@streamwire/server"
import { dataOf, eventLogContract } from "@streamwire/server/testing"
import {
  Cause,
  Chunk,
  ConfigProvider,
  Effect,
  Exit,
  Fiber,
  Logger,
  LogLevel,
  Option,
  Schedule,
  type Scope,
  Stream
} from "effect"
import { Redis } from "ioredis"
import { inject } from "vitest"

const url = inject("redisUrl")
let counter = 0
/** A fresh stream key per log, so every test starts from an empty stream. */
export const freshKey = (name: string) => `test:${name}:${process.pid}:${Date.now().toString(36)}:${counter++}`

// one contract, two layers: the server package runs it against MemoryEventLog
eventLogContract(
  "RedisEventLog",
  () => RedisEventLog.layer({ url, key: freshKey("contract"), retention: { maxLength: 5, exact: true } }),
  { retained: 5 }
)

const withLog = <A, E>(
  options: Partial<RedisEventLog.Options>,
  f: (log: EventLog.EventLog, key: string) => Effect.Effect<A, E, Scope.Scope>
) => {
  const key = options.key ?? freshKey("log")
  return Effect.flatMap(EventLog.EventLog, (log) => f(log, key)).pipe(
    Effect.provide(RedisEventLog.layer({ url, ...options, key })),
    Effect.scoped
  )
}

const appendN = (log: EventLog.EventLog, from: number, to: number) =>
  Effect.forEach(Array.from({ length: to - from + 1 }, (_, i) => String(from + i)), (n) => log.append({ data: n }))

const collect = (stream: Stream.Stream<EventLog.LogItem, unknown>, n: number) =>
  stream.pipe(Stream.take(n), Stream.runCollect, Effect.map(Chunk.toArray), Effect.timeout("5 seconds"))

describe("RedisEventLog", () => {
  it.live("ids are Redis entry ids; type and data are fields of the entry", () =>
    withLog({}, (log, key) =>
      Effect.gen(function*() {
        const event = yield* log.append({ type: "greeting", data: "hello\nworld" })
        expect(event.lastEventId).toMatch(/^[0-9]+-[0-9]+$/)
        const redis = new Redis(url)
        const entries = yield* Effect.promise(() => redis.xrange(key, "-", "+"))
        yield* Effect.promise(() => redis.quit())
        expect(entries).toHaveLength(1)
        const [id, fields] = entries[0]!
        expect(id).toBe(event.lastEventId)
        expect(fields).toEqual(["type", "greeting", "data", "hello\nworld", "prev", "0-0"])
      })))

  it.live("an id from the future and a non-canonical spelling of a retained id", () =>
    withLog({}, (log) =>
      Effect.gen(function*() {
        const events = yield* appendN(log, 1, 3)
        const future = yield* collect(log.subscribe({ after: "99999999999999-0" }), 4)
        expect(dataOf(future)).toEqual(["reset:unknown", "1", "2", "3"])
        const [ms, seq] = events[0]!.lastEventId.split("-")
        const padded = yield* collect(log.subscribe({ after: `00${ms}-${seq}` }), 2)
        expect(dataOf(padded)).toEqual(["2", "3"])
      })))

  it.live("approximate MAXLEN trimming: an expired id gets a Reset whose oldest is the first retained entry", () =>
    withLog({ retention: { maxLength: 10 } }, (log, key) =>
      Effect.gen(function*() {
        const events = yield* appendN(log, 1, 500)
        const redis = new Redis(url)
        const [[oldestId]] = (yield* Effect.promise(() => redis.xrange(key, "-", "+", "COUNT", 1))) as [
          [string, Array<string>]
        ]
        const length = yield* Effect.promise(() => redis.xlen(key))
        yield* Effect.promise(() => redis.quit())
        expect(length).toBeGreaterThanOrEqual(10)
        expect(length).toBeLessThan(500)
        const got = yield* collect(log.subscribe({ after: events[0]!.lastEventId }), length + 1)
        expect(got[0]).toMatchObject({ _tag: "Reset", reason: "expired", oldest: Option.some(oldestId) })
        expect(dataOf(got.slice(1))).toEqual(events.slice(500 - length).map((e) => e.data))
      })))

  it.live("age retention (MINID): old entries go, and their ids get an expired Reset", () =>
    withLog({ retention: { minAge: "300 millis", exact: true } }, (log) =>
      Effect.gen(function*() {
        const old = yield* appendN(log, 1, 3)
        yield* Effect.sleep("400 millis")
        yield* appendN(log, 4, 4) // trims the older ones
        const got = yield* collect(log.subscribe({ after: old[0]!.lastEventId }), 2)
        expect(dataOf(got)).toEqual(["reset:expired", "4"])
        const all = yield* collect(log.subscribe({ initial: "retained" }), 1)
        expect(dataOf(all)).toEqual(["4"])
      })))

  it.live("replay larger than a page: read in batches, in order, then live", () =>
    withLog({ batchSize: 7, cacheSize: 5 }, (log) =>
      Effect.gen(function*() {
        const events = yield* appendN(log, 1, 100)
        const fiber = yield* Effect.fork(collect(log.subscribe({ after: events[9]!.lastEventId }), 100))
        yield* appendN(log, 101, 110)
        const got = yield* Fiber.join(fiber)
        expect(dataOf(got)).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 11)))
      })))

  it.live("a subscriber that falls behind retention fails with a StreamGap instead of skipping events", () =>
    withLog({ retention: { maxLength: 5, exact: true }, batchSize: 2, cacheSize: 0 }, (log) =>
      Effect.gen(function*() {
        const events = yield* appendN(log, 1, 5)
        // a subscriber that reads one page (2 events) and then stalls
        const pulled: Array<string> = []
        const fiber = yield* Effect.fork(
          log.subscribe({ after: events[0]!.lastEventId }).pipe(
            Stream.tap((item) =>
              Effect.suspend(() => {
                pulled.push(item._tag === "SseEvent" ? item.data : "reset")
                return pulled.length === 2 ? Effect.sleep("300 millis") : Effect.void
              })
            ),
            Stream.runDrain,
            Effect.timeout("5 seconds")
          )
        )
        yield* Effect.sleep("100 millis")
        yield* appendN(log, 6, 20) // 3.. are trimmed while it stalls after 3
        const exit = yield* Fiber.await(fiber)
        expect(pulled.slice(0, 2)).toEqual(["2", "3"])
        const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        expect(Option.getOrNull(failure)).toMatchObject({ _tag: "EventLogError", operation: "read" })
        const cause = Option.isSome(failure) && failure.value._tag === "EventLogError" ? failure.value.cause : undefined
        expect(cause).toBeInstanceOf(RedisEventLog.StreamGap)
        expect(cause).toMatchObject({ after: events[2]!.lastEventId })
      })))

  it.live("backpressure: each pull reads one page of at most batchSize entries, only when pulled", () =>
    withLog({ batchSize: 10, cacheSize: 0 }, (log) =>
      Effect.gen(function*() {
        yield* appendN(log, 1, 1000)
        const pull = yield* Stream.toPull(log.subscribe({ initial: "retained" }))
        const sizes: Array<number> = []
        const seen: Array<string> = []
        for (let i = 0; i < 5; i++) {
          const chunk = yield* pull
          sizes.push(chunk.length)
          seen.push(...dataOf(Chunk.toArray(chunk)))
        }
        expect(sizes.every((n) => n >= 1 && n <= 10)).toBe(true)
        expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => String(i + 1)))
      })))

  it.live("layerFromEnv: the fallback without STREAMWIRE_REDIS_URL", () =>
    Effect.gen(function*() {
      const event = yield* Effect.flatMap(EventLog.EventLog, (log) => log.append({ data: "x" })).pipe(
        Effect.provide(RedisEventLog.layerFromEnv(MemoryEventLog.layer()))
      )
      expect(event.lastEventId).not.toMatch(/^[0-9]+-[0-9]+$/)
    }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))))

  it.live("layerFromEnv: Redis with STREAMWIRE_REDIS_URL", () =>
    Effect.gen(function*() {
      const event = yield* Effect.flatMap(EventLog.EventLog, (log) => log.append({ data: "x" })).pipe(
        Effect.provide(RedisEventLog.layerFromEnv(MemoryEventLog.layer()))
      )
      expect(event.lastEventId).toMatch(/^[0-9]+-[0-9]+$/)
    }).pipe(
      Effect.withConfigProvider(
        ConfigProvider.fromMap(new Map([["STREAMWIRE_REDIS_URL", url], ["STREAMWIRE_REDIS_KEY", freshKey("env")]]))
      )
    ))

  it.live("a key that is not a stream: appends and subscriptions fail with an EventLogError, not retried", () =>
    Effect.gen(function*() {
      const key = freshKey("wrongtype")
      const redis = new Redis(url)
      yield* Effect.promise(() => redis.set(key, "not a stream"))
      yield* Effect.promise(() => redis.quit())
      yield* withLog({ key, retry: Schedule.recurs(100) }, (log) =>
        Effect.gen(function*() {
          const append = yield* Effect.flip(log.append({ data: "x" }))
          expect(append).toMatchObject({ _tag: "EventLogError", operation: "append" })
          expect(String(append.message)).toContain("WRONGTYPE")
          const subscribe = yield* Effect.flip(Stream.runDrain(log.subscribe({ after: "1-0" })))
          expect(subscribe).toMatchObject({ _tag: "EventLogError", operation: "subscribe" })
        }))
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)))

  it.live("an unreachable Redis fails the layer with an EventLogError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.provide(
          EventLog.EventLog,
          RedisEventLog.layer({
            url: "redis://127.0.0.1:1",
            key: "x",
            redis: { maxRetriesPerRequest: 0, retryStrategy: () => null }
          })
        )
      )
      expect(exit).toMatchObject({ _tag: "Failure", cause: { _tag: "Fail", error: { _tag: "EventLogError" } } })
    }))
})

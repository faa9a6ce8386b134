import { describe, expect, it } from "@effect/vitest"
import { dataOf, eventLogContract } from "@streamwire/server/testing"
import { Chunk, Effect, Fiber, Option, Stream, TestClock } from "effect"
import { EventLog, MemoryEventLog } from "../src/index.js"

eventLogContract("MemoryEventLog", () => MemoryEventLog.layer({ maxEvents: 5 }), { retained: 5 })

describe("MemoryEventLog", () => {
  it.scoped("retention by age: events older than maxAge leave the log (TestClock)", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make({ maxAge: "1 minute" })
      const a = yield* log.append({ data: "a" })
      yield* TestClock.adjust("40 seconds")
      yield* log.append({ data: "b" })
      yield* TestClock.adjust("30 seconds") // a is 70 s old, b 30 s
      const got = yield* log.subscribe({ after: a.lastEventId }).pipe(Stream.take(1), Stream.runCollect)
      expect(dataOf(Chunk.toArray(got))).toEqual(["b"])
      const old = yield* log.subscribe({ initial: "retained" }).pipe(Stream.take(1), Stream.runCollect)
      expect(dataOf(Chunk.toArray(old))).toEqual(["b"])
      yield* TestClock.adjust("1 minute") // all gone: resuming after a is a reset with nothing after it
      const fiber = yield* log.subscribe({ after: a.lastEventId }).pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      while ((yield* log.subscriberCount) === 0) yield* Effect.yieldNow()
      yield* log.append({ data: "c" })
      const items = Chunk.toArray(yield* Fiber.join(fiber))
      expect(items[0]).toMatchObject({ _tag: "Reset", reason: "expired", oldest: Option.none() })
      expect(dataOf(items.slice(1))).toEqual(["c"])
    }))

  it.scoped("ids of another (e.g. restarted) log are unknown, not matched to other events", () =>
    Effect.gen(function*() {
      const before = yield* MemoryEventLog.make()
      const old = yield* before.append({ data: "from the old process" })
      const log = yield* MemoryEventLog.make()
      yield* log.append({ data: "new" })
      const got = Chunk.toArray(
        yield* log.subscribe({ after: old.lastEventId }).pipe(Stream.take(2), Stream.runCollect)
      )
      expect(got[0]).toMatchObject({ _tag: "Reset", reason: "unknown" })
      expect(dataOf(got.slice(1))).toEqual(["new"])
    }))

  it.scoped("memory is bounded by maxEvents however many are appended", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make({ maxEvents: 100 })
      for (let i = 0; i < 20_000; i++) yield* log.append({ data: String(i) })
      const got = Chunk.toArray(yield* log.subscribe({ initial: "retained" }).pipe(Stream.take(100), Stream.runCollect))
      expect(got.length).toBe(100)
      expect(dataOf(got)[0]).toBe("19900")
    }))

  it.effect("layer: the EventLog service", () =>
    Effect.gen(function*() {
      const log = yield* EventLog.EventLog
      const e = yield* log.append({ type: "x", data: "1" })
      expect(e.type).toBe("x")
      expect(yield* log.subscriberCount).toBe(0)
    }).pipe(Effect.provide(MemoryEventLog.layer())))
})

/**
 * The contract every `EventLog` implementation must meet, as a vitest suite (`testing.ts` has the
 * public documentation).
 *
 * @internal
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as EventLog from "../../EventLog.js"
import { eventually } from "./serve.js"

export interface ContractOptions {
  readonly retained: number
}

export const dataOf = (items: ReadonlyArray<EventLog.LogItem>): Array<string> =>
  items.map((i) => (i._tag === "Reset" ? `reset:${i.reason}` : i.data))

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => String(from + i))

export const eventLogContract = (
  name: string,
  makeLayer: () => Layer.Layer<EventLog.EventLog, unknown>,
  options: ContractOptions
): void => {
  describe(`EventLog contract: ${name}`, () => {
    const withLog = <A, E>(f: (log: EventLog.EventLog) => Effect.Effect<A, E>) =>
      Effect.flatMap(EventLog.EventLog, f).pipe(Effect.provide(makeLayer()), Effect.scoped)

    const appendN = (log: EventLog.EventLog, from: number, to: number) =>
      Effect.forEach(range(from, to), (n) => log.append({ type: "n", data: n }))

    const take = (stream: Stream.Stream<EventLog.LogItem, unknown>, n: number) =>
      stream.pipe(Stream.take(n), Stream.runCollect, Effect.map(Chunk.toArray), Effect.timeout("5 seconds"))

    /** Subscribes in a fiber, waits until the subscription is live, returns the fiber. */
    const follow = (log: EventLog.EventLog, subscribe: EventLog.SubscribeOptions, n: number) =>
      Effect.gen(function*() {
        const before = yield* log.subscriberCount
        const fiber = yield* Effect.fork(take(log.subscribe(subscribe), n))
        yield* eventually(log.subscriberCount, (c) => c > before, 3000, "the subscription")
        return fiber
      })

    it.live("append gives increasing ids, the event type and data; lastId follows", () =>
      withLog((log) =>
        Effect.gen(function*() {
          expect(Option.isNone(yield* log.lastId)).toBe(true)
          const a = yield* log.append({ type: "tick", data: "1" })
          const b = yield* log.append({ data: "2" })
          expect(a).toMatchObject({ _tag: "SseEvent", type: "tick", data: "1" })
          expect(b).toMatchObject({ _tag: "SseEvent", type: "message", data: "2" })
          expect(a.lastEventId).not.toBe("")
          expect(b.lastEventId).not.toBe(a.lastEventId)
          expect(yield* log.lastId).toEqual(Option.some(b.lastEventId))
        })
      ))

    it.live("append refuses an event type that would inject fields", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const result = yield* Effect.either(log.append({ type: "a\nid: 9", data: "x" }))
          expect(Either.isLeft(result) && result.left._tag).toBe("InvalidField")
          expect(Option.isNone(yield* log.lastId)).toBe(true)
        })
      ))

    it.live("subscribe after an id: the rest, exactly once and in order, then live", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const events = yield* appendN(log, 1, 3)
          const fiber = yield* follow(log, { after: events[0]!.lastEventId }, 4)
          yield* appendN(log, 4, 5)
          const got = yield* Fiber.join(fiber)
          expect(dataOf(got)).toEqual(["2", "3", "4", "5"])
          expect(got.map((e) => e._tag === "SseEvent" && e.lastEventId).slice(0, 2)).toEqual([
            events[1]!.lastEventId,
            events[2]!.lastEventId
          ])
        })
      ))

    it.live("subscribe after the newest id: live only; Option and empty string ids", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const events = yield* appendN(log, 1, 2)
          const a = yield* follow(log, { after: Option.some(events[1]!.lastEventId) }, 1)
          const b = yield* follow(log, { after: "" }, 1) // no id: live
          const c = yield* follow(log, { after: Option.none() }, 1)
          yield* appendN(log, 3, 3)
          expect(dataOf(yield* Fiber.join(a))).toEqual(["3"])
          expect(dataOf(yield* Fiber.join(b))).toEqual(["3"])
          expect(dataOf(yield* Fiber.join(c))).toEqual(["3"])
        })
      ))

    it.live("without an id: live by default, everything retained with initial: retained", () =>
      withLog((log) =>
        Effect.gen(function*() {
          yield* appendN(log, 1, 2)
          const live = yield* follow(log, {}, 1)
          const all = yield* follow(log, { initial: "retained" }, 3)
          yield* appendN(log, 3, 3)
          expect(dataOf(yield* Fiber.join(live))).toEqual(["3"])
          expect(dataOf(yield* Fiber.join(all))).toEqual(["1", "2", "3"])
        })
      ))

    it.live("appends racing subscriptions: every subscription sees a gapless, duplicate-free sequence", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const total = 300
          const dataById = new Map<string, string>()
          const record = (e: { lastEventId: string; data: string }) => dataById.set(e.lastEventId, e.data)
          record(yield* log.append({ type: "n", data: "1" }))
          // a writer appends with yields in between while subscribers join at various points
          const writer = yield* Effect.fork(
            Effect.forEach(
              range(2, total),
              (n) => Effect.zipRight(Effect.yieldNow(), Effect.map(log.append({ type: "n", data: n }), record)),
              { discard: true }
            )
          )
          const readers = yield* Effect.forEach(range(1, 20), (i) =>
            Effect.gen(function*() {
              yield* Effect.yieldNow({ priority: Number(i) })
              const start = Option.getOrThrow(yield* log.lastId)
              const fiber = yield* Effect.fork(
                log.subscribe({ after: start }).pipe(
                  Stream.takeUntil((e) => e._tag === "SseEvent" && e.data === "end"),
                  Stream.runCollect,
                  Effect.map(Chunk.toArray),
                  Effect.timeout("10 seconds")
                )
              )
              return { start, fiber }
            }))
          yield* Fiber.join(writer)
          yield* log.append({ type: "n", data: "end" })
          for (const { fiber, start } of readers) {
            const got = dataOf(yield* Fiber.join(fiber))
            const from = Number(dataById.get(start)) + 1
            expect(got).toEqual([...range(from, total), "end"])
          }
        })
      ))

    it.live("an id that fell out of retention: a Reset (expired), then what is retained, then live", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const n = options.retained
          const events = yield* appendN(log, 1, n + 3) // 1..3 are gone, 4..n+3 retained
          const fiber = yield* follow(log, { after: events[1]!.lastEventId }, n + 2)
          yield* appendN(log, n + 4, n + 4)
          const got = yield* Fiber.join(fiber)
          expect(got[0]).toMatchObject({ _tag: "Reset", requested: events[1]!.lastEventId, reason: "expired" })
          expect(got[0]!._tag === "Reset" && got[0]!.oldest).toEqual(Option.some(events[3]!.lastEventId))
          expect(dataOf(got.slice(1))).toEqual(range(4, n + 4))
        })
      ))

    it.live("the id just before the oldest retained one resumes without a reset", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const n = options.retained
          const events = yield* appendN(log, 1, n + 3) // oldest retained is 4
          const got = yield* take(log.subscribe({ after: events[2]!.lastEventId }), n)
          expect(dataOf(got)).toEqual(range(4, n + 3))
        })
      ))

    it.live("an id the log never issued: a Reset (unknown), then what is retained", () =>
      withLog((log) =>
        Effect.gen(function*() {
          yield* appendN(log, 1, 2)
          for (const bogus of ["garbage", "0-0-0", "99999999999999999999"]) {
            const got = yield* take(log.subscribe({ after: bogus }), 3)
            expect(got[0]).toMatchObject({ _tag: "Reset", requested: bogus, reason: "unknown" })
            expect(dataOf(got.slice(1))).toEqual(["1", "2"])
          }
        })
      ))

    it.live("interrupted subscriptions are released: the subscriber count returns to zero", () =>
      withLog((log) =>
        Effect.gen(function*() {
          const fibers = yield* Effect.forEach(range(1, 10), () => Effect.fork(Stream.runDrain(log.subscribe())))
          yield* eventually(log.subscriberCount, (c) => c === 10, 3000, "10 subscriptions")
          yield* Fiber.interruptAll(fibers)
          expect(yield* log.subscriberCount).toBe(0)
        })
      ))
  })
}

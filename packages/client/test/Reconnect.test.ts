import { describe, expect, it } from "@effect/vitest"
import { ClientError, Reconnect } from "@streamwire/client"
import {
  Duration,
  Effect,
  FastCheck as fc,
  Option,
  Random,
  Schedule,
  ScheduleDecision,
  ScheduleIntervals as Intervals
} from "effect"

const cause = new ClientError.StreamEnded({ method: "GET", url: "http://127.0.0.1/events" })

const input = (attempt: number, options?: { reconnectionTime?: number; serverRetry?: number }) =>
  ({
    attempt,
    serverRetry: options?.serverRetry === undefined ? Option.none() : Option.some(Duration.millis(options.serverRetry)),
    reconnectionTime: Duration.millis(options?.reconnectionTime ?? options?.serverRetry ?? 3000),
    cause,
    lastEventId: ""
  }) satisfies Reconnect.ReconnectInput

/**
 * The delays a schedule decides for these inputs, in ms, stepped the way the client steps it
 * (without sleeping; time advances to each decided start); stops when the schedule is done.
 */
const delays = <Out, R>(
  schedule: Schedule.Schedule<Out, Reconnect.ReconnectInput, R>,
  inputs: ReadonlyArray<Reconnect.ReconnectInput>
) =>
  Effect.gen(function*() {
    const out: Array<number> = []
    let now = 0
    let state = schedule.initial
    for (const input of inputs) {
      const [next, , decision] = yield* schedule.step(now, input, state)
      if (ScheduleDecision.isDone(decision)) break
      state = next
      const start = Intervals.start(decision.intervals)
      out.push(Math.round(start - now))
      now = start
    }
    return out
  })

const attempts = (n: number, options?: { reconnectionTime?: number; serverRetry?: number }) =>
  Array.from({ length: n }, (_, i) => input(i + 1, options))

describe("Reconnect", () => {
  it.effect("reconnectionTime waits the reconnection time, forever (plain EventSource)", () =>
    Effect.gen(function*() {
      expect(yield* delays(Reconnect.reconnectionTime, [input(1), input(2, { serverRetry: 250 }), input(3)]))
        .toEqual([3000, 250, 3000])
    }))

  it.effect("serverRetry waits the server's retry, zero when it sent none", () =>
    Effect.gen(function*() {
      expect(yield* delays(Reconnect.serverRetry, [input(1), input(2, { serverRetry: 700 })])).toEqual([0, 700])
    }))

  it.effect("backoff without jitter: reconnection time × 2^(n-1), capped", () =>
    Effect.gen(function*() {
      expect(yield* delays(Reconnect.backoff({ jitter: false }), attempts(6))).toEqual([
        3000,
        6000,
        12000,
        24000,
        30000,
        30000
      ])
      expect(
        yield* delays(
          Reconnect.backoff({ jitter: false, factor: 3, cap: "1 second" }),
          attempts(4, { reconnectionTime: 100 })
        )
      )
        .toEqual([100, 300, 900, 1000])
    }))

  it.effect("backoff: a server retry above the cap still wins; maxAttempts bounds the attempts", () =>
    Effect.gen(function*() {
      expect(yield* delays(Reconnect.backoff({ jitter: false, cap: "1 second" }), attempts(2, { serverRetry: 5000 })))
        .toEqual([5000, 5000])
      expect(
        yield* delays(Reconnect.backoff({ jitter: false, maxAttempts: 3 }), attempts(10, { reconnectionTime: 10 }))
      )
        .toEqual([10, 20, 40])
    }))

  it.effect.prop(
    "defaultSchedule: jittered within ×0.8–1.2 of the backoff, never above the cap, never below the server's retry",
    [fc.integer({ min: 0, max: 20_000 }), fc.boolean(), fc.integer({ min: 1, max: 10 }), fc.integer()],
    ([time, fromServer, n, seed]) =>
      Effect.gen(function*() {
        const options = fromServer ? { serverRetry: time } : { reconnectionTime: time }
        const out = yield* delays(Reconnect.defaultSchedule, attempts(n, options))
        expect(out).toHaveLength(n)
        out.forEach((d, i) => {
          const base = Math.min(30_000, time * 2 ** i)
          expect(d).toBeLessThanOrEqual(Math.max(30_000, fromServer ? time : 0) + 1)
          expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8) - 1)
          expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2) + 1)
          if (fromServer) expect(d).toBeGreaterThanOrEqual(time - 1)
        })
      }).pipe(Effect.withRandom(Random.make(seed)))
  )

  it.effect.prop(
    "the one-line recipe: exponential from 500 ms, jittered, at most 10 attempts, never sooner than the server's retry",
    [fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }), fc.integer()],
    ([retry, seed]) =>
      Effect.gen(function*() {
        const recipe = Schedule.exponential("500 millis").pipe(
          Schedule.jittered,
          Schedule.intersect(Schedule.recurs(10)),
          Reconnect.atLeastServerRetry
        )
        const options = retry === undefined ? {} : { serverRetry: retry }
        const out = yield* delays(recipe, attempts(15, options))
        expect(out).toHaveLength(10)
        out.forEach((d, i) => {
          const exp = 500 * 2 ** i
          const floor = retry ?? 0
          expect(d).toBeGreaterThanOrEqual(Math.max(floor, Math.floor(exp * 0.8)) - 1)
          expect(d).toBeLessThanOrEqual(Math.max(floor, Math.ceil(exp * 1.2)) + 1)
        })
      }).pipe(Effect.withRandom(Random.make(seed)))
  )

  it.effect("any Schedule over ReconnectInput works: reconnect only while the cause is not the end of the body", () =>
    Effect.gen(function*() {
      const onErrors = Schedule.spaced("1 second").pipe(
        Schedule.whileInput((i: Reconnect.ReconnectInput) => i.cause._tag !== "StreamEnded")
      )
      const idle = new ClientError.IdleTimeout({ method: "GET", url: "u", timeout: Duration.seconds(1) })
      expect(yield* delays(onErrors, [{ ...input(1), cause: idle }, input(2)])).toEqual([1000])
    }))
})

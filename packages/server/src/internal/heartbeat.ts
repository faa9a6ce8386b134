/**
 * One timer for every connection's heartbeats: connections that beat every `n` milliseconds join
 * the ticker of that period (one per `Clock` and period: the tests' `TestClock` drives its own),
 * and at each tick every member decides whether its line was idle. The ticker's fiber runs while
 * it has members and stops when the last one leaves. A per-connection `Schedule` fiber (what a
 * `Schedule` heartbeat still gets) costs a fiber and a schedule state per connection; this costs a
 * `Set` entry.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"

/** A connection, as the ticker sees it. @internal */
export interface Member {
  readonly tick: () => void
}

class Ticker {
  readonly members = new Set<Member>()
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
  constructor(readonly clock: Clock.Clock, readonly millis: number, readonly registry: Map<number, Ticker>) {}

  join(member: Member): () => void {
    this.members.add(member)
    if (this.fiber === undefined) {
      const period = Duration.millis(this.millis)
      const tickAll = Effect.sync(() => {
        for (const m of this.members) m.tick()
      })
      // the fiber runs in the default runtime (it must not keep the first member's request alive),
      // on the members' clock
      this.fiber = Effect.runFork(Effect.forever(Effect.zipRight(this.clock.sleep(period), tickAll)))
    }
    return () => {
      if (!this.members.delete(member)) return
      if (this.members.size === 0) {
        this.fiber?.unsafeInterruptAsFork(FiberId.none)
        this.fiber = undefined
        this.registry.delete(this.millis)
      }
    }
  }
}

const tickers = new WeakMap<Clock.Clock, Map<number, Ticker>>()

/**
 * Joins the ticker of `millis` on the current `Clock`; the returned function leaves it (idempotent).
 *
 * @internal
 */
export const join = (member: Member, millis: number): Effect.Effect<() => void> =>
  Effect.clockWith((clock) =>
    Effect.sync(() => {
      let registry = tickers.get(clock)
      if (registry === undefined) {
        registry = new Map()
        tickers.set(clock, registry)
      }
      let ticker = registry.get(millis)
      if (ticker === undefined) {
        ticker = new Ticker(clock, millis, registry)
        registry.set(millis, ticker)
      }
      return ticker.join(member)
    })
  )

/** Members of all tickers of the default clock (for tests). @internal */
export const tickerCount = (clock: Clock.Clock): number => tickers.get(clock)?.size ?? 0

/**
 * The demo server's app (examples/src/demo-app.ts — the very module `npm start` serves) on an
 * in-memory log the test owns, recording every event the ticker appends so a test can compare what
 * a client received with what was published. What tests vary is an option: the tick interval, the
 * `retry:` hint, CORS for a second origin.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import { EventLog, MemoryEventLog } from "@streamwire/server"
import { Effect, type Scope } from "effect"
import * as DemoApp from "../../../examples/src/demo-app.js"

export type Options = Omit<DemoApp.Options, "onAppend">

export interface Published {
  readonly type: string
  readonly id: string
  readonly data: string
}

export interface Demo {
  readonly log: EventLog.EventLog
  /** Every event the ticker appended, in order. */
  readonly published: ReadonlyArray<Published>
}

export const make = (
  options: Options = {}
): Effect.Effect<readonly [HttpApp.Default<unknown, Scope.Scope>, Demo], never, Scope.Scope> =>
  Effect.gen(function*() {
    const log = yield* MemoryEventLog.make({ maxEvents: 10_000, maxAge: "10 minutes" })
    const published: Array<Published> = []
    const app = yield* DemoApp.make({
      ...options,
      onAppend: (e) => published.push({ type: e.type, id: e.lastEventId, data: e.data })
    }).pipe(Effect.provideService(EventLog.EventLog, log))
    return [app, { log, published }] as const
  })

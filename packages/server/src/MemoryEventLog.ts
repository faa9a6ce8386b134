/**
 * The embedded `EventLog`: events kept in memory, retention bounded by count (default 1,000) and
 * optionally by age, live delivery through a `PubSub`. Ids look like `"lq2x8k3f-42"`: an epoch
 * that changes each time a log is created, then a sequence number, so an id from before a
 * restart is recognised as unknown (a `Reset`) instead of being matched to a different event.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { EventLog } from "./EventLog.js"
import * as internal from "./internal/memoryLog.js"

/**
 * Retention limits. An event leaves the log when more than `maxEvents` newer ones exist or when
 * it is older than `maxAge`, whichever comes first.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Most events retained for replay (default 1,000). */
  readonly maxEvents?: number | undefined
  /** Oldest event retained for replay, by append time (default: no age limit). */
  readonly maxAge?: Duration.DurationInput | undefined
}

/**
 * Creates a log that lives as long as the scope.
 *
 * @example
 * ```ts
 * import { MemoryEventLog } from "@streamwire/server"
 * import { Effect } from "effect"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const log = yield* MemoryEventLog.make({ maxEvents: 100, maxAge: "5 minutes" })
 *   const event = yield* log.append({ type: "greeting", data: "hello" })
 *   return event.lastEventId // e.g. "lq2x8k3f0a-1"
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<EventLog, never, Scope.Scope> = internal.make

/**
 * The log as a `Layer` of the `EventLog` service.
 *
 * @example
 * ```ts
 * import { EventLog, MemoryEventLog } from "@streamwire/server"
 * import { Effect } from "effect"
 *
 * const program = Effect.flatMap(EventLog.EventLog, (log) => log.append({ data: "hi" })).pipe(
 *   Effect.provide(MemoryEventLog.layer({ maxEvents: 10_000 }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<EventLog> => Layer.scoped(EventLog, internal.make(options))

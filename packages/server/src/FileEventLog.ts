/**
 * A durable embedded `EventLog`: events kept in append-only segment files in a local directory,
 * so a restarted server resumes every client from its `Last-Event-ID` instead of answering with a
 * `Reset`. No native dependency and no other process: plain files through `node:fs`.
 *
 * - Ids look like `"mq1x2k3f9z-42"`: the directory's epoch (chosen when the directory is first
 *   used) and a sequence number that goes on after a restart from the last durable event.
 * - Durability (`sync`): `"always"` (default) acknowledges an append once its bytes are written
 *   and `fdatasync`ed; appends arriving while a write is in flight go out together in the next
 *   write and sync (group commit). `{ every: "100 millis" }` acknowledges once the bytes are
 *   written (a killed process loses nothing acknowledged; a machine crash can lose the last
 *   interval) and syncs on that period.
 * - Crash safety: each record carries its length and a CRC-32; at start-up a torn record at the
 *   end of the open segment is detected and cut off. Only the open segment is scanned at start.
 * - Retention by count, age and bytes; disk use: the retained events plus at most one segment.
 *   Memory: the newest `tailEvents` events (for live fan-out and quick resumes); older events are
 *   read from disk, a page at a time, when a subscription asks for them.
 * - One process per directory (a `lock` file holding its pid).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { EventLog } from "./EventLog.js"
import * as internal from "./internal/fileLog/log.js"

/**
 * Where the log lives, how long it keeps events and how it syncs them.
 *
 * @example
 * ```ts
 * import type { FileEventLog } from "@streamwire/server"
 *
 * const options: FileEventLog.Options = {
 *   directory: ".streamwire-data/events",
 *   maxEvents: 100_000,
 *   maxAge: "7 days",
 *   maxBytes: 256 * 1024 * 1024,
 *   sync: { every: "100 millis" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The directory of the log (created if missing). One process at a time uses it. */
  readonly directory: string
  /** Most events retained for replay (default 100,000). */
  readonly maxEvents?: number | undefined
  /** Oldest event retained for replay, by append time (default: no age limit). */
  readonly maxAge?: Duration.DurationInput | undefined
  /**
   * Most bytes of segment files kept (default 256 MiB): the oldest segments are removed beyond it,
   * so this limit acts a segment at a time.
   */
  readonly maxBytes?: number | undefined
  /** Size at which the open segment is sealed and a new one started (default 8 MiB, at most `maxBytes / 4`). */
  readonly segmentBytes?: number | undefined
  /**
   * `"always"` (default): an append is acknowledged once written and `fdatasync`ed (batched with
   * the appends that arrive meanwhile). `{ every }`: acknowledged once written, synced on that
   * period: survives the process being killed, not the machine crashing within the period.
   */
  readonly sync?: "always" | { readonly every: Duration.DurationInput } | undefined
  /** Newest events kept in memory for live delivery and resumes without reading the disk (default 1,024). */
  readonly tailEvents?: number | undefined
}

/**
 * The log could not be opened: the directory cannot be created or read (`"io"`), another process
 * has it open (`"locked"`), or its files are not a log of this format (`"format"`).
 *
 * @example
 * ```ts
 * import { FileEventLog } from "@streamwire/server"
 *
 * const error = new FileEventLog.OpenError({ directory: "/var/lib/app/events", reason: "locked", detail: "in use by process 4711" })
 * error.message // "cannot open the event log in /var/lib/app/events (locked): in use by process 4711"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OpenError extends Data.TaggedError("FileEventLogOpenError")<{
  readonly directory: string
  readonly reason: "io" | "locked" | "format"
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `cannot open the event log in ${this.directory} (${this.reason}): ${this.detail}`
  }
}

/**
 * Opens (or creates) the log in `options.directory`, for as long as the scope lasts; closing the
 * scope waits for pending appends, syncs and releases the directory.
 *
 * @example
 * ```ts
 * import { FileEventLog } from "@streamwire/server"
 * import { Effect } from "effect"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const log = yield* FileEventLog.make({ directory: ".streamwire-data/events", maxEvents: 10_000 })
 *   const event = yield* log.append({ type: "greeting", data: "hello" })
 *   return event.lastEventId // e.g. "mq1x2k3f9z-1", then "mq1x2k3f9z-2" even after a restart
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<EventLog, OpenError, Scope.Scope> =>
  Effect.mapError(
    internal.make(options),
    (failure) =>
      new OpenError({
        directory: options.directory,
        reason: failure.reason,
        detail: failure.detail,
        ...(failure.cause === undefined ? {} : { cause: failure.cause })
      })
  )

/**
 * The log as a `Layer` of the `EventLog` service.
 *
 * @example
 * ```ts
 * import { EventLog, FileEventLog } from "@streamwire/server"
 * import { Effect } from "effect"
 *
 * const program = Effect.flatMap(EventLog.EventLog, (log) => log.append({ data: "hi" })).pipe(
 *   Effect.provide(FileEventLog.layer({ directory: ".streamwire-data/events", sync: { every: "100 millis" } }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<EventLog, OpenError> => Layer.scoped(EventLog, make(options))

/**
 * The capability an `EventLog` may have besides its public interface: handing its events straight
 * to a connection (the "attach/push fast path"), with each event's bytes made once when several
 * connections write it. The in-memory log implements it; `SseResponse` uses it when it is there
 * and falls back to `subscribe` otherwise. Keyed by a symbol, so it is no part of the public type.
 *
 * @internal
 */
import type { Sse } from "@streamwire/codec"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { EventLog, EventLogError, LogItem, Reset, SubscribeOptions } from "../EventLog.js"
import type { Push, PushSource } from "./connection.js"

/** @internal */
export interface Entry {
  readonly _tag: "Entry"
  readonly seq: number
  readonly at: number
  readonly event: Sse.SseEvent
  /** The event rendered and encoded, once, when several connections write it. */
  bytes: Uint8Array | undefined
}

/**
 * The in-memory log can also hand its events straight to a connection: `attach` replays what the
 * subscription would, then calls `push` with each appended event, synchronously, within `append`,
 * until it detaches. A response drives no `Stream`, no fiber and no queue of its own for the
 * subscription (they are most of a connection's memory and of its cost per event); its `push`
 * must be quick and must not fail (it buffers, or ends the connection).
 *
 * @internal
 */
export const AttachTypeId: unique symbol = Symbol.for("@streamwire/server/MemoryEventLog/attach")

/** @internal */
export interface Attachable {
  readonly [AttachTypeId]: {
    /** Replays and registers in one step; gives back the function that detaches (idempotent). */
    readonly attach: (options: SubscribeOptions | undefined, push: Pusher) => Effect.Effect<() => void>
    /** Whether several connections are attached now. */
    readonly several: () => boolean
  }
}

/**
 * An attached connection (the connection object itself): one item at a time, or a replay at once.
 *
 * @internal
 */
export interface Pusher {
  readonly one: (item: Attached) => void
  readonly all: (items: ReadonlyArray<Attached>) => void
}

/**
 * What an attached connection receives: entries (event and shared bytes), and a leading reset.
 *
 * @internal
 */
export type Attached = Entry | Reset

/** @internal */
export const attachable = (log: EventLog): log is EventLog & Attachable => AttachTypeId in log

/**
 * What a connection following `log` reads: the log's own pushes when it can attach and the
 * connection may be ended rather than wait (`push`), else its `subscribe` stream; and `share`,
 * whether several connections follow it now (undefined for logs whose events are not shared).
 *
 * @internal
 */
export const follow = (log: EventLog, subscribe: SubscribeOptions, push: boolean): {
  readonly messages: Stream.Stream<LogItem, EventLogError> | PushSource<Attached>
  readonly share: (() => boolean) | undefined
} => {
  if (!attachable(log)) return { messages: log.subscribe(subscribe), share: undefined }
  const capability = log[AttachTypeId]
  return {
    // the in-memory log pushes its events to the connection (no `Stream` to run per connection)
    messages: push
      ? { _tag: "PushSource", attach: (p: Push<Attached>) => capability.attach(subscribe, p) }
      : log.subscribe(subscribe),
    // an event of the in-memory log is rendered once for all connections when there are several
    // (for one, it costs more)
    share: capability.several
  }
}

/**
 * The in-memory event log: a compacting array of retained entries and an unbounded PubSub for the
 * live part of `subscribe`. Every subscriber drains its PubSub subscription promptly (the response
 * layer keeps its own bounded per-connection buffer), so the PubSub holds only what is in flight.
 * Responses can also attach to the log (`internal/attach.ts`): `append` hands each entry to them
 * directly, which spares each connection a fiber, a `Stream` and a subscription.
 *
 * @internal
 */
import { Sse } from "@streamwire/codec"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { EventInput, EventLog, LogItem, Reset, SubscribeOptions } from "../EventLog.js"
import { afterId } from "../EventLog.js"
import { type Attachable, AttachTypeId, type Entry, type Pusher } from "./attach.js"

/** @internal */
export interface Options {
  readonly maxEvents?: number | undefined
  readonly maxAge?: Duration.DurationInput | undefined
  /**
   * For a log that keeps its events elsewhere and uses this one as its in-memory tail (the file
   * log): the id epoch to use instead of a fresh one, and the sequence number of the next append.
   */
  readonly epoch?: string | undefined
  readonly nextSeq?: number | undefined
}

/** @internal */
export const DEFAULT_MAX_EVENTS = 1000

/** A subscription as a pull (`Option.none()` never comes: a subscription ends only when interrupted). */
export type Pull = Effect.Effect<Chunk.Chunk<LogItem>, Option.Option<never>>

/**
 * A subscription as a bare pull, for a log that uses this one as its in-memory tail (the file log):
 * spares it a `Stream.toPull` (a channel executor per subscription) over `subscribe`.
 *
 * @internal
 */
export const PullTypeId: unique symbol = Symbol.for("@streamwire/server/MemoryEventLog/pull")

/** @internal */
export interface Pullable {
  readonly [PullTypeId]: (options?: SubscribeOptions) => Effect.Effect<Pull, never, Scope.Scope>
}

/** Retained entries, oldest first, in `entries[head..]`. */
class Store {
  entries: Array<Entry> = []
  head = 0
  nextSeq = 1
  constructor(readonly epoch: string, readonly maxEvents: number, readonly maxAgeMillis: number) {}

  idOf(seq: number): string {
    return this.epoch + "-" + seq
  }

  /** The sequence number of an id this log issued, or undefined. */
  seqOf(id: string): number | undefined {
    const dash = id.lastIndexOf("-")
    if (dash < 0 || id.slice(0, dash) !== this.epoch) return undefined
    const digits = id.slice(dash + 1)
    if (!/^[0-9]{1,15}$/.test(digits)) return undefined
    return Number(digits)
  }

  get size(): number {
    return this.entries.length - this.head
  }

  /** Sequence number of the oldest retained entry (nextSeq when none is). */
  get firstSeq(): number {
    return this.head < this.entries.length ? this.entries[this.head]!.seq : this.nextSeq
  }

  push(entry: Entry, now: number) {
    this.entries.push(entry)
    this.trim(now)
  }

  trim(now: number) {
    let head = this.head
    const end = this.entries.length
    if (end - head > this.maxEvents) head = end - this.maxEvents
    if (this.maxAgeMillis < Infinity) {
      const cutoff = now - this.maxAgeMillis
      while (head < end && this.entries[head]!.at <= cutoff) head++
    }
    // release what left the log at once (the array itself is compacted now and then)
    for (let i = this.head; i < head; i++) this.entries[i] = undefined as unknown as Entry
    this.head = head
    if (head > 1024 && head * 2 > end) {
      this.entries = this.entries.slice(head)
      this.head = 0
    }
  }

  /** Retained entries with seq > `seq`. */
  after(seq: number): Array<Entry> {
    const from = Math.max(this.head, this.head + (seq + 1 - this.firstSeq))
    return this.entries.slice(from)
  }
}

const toEvents = (entries: ReadonlyArray<Entry>): Array<LogItem> => entries.map((e) => e.event)

/** @internal */
export const make = (options?: Options): Effect.Effect<EventLog & Attachable & Pullable, never, Scope.Scope> =>
  Effect.gen(function*() {
    const maxEvents = Math.max(1, Math.floor(options?.maxEvents ?? DEFAULT_MAX_EVENTS))
    const maxAge = options?.maxAge === undefined ? Infinity : Duration.toMillis(Duration.decode(options.maxAge))
    // ids are "<epoch>-<seq>": the epoch tells this log's ids from those of an earlier (restarted) one
    const created = yield* Clock.currentTimeMillis
    const salt = yield* Random.nextIntBetween(0, 36 * 36)
    const epoch = options?.epoch ?? created.toString(36) + salt.toString(36).padStart(2, "0")
    const store = new Store(epoch, maxEvents, maxAge)
    if (options?.nextSeq !== undefined) store.nextSeq = options.nextSeq
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<Entry>(), PubSub.shutdown)
    let subscribers = 0

    // the event types seen valid (a log uses a few): checked once each
    const validTypes = new Set<string>()
    const append = (input: EventInput) =>
      Effect.clockWith((clock) => {
        const type = input.type === undefined || input.type === "" ? "message" : input.type
        if (!validTypes.has(type)) {
          const checked = Sse.event({ data: "", type })
          if (Either.isLeft(checked)) return Effect.fail(checked.left)
          if (validTypes.size < 1024) validTypes.add(type)
        }
        const now = clock.unsafeCurrentTimeMillis()
        // id assignment, retention and publication in one synchronous step: publication order is id order
        const seq = store.nextSeq++
        const event: Sse.SseEvent = { _tag: "SseEvent", type, data: input.data, lastEventId: store.idOf(seq) }
        const entry: Entry = { _tag: "Entry", seq, at: now, event, bytes: undefined }
        store.push(entry, now)
        pubsub.unsafeOffer(entry)
        for (const push of attached) push.one(entry)
        return Effect.succeed(event)
      })

    /** What a subscription starts with (after the store is trimmed to now). */
    const replayOf = <A>(
      subscribeOptions: SubscribeOptions | undefined,
      f: (entries: ReadonlyArray<Entry>) => Array<A>
    ): Array<A | Reset> => {
      const after = afterId(subscribeOptions)
      let replay: Array<A | Reset>
      if (Option.isNone(after)) {
        replay = subscribeOptions?.initial === "retained" ? f(store.after(0)) : []
      } else {
        const seq = store.seqOf(after.value)
        const oldest = store.size > 0 ? Option.some(store.idOf(store.firstSeq)) : Option.none()
        if (seq === undefined || seq >= store.nextSeq) {
          const reset: Reset = { _tag: "Reset", requested: after.value, reason: "unknown", oldest }
          replay = [reset, ...f(store.after(0))]
        } else if (seq + 1 < store.firstSeq) {
          const reset: Reset = { _tag: "Reset", requested: after.value, reason: "expired", oldest }
          replay = [reset, ...f(store.after(0))]
        } else {
          replay = f(store.after(seq))
        }
      }
      return replay
    }

    // connections attached to the log: each appended event is pushed to them in `append`
    const attached = new Set<Pusher>()
    const attach: Attachable[typeof AttachTypeId]["attach"] = (subscribeOptions, push) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        // replay and registration in one synchronous step: no append can fall between them
        store.trim(now)
        push.all(replayOf(subscribeOptions, (entries) => entries as Array<Entry>))
        attached.add(push)
        subscribers++
        return () => {
          if (attached.delete(push)) subscribers--
        }
      })

    // a subscription as a pull: the replay first, then whatever the live subscription has
    const pullOf = (subscribeOptions?: SubscribeOptions): Effect.Effect<Pull, never, Scope.Scope> =>
      Effect.gen(function*() {
        // subscribe to live events first, then read the replay: nothing appended in between is lost,
        // and what is in both is dropped from the live part by sequence number
        const live = yield* PubSub.subscribe(pubsub)
        yield* Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--))
        store.trim(yield* Clock.currentTimeMillis)
        const replay: Array<LogItem> = replayOf(subscribeOptions, toEvents)
        let seen = store.nextSeq - 1
        const takeLive = Effect.map(Queue.takeBetween(live, 1, Number.MAX_SAFE_INTEGER), (chunk) => {
          const entries = Chunk.toReadonlyArray(chunk)
          const out: Array<LogItem> = new Array(entries.length)
          let n = 0
          for (let i = 0; i < entries.length; i++) {
            const entry = entries[i]!
            if (entry.seq > seen) out[n++] = entry.event
          }
          if (n > 0) seen = 0 // live entries come in order: past the replay, nothing more to drop
          out.length = n
          return Chunk.unsafeFromArray(out)
        })
        let first: Chunk.Chunk<LogItem> | undefined = replay.length > 0 ? Chunk.unsafeFromArray(replay) : undefined
        return Effect.suspend(() => {
          if (first === undefined) return takeLive
          const chunk = first
          first = undefined
          return Effect.succeed(chunk)
        })
      })

    const subscribe = (subscribeOptions?: SubscribeOptions): Stream.Stream<LogItem> =>
      Stream.fromPull(pullOf(subscribeOptions))

    const log: EventLog & Attachable & Pullable = {
      [PullTypeId]: pullOf,
      append,
      subscribe,
      [AttachTypeId]: { attach, several: () => attached.size > 1 },
      lastId: Effect.sync(() => store.nextSeq > 1 ? Option.some(store.idOf(store.nextSeq - 1)) : Option.none()),
      subscriberCount: Effect.sync(() => subscribers)
    }
    return log
  })

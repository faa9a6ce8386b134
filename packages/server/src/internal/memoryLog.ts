/**
 * The in-memory event log: a compacting array of retained entries and an unbounded PubSub for the
 * live part. Every subscriber drains its PubSub subscription promptly (the response layer keeps
 * its own bounded per-connection buffer), so the PubSub holds only what is in flight.
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
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { EventInput, EventLog, LogItem, Reset, SubscribeOptions } from "../EventLog.js"
import { afterId } from "../EventLog.js"

/** @internal */
export interface Entry {
  readonly seq: number
  readonly at: number
  readonly event: Sse.SseEvent
}

/** @internal */
export interface Options {
  readonly maxEvents?: number | undefined
  readonly maxAge?: Duration.DurationInput | undefined
}

/** @internal */
export const DEFAULT_MAX_EVENTS = 1000

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
export const make = (options?: Options): Effect.Effect<EventLog, never, Scope.Scope> =>
  Effect.gen(function*() {
    const maxEvents = Math.max(1, Math.floor(options?.maxEvents ?? DEFAULT_MAX_EVENTS))
    const maxAge = options?.maxAge === undefined ? Infinity : Duration.toMillis(Duration.decode(options.maxAge))
    // ids are "<epoch>-<seq>": the epoch tells this log's ids from those of an earlier (restarted) one
    const created = yield* Clock.currentTimeMillis
    const salt = yield* Random.nextIntBetween(0, 36 * 36)
    const store = new Store(created.toString(36) + salt.toString(36).padStart(2, "0"), maxEvents, maxAge)
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<Entry>(), PubSub.shutdown)
    let subscribers = 0

    const append = (input: EventInput) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.suspend(() => {
          const checked = Sse.event({ data: input.data, type: input.type, id: "x" })
          if (Either.isLeft(checked)) return Effect.fail(checked.left)
          // id assignment, retention and publication in one synchronous step: publication order is id order
          const seq = store.nextSeq++
          const event: Sse.SseEvent = { _tag: "SseEvent", type: checked.right.type, data: input.data, lastEventId: store.idOf(seq) }
          const entry: Entry = { seq, at: now, event }
          store.push(entry, now)
          pubsub.unsafeOffer(entry)
          return Effect.succeed(event)
        }))

    const subscribe = (subscribeOptions?: SubscribeOptions): Stream.Stream<LogItem> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        // subscribe to live events first, then read the replay: nothing appended in between is lost,
        // and what is in both is dropped from the live part by sequence number
        const live = yield* PubSub.subscribe(pubsub)
        yield* Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--))
        const now = yield* Clock.currentTimeMillis
        store.trim(now)
        const after = afterId(subscribeOptions)
        let replay: Array<LogItem>
        if (Option.isNone(after)) {
          replay = subscribeOptions?.initial === "retained" ? toEvents(store.after(0)) : []
        } else {
          const seq = store.seqOf(after.value)
          const oldest = store.size > 0 ? Option.some(store.idOf(store.firstSeq)) : Option.none()
          if (seq === undefined || seq >= store.nextSeq) {
            const reset: Reset = { _tag: "Reset", requested: after.value, reason: "unknown", oldest }
            replay = [reset, ...toEvents(store.after(0))]
          } else if (seq + 1 < store.firstSeq) {
            const reset: Reset = { _tag: "Reset", requested: after.value, reason: "expired", oldest }
            replay = [reset, ...toEvents(store.after(0))]
          } else {
            replay = toEvents(store.after(seq))
          }
        }
        const seen = store.nextSeq - 1
        const liveEvents = Stream.fromQueue(live).pipe(
          Stream.mapChunks((chunk) => {
            const out: Array<LogItem> = []
            for (const entry of chunk) if (entry.seq > seen) out.push(entry.event)
            return Chunk.unsafeFromArray(out)
          })
        )
        return replay.length === 0 ? liveEvents : Stream.concat(Stream.fromChunk(Chunk.unsafeFromArray(replay)), liveEvents)
      }))

    const log: EventLog = {
      append,
      subscribe,
      lastId: Effect.sync(() => store.nextSeq > 1 ? Option.some(store.idOf(store.nextSeq - 1)) : Option.none()),
      subscriberCount: Effect.sync(() => subscribers)
    }
    return log
  })

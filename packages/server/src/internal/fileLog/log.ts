// dprint-ignore-file: dprint 0.96.1 does not reach a stable format on this file (it bails after 5 tries); kept as written
/**
 * The file log as an `EventLog`: `store.ts` keeps the events on disk; an in-memory log
 * (`../memoryLog.ts`, given this log's id epoch and sequence numbers) holds the newest
 * `tailEvents` of them and does the live fan-out. A committed batch is appended to that tail in
 * order, before the appends are acknowledged.
 *
 * A subscription starts from a sequence number `d` (everything after it is delivered): the newest
 * committed one for a live subscription, the requested id's, or the one before the oldest
 * retained event (after a `Reset`, or for `initial: "retained"`). While `d + 1` is older than the
 * tail, it reads pages of records from disk; then it follows the tail from `d` (the tail's replay
 * and live part have no gap and no duplicate). If the tail moved past `d` in the meantime (the tail
 * answers with a `Reset`), it goes back to reading the disk.
 *
 * @internal
 */
import { Sse } from "@streamwire/codec"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { EventInput, EventLog, LogItem, Reset, SubscribeOptions } from "../../EventLog.js"
import type * as FileEventLog from "../../FileEventLog.js"
import { afterId, EventLogError } from "../../EventLog.js"
import * as memoryLog from "../memoryLog.js"
import type * as Rec from "./record.js"
import { type Config, Cursor, OpenFailure, Store } from "./store.js"

/** The public options are the internal ones (one definition, documented in FileEventLog.ts). */
export type Options = FileEventLog.Options

/** @internal */
export const DEFAULT_MAX_EVENTS = 100_000
/** @internal */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024
/** @internal */
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024
/** @internal */
export const DEFAULT_TAIL_EVENTS = 1024

/** Records read from disk per pull. */
const PAGE = 512

const positive = (n: number | undefined, fallback: number, min = 1) =>
  n === undefined || !Number.isFinite(n) ? fallback : Math.max(min, Math.floor(n))

/** @internal */
export const config = (options: Options): Config => {
  const maxBytes = positive(options.maxBytes, DEFAULT_MAX_BYTES, 4096)
  return {
    directory: options.directory,
    maxEvents: positive(options.maxEvents, DEFAULT_MAX_EVENTS),
    maxAgeMillis: options.maxAge === undefined ? Infinity : Duration.toMillis(Duration.decode(options.maxAge)),
    maxBytes,
    // several segments fit within maxBytes, so removing the oldest one keeps most of what is retained
    segmentBytes: Math.min(positive(options.segmentBytes, DEFAULT_SEGMENT_BYTES, 64), Math.max(64, Math.floor(maxBytes / 4))),
    syncEveryMillis: options.sync === undefined || options.sync === "always"
      ? 0
      : Math.max(1, Duration.toMillis(Duration.decode(options.sync.every))),
    tailEvents: positive(options.tailEvents, DEFAULT_TAIL_EVENTS)
  }
}

type Pull = Effect.Effect<Chunk.Chunk<LogItem>, Option.Option<EventLogError>>

/** @internal */
export const make = (options: Options): Effect.Effect<EventLog, OpenFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const cfg = config(options)
    const now = yield* Clock.currentTimeMillis
    const store = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => Store.open(cfg, now),
        catch: (e) => e instanceof OpenFailure ? e : new OpenFailure("io", String(e), e)
      }),
      (s) => Effect.promise(() => s.close())
    )
    const epoch = store.epoch
    const idOf = (seq: number) => epoch + "-" + seq
    const seqOf = (id: string): number | undefined => {
      const dash = id.lastIndexOf("-")
      if (dash < 0 || id.slice(0, dash) !== epoch) return undefined
      const digits = id.slice(dash + 1)
      return /^[0-9]{1,15}$/.test(digits) ? Number(digits) : undefined
    }
    const eventOf = (r: Rec.Record): Sse.SseEvent => ({ _tag: "SseEvent", type: r.type, data: r.data, lastEventId: idOf(r.seq) })

    // the in-memory tail: the newest records, with this log's ids
    const tailStart = store.recent.length > 0 ? store.recent[0]!.seq : store.nextSeq
    const tail = yield* memoryLog.make({ epoch, nextSeq: tailStart, maxEvents: cfg.tailEvents })
    for (const r of store.recent) yield* Effect.orDie(tail.append({ type: r.type, data: r.data }))
    /** The oldest sequence number the tail still has (the next one when it is empty). */
    const tailFirst = () => Math.max(tailStart, store.committed + 1 - cfg.tailEvents)
    store.onCommit = (records) => {
      const last = Effect.runSync(Effect.forEach(records, (r) => tail.append({ type: r.type, data: r.data })))
      const expected = idOf(records[records.length - 1]!.seq)
      if (last[last.length - 1]!.lastEventId !== expected) {
        throw new Error(`file log: the tail is out of step (${last[last.length - 1]!.lastEventId} for ${expected})`)
      }
    }

    const append = (input: EventInput): Effect.Effect<Sse.SseEvent, Sse.InvalidField | EventLogError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.suspend((): Effect.Effect<Sse.SseEvent, Sse.InvalidField | EventLogError> => {
          const checked = Sse.event({ data: input.data, type: input.type, id: "x" })
          if (Either.isLeft(checked)) return Effect.fail(checked.left)
          const type = checked.right.type
          return Effect.async<Sse.SseEvent, EventLogError>((resume) => {
            let seq = 0
            const record = store.append(now, type, input.data, (error) =>
              resume(
                error === undefined
                  ? Effect.succeed({ _tag: "SseEvent", type, data: input.data, lastEventId: idOf(seq) })
                  : Effect.fail(new EventLogError({ operation: "append", cause: error }))
              ))
            if (record !== undefined) seq = record.seq
          })
        }))

    const readError = (cause: unknown) => new EventLogError({ operation: "read", cause })

    /** The oldest sequence number retained at `now` (the next one when nothing is). */
    const firstRetained = (now: number): Effect.Effect<number, EventLogError> =>
      Effect.suspend(() => {
        let first = Math.max(store.physicalFirst, store.committed + 1 - cfg.maxEvents)
        if (cfg.maxAgeMillis === Infinity) return Effect.succeed(first)
        const cutoff = now - cfg.maxAgeMillis
        first = Math.max(first, store.ageFloor)
        for (const s of store.segments) if (s.lastSeq >= first && s.lastAt <= cutoff) first = s.lastSeq + 1
        if (first > store.committed) return Effect.succeed(first)
        // the first record younger than maxAge: in the oldest segment that has any
        const from = first
        return Effect.tryPromise({
          try: async () => {
            const cursor = new Cursor(store, from)
            try {
              for (;;) {
                const records = await cursor.read(PAGE)
                if (records.length === 0) return cursor.next
                for (const r of records) if (r.at > cutoff) return r.seq
              }
            } finally {
              await cursor.close()
            }
          },
          catch: readError
        }).pipe(Effect.tap((seq) => Effect.sync(() => (store.ageFloor = Math.max(store.ageFloor, seq)))))
      })

    let subscribers = 0

    const pullOf = (options: SubscribeOptions | undefined): Effect.Effect<Pull, EventLogError, Scope.Scope> =>
      Effect.gen(function*() {
        const scope = yield* Effect.scope
        const first = yield* firstRetained(yield* Clock.currentTimeMillis)
        // from here to the count, synchronous: `d` is fixed before any other append commits
        const after = afterId(options)
        const leading: Array<LogItem> = []
        const reset = (requested: string, reason: Reset["reason"]): Reset => ({
          _tag: "Reset",
          requested,
          reason,
          oldest: first <= store.committed ? Option.some(idOf(first)) : Option.none()
        })
        let d: number
        if (Option.isNone(after)) {
          d = options?.initial === "retained" ? first - 1 : store.committed
        } else {
          const seq = seqOf(after.value)
          if (seq === undefined || seq > store.committed) {
            leading.push(reset(after.value, "unknown"))
            d = first - 1
          } else if (seq + 1 < first) {
            leading.push(reset(after.value, "expired"))
            d = first - 1
          } else {
            d = seq
          }
        }
        yield* Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--))
        const cursor = new Cursor(store, d + 1)
        yield* Effect.addFinalizer(() => Effect.promise(() => cursor.close()))
        let tailPull: Pull | undefined

        /** Follows the tail from `d`, or gives undefined if the tail no longer has `d + 1`. */
        const followTail = Effect.gen(function*() {
          const sub = yield* Scope.fork(scope, ExecutionStrategy.sequential)
          const pull = yield* Scope.extend(tail[memoryLog.PullTypeId]({ after: idOf(d) }), sub)
          const chunk = yield* Effect.orDie(pull) // the tail's subscription never ends
          if (Chunk.isNonEmpty(chunk) && Chunk.unsafeHead(chunk)._tag === "Reset") {
            yield* Scope.close(sub, Exit.void)
            return undefined
          }
          yield* Effect.promise(() => cursor.close())
          tailPull = pull
          return chunk
        })

        const readDisk = Effect.tryPromise({ try: () => cursor.read(PAGE), catch: readError })

        const next: Pull = Effect.gen(function*() {
          for (;;) {
            if (d + 1 >= tailFirst()) {
              const chunk = yield* followTail
              if (chunk !== undefined) return chunk
            }
            cursor.next = d + 1
            const records = yield* readDisk
            if (records.length > 0) {
              d = records[records.length - 1]!.seq
              return Chunk.unsafeFromArray(records.map(eventOf))
            }
          }
        }).pipe(Effect.mapError(Option.some))

        return Effect.suspend(() => {
          if (tailPull !== undefined) return tailPull
          if (leading.length > 0) return Effect.succeed(Chunk.unsafeFromArray(leading.splice(0)))
          return next
        })
      })

    const subscribe = (options?: SubscribeOptions): Stream.Stream<LogItem, EventLogError> =>
      Stream.fromPull(pullOf(options).pipe(Effect.catchAll((e) => Effect.succeed<Pull>(Effect.fail(Option.some(e))))))

    const log: EventLog = {
      append,
      subscribe,
      lastId: Effect.sync(() => (store.committed > 0 ? Option.some(idOf(store.committed)) : Option.none())),
      subscriberCount: Effect.sync(() => subscribers)
    }
    return log
  })

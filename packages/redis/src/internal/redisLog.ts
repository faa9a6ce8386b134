/**
 * The Redis Streams `EventLog`.
 *
 * - One stream key per log. Each entry holds `type`, `data` and `prev`: the id of the entry before
 *   it, written atomically by a Lua script at `XADD` time. The `prev` chain lets a subscriber tell
 *   "nothing happened between my id and the next entry" from "entries were trimmed in between"
 *   exactly, whatever the trimming (`MAXLEN ~`, `MINID`), without trusting id arithmetic.
 * - One command connection (appends, `XRANGE` pages, the subscribe handshake) and one blocking
 *   reader connection per log (not per subscriber).
 * - Appends are batched: what queues while a call is prepared goes in one script call (one round
 *   trip, ids in call order), a few calls in flight; the queue is bounded (`maxPendingAppends`).
 * - A "tail" fiber follows the stream with `XREAD BLOCK` (pages of up to 1,000 entries), decodes
 *   each entry once and keeps the newest in a window shared by all subscribers of the instance,
 *   numbered locally. Under load it paces its reads (see `pace`), so that subscribers take many
 *   entries per pull. A live subscriber holds a number in that window and takes a slice of it per
 *   pull; one behind the window reads bounded `XRANGE` pages from Redis until it is back in it.
 *   Nothing is pushed into an unbounded queue; a slow subscriber reads at its own pace, only when
 *   its downstream pulls.
 * - Transient failures (connection lost, Redis loading) are retried on a `Schedule` from the last
 *   delivered id, so a subscriber's position survives a reconnect.
 *
 * @internal
 */
import { Sse } from "@streamwire/codec"
import { EventLog } from "@streamwire/server"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Redis, type RedisOptions } from "ioredis"
import type * as RedisEventLog from "../RedisEventLog.js"
import * as StreamId from "./streamId.js"

// ---------------------------------------------------------------------------------------------
// options

/** @internal */
export type Options = RedisEventLog.Options

/** @internal */
export const DEFAULT_BATCH = 100
/** @internal */
export const DEFAULT_CACHE = 1000
/** @internal */
export const DEFAULT_BLOCK = Duration.seconds(5)
/** @internal */
export const DEFAULT_MAX_PENDING_APPENDS = 10_000
/** @internal */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("50 millis").pipe(
  Schedule.union(Schedule.spaced("2 seconds"))
)

interface Resolved {
  readonly key: string
  readonly maxLength: number | undefined
  readonly trim: "~" | "="
  readonly minAgeMillis: number | undefined
  readonly batch: number
  readonly cacheSize: number
  readonly blockMillis: number
  readonly retry: Schedule.Schedule<unknown, unknown>
  readonly maxPending: number
}

const resolve = (options: Options): Resolved => {
  const r = options.retention
  return {
    key: options.key,
    maxLength: r?.maxLength === undefined ? undefined : Math.max(1, Math.floor(r.maxLength)),
    trim: r?.exact === true ? "=" : "~",
    minAgeMillis: r?.minAge === undefined ? undefined : Math.max(1, Duration.toMillis(Duration.decode(r.minAge))),
    batch: Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH)),
    cacheSize: Math.max(0, Math.floor(options.cacheSize ?? DEFAULT_CACHE)),
    blockMillis: Math.max(1, Duration.toMillis(Duration.decode(options.blockTimeout ?? DEFAULT_BLOCK))),
    retry: options.retry ?? defaultRetry,
    maxPending: Math.max(1, Math.floor(options.maxPendingAppends ?? DEFAULT_MAX_PENDING_APPENDS))
  }
}

// ---------------------------------------------------------------------------------------------
// errors

/**
 * A subscriber's next entry does not follow its position: entries after it were trimmed (it fell
 * behind retention) or the stream was deleted and recreated. @internal
 */
export class StreamGap extends Data.TaggedError("StreamGap")<{
  readonly key: string
  readonly after: string
  readonly next: string
  readonly nextPrev: string
}> {
  override get message(): string {
    return `Redis stream "${this.key}": the entry after ${this.after} is gone (next retained entry ${this.next} follows ${this.nextPrev}); resubscribe after ${this.after} to get a Reset`
  }
}

/**
 * An append found `maxPendingAppends` appends already waiting to be sent to Redis (Redis is slower
 * than the appenders, or unreachable): it fails at once instead of queueing without bound. @internal
 */
export class AppendQueueFull extends Data.TaggedError("AppendQueueFull")<{
  readonly key: string
  readonly limit: number
}> {
  override get message(): string {
    return `Redis stream "${this.key}": ${this.limit} appends already wait to be sent (maxPendingAppends)`
  }
}

/**
 * Redis did not answer at start-up within the connect timeout: names the URL (password redacted)
 * and the last connection error. @internal
 */
export class RedisUnreachable extends Data.TaggedError("RedisUnreachable")<{
  readonly url: string
  readonly timeout: Duration.Duration
  readonly cause: unknown
}> {
  override get message(): string {
    const cause = this.cause instanceof Error
      ? this.cause.message
      : this.cause === undefined
      ? "no answer"
      : String(this.cause)
    return `Redis at ${this.url} did not answer within ${Duration.format(this.timeout)}: ${cause}`
  }
}

/** A URL with its password (and user) replaced by `***`. @internal */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, "//***@")

/** @internal */
export const DEFAULT_CONNECT_TIMEOUT = Duration.seconds(5)

/** A failed Redis call, before it becomes an `EventLogError`. */
class RedisCallError extends Data.TaggedError("RedisCallError")<{ readonly cause: unknown }> {}

const transientReply = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/

/** Connection-level failures and "try again" replies are retried; other Redis replies are not. @internal */
export const isTransient = (cause: unknown): boolean => {
  if (!(cause instanceof Error)) return false
  if (cause.name === "ReplyError") return transientReply.test(cause.message)
  return !(cause instanceof UnexpectedReply)
}

class UnexpectedReply extends Error {
  override readonly name = "UnexpectedReply"
}

const call = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (cause) => new RedisCallError({ cause }) })

const toLogError = (operation: "append" | "subscribe" | "read") => (e: RedisCallError | StreamGap) =>
  new EventLog.EventLogError({ operation, cause: e._tag === "StreamGap" ? e : e.cause })

// ---------------------------------------------------------------------------------------------
// scripts

/**
 * Appends, one or many in one call (what queued while the previous call was in flight): each
 * entry's `prev` is the id of the entry before it (the stream's last one for the first). ARGV: maxLen, trim, minAge, n,
 * then n pairs (type, data). Returns the ids in order.
 */
const APPEND_MANY_LUA = `
local key = KEYS[1]
local prev = '0-0'
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
if #last > 0 then
  prev = last[1][1]
elseif redis.call('EXISTS', key) == 1 then
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then prev = info[i + 1] end
  end
end
local n = tonumber(ARGV[4])
local ids = {}
for i = 1, n do
  local t = ARGV[3 + 2 * i]
  local d = ARGV[4 + 2 * i]
  local id
  if ARGV[1] ~= '' then
    id = redis.call('XADD', key, 'MAXLEN', ARGV[2], ARGV[1], '*', 'type', t, 'data', d, 'prev', prev)
  else
    id = redis.call('XADD', key, '*', 'type', t, 'data', d, 'prev', prev)
  end
  ids[i] = id
  prev = id
end
if ARGV[3] ~= '' then
  local tm = redis.call('TIME')
  local cutoff = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000) - tonumber(ARGV[3])
  if cutoff > 0 then redis.call('XTRIM', key, 'MINID', ARGV[2], string.format('%d', cutoff) .. '-0') end
end
return ids
`

/** Atomically: does the key exist, its last generated id, and (ARGV[1] non-empty) a page from ARGV[1]. */
const HANDSHAKE_LUA = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0, '0-0', {}} end
local lastGen = '0-0'
local info = redis.call('XINFO', 'STREAM', key)
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then lastGen = info[i + 1] end
end
local entries = {}
if ARGV[1] ~= '' then entries = redis.call('XRANGE', key, ARGV[1], '+', 'COUNT', ARGV[2]) end
return {1, lastGen, entries}
`

interface Scripts {
  streamwireAppendMany(key: string, ...args: Array<string>): Promise<unknown>
  streamwireHandshake(key: string, start: string, count: string): Promise<unknown>
}

type Client = Redis & Scripts

/** Appends written by one call at most (each is two script arguments). */
const MAX_APPEND_BATCH = 512
/** Append calls in flight at once on the command connection. */
const MAX_APPENDS_IN_FLIGHT = 4
/** Most entries the tail reads per `XREAD` (or `batchSize` when larger). */
const TAIL_READ_COUNT = 1000
/** A page of at least this many entries makes the tail pace its next read. */
const PACE_MIN_ENTRIES = 16
/** Groups of subscribers woken one per turn of the event loop after a large page. */
const WAKE_GROUPS: number = 4
/** The longest the tail waits before its next read. */
const PACE_MAX_MILLIS = 10

// ---------------------------------------------------------------------------------------------
// entries

/** @internal */
export interface Entry {
  readonly id: string
  readonly prev: string
  readonly event: Sse.SseEvent
}

const decodeEntry = (raw: unknown): Entry => {
  if (!Array.isArray(raw) || typeof raw[0] !== "string" || !Array.isArray(raw[1])) {
    throw new UnexpectedReply(`not a stream entry: ${JSON.stringify(raw)}`)
  }
  const id = raw[0]
  const fields = raw[1] as Array<unknown>
  let type = "message"
  let data = ""
  let prev = StreamId.ZERO
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = String(fields[i])
    const value = String(fields[i + 1])
    if (name === "data") data = value
    else if (name === "type") type = value
    else if (name === "prev") prev = value
  }
  return { id, prev, event: { _tag: "SseEvent", type, data, lastEventId: id } }
}

const decodeEntries = (raw: unknown): Array<Entry> => {
  if (raw === null) return []
  if (!Array.isArray(raw)) throw new UnexpectedReply(`not a list of entries: ${JSON.stringify(raw)}`)
  return raw.map(decodeEntry)
}

interface Handshake {
  readonly exists: boolean
  readonly lastGen: string
  readonly entries: Array<Entry>
}

const decodeHandshake = (raw: unknown): Handshake => {
  if (!Array.isArray(raw) || raw.length !== 3 || typeof raw[1] !== "string") {
    throw new UnexpectedReply(`unexpected handshake reply: ${JSON.stringify(raw)}`)
  }
  return { exists: raw[0] === 1, lastGen: raw[1], entries: decodeEntries(raw[2]) }
}

/** `XREAD` reply for one key: `[[key, entries]]` or null. */
const decodeRead = (raw: unknown): Array<Entry> => {
  if (raw === null) return []
  if (!Array.isArray(raw) || !Array.isArray(raw[0])) {
    throw new UnexpectedReply(`unexpected XREAD reply: ${JSON.stringify(raw)}`)
  }
  return decodeEntries(raw[0][1])
}

// ---------------------------------------------------------------------------------------------
// the tail: one blocking reader per log, and a bounded window of the newest entries

/**
 * What the tail fiber has read, in stream order, shared by every subscriber of the instance: the
 * decoded events (each decoded once, the same object for every subscriber) and their `prev` ids,
 * numbered by a local sequence number. A live subscriber holds a sequence number and takes a slice
 * of the shared array per pull; ids are looked up only when a subscriber joins or comes back from
 * reading Redis.
 */
class Tail {
  events: Array<Sse.SseEvent> = []
  prevs: Array<string> = []
  /** Index of the oldest kept entry in the arrays. */
  head = 0
  /** Sequence number of `events[0]`. */
  base = 0
  /** Sequence number of each kept entry, by id. */
  readonly seqs = new Map<string, number>()
  /** The id the tail has read up to (undefined until it started). */
  position: string | undefined = undefined
  /** One signal per group of subscribers, completed (and replaced) when the tail read more. */
  signals: Array<Deferred.Deferred<void>>
  constructor(readonly capacity: number) {
    this.signals = Tail.newSignals()
  }

  static newSignals(): Array<Deferred.Deferred<void>> {
    const out: Array<Deferred.Deferred<void>> = []
    for (let g = 0; g < WAKE_GROUPS; g++) out.push(Deferred.unsafeMake<void>(FiberId.none))
    return out
  }

  /** Sequence number of the oldest kept entry. */
  get start(): number {
    return this.base + this.head
  }

  /** Sequence number of the next entry to be read. */
  get end(): number {
    return this.base + this.events.length
  }

  /** The sequence number of the entry after `id`, when the tail knows it (else undefined). */
  seqAfter(id: string): number | undefined {
    const seq = this.seqs.get(id)
    if (seq !== undefined) return seq + 1
    return id === this.position ? this.end : undefined
  }

  /** Records a page the tail read, and swaps the signals: the old ones are returned, to be completed. */
  advance(entries: ReadonlyArray<Entry>): Array<Deferred.Deferred<void>> {
    let seq = this.end
    for (const e of entries) {
      this.events.push(e.event)
      this.prevs.push(e.prev)
      this.seqs.set(e.id, seq++)
    }
    // keep `capacity` entries, and at least the page just read (what the subscribers are about to take)
    const keep = Math.max(this.capacity, entries.length)
    let head = this.head
    const length = this.events.length
    while (length - head > keep) {
      this.seqs.delete(this.events[head]!.lastEventId)
      this.events[head] = undefined as unknown as Sse.SseEvent
      head++
    }
    this.head = head
    if (head > 1024 && head * 2 > length) {
      this.events = this.events.slice(head)
      this.prevs = this.prevs.slice(head)
      this.base += head
      this.head = 0
    }
    if (entries.length > 0) this.position = entries[entries.length - 1]!.id
    const old = this.signals
    this.signals = Tail.newSignals()
    return old
  }
}

// ---------------------------------------------------------------------------------------------
// connections

// QUIT only on a live connection (ioredis holds it while reconnecting), interruptible so that the
// timeout holds inside a finalizer
const closeClient = (client: Redis, how: "quit" | "disconnect") =>
  (how === "quit" && client.status === "ready"
    ? call(() => client.quit()).pipe(Effect.interruptible, Effect.timeout("1 second"), Effect.ignore)
    : Effect.void).pipe(Effect.ensuring(Effect.sync(() => client.disconnect())))

const createClient = (options: Options): Redis => {
  const redisOptions: RedisOptions = { ...options.redis }
  return options.url === undefined ? new Redis(redisOptions) : new Redis(options.url, redisOptions)
}

/** The two connections of a log: commands, and the blocking reader. @internal */
export const connect = (
  options: Options
): Effect.Effect<{ client: Client; reader: Redis }, EventLog.EventLogError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    let lastError: Error | undefined
    const logError = (which: string) => (error: Error) => {
      lastError = error
      Runtime.runFork(runtime)(Effect.logDebug(`Redis ${which} connection (${options.key}): ${error.message}`))
    }
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const c = createClient(options)
        c.on("error", logError("command"))
        c.defineCommand("streamwireAppendMany", { numberOfKeys: 1, lua: APPEND_MANY_LUA })
        c.defineCommand("streamwireHandshake", { numberOfKeys: 1, lua: HANDSHAKE_LUA })
        return c as Client
      }),
      (c) => closeClient(c, "quit")
    )
    // wait until Redis answers, at most `connectTimeout`; then fail with the URL and the last error
    const timeout = Duration.decode(options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)
    const unreachable = (cause: unknown) =>
      new EventLog.EventLogError({
        operation: "read",
        cause: new RedisUnreachable({ url: redactUrl(options.url ?? "redis://127.0.0.1:6379"), timeout, cause })
      })
    yield* call(() => client.ping()).pipe(
      Effect.retry({
        schedule: Schedule.spaced("100 millis"),
        while: (e) => isTransient(e.cause) && client.status !== "end"
      }),
      Effect.timeoutFail({ duration: timeout, onTimeout: () => new RedisCallError({ cause: lastError }) }),
      Effect.mapError((e) => unreachable(e.cause ?? lastError))
    )
    const reader = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const r = client.duplicate()
        r.on("error", logError("reader"))
        return r
      }),
      // the reader may be blocked in XREAD: QUIT would wait for it, so just close the socket
      (r) => closeClient(r, "disconnect")
    )
    return { client, reader }
  })

// ---------------------------------------------------------------------------------------------
// the log

/** @internal */
export const make = (options: Options): Effect.Effect<EventLog.EventLog, EventLog.EventLogError, Scope.Scope> =>
  Effect.flatMap(connect(options), ({ client, reader }) => makeWith(client, reader, options))

const makeWith = (client: Client, reader: Redis, options: Options) =>
  Effect.gen(function*() {
    const o = resolve(options)
    const key = o.key
    const tail = new Tail(o.cacheSize)
    let nextGroup = 0
    let subscribers = 0

    const retrying = <A>(effect: Effect.Effect<A, RedisCallError>) =>
      Effect.retry(effect, { schedule: o.retry, while: (e) => isTransient(e.cause) })

    const handshake = (start: string) =>
      call(() => client.streamwireHandshake(key, start, String(o.batch))).pipe(
        Effect.flatMap((raw) =>
          Effect.try({ try: () => decodeHandshake(raw), catch: (cause) => new RedisCallError({ cause }) })
        )
      )

    const readAfter = (id: string) =>
      call(() => client.xrange(key, "(" + id, "+", "COUNT", o.batch)).pipe(
        Effect.flatMap((raw) =>
          Effect.try({ try: () => decodeEntries(raw), catch: (cause) => new RedisCallError({ cause }) })
        )
      )

    // --- the tail fiber: follows the stream with XREAD BLOCK on the reader connection, forever
    /**
     * Records a page and wakes the subscribers: all at once for a small page; for a large one group
     * by group, one group per turn of the event loop, so that the replies to appends (and what the
     * appenders do next) are handled between groups instead of after the whole fan-out. `done` is
     * called once every group was woken and the loop came back.
     */
    const wake = (entries: ReadonlyArray<Entry>, done?: () => void): void => {
      const old = tail.advance(entries)
      if (entries.length < PACE_MIN_ENTRIES) {
        for (const d of old) Deferred.unsafeDone(d, Exit.void)
        if (done !== undefined) setImmediate(done)
        return
      }
      let g = 0
      const step = () => {
        Deferred.unsafeDone(old[g++]!, Exit.void)
        if (g < old.length) setImmediate(step)
        else if (done !== undefined) setImmediate(done)
      }
      step()
    }
    const publish = (entries: ReadonlyArray<Entry>) => Effect.sync(() => wake(entries))
    const logRetry = <A>(what: string, effect: Effect.Effect<A, RedisCallError>) =>
      effect.pipe(
        Effect.tapError((e) => Effect.logWarning(`Redis event log "${key}": ${what} failed, retrying`, e.cause)),
        Effect.retry(o.retry)
      )
    const readCount = Math.max(o.batch, TAIL_READ_COUNT)
    /**
     * A large page: wake the subscribers group by group, wait until they have taken it (the event
     * loop is free again), then as long again, at most PACE_MAX_MILLIS, before the next read. Each
     * subscriber's cost is mostly per pull (a fiber wakes, a chunk goes down its stream), so with
     * many subscribers a page per append call would keep the process busy waking them; paced, the
     * tail reads what several calls appended in one page, every subscriber takes it in one pull,
     * and the appends go on meanwhile. A page below PACE_MIN_ENTRIES is published at once and the
     * next read follows: at low rates nothing waits. Plain timers, not the Effect `Clock`.
     */
    const publishPaced = (entries: ReadonlyArray<Entry>) =>
      Effect.async<void>((resume) => {
        const t0 = performance.now()
        let timer: ReturnType<typeof setTimeout> | undefined
        let stopped = false
        wake(entries, () => {
          if (stopped) return
          const wait = Math.min(PACE_MAX_MILLIS, performance.now() - t0)
          timer = setTimeout(() => resume(Effect.void), wait)
        })
        return Effect.sync(() => {
          stopped = true
          if (timer !== undefined) clearTimeout(timer)
        })
      })
    const follow = Effect.gen(function*() {
      const start = yield* logRetry("reading the stream head", handshake(""))
      tail.position = start.lastGen
      // wake anyone who started waiting before the tail knew where it was
      yield* publish([])
      while (true) {
        const from = tail.position
        const entries = yield* logRetry(
          "XREAD",
          call(() => reader.xread("COUNT", readCount, "BLOCK", o.blockMillis, "STREAMS", key, from)).pipe(
            Effect.flatMap((raw) =>
              Effect.try({ try: () => decodeRead(raw), catch: (cause) => new RedisCallError({ cause }) })
            )
          )
        )
        // under load, let entries accumulate before the next read (see `publishPaced`)
        if (entries.length >= PACE_MIN_ENTRIES) yield* publishPaced(entries)
        else if (entries.length > 0) yield* publish(entries)
      }
    })
    yield* Effect.forkScoped(Effect.interruptible(follow))

    // --- append: batched and pipelined. Appends made while a call is being prepared go in one
    // script call (one round trip, in call order); up to MAX_APPENDS_IN_FLIGHT calls are in flight
    // on the connection (Redis runs them in order, so ids follow call order), and what queues
    // meanwhile goes in the next call. The rate follows Redis's throughput, not its latency, and the
    // tail reads a call's entries in one XREAD. At most `maxPendingAppends` wait to be sent: past
    // that an append fails at once with `AppendQueueFull`.
    interface Pending {
      readonly type: string
      readonly data: string
      readonly resume: (effect: Effect.Effect<Sse.SseEvent, EventLog.EventLogError>) => void
      cancelled: boolean
    }
    let queue: Array<Pending> = []
    let inFlight = 0
    let scheduled = false
    let closed = false
    const maxLen = o.maxLength === undefined ? "" : String(o.maxLength)
    const minAge = o.minAgeMillis === undefined ? "" : String(Math.round(o.minAgeMillis))
    const schedule = (): void => {
      if (scheduled || queue.length === 0 || inFlight >= MAX_APPENDS_IN_FLIGHT) return
      scheduled = true
      queueMicrotask(sendQueued)
    }
    const failed = (cause: unknown) => Effect.fail(new EventLog.EventLogError({ operation: "append", cause }))
    const sendQueued = (): void => {
      scheduled = false
      while (queue.length > 0 && inFlight < MAX_APPENDS_IN_FLIGHT) {
        const taken = queue.length <= MAX_APPEND_BATCH ? queue : queue.slice(0, MAX_APPEND_BATCH)
        queue = queue.length <= MAX_APPEND_BATCH ? [] : queue.slice(MAX_APPEND_BATCH)
        const batch = taken.filter((p) => !p.cancelled)
        if (batch.length === 0) continue
        const args: Array<string> = [maxLen, o.trim, minAge, String(batch.length)]
        for (const p of batch) args.push(p.type, p.data)
        inFlight++
        client.streamwireAppendMany(key, ...args).then(
          (ids) => {
            inFlight--
            const list = ids as Array<unknown>
            for (let i = 0; i < batch.length; i++) {
              const p = batch[i]!
              p.resume(Effect.succeed({ _tag: "SseEvent", type: p.type, data: p.data, lastEventId: String(list[i]) }))
            }
            schedule()
          },
          (cause) => {
            inFlight--
            const error = failed(cause)
            for (const p of batch) p.resume(error)
            schedule()
          }
        )
      }
    }
    // the pending appends fail when the log closes (the command connection is closing)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        const pending = queue
        queue = []
        const error = failed(new Error(`Redis event log "${key}" closed`))
        for (const p of pending) p.resume(error)
      })
    )
    // the event types seen valid (a log uses a few): checked once each
    const validTypes = new Set<string>()
    const append = (
      input: EventLog.EventInput
    ): Effect.Effect<Sse.SseEvent, Sse.InvalidField | EventLog.EventLogError> => {
      const type = input.type === undefined || input.type === "" ? "message" : input.type
      if (!validTypes.has(type)) {
        const checked = Sse.event({ data: "", type })
        if (Either.isLeft(checked)) return Effect.fail(checked.left)
        if (validTypes.size < 1024) validTypes.add(type)
      }
      const data = input.data
      return Effect.async<Sse.SseEvent, EventLog.EventLogError>((resume) => {
        if (closed) return resume(failed(new Error(`Redis event log "${key}" closed`)))
        if (queue.length >= o.maxPending) {
          return resume(failed(new AppendQueueFull({ key, limit: o.maxPending })))
        }
        const pending: Pending = { type, data, resume, cancelled: false }
        queue.push(pending)
        schedule()
        // interrupted before it was sent: it is not sent (once sent, it is written whatever happens)
        return Effect.sync(() => {
          pending.cancelled = true
        })
      })
    }

    // --- subscribe
    const fromStart = (requested: string | undefined, reason: EventLog.Reset["reason"]) =>
      Effect.map(retrying(handshake("-")), (h) => {
        const items: Array<EventLog.LogItem> = []
        if (requested !== undefined) {
          const oldest = h.entries.length > 0 ? Option.some(h.entries[0]!.id) : Option.none()
          items.push({ _tag: "Reset", requested, reason, oldest })
        }
        for (const e of h.entries) items.push(e.event)
        const cursor = h.entries.length > 0 ? h.entries[h.entries.length - 1]!.id : h.lastGen
        return { items, cursor }
      })

    const start = (subscribeOptions: EventLog.SubscribeOptions | undefined) =>
      Effect.gen(function*() {
        const after = EventLog.afterId(subscribeOptions)
        if (Option.isNone(after)) {
          if (subscribeOptions?.initial === "retained") return yield* fromStart(undefined, "unknown")
          const h = yield* retrying(handshake(""))
          return { items: [] as Array<EventLog.LogItem>, cursor: h.lastGen }
        }
        const requested = after.value
        const id = StreamId.canonical(requested)
        if (id === undefined) return yield* fromStart(requested, "unknown")
        const h = yield* retrying(handshake("(" + id))
        if (!h.exists) return yield* fromStart(requested, "unknown")
        if (h.entries.length > 0) {
          const c = StreamId.compare(h.entries[0]!.prev, id)
          if (c !== 0) return yield* fromStart(requested, c > 0 ? "expired" : "unknown")
          return { items: h.entries.map((e): EventLog.LogItem => e.event), cursor: h.entries[h.entries.length - 1]!.id }
        }
        const c = StreamId.compare(id, h.lastGen)
        if (c !== 0) return yield* fromStart(requested, c > 0 ? "unknown" : "expired")
        return { items: [] as Array<EventLog.LogItem>, cursor: id }
      })

    /**
     * A subscription's pulls after its start (the first one gives the replay). Live, it holds the
     * tail's sequence number of its next entry and takes what the tail has read from there: a slice
     * of the shared events, at most `batchSize`, no Redis call. A subscription behind the tail's
     * window (it joined late, or fell behind) reads pages from Redis with `XRANGE` until its
     * position is in the window. Every page is checked to follow the last delivered entry (`prev`):
     * a gap is a `StreamGap`.
     */
    const pullOf = (cursor: string, replay: Array<EventLog.LogItem>) => {
      let last = cursor
      let seq: number | undefined = undefined
      const group = nextGroup++ % WAKE_GROUPS
      let first: Chunk.Chunk<EventLog.LogItem> | undefined = replay.length > 0
        ? Chunk.unsafeFromArray(replay)
        : undefined
      const gap = (next: string, nextPrev: string) =>
        Effect.fail(
          new EventLog.EventLogError({
            operation: "read",
            cause: new StreamGap({ key, after: last, next, nextPrev })
          })
        )

      const take = (): Effect.Effect<Chunk.Chunk<EventLog.LogItem>, EventLog.EventLogError> => {
        const i = seq! - tail.base
        const prev = tail.prevs[i]!
        if (prev !== last) return gap(tail.events[i]!.lastEventId, prev)
        const events = tail.events
        const end = events.length
        const page = events.slice(i, end)
        seq = tail.base + end
        last = page[page.length - 1]!.lastEventId
        return Effect.succeed(Chunk.unsafeFromArray<EventLog.LogItem>(page))
      }

      const pull: Effect.Effect<Chunk.Chunk<EventLog.LogItem>, EventLog.EventLogError> = Effect.suspend(() => {
        if (seq !== undefined && seq >= tail.start) {
          if (seq < tail.end) return take()
          return Effect.zipRight(Deferred.await(tail.signals[group]!), pull)
        }
        if (first !== undefined) {
          const chunk = first
          first = undefined
          return Effect.succeed(chunk)
        }
        seq = undefined
        return slow
      })

      const readPage = () => Effect.mapError(retrying(readAfter(last)), toLogError("read"))

      /** Not in the tail's window: find the position in it, or read a page from Redis, or wait. */
      const slow: Effect.Effect<Chunk.Chunk<EventLog.LogItem>, EventLog.EventLogError> = Effect.suspend(() => {
        const signal = tail.signals[group]!
        const found = tail.seqAfter(last)
        if (found !== undefined && found >= tail.start) {
          seq = found
          return pull
        }
        // the tail has not read that far yet: wait for it
        if (tail.position === undefined || StreamId.compare(last, tail.position) >= 0) {
          return Effect.zipRight(Deferred.await(signal), slow)
        }
        return Effect.flatMap(readPage(), (entries) => {
          if (entries.length === 0) return Effect.zipRight(Deferred.await(signal), slow)
          const first = entries[0]!
          if (first.prev !== last) return gap(first.id, first.prev)
          last = entries[entries.length - 1]!.id
          return Effect.succeed(Chunk.unsafeFromArray(entries.map((e): EventLog.LogItem => e.event)))
        })
      })
      return pull
    }

    const subscribe = (
      subscribeOptions?: EventLog.SubscribeOptions
    ): Stream.Stream<EventLog.LogItem, EventLog.EventLogError> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const first = yield* start(subscribeOptions).pipe(Effect.mapError(toLogError("subscribe")))
        yield* Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--))
        // one channel that writes each pull's chunk (cheaper per pull than repeatEffectChunk + concat)
        const pull = pullOf(first.cursor, first.items)
        return Stream.fromChannel(Channel.repeated(Channel.flatMap(Channel.fromEffect(pull), Channel.write)))
      }))

    const lastId = handshake("").pipe(
      Effect.mapError(toLogError("read")),
      Effect.map((h) => (h.exists && h.lastGen !== StreamId.ZERO ? Option.some(h.lastGen) : Option.none<string>()))
    )

    const log: EventLog.EventLog = {
      append,
      subscribe,
      lastId,
      subscriberCount: Effect.sync(() => subscribers)
    }
    return log
  })

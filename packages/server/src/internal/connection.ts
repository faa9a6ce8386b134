/**
 * One streamed response (SSE or NDJSON): a small object between a source and a sink.
 *
 * - The source is a `Stream` (run by one fiber, which offers each chunk message by message) or a
 *   push source (the in-memory log hands each appended event to the connection within `append`:
 *   no fiber at all).
 * - The connection buffers messages (counted in messages, whatever the source's chunking), encodes
 *   everything buffered into one `Uint8Array` when the sink takes it, and applies the slow-client
 *   policy when more than `bufferSize` messages wait: `"backpressure"` makes the source wait,
 *   `"drop-oldest"` drops, `"disconnect"` ends the response (the client resumes from its last id).
 * - The sink is the Node response itself (`internal/nodeResponse.ts`, on `NodeHttpServer`: writes
 *   go straight to `res.write`, `'drain'` is the backpressure, `'close'` the end) or, on any other
 *   platform, the pull-based body `Stream` below (the platform's writer pulls whatever is
 *   buffered). Both write the same bytes: they share this class and its encoder.
 * - Heartbeats come from one shared timer per period (`internal/heartbeat.ts`), or for a custom
 *   `Schedule` from a fiber of the connection's own.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as heartbeat from "./heartbeat.js"
import type { RouteMetrics } from "./metrics.js"

/** @internal */
export const DEFAULT_HEARTBEAT = Duration.seconds(15)
/** @internal */
export const DEFAULT_BUFFER = 1024

/**
 * Heartbeats: every `millis` on the shared timer, or on a `Schedule` (a fiber per connection).
 *
 * @internal
 */
export type Heartbeat =
  | { readonly _tag: "Every"; readonly millis: number }
  | { readonly _tag: "Schedule"; readonly schedule: Schedule.Schedule<unknown> }

/** @internal */
export const heartbeatOf = (
  input: Duration.DurationInput | Schedule.Schedule<unknown> | false | undefined
): Heartbeat | undefined => {
  if (input === false) return undefined
  if (Schedule.isSchedule(input)) return { _tag: "Schedule", schedule: input }
  const millis = Duration.toMillis(Duration.decode(input ?? DEFAULT_HEARTBEAT))
  if (!Number.isFinite(millis)) return undefined
  return { _tag: "Every", millis: Math.max(1, Math.round(millis)) }
}

/** @internal */
export type SlowClientPolicy = "disconnect" | "drop-oldest" | "backpressure"

const textEncoder = new TextEncoder()
const empty = new Uint8Array(0)

/**
 * What one write holds: pieces of text and shared, already encoded bytes, in order, joined into a
 * single `Uint8Array` (text runs are encoded once; a lone shared piece is written as is).
 *
 * @internal
 */
export class Out {
  private readonly parts: Array<Uint8Array> = []
  private size = 0
  private pending = ""

  /** Appends text (encoded with the text next to it). */
  text(s: string): void {
    this.pending += s
  }

  /** Appends bytes made elsewhere (shared: never copied into a new array unless joined). */
  bytes(b: Uint8Array): void {
    if (this.pending.length > 0) this.flushText()
    if (b.length === 0) return
    this.parts.push(b)
    this.size += b.length
  }

  private flushText(): void {
    const b = textEncoder.encode(this.pending)
    this.pending = ""
    this.parts.push(b)
    this.size += b.length
  }

  /** Everything so far as one array (empty when nothing), and a reset. */
  take(): Uint8Array {
    if (this.pending.length > 0) this.flushText()
    const parts = this.parts
    let out: Uint8Array
    if (parts.length === 1) out = parts[0]!
    else if (parts.length === 0) out = empty
    else {
      out = new Uint8Array(this.size)
      let at = 0
      for (let i = 0; i < parts.length; i++) {
        out.set(parts[i]!, at)
        at += parts[i]!.length
      }
    }
    parts.length = 0
    this.size = 0
    return out
  }
}

/** @internal */
export interface Config<A> {
  readonly bufferSize: number
  readonly onSlowClient: SlowClientPolicy
  readonly heartbeat: Heartbeat | undefined
  /** Written on a heartbeat tick when the line was idle. */
  readonly heartbeatBytes: Uint8Array
  /**
   * Written at once, before anything else (e.g. the `retry:` hint). Even when there is none, an
   * (empty) first write makes the server send the status and headers at once (Node holds them
   * until the first write), so `EventSource` opens before the first event.
   */
  readonly first: ReadonlyArray<A>
  /** Encodes one item into `out`; returns a failure to end the response with, or undefined. */
  readonly encode: (item: A, out: Out) => unknown
  /** What a failure (not an interruption) of the source or the encoding becomes: logged, last bytes. */
  readonly onFailure: (cause: Cause.Cause<unknown>) => Effect.Effect<Uint8Array | undefined>
  /** Where the connection counts what it does. */
  readonly metrics: RouteMetrics
  /** Counts an item as it is written (a reset, for the metrics). */
  readonly onWritten?: ((item: A) => void) | undefined
  /**
   * The context a `Stream` source runs in (what the handler had: a response's body runs later,
   * outside it); none for a stream that needs nothing.
   */
  readonly context?: Context.Context<never> | undefined
  /**
   * Whether the response, once what was written has left, is cut (the connection destroyed, the
   * body never ended cleanly) rather than ended: asked when it ends (`SseResponse.abort`).
   */
  readonly cut?: (() => boolean) | undefined
}

/**
 * A source that pushes its items (synchronously, e.g. from a log's `append`) rather than a `Stream`
 * the connection runs: no source fiber. Not for `"backpressure"` (a push cannot wait).
 * `attach` replays and registers in one step and gives back the function that detaches.
 *
 * @internal
 */
export interface PushSource<A> {
  readonly _tag: "PushSource"
  readonly attach: (push: Push<A>) => Effect.Effect<() => void>
}

/**
 * How a push source hands items to a connection: one at a time, or many at once (a replay:
 * accepted whole when nothing waits, since the log bounds it).
 *
 * @internal
 */
export interface Push<A> {
  readonly one: (item: A) => void
  readonly all: (items: ReadonlyArray<A>) => void
  /** The source ended: the response ends once what is buffered is written. */
  readonly end: () => void
  /** The source failed: as a `Stream` source's failure (logged, `onError`'s event, then the end). */
  readonly fail: (cause: Cause.Cause<unknown>) => Effect.Effect<void>
}

/** @internal */
export type Source<A, E> = Stream.Stream<A, E> | PushSource<A>

/** @internal */
export const isStream = <A, E>(source: Source<A, E>): source is Stream.Stream<A, E> => Stream.StreamTypeId in source

const OPEN = 0
/** What `offer` gives back once the connection takes no more messages: the source's pull loop ends. */
const stop: Effect.Effect<never, Option.Option<never>> = Effect.fail(Option.none())
/** no more items: the sink ends the response once what is buffered (and `last`) is written */
const ENDING = 1
/** done: nothing more is written, everything is released */
const CLOSED = 2

/**
 * The connection's state and buffer; the sink (a subclass) decides when to take a batch.
 *
 * @internal
 */
export abstract class Connection<A> {
  private items: Array<A | undefined> = []
  private head = 0
  /** Whether something was written since the previous heartbeat tick. */
  private written = false
  protected heartbeatDue = false
  protected state = OPEN
  /** Bytes written after the buffered messages, before the end (a failure's event). */
  private last: Uint8Array | undefined = undefined
  /** A `Stream` source waiting for room (backpressure), resumed when a batch is taken. */
  private space: (() => void) | undefined = undefined
  private readonly out = new Out()
  readonly capacity: number
  private detach: (() => void) | undefined = undefined
  private leaveHeartbeat: (() => void) | undefined = undefined
  private fibers: Array<Fiber.RuntimeFiber<unknown, unknown>> | undefined = undefined
  /** The fiber running a `Stream` source in place (the request's own), interrupted by `close` while it runs. */
  protected running: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  /** A failure met while encoding, to be turned into the last bytes by the sink. */
  protected encodeFailure: Cause.Cause<unknown> | undefined = undefined

  constructor(readonly config: Config<A>) {
    this.capacity = Math.max(1, config.bufferSize)
    config.metrics.opened()
  }

  /** Something was buffered (or a heartbeat or the end is due) while nothing was: take it soon. */
  protected abstract wake(): void
  /** Writes what is buffered now if the socket takes writes now; whether it did. */
  protected abstract flushNow(): boolean
  /** Whether the writer is ready for more (not held up by the socket): room to wait for. */
  protected abstract writerReady(): boolean
  /** Ends the response without writing more (the policy `"disconnect"`). */
  protected abstract abort(): void

  /**
   * Messages waiting here. The socket holds at most one more write (a batch, itself at most
   * `bufferSize` messages: a full buffer is written at once when the socket takes writes) until it
   * drains; nothing is written to it meanwhile.
   */
  /** Done: nothing more is written, everything is released. */
  protected get closed(): boolean {
    return this.state === CLOSED
  }

  get held(): number {
    return this.items.length - this.head
  }

  get buffered(): number {
    return this.items.length - this.head
  }

  /** The bytes to write first (the `retry:` hint), maybe empty. */
  protected firstBytes(): Uint8Array | Cause.Cause<unknown> {
    for (const a of this.config.first) {
      const error = this.config.encode(a, this.out)
      if (error !== undefined) return Cause.fail(error)
    }
    return this.out.take()
  }

  private add(item: A): void {
    this.items.push(item)
    if (this.items.length - this.head === 1) this.wake()
  }

  /** Room for one more message, after the policy; false when the connection ended instead. */
  private makeRoom(): boolean {
    if (this.held < this.capacity) return true
    if (this.flushNow() && this.held < this.capacity) return true
    switch (this.config.onSlowClient) {
      case "drop-oldest": {
        if (this.items.length - this.head > 0) {
          this.items[this.head++] = undefined
          this.config.metrics.messagesDropped(1)
        }
        return true
      }
      default: {
        this.config.metrics.slowClientDropped()
        this.disconnect()
        return false
      }
    }
  }

  /** A push source's item. */
  one(item: A): void {
    if (this.state !== OPEN) return
    if (this.makeRoom()) this.add(item)
  }

  /** A push source's end. */
  end(): void {
    this.sourceEnded(Exit.void, undefined)
  }

  /** The source failed (a push source, or a `Stream` source's run): `onFailure`'s bytes, then the end. */
  fail(cause: Cause.Cause<unknown>): Effect.Effect<void> {
    return Cause.isInterruptedOnly(cause)
      ? Effect.sync(() => this.sourceEnded(Exit.failCause(cause), undefined))
      : Effect.map(this.config.onFailure(cause), (last) => this.sourceEnded(Exit.failCause(cause), last))
  }

  /** A push source's items at once (a replay: accepted whole when nothing waits, the log bounds it). */
  all(items: ReadonlyArray<A>): void {
    if (this.state !== OPEN || items.length === 0) return
    if (this.held === 0) {
      for (let i = 0; i < items.length; i++) this.items.push(items[i]!)
      this.wake()
      return
    }
    for (let i = 0; i < items.length; i++) this.one(items[i]!)
  }

  /**
   * A `Stream` source's chunk: message by message, at once; waits for room with `"backpressure"`.
   * Fails with `None` (as a pulled stream does at its end) when the connection no longer takes
   * messages: the source stops.
   */
  offer(chunk: Chunk.Chunk<A>): Effect.Effect<void, Option.Option<never>> {
    return this.offerFrom(Chunk.toReadonlyArray(chunk), 0)
  }

  private offerFrom(items: ReadonlyArray<A>, from: number): Effect.Effect<void, Option.Option<never>> {
    let i = from
    while (i < items.length) {
      if (this.state !== OPEN) return stop
      if (this.held >= this.capacity && !(this.flushNow() && this.held < this.capacity)) {
        // the writer has not taken the buffer yet, or the policy says wait: wait for it
        if (this.config.onSlowClient === "backpressure" || this.writerReady()) {
          const at = i
          return Effect.flatMap(this.waitForRoom(), () => this.offerFrom(items, at))
        }
        if (!this.makeRoom()) return stop
      }
      this.add(items[i++]!)
    }
    return Effect.void
  }

  private waitForRoom(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.held < this.capacity || this.state !== OPEN) return resume(Effect.void)
      this.space = () => resume(Effect.void)
      return Effect.sync(() => {
        this.space = undefined
      })
    })
  }

  /** Room was made (a batch was taken, the socket drained): a waiting source goes on. */
  protected roomMade(): void {
    if (this.space !== undefined && (this.held < this.capacity || this.state !== OPEN)) {
      const space = this.space
      this.space = undefined
      space()
    }
  }

  /** The source ended: with success the response ends after what is buffered; a failure adds its bytes. */
  sourceEnded(exit: Exit.Exit<unknown, unknown>, last: Uint8Array | undefined): void {
    if (this.state !== OPEN) return
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) && last !== undefined && last.length > 0) {
      this.last = last
    }
    this.state = ENDING
    this.wake()
  }

  /** Ends the connection because the client does not keep up. */
  private disconnect(): void {
    if (this.state === CLOSED) return
    this.state = ENDING
    this.abort()
  }

  /** The heartbeat tick: a heartbeat if nothing was written since the previous tick. */
  tick(): void {
    if (!this.written && this.held === 0 && this.state === OPEN) {
      this.heartbeatDue = true
      this.wake()
    }
    this.written = false
  }

  /**
   * Takes everything buffered as one `Uint8Array` (a heartbeat alone when due and nothing else
   * is), with the last bytes when ending. Sets `encodeFailure` when an item cannot be encoded (what
   * came before it is returned; the connection is then ending).
   */
  protected takeBatch(): { readonly bytes: Uint8Array; readonly messages: number } {
    const out = this.out
    const items = this.items
    const n = items.length - this.head
    if (n > 0) {
      this.written = true
      this.heartbeatDue = false
      const onWritten = this.config.onWritten
      for (let i = this.head; i < items.length; i++) {
        const item = items[i] as A
        const error = this.config.encode(item, out)
        if (error !== undefined) {
          this.encodeFailure = Cause.fail(error)
          this.state = ENDING
          break
        }
        if (onWritten !== undefined) onWritten(item)
      }
      this.items = []
      this.head = 0
    } else if (this.heartbeatDue) {
      this.heartbeatDue = false
      this.config.metrics.heartbeat(this.config.heartbeatBytes.length)
      out.bytes(this.config.heartbeatBytes)
    }
    if (this.state === ENDING && this.last !== undefined) {
      out.bytes(this.last)
      this.last = undefined
    }
    const bytes = out.take()
    if (n > 0) this.config.metrics.written(n, bytes.length)
    this.roomMade()
    return { bytes, messages: n }
  }

  /** Whether nothing more will be written after what was taken. */
  protected get ending(): boolean {
    return this.state === ENDING && this.items.length - this.head === 0
  }

  /**
   * The run of a `Stream` source: its chunks offered to the connection, its end (or failure) told
   * to it. Never fails. The stream is pulled in a loop (`Stream.toPull`) by the fiber that runs
   * this: running it with `Stream.run*` would fork a fiber for it. With `config.context`, the
   * stream runs in that context, set once for the run (`Stream.provideContext` would set it around
   * each of the stream's effects).
   */
  protected runSource<E>(source: Stream.Stream<A, E>): Effect.Effect<void> {
    const pulled = Effect.scoped(Effect.flatMap(Stream.toPull(source), (pull) => {
      const loop: Effect.Effect<never, Option.Option<E>> = Effect.flatMap(pull, (chunk) => {
        const offered = this.offer(chunk)
        return offered === Effect.void ? loop : Effect.zipRight(offered, loop)
      })
      return loop
    }))
    const context = this.config.context
    return Effect.catchAllCause(context === undefined ? pulled : Effect.provide(pulled, context), (cause) => {
      this.running = undefined
      // `None`: the stream ended, or the connection stopped taking its messages
      const failure = Cause.flipCauseOption(cause)
      return Option.isNone(failure) ? Effect.sync(() => this.end()) : this.fail(failure.value)
    })
  }

  /**
   * Starts what runs beside the sink: a push source is attached, a `Stream` source forked with
   * `fork`, and the heartbeats joined.
   */
  protected start<E, R>(
    source: Source<A, E>,
    fork: (effect: Effect.Effect<void>) => Effect.Effect<Fiber.RuntimeFiber<void>, never, R>
  ): Effect.Effect<void, never, R> {
    const self = this
    return Effect.gen(function*() {
      if (isStream(source)) self.addFiber(yield* fork(self.runSource(source)))
      else {
        const detach = yield* source.attach(self)
        if (self.state === CLOSED) detach()
        else self.detach = detach
      }
      yield* self.startHeartbeat(fork)
    })
  }

  /** Joins the shared heartbeat timer, or forks a fiber for a custom `Schedule`. */
  protected startHeartbeat<R>(
    fork: (effect: Effect.Effect<void>) => Effect.Effect<Fiber.RuntimeFiber<void>, never, R>
  ): Effect.Effect<void, never, R> {
    const hb = this.config.heartbeat
    if (hb === undefined || this.state === CLOSED) return Effect.void
    if (hb._tag === "Every") {
      return Effect.map(heartbeat.join(this, hb.millis), (leave) => {
        if (this.state === CLOSED) leave()
        else this.leaveHeartbeat = leave
      })
    }
    const tick = Effect.sync(() => this.tick())
    return Effect.map(
      fork(tick.pipe(Effect.schedule(hb.schedule), Effect.catchAllCause(() => Effect.void), Effect.asVoid)),
      (fiber) => this.addFiber(fiber)
    )
  }

  protected addFiber(fiber: Fiber.RuntimeFiber<unknown, unknown>): void {
    if (this.state === CLOSED) fiber.unsafeInterruptAsFork(FiberId.none)
    else (this.fibers ??= []).push(fiber)
  }

  /** Releases everything: the log attachment, the heartbeat, the fibers. Idempotent. */
  close(): void {
    if (this.state === CLOSED) return
    this.state = CLOSED
    this.items = []
    this.head = 0
    this.last = undefined
    this.detach?.()
    this.detach = undefined
    this.leaveHeartbeat?.()
    this.leaveHeartbeat = undefined
    if (this.fibers !== undefined) {
      for (const f of this.fibers) f.unsafeInterruptAsFork(FiberId.none)
      this.fibers = undefined
    }
    const running = this.running
    if (running !== undefined) {
      this.running = undefined
      running.unsafeInterruptAsFork(FiberId.none)
    }
    this.roomMade()
    this.config.metrics.closed()
  }
}

// ---------------------------------------------------------------------------------------------
// the portable sink: a pull-based body `Stream` for the platform's writer

type Pull = Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<never>>
const end: Pull = Effect.fail(Option.none())

class PullConnection<A> extends Connection<A> {
  /** The writer parked in `pull`, waiting for something to write. */
  private parked: (() => void) | undefined = undefined
  /** Woken, and not yet back in `pull`. */
  private woken = false
  /** The fiber that writes the response: interrupted to end a response blocked on its socket. */
  writer: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  private started = false

  protected wake(): void {
    const parked = this.parked
    if (parked !== undefined) {
      this.parked = undefined
      this.woken = true
      parked()
    }
  }
  protected flushNow(): boolean {
    return false
  }
  protected writerReady(): boolean {
    return this.parked !== undefined || this.woken
  }
  protected abort(): void {
    // the writer may be blocked on a socket that never drains: interrupting it is the one way out
    this.wake()
    const writer = this.writer
    if (writer !== undefined) writer.unsafeInterruptAsFork(writer.id())
  }

  private readonly batch: Pull = Effect.suspend(() => {
    const { bytes } = this.takeBatch()
    if (this.encodeFailure !== undefined) {
      const cause = this.encodeFailure
      this.encodeFailure = undefined
      return Effect.map(this.config.onFailure(cause), (last) => {
        this.close()
        return last === undefined || last.length === 0 ? Chunk.of(bytes) : Chunk.make(bytes, last)
      })
    }
    if (this.ending) {
      this.close()
      return bytes.length > 0 ? Effect.succeed(Chunk.of(bytes)) : end
    }
    return Effect.succeed(Chunk.of(bytes))
  })

  private readonly waitBatch: Pull = Effect.zipRight(
    Effect.async<void>((resume) => {
      this.parked = () => resume(Effect.void)
      return Effect.sync(() => {
        this.parked = undefined
      })
    }),
    Effect.suspend(() => this.pull)
  )

  readonly pull: Pull = Effect.suspend(() => {
    this.woken = false
    if (this.state === CLOSED) return end
    if (!this.started) {
      this.started = true
      const first = this.firstBytes()
      if (Cause.isCause(first)) {
        return Effect.map(this.config.onFailure(first), (last) => {
          this.close()
          return Chunk.of(last ?? empty)
        })
      }
      return Effect.succeed(Chunk.of(first))
    }
    if (this.buffered > 0 || this.state === ENDING || this.heartbeatDue) return this.batch
    return this.waitBatch
  })

  /** Starts the source (in the body stream's scope). */
  run<E>(source: Source<A, E>): Effect.Effect<void, never, Scope.Scope> {
    return this.start(source, (effect) => Effect.forkScoped(effect))
  }
}

/**
 * The body as a `Stream` (the portable path): each pull takes everything buffered as one write.
 * The source's fiber and the heartbeat live in the stream's scope; when the writer is interrupted
 * (the client went away) the scope closes and everything is released.
 *
 * @internal
 */
export const body = <A, E>(source: Source<A, E>, config: Config<A>): Stream.Stream<Uint8Array> =>
  Stream.fromPull(Effect.gen(function*() {
    const connection = yield* Effect.acquireRelease(
      Effect.sync(() => new PullConnection(config)),
      (c) => Effect.sync(() => c.close())
    )
    connection.writer = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber) =>
      Effect.succeed(fiber)
    )
    // the source and the schedule fibers are children of the writer: they end with it
    yield* connection.run(source)
    return connection.pull
  }))

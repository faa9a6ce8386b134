/**
 * One connection's pipe between the source stream and the response writer.
 *
 * The source runs in its own fiber and fills a bounded buffer (a `Queue` of the source's chunks);
 * the response fiber (the one that writes to the socket) takes everything buffered at once,
 * encodes it and hands it to the server as a single write. Encoding happens in that one step, not
 * in further stream stages: the body is a single `Stream.fromPull`, so a batch costs one pull. A
 * heartbeat fiber adds a heartbeat when nothing was written since its previous tick. When the
 * client stops reading, the writer blocks on the socket and the buffer fills: then the policy
 * applies (wait, drop the oldest, or end the connection by interrupting the response fiber, which
 * is the only way to free a writer blocked on a socket that never drains). All three fibers live
 * in the stream's scope: when the client goes away, the response fiber is interrupted and they all
 * stop, finalizers run.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** @internal */
export const DEFAULT_HEARTBEAT = Duration.seconds(15)
/** @internal */
export const DEFAULT_BUFFER = 1024

/** @internal */
export const heartbeatSchedule = (
  heartbeat: Duration.DurationInput | Schedule.Schedule<unknown> | false | undefined
): Schedule.Schedule<unknown> | undefined => {
  if (heartbeat === false) return undefined
  if (heartbeat === undefined) return Schedule.spaced(DEFAULT_HEARTBEAT)
  return Schedule.isSchedule(heartbeat) ? heartbeat : Schedule.spaced(heartbeat)
}

/** @internal */
export type SlowClientPolicy = "disconnect" | "drop-oldest" | "backpressure"

const textEncoder = new TextEncoder()

/**
 * What one pull writes: pieces of text and shared, already encoded bytes, in order, joined into a
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

const empty = new Uint8Array(0)

/** @internal */
export interface Config<A> {
  readonly bufferSize: number
  readonly onSlowClient: SlowClientPolicy
  readonly heartbeat: Schedule.Schedule<unknown> | undefined
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
}

interface End {
  readonly _tag: "End"
  readonly exit: Exit.Exit<void, unknown>
}

const isEnd = (u: unknown): u is End => (u as End)._tag === "End" && (u as End).exit !== undefined

const HEARTBEAT = { _tag: "Heartbeat" } as const

/** A chunk from a `Stream` source, one item from a push source, the end, or a heartbeat. */
type Item<A> = Chunk.Chunk<A> | A | End | typeof HEARTBEAT

/**
 * A source that pushes its items (synchronously, e.g. from a log's `append`) rather than a `Stream`
 * the connection runs: no source fiber, no second queue. Only for `"disconnect"` (a push cannot
 * wait, and dropping is for the `Stream` path).
 *
 * @internal
 */
export interface PushSource<A> {
  readonly _tag: "PushSource"
  readonly attach: (push: Push<A>) => Effect.Effect<void, never, Scope.Scope>
}

/**
 * How a push source hands items to a connection: one at a time, or many at once (a replay: accepted
 * whole when nothing is buffered, as a `Stream` source's chunk is).
 *
 * @internal
 */
export interface Push<A> {
  (item: A): void
  readonly all: (items: ReadonlyArray<A>) => void
}

/** @internal */
export const body = <A, E>(
  source: Stream.Stream<A, E> | PushSource<A>,
  config: Config<A>
): Stream.Stream<Uint8Array> =>
  Stream.fromPull(Effect.gen(function*() {
    const writer = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber) => Effect.succeed(fiber))
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Item<A>>(), Queue.shutdown)
    const capacity = Math.max(1, config.bufferSize)
    const policy = config.onSlowClient
    const permits = policy === "backpressure" ? yield* Effect.makeSemaphore(capacity) : undefined
    let queued = 0 // elements in the queue
    let written = false // something was taken since the last heartbeat tick
    let ended = false

    const push = (chunk: Chunk.Chunk<A>) => {
      queued += chunk.length
      queue.unsafeOffer(chunk)
    }

    const dropOldest = (n: number) =>
      Effect.suspend(function loop(): Effect.Effect<void> {
        if (queued === 0 || queued + n <= capacity) return Effect.void
        return Effect.flatMap(Queue.poll(queue), (item) => {
          if (Option.isSome(item) && Chunk.isChunk(item.value)) queued -= item.value.length
          else if (Option.isSome(item) && item.value !== HEARTBEAT && !isEnd(item.value)) queued--
          return loop()
        })
      })

    const offer = (chunk: Chunk.Chunk<A>): Effect.Effect<void> => {
      const n = chunk.length
      if (n === 0) return Effect.void
      switch (policy) {
        case "backpressure":
          return Effect.zipRight(permits!.take(Math.min(n, capacity)), Effect.sync(() => push(chunk)))
        case "drop-oldest":
          return queued + n <= capacity ? Effect.sync(() => push(chunk)) : Effect.zipRight(dropOldest(n), Effect.sync(() => push(chunk)))
        case "disconnect":
          if (queued > 0 && queued + n > capacity) {
            // the client is not keeping up: end the connection (it resumes from its last id)
            return Effect.suspend(() => {
              disconnect()
              return Effect.zipRight(Fiber.interruptAsFork(writer, writer.id()), Effect.interrupt)
            })
          }
          push(chunk)
          return Effect.void
      }
    }

    const disconnect = () => {
      // the client is not keeping up: end the connection (it resumes from its last id)
      ended = true
      queue.unsafeOffer({ _tag: "End", exit: Exit.void })
    }

    if (Stream.StreamTypeId in source) {
      yield* Stream.runForEachChunk(source, offer).pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Effect.sync(() => {
            if (ended) return
            ended = true
            queue.unsafeOffer({ _tag: "End", exit })
          })
        ),
        Effect.forkScoped
      )
    } else {
      const accept = (n: number) => {
        if (ended) return false
        if (queued > 0 && queued + n > capacity) {
          disconnect()
          writer.unsafeInterruptAsFork(writer.id())
          return false
        }
        queued += n
        return true
      }
      const push = (item: A) => {
        if (accept(1)) queue.unsafeOffer(item)
      }
      push.all = (items: ReadonlyArray<A>) => {
        if (items.length > 0 && accept(items.length)) queue.unsafeOffer(Chunk.unsafeFromArray(items.slice()))
      }
      yield* source.attach(push)
    }

    if (config.heartbeat !== undefined) {
      // at each tick of the schedule (not at the start), a heartbeat if nothing was written since the last one
      const tick = Effect.sync(() => {
        if (!written && queued === 0 && !ended) queue.unsafeOffer(HEARTBEAT)
        written = false
      })
      yield* tick.pipe(Effect.schedule(config.heartbeat), Effect.catchAllCause(() => Effect.void), Effect.forkScoped)
    }

    const out = new Out()
    let state: "first" | "open" | "done" = "first"

    const fail = (cause: Cause.Cause<unknown>): Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<never>> => {
      state = "done"
      const before = out.take()
      if (Cause.isInterruptedOnly(cause)) return before.length > 0 ? Effect.succeed(Chunk.of(before)) : end
      return Effect.map(config.onFailure(cause), (last) => {
        const chunks: Array<Uint8Array> = []
        if (before.length > 0) chunks.push(before)
        if (last !== undefined && last.length > 0) chunks.push(last)
        return Chunk.unsafeFromArray(chunks)
      })
    }

    const end: Effect.Effect<never, Option.Option<never>> = Effect.fail(Option.none())

    const batch = (items: Chunk.Chunk<Item<A>>): Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<never>> => {
      let release = 0
      let endItem: End | undefined
      let failure: unknown = undefined
      let failed = false
      const array = Chunk.toReadonlyArray(items)
      for (let i = 0; i < array.length; i++) {
        const item = array[i]!
        if (!Chunk.isChunk(item)) {
          if (item === HEARTBEAT) {
            out.bytes(config.heartbeatBytes)
            continue
          }
          if (isEnd(item)) {
            endItem = item
            break
          }
          // one item from a push source
          queued--
          written = true
          const error = config.encode(item as A, out)
          if (error !== undefined) {
            failure = error
            failed = true
            break
          }
          continue
        }
        queued -= item.length
        release += Math.min(item.length, capacity)
        written = true
        const as = Chunk.toReadonlyArray(item)
        for (let j = 0; j < as.length; j++) {
          const error = config.encode(as[j]!, out)
          if (error !== undefined) {
            failure = error
            failed = true
            break
          }
        }
        if (failed) break
      }
      let result: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<never>>
      if (failed) result = fail(Cause.fail(failure))
      else if (endItem !== undefined) {
        const exit = endItem.exit
        if (Exit.isSuccess(exit)) {
          state = "done"
          const bytes = out.take()
          result = bytes.length > 0 ? Effect.succeed(Chunk.of(bytes)) : end
        } else result = fail(exit.cause)
      } else result = Effect.succeed(Chunk.of(out.take()))
      return permits !== undefined && release > 0 ? Effect.zipRight(permits.release(release), result) : result
    }

    // nothing buffered: wait for one item, then take whatever came with it (`Queue.takeBetween` would
    // hand over the first item alone, and the rest of a burst in a second write)
    const waitBatch = Effect.flatMap(
      Queue.take(queue),
      (first) => Effect.flatMap(Queue.takeAll(queue), (rest) => batch(Chunk.prepend(rest, first)))
    )

    const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<never>> = Effect.suspend(() => {
      switch (state) {
        case "first": {
          state = "open"
          for (const a of config.first) {
            const error = config.encode(a, out)
            if (error !== undefined) return fail(Cause.fail(error))
          }
          return Effect.succeed(Chunk.of(out.take()))
        }
        case "done":
          return end
        case "open":
          return Effect.flatMap(Queue.takeAll(queue), (items) => items.length > 0 ? batch(items) : waitBatch)
      }
    })

    return pull
  }))

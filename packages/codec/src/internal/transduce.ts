/**
 * The one bridge between the codec's synchronous state machines and `Stream`: each input `Chunk`
 * becomes at most one output `Chunk` (or one per piece, for a machine that takes its input in
 * pieces: `more`/`resume`); the state lives in one object made fresh for each run.
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import type * as Effect from "effect/Effect"
import { isEffect } from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Stream from "effect/Stream"
import { pipeThroughChannel, StreamTypeId } from "effect/Stream"

/**
 * Where a machine appends its output: one per run, kept for the whole run. Its array keeps its
 * storage from read to read, and each output chunk is a copy of its first `length` values (see
 * `chunkOf` for why a copy). Handing the bridge a plain array instead, emptied with `length = 0`
 * after each read, let V8 free its storage every time (it trims an array whose length falls below
 * half its capacity), so every read grew it again from nothing: 8 reallocations and ~1,300 copied
 * values for a read of 650 lines. On 16 KiB reads of ASCII LLM tokens (8 MiB, CPU ms, two runs
 * each beside the old code): `Lines.split` 10.0–10.9 → 6.2–6.5 ms; the staged SSE path
 * (`Utf8.decode` → `Lines.split` → `Sse.parse`, eager drain) 25.5–27.0 → 21.3–21.4 ms, which is
 * 1.55–1.66 → 1.39–1.44× `Sse.decode`'s time. The slots below `filled` hold at most the values of
 * the last chunk emitted (which its consumer holds anyway) until the next read overwrites them.
 *
 * @internal
 */
export class Output<A> {
  private values: Array<A> = []
  /** How many values this read has appended so far. */
  length = 0
  /** How far `values` holds values of an earlier read (cleared by `take`, so none is kept alive). */
  private filled = 0
  push(value: A): void {
    this.values[this.length++] = value
  }
  /** The values appended since the last `take`, as a fresh array; this output is empty after. */
  take(): Array<A> {
    const n = this.length
    const values = this.values
    const out = values.slice(0, n)
    // a later, shorter read would leave this read's values in the slots above its own
    if (this.filled > n) values.fill(undefined as A, n, this.filled)
    this.filled = n
    this.length = 0
    return out
  }
}

/**
 * A stateful chunk transformer. `push` and `end` append their output to `out` and return an error
 * to fail the stream (the output appended before the error is still delivered).
 *
 * @internal
 */
export interface Transducer<In, Out, E> {
  push(input: ReadonlyArray<In>, out: Output<Out>): E | undefined
  end(out: Output<Out>): E | undefined
  /** Side work collected by `push`/`end` (e.g. reports of skipped input), run after their output. */
  drain?(): Effect.Effect<void> | undefined
  /**
   * For a machine whose `push` may stop before the end of its input (to bound the values built
   * per output chunk): whether it did. The bridge then emits the output so far as its own chunk
   * and calls `resume` with a fresh `out`, until the input is done, before reading on.
   */
  more?(): boolean
  /** Continues the input the last `push` stopped in (see `more`). */
  resume?(out: Output<Out>): E | undefined
}

/** @internal */
export const transduce =
  <In, Out, E2>(make: () => Transducer<In, Out, E2>) =>
  <E, R>(self: Stream.Stream<In, E, R>): Stream.Stream<Out, E | E2, R> =>
    // `pipeThroughChannel`, not `…OrFail`: the loop below hands the upstream's failure on itself
    // (`onFailure`), and `pipeToOrFail` wraps the channel in two more reader/writer stages that cost
    // ~2 µs per read (the NDJSON and SSE benchmarks' 16 KiB reads: ~1.5% and ~5%).
    pipeThroughChannel(
      self,
      Channel.suspend(() => {
        const machine = make()
        const scratch = new Output<Out>()
        const emit = (
          error: E2 | undefined,
          next: Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown>
        ): Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown> => {
          const work = machine.drain?.()
          const after = error !== undefined ? Channel.fail(error) : machine.more?.() === true ? resumed : next
          const then = work === undefined ? after : Channel.zipRight(Channel.fromEffect(work), after)
          if (scratch.length === 0) return then
          const out = chunkOf(scratch.take())
          return Channel.zipRight(Channel.write(out), then)
        }
        const loop: Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown> = Channel
          .readWithCause({
            onInput: (chunk: Chunk.Chunk<In>) => emit(machine.push(Chunk.toReadonlyArray(chunk), scratch), loop),
            onFailure: (cause) => Channel.failCause(cause),
            onDone: () => emit(machine.end(scratch), Channel.void)
          })
        const resumed: Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown> = Channel
          .suspend(() => emit(machine.resume!(scratch), loop))
        return loop
      })
    )

/**
 * The backing of a `Chunk` over an array, built by a constructor rather than an object literal.
 *
 * @internal
 */
function ArrayBacking<A>(this: { _tag: "IArray"; array: ReadonlyArray<A> }, array: ReadonlyArray<A>) {
  this._tag = "IArray"
  this.array = array
}

const chunkProto: object = Object.getPrototypeOf(Chunk.empty())

const chunkFromArray = <A>(array: ReadonlyArray<A>): Chunk.Chunk<A> => {
  const chunk = Object.create(chunkProto)
  chunk.backing = new (ArrayBacking as unknown as new(array: ReadonlyArray<A>) => object)(array)
  chunk.length = array.length
  chunk.depth = 0
  chunk.left = Chunk.empty()
  chunk.right = Chunk.empty()
  return chunk
}

/** Whether `chunkFromArray` builds chunks that behave as `Chunk.unsafeFromArray`'s (checked once). */
/** @internal */
export const sameAsEffect = ((): boolean => {
  try {
    const array = [1, 2, 3]
    const ours = chunkFromArray(array)
    return Chunk.isChunk(ours) && Chunk.size(ours) === 3 && Chunk.toReadonlyArray(ours) === array &&
      Chunk.unsafeGet(ours, 2) === 3 && Equal.equals(ours, Chunk.unsafeFromArray([1, 2, 3])) &&
      Equal.equals(Chunk.append(ours, 4), Chunk.make(1, 2, 3, 4)) &&
      Chunk.join(Chunk.map(Chunk.drop(ours, 1), String), ",") === "2,3"
  } catch {
    return false
  }
})()

/**
 * A `Chunk` over a fresh array of the decoder's output, with no V8 allocation site behind it.
 *
 * Why: `Chunk.unsafeFromArray` builds its backing with an object literal, and V8 tracks each
 * object-literal site; when most objects of a site are found alive at a scavenge — which happens
 * whenever a consumer's Effect holds on to a chunk (`runForEach((e) => Effect.sync(…))`,
 * `runForEachChunk((c) => Effect.sync(…))`, `mapEffect`, `tap`: the "deferred" drains) — V8
 * allocates every later object of that site straight in the old generation. A dead old object keeps
 * whatever it points to alive through every scavenge until the next full GC, so each chunk and
 * every event in it was copied and promoted: 10–15× the CPU of the same stream drained eagerly. A
 * constructor call (`new`), an `Object.create` and an `Array#slice` carry no such site; with the
 * events built the same way (`sse.ts`), the deferred drain costs what the eager one does. If a
 * future Effect changes the `Chunk` representation, the check above fails and this is
 * `Chunk.unsafeFromArray`.
 *
 * @internal
 */
export const chunkOf: <A>(array: ReadonlyArray<A>) => Chunk.Chunk<A> = sameAsEffect
  ? chunkFromArray
  : (array) => Chunk.unsafeFromArray(array as Array<any>)

/**
 * For `dual` APIs with optional arguments: is the first argument a `Stream` (data-first call)?
 *
 * @internal
 */
export const isStreamArg = (args: IArguments): boolean => {
  const u = args[0]
  return typeof u === "object" && u !== null && (StreamTypeId in u || isEffect(u))
}

/**
 * The one bridge between the codec's synchronous state machines and `Stream`: each input `Chunk`
 * becomes at most one output `Chunk`; the state lives in one object made fresh for each run.
 *
 * @internal
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import type * as Effect from "effect/Effect"
import { isEffect } from "effect/Effect"
import type * as Stream from "effect/Stream"
import { pipeThroughChannelOrFail, StreamTypeId } from "effect/Stream"

/**
 * A stateful chunk transformer. `push` and `end` append their output to `out` and return an error
 * to fail the stream (the output appended before the error is still delivered).
 *
 * @internal
 */
export interface Transducer<In, Out, E> {
  push(input: ReadonlyArray<In>, out: Array<Out>): E | undefined
  end(out: Array<Out>): E | undefined
  /** Side work collected by `push`/`end` (e.g. reports of skipped input), run after their output. */
  drain?(): Effect.Effect<void> | undefined
}

/** @internal */
export const transduce =
  <In, Out, E2>(make: () => Transducer<In, Out, E2>) =>
  <E, R>(self: Stream.Stream<In, E, R>): Stream.Stream<Out, E | E2, R> =>
    pipeThroughChannelOrFail(
      self,
      Channel.suspend(() => {
        const machine = make()
        const emit = (
          out: Array<Out>,
          error: E2 | undefined,
          next: Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown>
        ): Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown> => {
          const work = machine.drain?.()
          const after = error === undefined ? next : Channel.fail(error)
          const then = work === undefined ? after : Channel.zipRight(Channel.fromEffect(work), after)
          return out.length === 0 ? then : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), then)
        }
        const loop: Channel.Channel<Chunk.Chunk<Out>, Chunk.Chunk<In>, E | E2, E, unknown, unknown> = Channel
          .readWithCause({
            onInput: (chunk: Chunk.Chunk<In>) => {
              const out: Array<Out> = []
              return emit(out, machine.push(Chunk.toReadonlyArray(chunk), out), loop)
            },
            onFailure: (cause) => Channel.failCause(cause),
            onDone: () => {
              const out: Array<Out> = []
              return emit(out, machine.end(out), Channel.void)
            }
          })
        return loop
      })
    )

/**
 * For `dual` APIs with optional arguments: is the first argument a `Stream` (data-first call)?
 *
 * @internal
 */
export const isStreamArg = (args: IArguments): boolean => {
  const u = args[0]
  return typeof u === "object" && u !== null && (StreamTypeId in u || isEffect(u))
}

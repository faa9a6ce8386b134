/**
 * How the benchmarks' subscribers read a log: as the server's connections read a `Stream` source
 * (`src/internal/connection.ts`), by pulling its chunks (`Stream.toPull`) and doing each chunk's
 * work as it arrives; not with a per-element stage (`Stream.takeUntil` + `runDrain`), whose cost per
 * event and subscriber is the drain's, not the log's (see the codec README, "Which drains are fast").
 */
import { Chunk, Effect, Option, Stream } from "effect"

/** Runs `stream` until `onItem` returns true for an item (or the stream ends). */
export const consumeUntil = <A, E, R>(
  stream: Stream.Stream<A, E, R>,
  onItem: (item: A) => boolean | void
): Effect.Effect<void, E, R> =>
  Effect.scoped(Effect.flatMap(Stream.toPull(stream), (pull) => {
    const loop: Effect.Effect<void, E, R> = Effect.matchEffect(pull, {
      onFailure: (error) => Option.isNone(error) ? Effect.void : Effect.fail(error.value),
      onSuccess: (chunk) => {
        const items = Chunk.toReadonlyArray(chunk)
        for (let i = 0; i < items.length; i++) if (onItem(items[i]!) === true) return Effect.void
        return loop
      }
    })
    return loop
  }))

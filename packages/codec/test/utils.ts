import { Chunk, Effect, Either, Stream } from "effect"

export const enc = new TextEncoder()

/** A stream that delivers each piece as its own chunk, like reads from a socket. */
export const reads = <A>(pieces: ReadonlyArray<A>): Stream.Stream<A> =>
  Stream.fromChunks(...pieces.map((p) => Chunk.of(p)))

export const bytes = (...pieces: ReadonlyArray<string>) => reads(pieces.map((p) => enc.encode(p)))

/**
 * A turn of the event loop. A property whose runs are all synchronous Effects would otherwise run
 * hundreds of them in one macrotask, starving the worker's I/O: on a loaded machine vitest's own
 * messages then time out ("Timeout calling onTaskUpdate") and the test's timeout fires late.
 */
export const macrotask = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Every element delivered, and how the stream ended (success, or the failure). */
export const collect = <A, E>(stream: Stream.Stream<A, E>) =>
  Effect.gen(function*() {
    yield* macrotask
    const out: Array<A> = []
    const exit = yield* Stream.runForEachChunk(stream, (chunk) =>
      Effect.sync(() => out.push(...Chunk.toReadonlyArray(chunk)))).pipe(Effect.either)
    return { out, error: Either.isLeft(exit) ? exit.left : undefined }
  })

/** Cuts `data` at the given (sorted, deduplicated) positions. */
export const cut = (data: Uint8Array, at: ReadonlyArray<number>): Array<Uint8Array> => {
  const cuts = [...new Set(at.map((n) => Math.max(0, Math.min(data.length, n))))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let prev = 0
  for (const c of cuts) {
    out.push(data.subarray(prev, c))
    prev = c
  }
  out.push(data.subarray(prev))
  return out
}

/** Cuts a string at the given code-unit positions (even between the halves of a surrogate pair). */
export const cutText = (text: string, at: ReadonlyArray<number>): Array<string> => {
  const cuts = [...new Set(at.map((n) => Math.max(0, Math.min(text.length, n))))].sort((a, b) => a - b)
  const out: Array<string> = []
  let prev = 0
  for (const c of cuts) {
    out.push(text.slice(prev, c))
    prev = c
  }
  out.push(text.slice(prev))
  return out
}

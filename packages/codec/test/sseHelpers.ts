import { expect } from "@effect/vitest"
import { Lines, Sse, Utf8 } from "@streamwire/codec"
import { Effect, Stream } from "effect"
import { collect, enc, reads } from "./utils.js"

/** An event as the decoder gives it. */
export const ev = (data: string, type = "message", lastEventId = ""): Sse.SseEvent => ({
  _tag: "SseEvent",
  type,
  data,
  lastEventId
})

export type Piece = string | ReadonlyArray<number>

/** Each piece one read: strings are UTF-8 encoded, number arrays are raw bytes. */
export const toBytes = (piece: Piece): Uint8Array =>
  typeof piece === "string" ? enc.encode(piece) : new Uint8Array(piece)

/**
 * Decodes the reads with the three SSE paths — the fused `Sse.decode`, `Utf8.decode` then
 * `Sse.decodeText` (the UTF-8 decoder strips the BOM; text decoders take text as it is), and the staged `Utf8.decode, Lines.split({ trailing: "drop" }), Sse.parse`
 * — checks they agree (values, and the failure's tag), and returns the fused result.
 */
export const decodeSse = <const I extends Sse.Include = never>(
  pieces: ReadonlyArray<Piece>,
  options: Sse.ParseOptions<I> = {}
) =>
  Effect.gen(function*() {
    const chunks = pieces.map(toBytes)
    const fused = yield* collect(reads(chunks).pipe(Sse.decode(options)))
    const text = yield* collect(reads(chunks).pipe(Utf8.decode, Sse.decodeText(options)))
    const staged = yield* collect(
      reads(chunks).pipe(
        Utf8.decode,
        Lines.split({ trailing: "drop", maxLineLength: options.maxLineLength }),
        Sse.parse(options)
      )
    )
    expect(text.out).toEqual(fused.out)
    expect(staged.out).toEqual(fused.out)
    expect(text.error?._tag).toEqual(fused.error?._tag)
    expect(staged.error?._tag).toEqual(fused.error?._tag)
    return fused
  })

/** Just the events (or messages) of {@link decodeSse}, which must not fail. */
export const sse = <const I extends Sse.Include = never>(
  pieces: ReadonlyArray<Piece>,
  options: Sse.ParseOptions<I> = {}
) =>
  Effect.gen(function*() {
    const { error, out } = yield* decodeSse(pieces, options)
    expect(error).toBeUndefined()
    return out
  })

/** Collects a stream of strings into one string. */
export const joined = <E>(stream: Stream.Stream<string, E>) =>
  Effect.map(collect(stream), ({ error, out }) => ({ text: out.join(""), error }))

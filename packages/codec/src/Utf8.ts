/**
 * Streaming UTF-8: bytes → text and text → bytes.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import { dual } from "effect/Function"
import type * as Stream from "effect/Stream"
import { mapChunks } from "effect/Stream"
import type { MalformedUtf8 } from "./CodecError.js"
import { isStreamArg, transduce } from "./internal/transduce.js"
import * as internal from "./internal/utf8.js"

export {
  /** @since 0.1.0 */
  MalformedUtf8
} from "./CodecError.js"

/**
 * Options of {@link decode}.
 *
 * @since 0.1.0
 * @category decoding
 */
export interface DecodeOptions {
  /** One U+FEFF at the very start of the stream: stripped (default) or kept. */
  readonly bom?: "strip" | "keep" | undefined
  /** Invalid or truncated sequences: U+FFFD (default, as the SSE and NDJSON specs say) or a `MalformedUtf8` failure with the byte offset. */
  readonly onMalformed?: "replace" | "fail" | undefined
}

/**
 * Bytes → text. A character split across reads is decoded whole; a sequence cut short by the end
 * of the stream becomes U+FFFD (or fails), never disappears. Reads over 32 KiB are decoded in
 * 32 KiB slices (V8 handles shorter strings faster), so one read may give several strings.
 *
 * Options keep the BOM, or fail on malformed input with the byte offset. `Utf8.decode`,
 * `Utf8.decode()`, `Utf8.decode(options)` and data-first `Utf8.decode(bytes, options)` all work.
 *
 * @example
 * ```ts
 * import { Utf8 } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const euro = new TextEncoder().encode("€") // 3 bytes
 * Stream.make(euro.subarray(0, 1), euro.subarray(1)).pipe(Utf8.decode) // "€"
 *
 * Stream.make(new Uint8Array([0x61, 0xff])).pipe(Utf8.decode({ onMalformed: "fail" }))
 * // fails with MalformedUtf8 { offset: 1 }
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: <
  const A extends Stream.Stream<Uint8Array, any, any> | DecodeOptions | undefined = undefined,
  const O extends DecodeOptions | undefined = undefined
>(
  selfOrOptions?: A,
  options?: O
) => [A] extends [Stream.Stream<Uint8Array, infer E, infer R>]
  ? Stream.Stream<string, [O] extends [undefined] ? E : E | MalformedUtf8, R>
  : <E, R>(
    self: Stream.Stream<Uint8Array, E, R>
  ) => Stream.Stream<string, [A] extends [undefined] ? E : E | MalformedUtf8, R> = dual(
    isStreamArg,
    (self: Stream.Stream<Uint8Array, unknown, unknown>, options?: DecodeOptions) =>
      transduce(() => internal.decoder(options ?? {}))(self)
  )

const encoder = new TextEncoder()

/**
 * Text → UTF-8 bytes, one `Uint8Array` per input chunk (the chunk's strings are joined first). A
 * lone surrogate becomes U+FFFD, as `TextEncoder` does.
 *
 * @example
 * ```ts
 * import { Utf8 } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make("héllo", " wörld").pipe(Utf8.encode) // Stream<Uint8Array>
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = <E, R>(self: Stream.Stream<string, E, R>): Stream.Stream<Uint8Array, E, R> =>
  mapChunks(self, (chunk) => {
    const parts = Chunk.toReadonlyArray(chunk)
    const text = parts.length === 1 ? parts[0]! : parts.join("")
    return text.length === 0 ? Chunk.empty() : Chunk.of(encoder.encode(text))
  })

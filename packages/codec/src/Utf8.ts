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
import { transduce } from "./internal/transduce.js"
import { SLICE, Utf8Decoder } from "./internal/utf8.js"

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
 * @example
 * ```ts
 * import { Utf8 } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const euro = new TextEncoder().encode("€") // 3 bytes
 * Stream.make(euro.subarray(0, 1), euro.subarray(1)).pipe(Utf8.decode) // "€"
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<string, E, R> =>
  decodeWith(self, {}) as Stream.Stream<string, E, R>

/**
 * {@link decode} with options: keep the BOM, or fail on malformed input with the byte offset.
 *
 * @example
 * ```ts
 * import { Utf8 } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make(new Uint8Array([0x61, 0xff])).pipe(Utf8.decodeWith({ onMalformed: "fail" }))
 * // fails with MalformedUtf8 { offset: 1 }
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeWith: {
  (options: DecodeOptions): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<string, E | MalformedUtf8, R>
  <E, R>(self: Stream.Stream<Uint8Array, E, R>, options: DecodeOptions): Stream.Stream<string, E | MalformedUtf8, R>
} = dual(2, <E, R>(self: Stream.Stream<Uint8Array, E, R>, options: DecodeOptions) =>
  transduce<Uint8Array, string, MalformedUtf8>(() => {
    const decoder = new Utf8Decoder(options)
    return {
      push(input, out) {
        for (let i = 0; i < input.length; i++) {
          const bytes = input[i]!
          for (let at = 0; at < bytes.length; at += SLICE) {
            const text = decoder.decode(bytes.length <= SLICE ? bytes : bytes.subarray(at, at + SLICE))
            if (typeof text !== "string") return text
            if (text.length > 0) out.push(text)
          }
        }
        return undefined
      },
      end(out) {
        const text = decoder.end()
        if (typeof text !== "string") return text
        if (text.length > 0) out.push(text)
        return undefined
      }
    }
  })(self))

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

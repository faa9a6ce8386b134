/**
 * Text → lines, for any line ending (LF, CRLF, CR) across any chunking.
 *
 * @since 0.1.0
 */
import { dual } from "effect/Function"
import type * as Stream from "effect/Stream"
import type { LineTooLong } from "./CodecError.js"
import * as internal from "./internal/lines.js"
import { isStreamArg, transduce } from "./internal/transduce.js"

export {
  /** @since 0.1.0 */
  LineTooLong
} from "./CodecError.js"

/**
 * Options of {@link split}.
 *
 * @since 0.1.0
 * @category splitting
 */
export interface SplitOptions {
  /** Longest line accepted, in UTF-16 code units, terminator excluded (default 1 MiB). */
  readonly maxLineLength?: number | undefined
  /** A last line with no terminator: emitted (default) or dropped (what SSE requires). */
  readonly trailing?: "emit" | "drop" | undefined
}

/**
 * Default for `maxLineLength`: 1 MiB of UTF-16 code units.
 *
 * @since 0.1.0
 * @category splitting
 */
export const defaultMaxLineLength = 1024 * 1024

/**
 * Splits text into lines without their terminators. LF, CRLF and a lone CR each end a line; a CR
 * at the end of one chunk and an LF at the start of the next are one line ending. A line longer
 * than `maxLineLength` fails the stream with `LineTooLong` as soon as the limit is crossed.
 *
 * @example
 * ```ts
 * import { Lines } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make("a\r", "\nb\rc\n", "tail").pipe(Lines.split) // "a", "b", "c", "tail"
 * Stream.make("a\nb").pipe(Lines.split({ trailing: "drop" })) // "a"
 * ```
 *
 * @since 0.1.0
 * @category splitting
 */
export const split: <const A extends Stream.Stream<string, any, any> | SplitOptions | undefined = undefined>(
  selfOrOptions?: A,
  options?: SplitOptions
) => [A] extends [Stream.Stream<string, infer E, infer R>] ? Stream.Stream<string, E | LineTooLong, R>
  : <E, R>(self: Stream.Stream<string, E, R>) => Stream.Stream<string, E | LineTooLong, R> = dual(
    isStreamArg,
    (self: Stream.Stream<string, unknown, unknown>, options?: SplitOptions) =>
      transduce(() => internal.splitter(options?.maxLineLength ?? defaultMaxLineLength, options?.trailing !== "drop"))(
        self
      )
  )

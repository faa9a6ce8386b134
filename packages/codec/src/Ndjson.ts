/**
 * Newline-delimited JSON: one JSON text per line, decoded and encoded as Effect Streams, typed
 * through `effect/Schema`.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import type * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { InvalidLine, LineTooLong, UnencodableValue } from "./CodecError.js"
import * as internal from "./internal/ndjson.js"
import { isStreamArg, transduce } from "./internal/transduce.js"

export {
  /** @since 0.1.0 */
  InvalidLine,
  /** @since 0.1.0 */
  LineTooLong,
  /** @since 0.1.0 */
  UnencodableValue
} from "./CodecError.js"

/**
 * The media type of an NDJSON stream.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType = "application/x-ndjson"

/**
 * Options of the NDJSON decoders.
 *
 * @since 0.1.0
 * @category decoding
 */
export interface DecodeOptions {
  /** Longest line accepted, in UTF-16 code units (default 16 MiB). */
  readonly maxLineLength?: number | undefined
  /**
   * A line that is not one JSON value, or fails the Schema: `"fail"` the stream with
   * `InvalidLine` (default; every value before it is delivered first), `"skip"` it and log a
   * warning, or skip it and hand the error to your own reporter.
   */
  readonly onBadLine?: "fail" | "skip" | ((error: InvalidLine) => Effect.Effect<void>) | undefined
}

/**
 * The errors of the NDJSON decoders.
 *
 * @since 0.1.0
 * @category decoding
 */
export type DecodeError = InvalidLine | LineTooLong

const config = <A>(options: DecodeOptions | undefined, validate?: (u: unknown) => any): internal.Config<A> => ({
  maxLineLength: options?.maxLineLength ?? internal.DEFAULT_MAX_LINE,
  onBadLine: options?.onBadLine ?? "fail",
  validate
})

/**
 * Lines → values, each incoming string being one line (e.g. from `Lines.split()`). Blank lines are
 * skipped but counted.
 *
 * @example
 * ```ts
 * import { Lines, Ndjson } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make('{"a":1}\n\n[2]\n').pipe(Lines.split, Ndjson.parse) // { a: 1 }, [2]
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse: <const A extends Stream.Stream<string, any, any> | DecodeOptions | undefined>(
  selfOrOptions?: A,
  options?: DecodeOptions
) => [A] extends [Stream.Stream<string, infer E, infer R>] ? Stream.Stream<unknown, E | InvalidLine, R>
  : <E, R>(self: Stream.Stream<string, E, R>) => Stream.Stream<unknown, E | InvalidLine, R> = dual(
    isStreamArg,
    (self: Stream.Stream<string, unknown, unknown>, options?: DecodeOptions) =>
      transduce(() => new internal.LineMachine<unknown>(config(options)))(self)
  )

/**
 * Text → values (splits lines itself). The text is taken as it is: the BOM is stripped by UTF-8
 * decoding (`Utf8.decode`, `TextDecoder`), so `Utf8.decode` then `Ndjson.decodeText` is `Ndjson.decode`.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make('{"a":', '1}\r\n{"a":2}').pipe(Ndjson.decodeText) // { a: 1 }, { a: 2 }
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeText: <const A extends Stream.Stream<string, any, any> | DecodeOptions | undefined>(
  selfOrOptions?: A,
  options?: DecodeOptions
) => [A] extends [Stream.Stream<string, infer E, infer R>] ? Stream.Stream<unknown, E | DecodeError, R>
  : <E, R>(self: Stream.Stream<string, E, R>) => Stream.Stream<unknown, E | DecodeError, R> = dual(
    isStreamArg,
    (self: Stream.Stream<string, unknown, unknown>, options?: DecodeOptions) =>
      transduce(() => new internal.TextMachine<unknown>(config(options)))(self)
  )

/**
 * Bytes → values in one pass per read: UTF-8 (one BOM stripped, invalid bytes as U+FFFD), lines
 * ending in LF, CRLF or CR, blank lines skipped, the last line may lack its terminator.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Effect, Stream } from "effect"
 *
 * const bytes = new TextEncoder().encode('{"id":1}\n{"id":2}\n')
 * Stream.make(bytes).pipe(Ndjson.decode) // Stream<unknown>: { id: 1 }, { id: 2 }
 *
 * // options: `maxLineLength` and the `onBadLine` policy
 * const mixed = new TextEncoder().encode('{"id":1}\nnot json\n{"id":2}\n')
 * Stream.make(mixed).pipe(
 *   Ndjson.decode({ onBadLine: (bad) => Effect.logWarning(`skipped line ${bad.line}`) })
 * ) // { id: 1 }, { id: 2 }
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: <const A extends Stream.Stream<Uint8Array, any, any> | DecodeOptions | undefined>(
  selfOrOptions?: A,
  options?: DecodeOptions
) => [A] extends [Stream.Stream<Uint8Array, infer E, infer R>] ? Stream.Stream<unknown, E | DecodeError, R>
  : <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<unknown, E | DecodeError, R> = dual(
    isStreamArg,
    (self: Stream.Stream<Uint8Array, unknown, unknown>, options?: DecodeOptions) =>
      transduce(() => new internal.ByteMachine<unknown>(config(options)))(self)
  )

/**
 * Bytes → values of a Schema. A value the Schema refuses is a bad line (`reason: "schema"`) with
 * its line number and excerpt, handled by `onBadLine` like a JSON syntax error.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Schema, Stream } from "effect"
 *
 * const Row = Schema.Struct({ id: Schema.Number, name: Schema.String })
 * const rows = (file: Stream.Stream<Uint8Array>) => file.pipe(Ndjson.decodeSchema(Row, { onBadLine: "skip" }))
 * // Stream<{ readonly id: number; readonly name: string }>
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeSchema: {
  <A, I>(
    schema: Schema.Schema<A, I, never>,
    options?: DecodeOptions
  ): <E, R>(self: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<A, E | DecodeError, R>
  <E, R, A, I>(
    self: Stream.Stream<Uint8Array, E, R>,
    schema: Schema.Schema<A, I, never>,
    options?: DecodeOptions
  ): Stream.Stream<A, E | DecodeError, R>
} = dual(
  isStreamArg,
  <E, R, A, I>(self: Stream.Stream<Uint8Array, E, R>, schema: Schema.Schema<A, I, never>, options?: DecodeOptions) => {
    const validate = Schema.decodeUnknownEither(schema)
    return transduce(() => new internal.ByteMachine<A>(config(options, validate)))(self) as Stream.Stream<
      A,
      E | DecodeError,
      R
    >
  }
)

/**
 * Values → NDJSON text: `JSON.stringify(value) + "\n"` each, one string per input chunk. A value
 * with no JSON text (`undefined`, a function, a cycle, a BigInt) fails with `UnencodableValue`.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make({ a: 1 }, [2]).pipe(Ndjson.render) // '{"a":1}\n[2]\n'
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const render = <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<string, E | UnencodableValue, R> =>
  transduce(() => new internal.Renderer<A>(undefined))(self)

const encoder = new TextEncoder()
const toBytes = <E, R>(self: Stream.Stream<string, E, R>) => Stream.mapChunks(self, Chunk.map((s) => encoder.encode(s)))

/**
 * Values → NDJSON bytes.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make({ a: 1 }).pipe(Ndjson.encode) // Stream<Uint8Array>
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<Uint8Array, E | UnencodableValue, R> =>
  toBytes(render(self))

/**
 * Values of a Schema → NDJSON bytes, each value encoded by the Schema before `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Schema, Stream } from "effect"
 *
 * const Row = Schema.Struct({ at: Schema.DateFromString })
 * Stream.make({ at: new Date(0) }).pipe(Ndjson.encodeSchema(Row)) // '{"at":"1970-01-01T00:00:00.000Z"}\n'
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeSchema: {
  <A, I>(
    schema: Schema.Schema<A, I, never>
  ): <E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<Uint8Array, E | UnencodableValue, R>
  <E, R, A, I>(
    self: Stream.Stream<A, E, R>,
    schema: Schema.Schema<A, I, never>
  ): Stream.Stream<Uint8Array, E | UnencodableValue, R>
} = dual(
  2,
  <E, R, A, I>(self: Stream.Stream<A, E, R>, schema: Schema.Schema<A, I, never>) =>
    toBytes(transduce(() => new internal.Renderer<A>(Schema.encodeEither(schema)))(self))
)

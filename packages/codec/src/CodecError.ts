/**
 * The typed errors of `@streamwire/codec`. Every error says what went wrong and where: the limit
 * and the size seen, the 1-based line number, the character or byte offset, the field.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * The input was not valid UTF-8 and the decoder was asked to fail rather than replace (the
 * default replaces each invalid sequence with U+FFFD, as the SSE and NDJSON specs require).
 *
 * @example
 * ```ts
 * import { Utf8 } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make(new Uint8Array([0x61, 0xff])).pipe(Utf8.decode({ onMalformed: "fail" }))
 * // fails with MalformedUtf8 { offset: 1 }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedUtf8 extends Data.TaggedError("MalformedUtf8")<{
  /** Byte offset, from the start of the stream, of the first byte of the invalid sequence. */
  readonly offset: number
  /** `true` when the stream ended inside an otherwise valid multi-byte sequence. */
  readonly truncated: boolean
}> {
  override get message(): string {
    return this.truncated
      ? `UTF-8 input ends inside a multi-byte sequence starting at byte ${this.offset}`
      : `invalid UTF-8 sequence at byte ${this.offset}`
  }
}

/**
 * A line grew past the configured `maxLineLength` (in UTF-16 code units). The stream fails as soon
 * as the limit is crossed, so memory stays bounded even for a line that never ends.
 *
 * @example
 * ```ts
 * import { Lines } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make("a".repeat(100)).pipe(Lines.split({ maxLineLength: 10 }))
 * // fails with LineTooLong { limit: 10, size: 100, line: 1, offset: 0 }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class LineTooLong extends Data.TaggedError("LineTooLong")<{
  readonly limit: number
  /** Length seen so far (at least `limit + 1`). */
  readonly size: number
  /** 1-based number of the offending line. */
  readonly line: number
  /** Character offset (UTF-16 code units, BOM excluded) where the line starts. */
  readonly offset: number
}> {
  override get message(): string {
    return `line ${this.line} (at character ${this.offset}) is longer than maxLineLength ${this.limit}: ${this.size} characters seen`
  }
}

/**
 * The data of one SSE event grew past the configured `maxEventSize` (UTF-16 code units).
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * // Sse.decode({ maxEventSize: 1024 }) fails with EventTooLarge once an event's data exceeds 1 KiB
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class EventTooLarge extends Data.TaggedError("EventTooLarge")<{
  readonly limit: number
  readonly size: number
  /** 1-based number of the line that crossed the limit. */
  readonly line: number
}> {
  override get message(): string {
    return `SSE event data exceeds maxEventSize ${this.limit}: ${this.size} characters at line ${this.line}`
  }
}

/**
 * An SSE field cannot be written: an event type or id containing CR or LF (or NUL, for ids) would
 * inject fields into the stream; a `retry` must be a non-negative safe integer of milliseconds.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * Sse.event({ data: "x", id: "1\nevent: evil" })
 * // Either.left(InvalidField { field: "id", ... })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidField extends Data.TaggedError("InvalidField")<{
  readonly field: "event" | "id" | "retry"
  readonly value: unknown
  readonly reason: string
}> {
  override get message(): string {
    return `invalid SSE ${this.field} ${JSON.stringify(String(this.value)).slice(0, 80)}: ${this.reason}`
  }
}

/**
 * An SSE event's data could not be decoded with the Schema given to `Sse.decodeSchema` or
 * `Sse.decodeSchemas`.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Schema } from "effect"
 *
 * // events.pipe(Sse.decodeSchema(Schema.parseJson(Schema.Struct({ n: Schema.Number }))))
 * // fails with InvalidEventData { type: "message", lastEventId: "7", ... } on `data: {"n":"x"}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidEventData extends Data.TaggedError("InvalidEventData")<{
  readonly type: string
  readonly lastEventId: string
  /** The start of the offending data (at most 80 characters). */
  readonly excerpt: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `SSE event "${this.type}" (last id ${JSON.stringify(this.lastEventId)}) has invalid data ${
      JSON.stringify(this.excerpt)
    }: ${causeMessage(this.cause)}`
  }
}

/**
 * An NDJSON line is not one JSON value (`reason: "json"`: a syntax error, trailing garbage, two
 * values on one line) or the value does not satisfy the Schema (`reason: "schema"`).
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 *
 * // Ndjson.decode() on `{"a":1}\n{"a":\n` fails with InvalidLine { line: 2, reason: "json", ... }
 * // after delivering { a: 1 }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidLine extends Data.TaggedError("InvalidLine")<{
  readonly reason: "json" | "schema"
  /** 1-based line number; every line counts, skipped blank ones included. */
  readonly line: number
  /** Character offset (UTF-16 code units, BOM excluded) where the line starts. */
  readonly offset: number
  /** The start of the line (at most 80 characters). */
  readonly excerpt: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `NDJSON line ${this.line} ${this.reason === "json" ? "is not valid JSON" : "does not match the schema"} (${
      JSON.stringify(this.excerpt)
    }): ${causeMessage(this.cause)}`
  }
}

/**
 * A value cannot be written as NDJSON: `JSON.stringify` threw (a cycle, a BigInt) or gave no
 * text (`undefined`, a function), or the Schema refused to encode it.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make(1, undefined).pipe(Ndjson.encode)
 * // fails with UnencodableValue { index: 1, ... }
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class UnencodableValue extends Data.TaggedError("UnencodableValue")<{
  /** 0-based index of the value in the stream. */
  readonly index: number
  readonly cause: unknown
}> {
  override get message(): string {
    return `value #${this.index} cannot be encoded as NDJSON: ${causeMessage(this.cause)}`
  }
}

/**
 * Every error the codec can raise.
 *
 * @since 0.1.0
 * @category errors
 */
export type CodecError =
  | MalformedUtf8
  | LineTooLong
  | EventTooLarge
  | InvalidField
  | InvalidEventData
  | InvalidLine
  | UnencodableValue

/** @internal */
export const causeMessage = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : String(cause)

/** @internal */
export const excerptOf = (text: string, max = 80): string => text.length <= max ? text : text.slice(0, max - 1) + "…"

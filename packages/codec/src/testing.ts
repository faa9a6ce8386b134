/**
 * Property-testing support: `fast-check` arbitraries (through `effect`'s `FastCheck`) for SSE
 * events, NDJSON values, whole SSE and NDJSON byte streams, and for cutting any byte stream into
 * arbitrary reads — so an application can property-test its own pipeline the way the codec is
 * tested: for any input and any chunking, the output is the same.
 *
 * @example
 * ```ts
 * import { it, expect } from "@effect/vitest"
 * import { Sse } from "@streamwire/codec"
 * import * as Testing from "@streamwire/codec/testing"
 * import { Chunk, Effect, Stream } from "effect"
 *
 * const run = (reads: ReadonlyArray<Uint8Array>) =>
 *   Testing.toStream(reads).pipe(Sse.decode, Stream.runCollect, Effect.map(Chunk.toReadonlyArray))
 *
 * it.effect.prop("my pipeline does not care how the body is cut", [Testing.chunks(Testing.sseStream())], ([{ bytes, chunks }]) =>
 *   Effect.gen(function*() {
 *     expect(yield* run(chunks)).toEqual(yield* run([bytes]))
 *   }))
 * ```
 *
 * @since 0.1.0
 */
import { Chunk, FastCheck as fc, Stream } from "effect"
import type * as Sse from "./Sse.js"

// ---------------------------------------------------------------------------------------------
// text

const encoder = new TextEncoder()

const codePoint: fc.Arbitrary<string> = fc.string({ unit: "binary", minLength: 1, maxLength: 1 })

/** Characters that exercise the parsers: field separators, NUL, BOM, multi-byte UTF-8. */
const tricky: fc.Arbitrary<string> = fc.constantFrom(":", " ", "\t", "\0", "\uFEFF", "é", "€", "😀", "𝄞", "a", "z")

/**
 * Any single character (a full Unicode code point, never half a surrogate pair), biased towards
 * those that trip SSE and NDJSON parsers up: `:`, space, NUL, U+FEFF and multi-byte characters.
 * Line breaks included only when `lineBreaks` is `true`.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.char({ lineBreaks: false }), 5) // e.g. ["\0", "é", ":", "𝄞", "q"]
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const char = (options?: { readonly lineBreaks?: boolean | undefined }): fc.Arbitrary<string> => {
  const base = fc.oneof({ arbitrary: codePoint, weight: 2 }, { arbitrary: tricky, weight: 3 })
  return options?.lineBreaks === true
    ? fc.oneof({ arbitrary: base, weight: 8 }, { arbitrary: lineEnding, weight: 1 })
    : base.filter((c) => c !== "\r" && c !== "\n")
}

/**
 * One of the three line endings SSE and NDJSON accept: LF, CRLF or a lone CR.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.lineEnding, 3) // e.g. ["\n", "\r", "\r\n"]
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const lineEnding: fc.Arbitrary<"\n" | "\r\n" | "\r"> = fc.constantFrom("\n", "\r\n", "\r")

/**
 * A line of text without any CR or LF.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.lineText({ maxLength: 8 }), 2) // e.g. ["a:€ ", "\0𝄞"]
 * ```
 *
 * @since 0.1.0
 * @category text
 */
export const lineText = (options?: { readonly maxLength?: number | undefined }): fc.Arbitrary<string> =>
  fc.string({ unit: char(), maxLength: options?.maxLength ?? 20 })

// ---------------------------------------------------------------------------------------------
// SSE

/**
 * Event data: arbitrary Unicode text with any mix of LF, CRLF and CR inside. After a round trip
 * through `Sse.encode` and `Sse.decode` the line endings come back as LF (see
 * {@link normalizeData}).
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.eventData, 2) // e.g. ["a\r\nb", ""]
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const eventData: fc.Arbitrary<string> = fc.string({ unit: char({ lineBreaks: true }), maxLength: 40 })

/**
 * An event type: any text without CR or LF (it may be empty, which means `"message"`).
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.eventType, 3) // e.g. ["message", "tick", " é:"]
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const eventType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("message", "", "update", "ping"),
  lineText({ maxLength: 12 })
)

/**
 * An event id: any text without CR, LF or NUL (the empty id is included: it resets the last id).
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.eventId, 3) // e.g. ["", "42", " :é"]
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const eventId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", "1", "42"),
  fc.nat().map(String),
  lineText({ maxLength: 12 }).map((s) => s.replace(/\0/g, ""))
)

/**
 * An `SseEvent` that can be written: arbitrary data (any line endings), a type without CR/LF, an
 * id without CR/LF/NUL.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * const [e] = fc.sample(Testing.sseEvent, 1) // an Sse.SseEvent
 * Sse.renderMessage(e!) // always Either.right
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const sseEvent: fc.Arbitrary<Sse.SseEvent> = fc
  .record({ type: eventType, data: eventData, lastEventId: eventId })
  .map(({ data, lastEventId, type }) => ({
    _tag: "SseEvent" as const,
    type: type === "" ? "message" : type,
    data,
    lastEventId
  }))

/**
 * A `Retry` hint: a non-negative safe integer of milliseconds.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.retry, 1) // e.g. [{ _tag: "Retry", millis: 3000 }]
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const retry: fc.Arbitrary<Sse.Retry> = fc
  .oneof(fc.nat(60_000), fc.maxSafeNat())
  .map((millis) => ({ _tag: "Retry" as const, millis }))

/**
 * A `Comment` whose text has no line break (so it decodes back as one comment).
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.comment, 1) // e.g. [{ _tag: "Comment", text: " ping" }]
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const comment: fc.Arbitrary<Sse.Comment> = lineText().map((text) => ({ _tag: "Comment" as const, text }))

/**
 * What event data looks like after it went through the protocol: CRLF and lone CR become LF
 * (SSE cannot carry them).
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 *
 * Testing.normalizeData("a\r\nb\rc") // "a\nb\nc"
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const normalizeData = (data: string): string => data.replace(/\r\n?/g, "\n")

/**
 * Options of {@link sseStream}.
 *
 * @since 0.1.0
 * @category SSE
 */
export interface SseStreamOptions {
  /** Most lines in one stream (default 30). */
  readonly maxLines?: number | undefined
  /** Now and then, bytes that are not valid UTF-8 inside values (default `true`). */
  readonly invalidUtf8?: boolean | undefined
  /** Sometimes start with a BOM (default `true`). */
  readonly bom?: boolean | undefined
  /** Sometimes end without a final line ending, or in the middle of an event (default `true`). */
  readonly unterminated?: boolean | undefined
}

/** Byte sequences that are not valid UTF-8, or are cut short. */
const invalidBytes: fc.Arbitrary<Uint8Array> = fc.constantFrom(
  [0xff],
  [0xc3], // lead byte without its continuation
  [0x80], // lone continuation byte
  [0xe2, 0x82], // truncated 3-byte sequence
  [0xf0, 0x9f, 0x98], // truncated 4-byte sequence
  [0xc0, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // surrogate
  [0xf4, 0x90, 0x80, 0x80] // beyond U+10FFFF
).map((a) => new Uint8Array(a))

type Piece = string | Uint8Array

/** A value with, now and then, raw invalid bytes spliced in. */
const value = (invalid: boolean, maxLength = 16): fc.Arbitrary<ReadonlyArray<Piece>> =>
  invalid
    ? fc.array(
      fc.oneof({ arbitrary: lineText({ maxLength }), weight: 6 }, { arbitrary: invalidBytes, weight: 1 }),
      { minLength: 1, maxLength: 3 }
    )
    : lineText({ maxLength }).map((s) => [s])

const fieldName: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom("data", "event", "id", "retry"), weight: 8 },
  { arbitrary: fc.constantFrom("Data", "EVENT", "dat", "datas", "ids", "retr", "x", "\uFEFFdata", " data"), weight: 1 },
  { arbitrary: lineText({ maxLength: 6 }).map((s) => s.replace(/:/g, "")), weight: 1 }
)

const separator: fc.Arbitrary<string> = fc.constantFrom(": ", ": ", ":", ":  ", ": \t", "")

const retryValue: fc.Arbitrary<string> = fc.oneof(
  fc.nat(100_000).map(String),
  fc.constantFrom("", "0", "007", "12a", " 5", "-1", "1.5", "1e3", "٣", "99999999999999999999999"),
  fc.string({ unit: fc.constantFrom("0", "1", "9"), minLength: 16, maxLength: 400 })
)

const sseLine = (invalid: boolean): fc.Arbitrary<ReadonlyArray<Piece>> =>
  fc.oneof(
    { arbitrary: fc.constant([""]), weight: 3 }, // blank line: dispatch
    {
      arbitrary: fc
        .tuple(fieldName, separator, value(invalid))
        .map(([name, sep, v]) => (sep === "" ? [name] : [name, sep, ...v])),
      weight: 8
    },
    { arbitrary: fc.tuple(separator, retryValue).map(([sep, v]) => ["retry", sep === "" ? "" : sep + v]), weight: 1 },
    { arbitrary: value(invalid).map((v) => [":", ...v]), weight: 1 } // comment
  )

const concat = (pieces: ReadonlyArray<Piece>): Uint8Array => {
  const parts = pieces.map((p) => (typeof p === "string" ? encoder.encode(p) : p))
  let size = 0
  for (const p of parts) size += p.length
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * A whole SSE byte stream as servers (and broken servers) write them: a random mix of `data`,
 * `event`, `id` and `retry` fields, unknown and misspelt fields, fields without a colon,
 * comments, blank lines, no-space / one-space / two-space values, NUL and U+FEFF in values,
 * `retry` values that are not numbers or are huge, LF / CRLF / CR line endings, sometimes a
 * leading BOM, sometimes invalid UTF-8, sometimes no final line ending.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.sseStream({ invalidUtf8: false }), 1) // [Uint8Array]
 * ```
 *
 * @since 0.1.0
 * @category SSE
 */
export const sseStream = (options?: SseStreamOptions): fc.Arbitrary<Uint8Array> => {
  const invalid = options?.invalidUtf8 ?? true
  const bom = options?.bom ?? true
  const unterminated = options?.unterminated ?? true
  return fc
    .record({
      bom: bom
        ? fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 })
        : fc.constant(false),
      lines: fc.array(fc.tuple(sseLine(invalid), lineEnding), { maxLength: options?.maxLines ?? 30 }),
      cutLast: unterminated ? fc.boolean() : fc.constant(false)
    })
    .map(({ bom, cutLast, lines }) => {
      const pieces: Array<Piece> = bom ? ["\uFEFF"] : []
      lines.forEach(([line, ending], i) => {
        pieces.push(...line)
        if (!(cutLast && i === lines.length - 1)) pieces.push(ending)
      })
      const bytes = concat(pieces)
      // without a BOM, a U+FEFF that a random field name put first would act as one
      return !bom && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? concat(["x", bytes]) : bytes
    })
}

// ---------------------------------------------------------------------------------------------
// NDJSON

/**
 * A JSON value that survives `JSON.stringify` / `JSON.parse` unchanged (no `-0`, no `undefined`),
 * with arbitrary Unicode in strings and keys.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.jsonValue, 2) // e.g. [{ "é": [1, null] }, "a\u2028b"]
 * ```
 *
 * @since 0.1.0
 * @category NDJSON
 */
export const jsonValue: fc.Arbitrary<unknown> = fc
  .jsonValue({ maxDepth: 3, stringUnit: "binary" })
  .map((v) => JSON.parse(JSON.stringify(v)))

/**
 * An NDJSON document and the values a decoder must give for it.
 *
 * @since 0.1.0
 * @category NDJSON
 */
export interface NdjsonDocument<A = unknown> {
  readonly values: ReadonlyArray<A>
  readonly bytes: Uint8Array
}

const jsonSpace = fc.string({ unit: fc.constantFrom(" ", "\t"), maxLength: 3 })

/**
 * Valid NDJSON for the values generated by `values` (default {@link jsonValue}), framed every way
 * the format allows: LF / CRLF / CR endings, blank and whitespace-only lines, JSON whitespace
 * around values, a leading BOM now and then, the last line with or without its terminator.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * const docs = Testing.ndjsonDocument(fc.record({ id: fc.integer(), name: fc.string() }))
 * // each sample: { values: [{ id: 3, name: "x" }, ...], bytes: Uint8Array }
 * ```
 *
 * @since 0.1.0
 * @category NDJSON
 */
export const ndjsonDocument = <A = unknown>(
  values: fc.Arbitrary<A> = jsonValue as fc.Arbitrary<A>,
  options?: { readonly maxValues?: number | undefined }
): fc.Arbitrary<NdjsonDocument<A>> =>
  fc
    .record({
      bom: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
      rows: fc.array(
        fc.tuple(
          values,
          jsonSpace,
          jsonSpace,
          lineEnding,
          fc.array(fc.tuple(jsonSpace, lineEnding), { maxLength: 2 }) // blank lines after it
        ),
        { maxLength: options?.maxValues ?? 20 }
      ),
      terminated: fc.boolean()
    })
    .map(({ bom, rows, terminated }) => {
      let text = bom ? "\uFEFF" : ""
      rows.forEach(([value, before, after, ending, blanks], i) => {
        const last = i === rows.length - 1
        text += before + JSON.stringify(value) + after
        if (!last || terminated || blanks.length > 0) text += ending
        blanks.forEach(([space, end], j) => {
          text += space
          if (!(last && j === blanks.length - 1 && !terminated)) text += end
        })
      })
      return { values: rows.map(([value]) => value), bytes: encoder.encode(text) }
    })

/**
 * Options of {@link ndjsonStream}.
 *
 * @since 0.1.0
 * @category NDJSON
 */
export interface NdjsonStreamOptions {
  /** Most lines in one stream (default 20). */
  readonly maxLines?: number | undefined
  /** Now and then a line that is not one JSON value (default `true`). */
  readonly badLines?: boolean | undefined
  /** Now and then bytes that are not valid UTF-8 (default `true`). */
  readonly invalidUtf8?: boolean | undefined
}

const badLine: fc.Arbitrary<ReadonlyArray<Piece>> = fc.oneof(
  fc.constantFrom(["{"], ["1 2"], ["{\"a\":1}x"], ["[1,]"], ["nul"], ["'x'"], ["\u00a0"], ["{} {}"]),
  lineText({ maxLength: 10 }).map((s) => ["{" + s]),
  invalidBytes.map((b) => ["\"", b, "\""])
)

/**
 * A whole NDJSON byte stream, valid or not: JSON values framed as in {@link ndjsonDocument},
 * mixed (unless disabled) with lines that are not one JSON value and with invalid UTF-8.
 *
 * @example
 * ```ts
 * import { Ndjson } from "@streamwire/codec"
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * fc.sample(Testing.ndjsonStream({ badLines: true }), 1) // [Uint8Array]
 * ```
 *
 * @since 0.1.0
 * @category NDJSON
 */
export const ndjsonStream = (options?: NdjsonStreamOptions): fc.Arbitrary<Uint8Array> => {
  const bad = options?.badLines ?? true
  const invalid = options?.invalidUtf8 ?? true
  const good: fc.Arbitrary<ReadonlyArray<Piece>> = fc
    .tuple(jsonSpace, jsonValue, jsonSpace)
    .map(([a, v, b]) => [a + JSON.stringify(v) + b])
  const line = fc.oneof(
    { arbitrary: good, weight: 6 },
    { arbitrary: jsonSpace.map((s) => [s]), weight: 1 },
    ...(bad ? [{ arbitrary: badLine.filter((p) => invalid || p.every((x) => typeof x === "string")), weight: 1 }] : [])
  )
  return fc
    .record({
      bom: fc.boolean(),
      lines: fc.array(fc.tuple(line, lineEnding), { maxLength: options?.maxLines ?? 20 }),
      terminated: fc.boolean()
    })
    .map(({ bom, lines, terminated }) => {
      const pieces: Array<Piece> = bom ? ["\uFEFF"] : []
      lines.forEach(([l, ending], i) => {
        pieces.push(...l)
        if (terminated || i < lines.length - 1) pieces.push(ending)
      })
      return concat(pieces)
    })
}

// ---------------------------------------------------------------------------------------------
// chunking

/**
 * Cuts `bytes` at the given positions (clamped to the array, sorted, duplicates dropped). No read
 * is empty, unless `bytes` is.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 *
 * Testing.cutAt(new Uint8Array([1, 2, 3, 4]), [3, 1]) // [[1], [2, 3], [4]]
 * ```
 *
 * @since 0.1.0
 * @category chunking
 */
export const cutAt = (bytes: Uint8Array, positions: ReadonlyArray<number>): ReadonlyArray<Uint8Array> => {
  const cuts = [...new Set(positions.map((n) => Math.max(0, Math.min(bytes.length, Math.floor(n)))))].sort((a, b) =>
    a - b
  )
  const out: Array<Uint8Array> = []
  let prev = 0
  for (const c of cuts) {
    if (c === 0 || c === bytes.length) continue
    out.push(bytes.subarray(prev, c))
    prev = c
  }
  out.push(bytes.subarray(prev))
  return out
}

/**
 * Every way of cutting `bytes` into reads, as an HTTP body or a socket might deliver them: at
 * random positions (including inside multi-byte characters and between CR and LF), one byte per
 * read, or all at once, now and then with empty reads in between. Joined, the reads are always
 * `bytes`.
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * const body = new TextEncoder().encode("data: €\r\n\r\n")
 * fc.sample(Testing.chunked(body), 2) // e.g. [[Uint8Array(5), Uint8Array(7)], [Uint8Array(12)]]
 * ```
 *
 * @since 0.1.0
 * @category chunking
 */
export const chunked = (bytes: Uint8Array): fc.Arbitrary<ReadonlyArray<Uint8Array>> =>
  fc.oneof(
    { arbitrary: fc.array(fc.nat(bytes.length), { maxLength: 12 }).map((at) => cutAt(bytes, at)), weight: 6 },
    {
      arbitrary: fc
        .tuple(fc.array(fc.nat(bytes.length), { maxLength: 6 }), fc.array(fc.nat(8), { maxLength: 3 }))
        .map(([at, empties]) => {
          const reads = [...cutAt(bytes, at)]
          for (const e of empties) reads.splice(Math.min(e, reads.length), 0, new Uint8Array(0))
          return reads
        }),
      weight: 1
    },
    { arbitrary: fc.constant(null).map(() => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))), weight: 1 },
    { arbitrary: fc.constant(null).map(() => [bytes]), weight: 1 }
  )

/**
 * A byte stream from `bytes` together with one way of cutting it into reads ({@link chunked}).
 *
 * @example
 * ```ts
 * import * as Testing from "@streamwire/codec/testing"
 * import { FastCheck as fc } from "effect"
 *
 * const arb = Testing.chunks(Testing.sseStream()) // Arbitrary<{ bytes, chunks }>
 * ```
 *
 * @since 0.1.0
 * @category chunking
 */
export const chunks = (
  bytes: fc.Arbitrary<Uint8Array>
): fc.Arbitrary<{ readonly bytes: Uint8Array; readonly chunks: ReadonlyArray<Uint8Array> }> =>
  bytes.chain((b) => chunked(b).map((chunks) => ({ bytes: b, chunks })))

/**
 * The reads as a `Stream`, each read its own `Chunk` — as an HTTP body delivers them — so that
 * every cut really reaches the decoder.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import * as Testing from "@streamwire/codec/testing"
 *
 * const enc = new TextEncoder()
 * Testing.toStream([enc.encode("data: a"), enc.encode("\n\n")]).pipe(Sse.decode) // one event
 * ```
 *
 * @since 0.1.0
 * @category chunking
 */
export const toStream = <A>(reads: Iterable<A>): Stream.Stream<A> =>
  Stream.fromChunks(...Array.from(reads, (r) => Chunk.of(r)))

import { describe, expect, it } from "@effect/vitest"
import { Lines, Ndjson, Utf8 } from "@streamwire/codec"
import * as Testing from "@streamwire/codec/testing"
import { Effect, FastCheck as fc, Logger, Schema, Stream } from "effect"
import { type Piece, toBytes } from "./sseHelpers.js"
import { collect, enc, reads } from "./utils.js"

/** Decodes with `Ndjson.decode`, and checks `decodeText` and `Lines.split() + parse` agree on the values. */
const ndjson = (pieces: ReadonlyArray<Piece>, options: Ndjson.DecodeOptions = {}) =>
  Effect.gen(function*() {
    const chunks = pieces.map(toBytes)
    const fused = yield* collect(reads(chunks).pipe(Ndjson.decode(options)))
    const text = yield* collect(reads(chunks).pipe(Utf8.decode, Ndjson.decodeText(options)))
    expect(text.out).toEqual(fused.out)
    expect(text.error).toEqual(fused.error)
    if (fused.error?._tag !== "LineTooLong") {
      const staged = yield* collect(reads(chunks).pipe(Utf8.decode, Lines.split(), Ndjson.parse(options)))
      expect(staged.out).toEqual(fused.out)
      expect(staged.error?._tag).toEqual(fused.error?._tag)
    }
    return fused
  })

const values = (pieces: ReadonlyArray<Piece>, options?: Ndjson.DecodeOptions) =>
  Effect.gen(function*() {
    const { error, out } = yield* ndjson(pieces, options)
    expect(error).toBeUndefined()
    return out
  })

/** Decodes with a reporter that collects every bad line. */
const skipping = (pieces: ReadonlyArray<Piece>) =>
  Effect.gen(function*() {
    const bad: Array<Ndjson.InvalidLine> = []
    const { error, out } = yield* ndjson(pieces, { onBadLine: (e) => Effect.sync(() => void bad.push(e)) })
    expect(error).toBeUndefined()
    // the three paths each reported: keep one path's reports
    return { out, bad: bad.slice(0, bad.length / 3) }
  })

describe("Ndjson decoding", () => {
  it.effect("one JSON text per line", () =>
    Effect.gen(function*() {
      expect(yield* values(["{\"a\":1}\n[2,3]\n\"x\"\n4\ntrue\nnull\n"])).toEqual([
        { a: 1 },
        [2, 3],
        "x",
        4,
        true,
        null
      ])
    }))

  it.effect("a leading BOM is stripped, once, even split across chunks", () =>
    Effect.gen(function*() {
      expect(yield* values(["\uFEFF1\n2\n"])).toEqual([1, 2])
      expect(yield* values([[0xef], [0xbb], [0xbf, 0x31], "\n"])).toEqual([1])
      // a second BOM is not JSON whitespace: a bad line
      const { error } = yield* ndjson(["\uFEFF\uFEFF1\n"])
      expect(error).toMatchObject({ _tag: "InvalidLine", reason: "json", line: 1 })
    }))

  it.effect("LF, CRLF and lone CR end lines, also with CR and LF in different chunks", () =>
    Effect.gen(function*() {
      expect(yield* values(["1\n2\r\n3\r4\r\n"])).toEqual([1, 2, 3, 4])
      expect(yield* values(["1\r", "\n2\r", "3"])).toEqual([1, 2, 3])
      // CR | LF is one line ending: the line count says so
      const { error } = yield* ndjson(["1\r", "\nx\n"])
      expect(error).toMatchObject({ line: 2 })
    }))

  it.effect("blank and whitespace-only lines are skipped but counted in line numbers", () =>
    Effect.gen(function*() {
      expect(yield* values(["\n1\n\n \t \n\r\n2\n\n"])).toEqual([1, 2])
      const { error, out } = yield* ndjson(["1\n\n  \t\n\r\n{\"a\"\n"])
      expect(out).toEqual([1])
      expect(error).toMatchObject({ _tag: "InvalidLine", reason: "json", line: 5, excerpt: "{\"a\"" })
      // a non-JSON whitespace character (NBSP) is not blank
      expect((yield* ndjson(["\u00a0\n"])).error).toMatchObject({ line: 1 })
    }))

  it.effect("the last line may lack its terminator", () =>
    Effect.gen(function*() {
      expect(yield* values(["1\n2"])).toEqual([1, 2])
      expect(yield* values(["1\n{\"a\":", "2}"])).toEqual([1, { a: 2 }])
      expect(yield* values(["1\n  "])).toEqual([1])
      const { error } = yield* ndjson(["1\n\n{"])
      expect(error).toMatchObject({ _tag: "InvalidLine", line: 3, excerpt: "{" })
    }))

  it.effect("trailing garbage is an InvalidLine with line number, offset and excerpt", () =>
    Effect.gen(function*() {
      const { error, out } = yield* ndjson(["{\"a\":1}\n{\"a\":2}x\n"])
      expect(out).toEqual([{ a: 1 }])
      expect(error).toMatchObject({ _tag: "InvalidLine", reason: "json", line: 2, offset: 8, excerpt: "{\"a\":2}x" })
      expect((error as Ndjson.InvalidLine).cause).toBeInstanceOf(SyntaxError)
      expect((error as Ndjson.InvalidLine).message).toContain("line 2")
    }))

  it.effect("two values on one line are an InvalidLine", () =>
    Effect.gen(function*() {
      expect((yield* ndjson(["1 2\n"])).error).toMatchObject({ _tag: "InvalidLine", line: 1, excerpt: "1 2" })
      expect((yield* ndjson(["{}{}\n"])).error).toMatchObject({ line: 1, excerpt: "{}{}" })
    }))

  it.effect("the excerpt is the start of a long line, at most 80 characters", () =>
    Effect.gen(function*() {
      const { error } = yield* ndjson(["[" + "1,".repeat(100) + "\n"])
      const excerpt = (error as Ndjson.InvalidLine).excerpt
      expect(excerpt.length).toBeLessThanOrEqual(80)
      expect(excerpt.startsWith("[1,1,1,")).toBe(true)
    }))

  it.effect("every value before a bad line is delivered, even from the same chunk", () =>
    Effect.gen(function*() {
      const { error, out } = yield* ndjson(["1\n2\n3\nnope\n4\n"])
      expect(out).toEqual([1, 2, 3])
      expect(error).toMatchObject({ _tag: "InvalidLine", line: 4, excerpt: "nope" })
    }))

  it.effect("a read larger than 16 KiB (taken in pieces) decodes as the same bytes in small reads", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      for (let i = 0; i < 3000; i++) {
        const ending = i % 7 === 0 ? "\r\n" : i % 11 === 0 ? "\r" : "\n"
        lines.push(
          (i % 13 === 0 ? "  \t" : i === 1234 ? "{oops" : JSON.stringify({ i, s: "é→🎉".repeat(i % 5) })) + ending
        )
      }
      const bytes = enc.encode("\uFEFF" + lines.join("") + "[\"last\"]")
      expect(bytes.length).toBeGreaterThan(64 * 1024)
      const small: Array<Uint8Array> = []
      for (let at = 0; at < bytes.length; at += 1000) small.push(bytes.subarray(at, at + 1000))
      const run = (pieces: ReadonlyArray<Uint8Array>) =>
        Effect.gen(function*() {
          const bad: Array<unknown> = []
          const skipped = yield* collect(
            reads(pieces).pipe(
              Ndjson.decode({ onBadLine: (e) => Effect.sync(() => void bad.push([e.line, e.offset])) })
            )
          )
          return { skipped, bad, failed: yield* collect(reads(pieces).pipe(Ndjson.decode)) }
        })
      const whole = yield* run([bytes])
      expect(whole.skipped.error).toBeUndefined()
      expect(whole.skipped.out.length).toBe(3000 - 231 - 1 + 1)
      expect(whole.skipped.out.at(-1)).toEqual(["last"])
      expect(whole.bad).toEqual([[1235, expect.any(Number)]])
      expect(whole.failed.out.length).toBe(1234 - 95)
      expect(whole.failed.error).toMatchObject({ _tag: "InvalidLine", line: 1235, excerpt: "{oops" })
      expect(yield* run(small)).toEqual(whole)
      expect(yield* run([bytes.subarray(0, 40000), bytes.subarray(40000)])).toEqual(whole)
    }))

  it.effect("invalid UTF-8 becomes U+FFFD", () =>
    Effect.gen(function*() {
      expect(yield* values(["\"a", [0xff], "b\"\n\"", [0xe2, 0x82], "\""])).toEqual(["a\uFFFDb", "\uFFFD"])
    }))

  it.effect("skip policy: each bad line is reported with number, excerpt and cause, and decoding goes on", () =>
    Effect.gen(function*() {
      const { bad, out } = yield* skipping(["1\nx\n\n2\n{\n3\n[", "1 2]"])
      expect(out).toEqual([1, 2, 3])
      expect(bad.map(({ excerpt, line, reason }) => ({ line, excerpt, reason }))).toEqual([
        { line: 2, excerpt: "x", reason: "json" },
        { line: 5, excerpt: "{", reason: "json" },
        { line: 7, excerpt: "[1 2]", reason: "json" }
      ])
      for (const e of bad) expect(e.cause).toBeInstanceOf(SyntaxError)
    }))

  it.effect("onBadLine: \"skip\" logs a warning per bad line and goes on", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${String(message)}`))
      const { error, out } = yield* collect(
        reads([enc.encode("1\nx\n2\n")]).pipe(Ndjson.decode({ onBadLine: "skip" }))
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(error).toBeUndefined()
      expect(out).toEqual([1, 2])
      expect(logs).toHaveLength(1)
      expect(logs[0]).toMatch(/^WARN .*line 2/)
    }))

  it.effect("Schema failures are InvalidLine with reason \"schema\"; skip policy goes on", () =>
    Effect.gen(function*() {
      const Row = Schema.Struct({ id: Schema.Number, at: Schema.Date })
      const text =
        "{\"id\":1,\"at\":\"2020-01-01T00:00:00.000Z\"}\n{\"id\":\"x\",\"at\":\"2020-01-01\"}\n{\"id\":3,\"at\":\"2021-01-01T00:00:00.000Z\"}\n"
      const failing = yield* collect(reads([enc.encode(text)]).pipe(Ndjson.decodeSchema(Row)))
      expect(failing.out).toEqual([{ id: 1, at: new Date("2020-01-01T00:00:00.000Z") }])
      expect(failing.error).toMatchObject({ _tag: "InvalidLine", reason: "schema", line: 2 })
      expect(String((failing.error as Ndjson.InvalidLine).cause)).toContain("Expected number")
      const bad: Array<Ndjson.InvalidLine> = []
      const skipped = yield* collect(
        reads([enc.encode(text)]).pipe(
          Ndjson.decodeSchema(Row, { onBadLine: (e) => Effect.sync(() => void bad.push(e)) })
        )
      )
      expect(skipped.out.map((r) => r.id)).toEqual([1, 3])
      expect(bad.map((e) => [e.line, e.reason])).toEqual([[2, "schema"]])
    }))

  it.effect("maxLineLength: LineTooLong with limit, line and offset", () =>
    Effect.gen(function*() {
      const { error, out } = yield* ndjson(["1\n\n", "[" + "0,".repeat(10) + "0]\n"], { maxLineLength: 8 })
      expect(out).toEqual([1])
      expect(error).toMatchObject({ _tag: "LineTooLong", limit: 8, line: 3, offset: 3 })
      expect(yield* values(["[1,2,34]\n"], { maxLineLength: 8 })).toEqual([[1, 2, 34]])
    }))

  it.effect("an endless line fails with LineTooLong after reading a bounded amount", () =>
    Effect.gen(function*() {
      let reads = 0
      const endless = Stream.make(enc.encode("[")).pipe(
        Stream.concat(Stream.repeatValue(enc.encode("1,".repeat(512)))),
        Stream.tap(() => Effect.sync(() => reads++))
      )
      const { error } = yield* collect(endless.pipe(Ndjson.decode({ maxLineLength: 64 * 1024 })))
      expect(error).toMatchObject({ _tag: "LineTooLong", limit: 64 * 1024, line: 1 })
      expect(reads).toBeLessThanOrEqual(67)
    }))
})

describe("Ndjson properties", () => {
  it.effect.prop(
    "an NDJSON document decodes to its values, however it is cut",
    [Testing.ndjsonDocument().chain((doc) => Testing.chunked(doc.bytes).map((chunks) => ({ doc, chunks })))],
    ([{ chunks, doc }]) =>
      Effect.gen(function*() {
        const { error, out } = yield* collect(Testing.toStream(chunks).pipe(Ndjson.decode))
        expect(error).toBeUndefined()
        expect(out).toEqual(doc.values)
      })
  )

  it.effect.prop(
    "chunking invariance: values and bad-line reports do not depend on the cutting (decode, decodeText, split + parse)",
    [Testing.chunks(Testing.ndjsonStream())],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        const run = <E>(make: (report: Ndjson.DecodeOptions) => Stream.Stream<unknown, E>) =>
          Effect.gen(function*() {
            const bad: Array<unknown> = []
            const { error, out } = yield* collect(
              make({ onBadLine: (e) => Effect.sync(() => void bad.push([e.line, e.reason, e.excerpt, e.offset])) })
            )
            expect(error).toBeUndefined()
            return { out, bad }
          })
        const whole = yield* run((o) => reads([bytes]).pipe(Ndjson.decode(o)))
        expect(yield* run((o) => reads(chunks).pipe(Ndjson.decode(o)))).toEqual(whole)
        expect(yield* run((o) => reads(chunks).pipe(Utf8.decode, Ndjson.decodeText(o)))).toEqual(
          whole
        )
        const staged = yield* run((o) => reads(chunks).pipe(Utf8.decode, Lines.split(), Ndjson.parse(o)))
        expect(staged.out).toEqual(whole.out)
        // failing at the first bad line: same error whatever the cutting
        const first = (pieces: ReadonlyArray<Uint8Array>) => collect(reads(pieces).pipe(Ndjson.decode))
        const a = yield* first([bytes])
        const b = yield* first(chunks)
        expect(b).toEqual(a)
      })
  )

  it.effect.prop(
    "round trip with a Schema: decodeSchema(encodeSchema(values)) is the values",
    [
      fc.array(
        fc.record({
          id: fc.integer(),
          name: fc.string({ unit: "binary" }),
          at: fc.date({ noInvalidDate: true }),
          tags: fc.array(fc.string(), { maxLength: 3 })
        }),
        { maxLength: 20 }
      ),
      fc.array(fc.nat(2000), { maxLength: 8 })
    ],
    ([rows, at]) =>
      Effect.gen(function*() {
        const Row = Schema.Struct({
          id: Schema.Int,
          name: Schema.String,
          at: Schema.Date,
          tags: Schema.Array(Schema.String)
        })
        const encoded = yield* collect(Stream.fromIterable(rows).pipe(Ndjson.encodeSchema(Row)))
        expect(encoded.error).toBeUndefined()
        const bytes = new Uint8Array(encoded.out.flatMap((b) => Array.from(b)))
        const { error, out } = yield* collect(Testing.toStream(Testing.cutAt(bytes, at)).pipe(Ndjson.decodeSchema(Row)))
        expect(error).toBeUndefined()
        expect(out).toEqual(rows)
      })
  )
})

import { describe, expect, it } from "@effect/vitest"
import { Utf8 } from "@streamwire/codec"
import * as Testing from "@streamwire/codec/testing"
import { Effect, FastCheck as fc } from "effect"
import { joined } from "./sseHelpers.js"
import { collect, enc, reads } from "./utils.js"

const u8 = (...pieces: ReadonlyArray<ReadonlyArray<number> | string>) =>
  pieces.map((p) => (typeof p === "string" ? enc.encode(p) : new Uint8Array(p)))

const decode = (chunks: ReadonlyArray<Uint8Array>, options: Utf8.DecodeOptions = {}) =>
  joined(reads(chunks).pipe(Utf8.decode(options)))

describe("Utf8.decode", () => {
  it.effect("a character split across chunks is decoded whole, at every cut", () =>
    Effect.gen(function*() {
      const bytes = enc.encode("aé€😀𝄞z")
      for (let i = 0; i <= bytes.length; i++) {
        for (let j = i; j <= bytes.length; j++) {
          const { error, text } = yield* decode([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])
          expect(error).toBeUndefined()
          expect(text).toBe("aé€😀𝄞z")
        }
      }
      const { text } = yield* joined(reads(Array.from(bytes, (b) => new Uint8Array([b]))).pipe(Utf8.decode))
      expect(text).toBe("aé€😀𝄞z")
    }))

  it.effect("one BOM at the very start is stripped, a second one is kept", () =>
    Effect.gen(function*() {
      expect((yield* decode(u8([0xef, 0xbb, 0xbf], "a"))).text).toBe("a")
      expect((yield* decode(u8("\uFEFF\uFEFFa"))).text).toBe("\uFEFFa")
      expect((yield* decode(u8("a\uFEFF"))).text).toBe("a\uFEFF")
      // split across chunks, with empty reads around
      expect(yield* decode(u8([], [0xef], [], [0xbb], [0xbf, 0x61]))).toEqual({ text: "a", error: undefined })
    }))

  it.effect("bom: \"keep\" keeps the leading BOM", () =>
    Effect.gen(function*() {
      expect((yield* decode(u8("\uFEFFa"), { bom: "keep" })).text).toBe("\uFEFFa")
      expect((yield* decode(u8([0xef], [0xbb, 0xbf], "a"), { bom: "keep" })).text).toBe("\uFEFFa")
    }))

  it.effect("invalid bytes become U+FFFD by default", () =>
    Effect.gen(function*() {
      expect((yield* decode(u8([0x61, 0xff, 0x62]))).text).toBe("a\uFFFDb")
      expect((yield* decode(u8([0xc0, 0xaf], [0xed, 0xa0, 0x80]))).text).toBe("\uFFFD".repeat(5))
      expect((yield* decode(u8([0xe2, 0x82], [0x41]))).text).toBe("\uFFFDA")
    }))

  it.effect("a sequence truncated by the end of the stream becomes U+FFFD, never disappears", () =>
    Effect.gen(function*() {
      expect((yield* decode(u8("a", [0xf0, 0x9f, 0x98]))).text).toBe("a\uFFFD")
      expect((yield* decode(u8("a", [0xe2], [0x82]))).text).toBe("a\uFFFD")
    }))

  it.effect("onMalformed: \"fail\" fails with the byte offset of the invalid sequence", () =>
    Effect.gen(function*() {
      const fail = { onMalformed: "fail" } as const
      expect((yield* decode(u8([0x61, 0xff]), fail)).error).toMatchObject({
        _tag: "MalformedUtf8",
        offset: 1,
        truncated: false
      })
      expect((yield* decode(u8("ab", [0xe2, 0x28, 0xa1]), fail)).error).toMatchObject({ offset: 2, truncated: false })
      // the offset counts from the start of the stream, across reads
      expect((yield* decode(u8("héllo", "wörld", [0x80]), fail)).error).toMatchObject({ offset: 12 })
      expect((yield* decode(u8("\uFEFFab", [0xc1, 0x81]), fail)).error).toMatchObject({ offset: 5 })
    }))

  it.effect("onMalformed: \"fail\" points at a sequence that started in an earlier chunk", () =>
    Effect.gen(function*() {
      const fail = { onMalformed: "fail" } as const
      // E2 82 | 41: the 3-byte sequence started at byte 1
      const a = yield* collect(reads(u8([0x61, 0xe2], [0x82, 0x41])).pipe(Utf8.decode(fail)))
      expect(a.error).toMatchObject({ _tag: "MalformedUtf8", offset: 1, truncated: false })
      expect(a.out.join("")).toBe("a") // what came before is delivered
      // F0 | 9F | 98 | 41: started three reads earlier, at byte 3
      const b = yield* collect(reads(u8("abc", [0xf0], [0x9f], [0x98], [0x41])).pipe(Utf8.decode(fail)))
      expect(b.error).toMatchObject({ offset: 3, truncated: false })
      expect(b.out.join("")).toBe("abc")
      // a valid 4-byte character split the same way is fine
      const c = yield* decode(u8("abc", [0xf0], [0x9f], [0x98], [0x80]), fail)
      expect(c).toEqual({ text: "abc😀", error: undefined })
    }))

  it.effect("onMalformed: \"fail\" on a sequence truncated by the end of the stream: truncated: true", () =>
    Effect.gen(function*() {
      const fail = { onMalformed: "fail" } as const
      const a = yield* collect(reads(u8("ab", [0xf0, 0x9f], [0x98])).pipe(Utf8.decode(fail)))
      expect(a.error).toMatchObject({ _tag: "MalformedUtf8", offset: 2, truncated: true })
      expect(a.out.join("")).toBe("ab")
      expect((yield* decode(u8([0xc3]), fail)).error).toMatchObject({ offset: 0, truncated: true })
    }))

  it.effect.prop(
    "chunking invariance: the text does not depend on how the bytes are cut",
    [Testing.chunks(fc.uint8Array({ maxLength: 64 }))],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        const whole = yield* decode([bytes])
        expect(whole.text).toBe(new TextDecoder().decode(bytes))
        expect((yield* decode(chunks)).text).toBe(whole.text)
        const kept = yield* decode(chunks, { bom: "keep" })
        expect(kept.text).toBe(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes))
      })
  )

  // bytes that sit on the edges of UTF-8: leads of every length, continuation bytes at the ends of
  // their ranges, the bytes of a BOM, the never-valid ones
  const edgeBytes = fc.array(
    fc.oneof(
      { arbitrary: fc.constantFrom(0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbb, 0xbf), weight: 3 },
      { arbitrary: fc.constantFrom(0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff), weight: 3 },
      { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }
    ),
    { maxLength: 24 }
  ).map((a) => Uint8Array.from(a))

  it.effect.prop(
    "chunking invariance on bytes at the edges of UTF-8: exactly TextDecoder's text, BOM and U+FFFDs included",
    [Testing.chunks(edgeBytes)],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        expect((yield* decode(chunks)).text).toBe(new TextDecoder().decode(bytes))
        expect((yield* decode(chunks, { bom: "keep" })).text).toBe(
          new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)
        )
      }),
    { timeout: 120_000, fastCheck: { numRuns: 600 } }
  )

  it.effect.prop(
    "fail mode: the offset is where the first invalid sequence starts, whatever the cutting",
    [Testing.chunks(Testing.sseStream({ maxLines: 6 }))],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        const fatal = {
          decode: (b: Uint8Array, options?: TextDecodeOptions) =>
            new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(b, options)
        }
        const { error, out } = yield* collect(reads(chunks).pipe(Utf8.decode({ onMalformed: "fail", bom: "keep" })))
        if (error === undefined) {
          expect(out.join("")).toBe(fatal.decode(bytes))
          return
        }
        // the bytes before the offset are valid, and decoding from the offset starts with U+FFFD
        expect(() => fatal.decode(bytes.subarray(0, error.offset))).not.toThrow()
        expect(new TextDecoder().decode(bytes.subarray(error.offset)).startsWith("\uFFFD")).toBe(true)
        // truncated: only when the stream ends inside the sequence
        expect(error.truncated).toBe(
          new TextDecoder().decode(bytes.subarray(error.offset)) === "\uFFFD" &&
            (() => {
              try {
                fatal.decode(bytes.subarray(error.offset), { stream: true })
                return true
              } catch {
                return false
              }
            })()
        )
        // what was delivered is a prefix of the valid part
        expect(fatal.decode(bytes.subarray(0, error.offset)).startsWith(out.join(""))).toBe(true)
        const whole = yield* collect(reads([bytes]).pipe(Utf8.decode({ onMalformed: "fail", bom: "keep" })))
        expect(whole.error).toEqual(error)
      })
  )
})

describe("Utf8.encode", () => {
  it.effect("text to UTF-8 bytes, a lone surrogate as U+FFFD", () =>
    Effect.gen(function*() {
      const { out } = yield* collect(reads(["hé", "", "€", "\uD83D"]).pipe(Utf8.encode))
      expect(out.map((b) => Array.from(b))).toEqual([[0x68, 0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xef, 0xbf, 0xbd]])
    }))

  it.effect.prop(
    "Utf8.decode(Utf8.encode(text)) is the text",
    [fc.array(fc.string({ unit: "binary" }), { maxLength: 8 })],
    ([texts]) =>
      Effect.gen(function*() {
        const { text } = yield* joined(reads(texts).pipe(Utf8.encode, Utf8.decode({ bom: "keep" })))
        expect(text).toBe(texts.join(""))
      })
  )
})

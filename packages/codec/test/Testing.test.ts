import { describe, expect, it } from "@effect/vitest"
import { Ndjson, Sse } from "@streamwire/codec"
import * as Testing from "@streamwire/codec/testing"
import { Chunk, Effect, Either, FastCheck as fc, Stream } from "effect"
import { collect } from "./utils.js"

const join = (reads: ReadonlyArray<Uint8Array>) => new Uint8Array(reads.flatMap((r) => Array.from(r)))

const isValidUtf8 = (bytes: Uint8Array) => {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}

describe("@streamwire/codec/testing: chunking", () => {
  it("cutAt cuts at the positions, sorted, clamped, without empty reads", () => {
    const bytes = new Uint8Array([1, 2, 3, 4])
    expect(Testing.cutAt(bytes, [3, 1, 1, 0, 9]).map((r) => Array.from(r))).toEqual([[1], [2, 3], [4]])
    expect(Testing.cutAt(bytes, []).map((r) => Array.from(r))).toEqual([[1, 2, 3, 4]])
    expect(Testing.cutAt(new Uint8Array(0), [0, 1])).toHaveLength(1)
  })

  it.prop(
    "chunked: the reads joined are the bytes",
    [Testing.chunks(fc.uint8Array({ maxLength: 100 }))],
    ([{ bytes, chunks }]) => {
      expect(join(chunks)).toEqual(bytes)
    }
  )

  it("chunked: cuts anywhere, byte by byte, and all at once", () => {
    const bytes = new TextEncoder().encode("data: 😀\r\n\r\n")
    const samples = fc.sample(Testing.chunked(bytes), { numRuns: 300, seed: 42 })
    expect(samples.some((s) => s.length === bytes.length && s.every((r) => r.length === 1))).toBe(true)
    expect(samples.some((s) => s.length === 1)).toBe(true)
    expect(samples.some((s) => s.some((r) => r.length === 0))).toBe(true)
    expect(samples.some((s) => s.length > 2 && s.length < bytes.length)).toBe(true)
  })

  it.effect("toStream delivers each read as its own chunk", () =>
    Effect.gen(function*() {
      const reads = [new Uint8Array([1]), new Uint8Array([2, 3]), new Uint8Array(0)]
      const chunks = yield* Testing.toStream(reads).pipe(Stream.chunks, Stream.runCollect)
      expect(Chunk.toReadonlyArray(chunks).map((c) => Chunk.toReadonlyArray(c))).toEqual([[reads[0]], [reads[1]], [
        reads[2]
      ]])
    }))
})

describe("@streamwire/codec/testing: SSE", () => {
  it.prop(
    "sseEvent: types have no CR/LF, ids no CR/LF/NUL, so every event can be written",
    [Testing.sseEvent],
    ([e]) => {
      expect(e.type).not.toMatch(/[\r\n]/)
      expect(e.lastEventId).not.toMatch(/[\r\n\0]/)
      expect(e.type).not.toBe("")
      expect(Either.isRight(Sse.renderMessage(e))).toBe(true)
      expect(Sse.event({ data: e.data, type: e.type, id: e.lastEventId })).toEqual(Either.right(e))
    }
  )

  it("eventData uses every kind of line ending", () => {
    const samples = fc.sample(Testing.eventData, { numRuns: 500, seed: 7 }).join("|")
    expect(samples).toMatch(/\r\n/)
    expect(samples).toMatch(/\r[^\n]/)
    expect(samples).toMatch(/[^\r]\n/)
  })

  it("normalizeData turns CRLF and CR into LF", () => {
    expect(Testing.normalizeData("a\r\nb\rc\nd\r\r\n")).toBe("a\nb\nc\nd\n\n")
  })

  it.prop("retry and comment are writable", [Testing.retry, Testing.comment], ([r, c]) => {
    expect(Either.isRight(Sse.renderMessage(r))).toBe(true)
    expect(c.text).not.toMatch(/[\r\n]/)
  })

  it("sseStream mixes BOMs, invalid UTF-8, every line ending and unterminated ends", () => {
    const samples = fc.sample(Testing.sseStream(), { numRuns: 300, seed: 1 })
    const texts = samples.map((b) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(b))
    expect(samples.some((b) => b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)).toBe(true)
    expect(samples.some((b) => !isValidUtf8(b))).toBe(true)
    expect(texts.some((t) => t.length > 0 && !/[\r\n]$/.test(t))).toBe(true)
    const all = texts.join("")
    for (const needle of ["\r\n", "\n\n", ":", "data", "event", "id", "retry", "\u0000"]) expect(all).toContain(needle)
    expect(all).toMatch(/\r[^\n]/)
  })

  it.prop(
    "sseStream options: no invalid UTF-8, no BOM, always terminated",
    [Testing.sseStream({ invalidUtf8: false, bom: false, unterminated: false })],
    ([bytes]) => {
      expect(isValidUtf8(bytes)).toBe(true)
      expect(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf).toBe(false)
      if (bytes.length > 0) expect([10, 13]).toContain(bytes[bytes.length - 1])
    }
  )

  it.effect.prop("an app can property-test its pipeline with these (as the module doc shows)", [
    Testing.chunks(Testing.sseStream())
  ], ([{ bytes, chunks }]) =>
    Effect.gen(function*() {
      const pipeline = (reads: ReadonlyArray<Uint8Array>) =>
        Testing.toStream(reads).pipe(
          Sse.decode,
          Stream.map((e) => e.data.length),
          Stream.runCollect,
          Effect.map(Chunk.toReadonlyArray)
        )
      expect(yield* pipeline(chunks)).toEqual(yield* pipeline([bytes]))
    }), { fastCheck: { numRuns: 30 } })
})

describe("@streamwire/codec/testing: NDJSON", () => {
  it.prop("jsonValue survives JSON.stringify and JSON.parse unchanged", [Testing.jsonValue], ([v]) => {
    expect(JSON.parse(JSON.stringify(v))).toEqual(v)
  })

  it.effect.prop("ndjsonDocument: valid NDJSON whose decoding gives its values", [
    Testing.ndjsonDocument(fc.record({ id: fc.integer() }), { maxValues: 5 })
  ], ([doc]) =>
    Effect.gen(function*() {
      expect(doc.values.length).toBeLessThanOrEqual(5)
      const { error, out } = yield* collect(Testing.toStream([doc.bytes]).pipe(Ndjson.decode))
      expect(error).toBeUndefined()
      expect(out).toEqual(doc.values)
    }), { fastCheck: { numRuns: 50 } })

  it.effect.prop("ndjsonStream without bad lines nor invalid UTF-8 always decodes", [
    Testing.ndjsonStream({ badLines: false, invalidUtf8: false })
  ], ([bytes]) =>
    Effect.gen(function*() {
      expect(isValidUtf8(bytes)).toBe(true)
      expect((yield* collect(Testing.toStream([bytes]).pipe(Ndjson.decode))).error).toBeUndefined()
    }), { fastCheck: { numRuns: 50 } })

  it.effect("ndjsonStream contains bad lines and invalid UTF-8 by default", () =>
    Effect.gen(function*() {
      const samples = fc.sample(Testing.ndjsonStream(), { numRuns: 100, seed: 3 })
      expect(samples.some((b) => !isValidUtf8(b))).toBe(true)
      let failed = 0
      for (const bytes of samples) {
        if ((yield* collect(Testing.toStream([bytes]).pipe(Ndjson.decode))).error !== undefined) failed++
      }
      expect(failed).toBeGreaterThan(0)
    }))
})

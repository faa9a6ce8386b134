import { describe, expect, it } from "@effect/vitest"
import { Ndjson, Sse } from "@streamwire/codec"
import { Duration, Effect, Either, Schema, Stream } from "effect"
import { ev } from "./sseHelpers.js"
import { collect } from "./utils.js"

const render = (...messages: ReadonlyArray<Sse.SseMessage>) =>
  Effect.map(collect(Stream.fromIterable(messages).pipe(Sse.render)), ({ error, out }) => ({
    text: out.join(""),
    error
  }))

const text = (...messages: ReadonlyArray<Sse.SseMessage>) =>
  Effect.gen(function*() {
    const { error, text } = yield* render(...messages)
    expect(error).toBeUndefined()
    return text
  })

describe("Sse.event", () => {
  it("builds an event; type defaults to \"message\", id to \"\"", () => {
    expect(Sse.event({ data: "x" })).toEqual(Either.right(ev("x")))
    expect(Sse.event({ data: "x", type: "", id: "" })).toEqual(Either.right(ev("x")))
    expect(Sse.event({ data: "a\r\nb", type: "t: y", id: " 1 \u0001" })).toEqual(
      Either.right(ev("a\r\nb", "t: y", " 1 \u0001"))
    )
  })

  it("rejects a type with CR or LF: InvalidField", () => {
    for (const type of ["a\nb", "a\rb", "\r\n", "x\n"]) {
      const r = Sse.event({ data: "x", type })
      expect(Either.isLeft(r)).toBe(true)
      expect(Either.flip(r)).toEqual(
        Either.right(expect.objectContaining({ _tag: "InvalidField", field: "event", value: type }))
      )
    }
  })

  it("rejects an id with CR, LF or NUL: InvalidField", () => {
    for (const id of ["1\n", "1\r", "\r\n", "a\u0000b"]) {
      const r = Sse.event({ data: "x", id })
      expect(Either.flip(r)).toEqual(
        Either.right(expect.objectContaining({ _tag: "InvalidField", field: "id", value: id }))
      )
    }
    expect(() => Sse.unsafeEvent({ data: "x", id: "1\nevent: evil" })).toThrow(/id/)
  })
})

describe("Sse.render", () => {
  it.effect("an event: id (when it changes), event (unless \"message\"), data, blank line", () =>
    Effect.gen(function*() {
      expect(yield* text(ev("x"))).toBe("data: x\n\n")
      expect(yield* text(ev("x", "tick", "7"))).toBe("id: 7\nevent: tick\ndata: x\n\n")
      // the id is written when it changes, and reset with an empty id: line
      expect(yield* text(ev("a", "message", "1"), ev("b", "message", "1"), ev("c", "message", ""))).toBe(
        "id: 1\ndata: a\n\ndata: b\n\nid:\ndata: c\n\n"
      )
    }))

  it.effect("empty data is written as one data: line, so that the event is dispatched", () =>
    Effect.gen(function*() {
      const t = yield* text(ev(""))
      expect(t).toMatch(/^data: ?\n\n$/)
      const { out } = yield* collect(Stream.make(ev("")).pipe(Sse.encode, Sse.decode))
      expect(out).toEqual([ev("")])
    }))

  it.effect("multi-line data is split on every kind of line ending", () =>
    Effect.gen(function*() {
      expect(yield* text(ev("a\rb\nc\r\nd"))).toBe("data: a\ndata: b\ndata: c\ndata: d\n\n")
      expect(yield* text(ev("\n"))).toBe("data: \ndata: \n\n")
      expect(yield* text(ev("a\r"))).toBe("data: a\ndata: \n\n")
      expect(yield* text(ev("\r\r\n"))).toBe("data: \ndata: \ndata: \n\n")
    }))

  it.effect("a retry is written as a non-negative integer of milliseconds", () =>
    Effect.gen(function*() {
      expect(yield* text(Sse.retry("2 seconds"))).toBe("retry: 2000\n")
      expect(yield* text(Sse.retry(0))).toBe("retry: 0\n")
      expect(yield* text(Sse.retry(1.9))).toBe("retry: 1\n")
      for (const millis of [-1, 1.5, NaN, Infinity, 2 ** 60]) {
        const { error, text } = yield* render({ _tag: "Retry", millis })
        expect(text).toBe("")
        expect(error).toMatchObject({ _tag: "InvalidField", field: "retry" })
      }
      const infinite = yield* render(Sse.retry(Duration.infinity))
      expect(infinite.error).toMatchObject({ _tag: "InvalidField", field: "retry" })
    }))

  it.effect("comments: one line each, multi-line text as several comment lines", () =>
    Effect.gen(function*() {
      expect(yield* text(Sse.comment("ping"))).toBe(": ping\n")
      expect(yield* text(Sse.comment())).toBe(":\n")
      expect(yield* text(Sse.comment("a\nb\r\nc"))).toBe(": a\n: b\n: c\n")
    }))

  it.effect("a LastEventId message writes an id-only block", () =>
    Effect.gen(function*() {
      expect(yield* text({ _tag: "LastEventId", id: "5" })).toBe("id: 5\n\n")
      expect(yield* text({ _tag: "LastEventId", id: "5" }, ev("x", "message", "5"))).toBe("id: 5\n\ndata: x\n\n")
    }))

  it.effect("fails on an invalid literal before writing any of it; what came before is written", () =>
    Effect.gen(function*() {
      const badType = yield* render(ev("ok"), ev("x", "a\nevent: evil"))
      expect(badType.text).toBe("data: ok\n\n")
      expect(badType.error).toMatchObject({ _tag: "InvalidField", field: "event" })
      const badId = yield* render(ev("ok"), ev("x", "message", "1\ndata: injected"))
      expect(badId.text).toBe("data: ok\n\n")
      expect(badId.error).toMatchObject({ _tag: "InvalidField", field: "id" })
      const nul = yield* render(ev("x", "t", "a\u0000"))
      expect(nul.text).toBe("")
      expect(nul.error).toMatchObject({ _tag: "InvalidField", field: "id", reason: "contains NUL" })
      const lastId = yield* render({ _tag: "LastEventId", id: "\r" })
      expect(lastId).toMatchObject({ text: "", error: { _tag: "InvalidField", field: "id" } })
    }))

  it("renderMessage renders one message without state", () => {
    expect(Sse.renderMessage(ev("x", "message", "9"))).toEqual(Either.right("id: 9\ndata: x\n\n"))
    expect(Either.isLeft(Sse.renderMessage(ev("x", "a\rb")))).toBe(true)
  })

  it.effect("Sse.encode gives the UTF-8 bytes of the rendered text", () =>
    Effect.gen(function*() {
      const messages = [Sse.comment("hi"), ev("é😀", "t", "1"), Sse.retry(5)]
      const { out } = yield* collect(Stream.fromIterable(messages).pipe(Sse.encode))
      const bytes = new Uint8Array(out.flatMap((b) => Array.from(b)))
      expect(new TextDecoder().decode(bytes)).toBe(yield* text(...messages))
    }))
})

describe("Ndjson.encode", () => {
  it.effect("writes JSON.stringify(value) + LF for each value", () =>
    Effect.gen(function*() {
      const { out } = yield* collect(Stream.make({ a: 1 }, [2], "x\ny", null, 1.5).pipe(Ndjson.render))
      expect(out.join("")).toBe("{\"a\":1}\n[2]\n\"x\\ny\"\nnull\n1.5\n")
      const bytes = yield* collect(Stream.make({ é: "😀" }).pipe(Ndjson.encode))
      expect(new TextDecoder().decode(bytes.out[0])).toBe("{\"é\":\"😀\"}\n")
    }))

  it.effect("encodeSchema encodes each value with the Schema first", () =>
    Effect.gen(function*() {
      const Row = Schema.Struct({ at: Schema.Date, n: Schema.NumberFromString })
      const { error, out } = yield* collect(Stream.make({ at: new Date(0), n: 5 }).pipe(Ndjson.encodeSchema(Row)))
      expect(error).toBeUndefined()
      expect(new TextDecoder().decode(out[0])).toBe("{\"at\":\"1970-01-01T00:00:00.000Z\",\"n\":\"5\"}\n")
    }))

  it.effect("a value with no JSON text fails with UnencodableValue and its index, after the values before it", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      for (const bad of [undefined, () => 1, cyclic, 10n, Symbol("s")]) {
        const { error, out } = yield* collect(Stream.make<Array<unknown>>(1, 2, bad, 3).pipe(Ndjson.render))
        expect(out.join("")).toBe("1\n2\n")
        expect(error).toMatchObject({ _tag: "UnencodableValue", index: 2 })
      }
      // the index counts across chunks
      const { error } = yield* collect(
        Stream.make<Array<unknown>>(1, 2).pipe(Stream.concat(Stream.make(undefined)), Ndjson.render)
      )
      expect(error).toMatchObject({ _tag: "UnencodableValue", index: 2 })
    }))

  it.effect("a value the Schema refuses to encode fails with UnencodableValue", () =>
    Effect.gen(function*() {
      const Positive = Schema.Struct({ n: Schema.Positive })
      const { error, out } = yield* collect(Stream.make({ n: 1 }, { n: -1 }).pipe(Ndjson.encodeSchema(Positive)))
      expect(new TextDecoder().decode(out[0])).toBe("{\"n\":1}\n")
      expect(error).toMatchObject({ _tag: "UnencodableValue", index: 1 })
    }))
})

describe("Sse.renderer", () => {
  it("renders one message at a time with the stream's id state; a rendered LastEventId accounts for bytes made elsewhere", () => {
    const r = Sse.renderer()
    expect(r.lastEventId).toBe("")
    expect(r.render(ev("a", "message", "1"))).toEqual(Either.right("id: 1\ndata: a\n\n"))
    expect(r.render(ev("b", "tick", "1"))).toEqual(Either.right("event: tick\ndata: b\n\n"))
    expect(r.render(ev("c"))).toEqual(Either.right("id:\ndata: c\n\n"))
    // e.g. after writing shared bytes that carried `id: 7`
    expect(r.render({ _tag: "LastEventId", id: "7" })).toEqual(Either.right("id: 7\n\n"))
    expect(r.lastEventId).toBe("7")
    expect(r.render(ev("d", "message", "7"))).toEqual(Either.right("data: d\n\n"))
    expect(r.render(Sse.retry(250))).toEqual(Either.right("retry: 250\n"))
    const bad = r.render(ev("e", "message", "8\nevent: evil"))
    expect(Either.isLeft(bad) && bad.left._tag).toBe("InvalidField")
    expect(r.lastEventId).toBe("7") // nothing was written
  })
})

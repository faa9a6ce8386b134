import { describe, expect, it } from "@effect/vitest"
import { Lines, Ndjson, Sse, Utf8 } from "@streamwire/codec"
import { Chunk, Effect, Stream } from "effect"

const bytes = (s: string) => Stream.make(new TextEncoder().encode(s))
const run = <A, E>(s: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(s), Chunk.toReadonlyArray)
const text = "retry: 5\n: hi\ndata: a\n\n"

// type-level: `include` is inferred in every shape; no options means events only
type Assert<T extends true> = T
type Eq<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false
type Out<S> = S extends Stream.Stream<infer A, any, any> ? A : never
// (a function never called: only its types are checked)
export const typeChecks = (body: Stream.Stream<Uint8Array, "e", "r">) => {
  const bare = body.pipe(Sse.decode)
  const called = body.pipe(Sse.decode())
  const curried = body.pipe(Sse.decode({ include: ["retry"] }))
  const dataFirst = Sse.decode(body, { include: ["comment", "id"] })
  const bytesOnly = body.pipe(Utf8.decode)
  const checks: [
    Assert<Eq<typeof bare, Stream.Stream<Sse.SseEvent, "e" | Sse.DecodeError, "r">>>,
    Assert<Eq<Out<typeof called>, Sse.SseEvent>>,
    Assert<Eq<Out<typeof curried>, Sse.SseEvent | Sse.Retry>>,
    Assert<Eq<Out<typeof dataFirst>, Sse.SseEvent | Sse.Comment | Sse.LastEventId>>,
    Assert<Eq<typeof bytesOnly, Stream.Stream<string, "e", "r">>>
  ] = [true, true, true, true, true]
  return checks
}

describe("one call shape for every transformer with options", () => {
  it.effect("Sse.decode: bare, called, curried with options, data-first", () =>
    Effect.gen(function*() {
      const events = yield* run(bytes(text).pipe(Sse.decode))
      expect(events.map((m) => m._tag)).toEqual(["SseEvent"])
      expect(yield* run(bytes(text).pipe(Sse.decode()))).toEqual(events)
      const curried = yield* run(bytes(text).pipe(Sse.decode({ include: ["retry", "comment"] })))
      expect(curried.map((m) => m._tag)).toEqual(["Retry", "Comment", "SseEvent"])
      expect(yield* run(Sse.decode(bytes(text), { include: ["retry", "comment"] }))).toEqual(curried)
    }))

  it.effect("Sse.decodeText and Sse.parse", () =>
    Effect.gen(function*() {
      const lines = Stream.make(text).pipe(Lines.split({ trailing: "drop" }))
      const all = yield* run(Stream.make(text).pipe(Sse.decodeText({ include: ["retry"] })))
      expect(all.map((m) => m._tag)).toEqual(["Retry", "SseEvent"])
      expect(yield* run(Sse.decodeText(Stream.make(text), { include: ["retry"] }))).toEqual(all)
      expect(yield* run(lines.pipe(Sse.parse({ include: ["retry"] })))).toEqual(all)
      expect(yield* run(Sse.parse(lines, { include: ["retry"] }))).toEqual(all)
      expect(yield* run(lines.pipe(Sse.parse))).toEqual(yield* run(Stream.make(text).pipe(Sse.decodeText)))
    }))

  it.effect("Utf8.decode, Lines.split, Ndjson.parse / decodeText / decode", () =>
    Effect.gen(function*() {
      const bad = Stream.make(new Uint8Array([0x61, 0xff]))
      expect(yield* run(bad.pipe(Utf8.decode))).toEqual(["a\uFFFD"])
      const failed = yield* Effect.flip(run(bad.pipe(Utf8.decode({ onMalformed: "fail" }))))
      expect(failed._tag).toBe("MalformedUtf8")
      expect((yield* Effect.flip(run(Utf8.decode(bad, { onMalformed: "fail" }))))._tag).toBe("MalformedUtf8")

      expect(yield* run(Stream.make("a\nb").pipe(Lines.split))).toEqual(["a", "b"])
      expect(yield* run(Stream.make("a\nb").pipe(Lines.split({ trailing: "drop" })))).toEqual(["a"])
      expect(yield* run(Lines.split(Stream.make("a\nb"), { trailing: "drop" }))).toEqual(["a"])

      const nd = "{\"a\":1}\nnope\n[2]\n"
      const skip = { onBadLine: "skip" } as const
      expect(yield* run(Stream.make(nd).pipe(Lines.split, Ndjson.parse(skip)))).toEqual([{ a: 1 }, [2]])
      expect(yield* run(Ndjson.parse(Stream.make("[1]"), skip))).toEqual([[1]])
      expect(yield* run(Stream.make(nd).pipe(Ndjson.decodeText(skip)))).toEqual([{ a: 1 }, [2]])
      expect(yield* run(Ndjson.decodeText(Stream.make(nd), skip))).toEqual([{ a: 1 }, [2]])
      expect((yield* Effect.flip(run(Stream.make(nd).pipe(Ndjson.decodeText))))._tag).toBe("InvalidLine")
      expect(yield* run(bytes(nd).pipe(Ndjson.decode(skip)))).toEqual([{ a: 1 }, [2]])
      expect(yield* run(Ndjson.decode(bytes(nd), skip))).toEqual([{ a: 1 }, [2]])
      expect((yield* Effect.flip(run(bytes(nd).pipe(Ndjson.decode))))._tag).toBe("InvalidLine")
    }))
})

import { assert, describe, it } from "@effect/vitest"
import { Lines, Ndjson, Sse } from "@streamwire/codec"
import { Chunk, Effect, Equal, FastCheck as fc, Hash, Stream } from "effect"
import { chunkOf, Output, sameAsEffect } from "../src/internal/transduce.js"
const enc = (s: string) => new TextEncoder().encode(s)

// The decoders build their output without V8 allocation sites (constructor calls, `Object.create`,
// `Array#slice`; see `chunkOf` in src/internal/transduce.ts). What users see must not change.

describe("decoder output without allocation sites", () => {
  it.effect("decoded messages are plain objects, deep-equal to the literals of the model", () =>
    Effect.gen(function*() {
      const out = yield* Stream.make(enc("retry: 5\n: hi\nid: 1\nevent: t\ndata: a\n\nid: 2\n\n")).pipe(
        Sse.decode({ include: ["retry", "comment", "id"] }),
        Stream.runCollect
      )
      const messages = Chunk.toReadonlyArray(out)
      assert.deepStrictEqual(messages, [
        { _tag: "Retry", millis: 5 },
        { _tag: "Comment", text: "hi" },
        { _tag: "SseEvent", type: "t", data: "a", lastEventId: "1" },
        { _tag: "LastEventId", id: "2" }
      ])
      for (const m of messages) {
        assert.strictEqual(Object.getPrototypeOf(m), Object.prototype)
        assert.strictEqual((m as object).constructor, Object)
      }
      assert.deepStrictEqual({ ...messages[2] }, messages[2])
      assert.strictEqual(JSON.stringify(messages[2]), `{"_tag":"SseEvent","type":"t","data":"a","lastEventId":"1"}`)
    }))

  it("the fast chunk constructor is in use with this version of effect", () => {
    assert.isTrue(sameAsEffect)
  })

  it("chunks built by chunkOf behave as Chunk.unsafeFromArray's", () => {
    const array = ["a", "b", "c"]
    const ours = chunkOf(array)
    const theirs = Chunk.unsafeFromArray(["a", "b", "c"])
    assert.isTrue(Chunk.isChunk(ours))
    assert.isTrue(Equal.equals(ours, theirs))
    assert.strictEqual(Hash.hash(ours), Hash.hash(theirs))
    assert.deepStrictEqual(Chunk.toReadonlyArray(Chunk.appendAll(ours, theirs)), [...array, ...array])
    assert.deepStrictEqual(Chunk.toReadonlyArray(Chunk.reverse(ours)), ["c", "b", "a"])
    assert.deepStrictEqual([...Chunk.take(ours, 2)], ["a", "b"])
    assert.strictEqual(Chunk.join(Chunk.prepend(ours, "z"), ""), "zabc")
    assert.deepStrictEqual(Chunk.toReadonlyArray(chunkOf(["x"])), ["x"])
  })

  it.effect("NDJSON values reach the consumer in chunks that compose with Effect's", () =>
    Effect.gen(function*() {
      const out = yield* Stream.make(enc("1\n2\n"), enc("3\n")).pipe(Ndjson.decode, Stream.runCollect)
      assert.deepStrictEqual(Chunk.toReadonlyArray(out), [1, 2, 3])
      assert.isTrue(Equal.equals(out, Chunk.make(1, 2, 3)))
    }))
})

describe("Output (the bridge's reused output buffer)", () => {
  it("each take gives exactly the values pushed since the last, and keeps no earlier read's value", () =>
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer(), { maxLength: 40 }), { maxLength: 30 }), (reads) => {
        const out = new Output<{ readonly n: number }>()
        for (const read of reads) {
          const values = read.map((n) => ({ n }))
          for (const v of values) out.push(v)
          assert.strictEqual(out.length, values.length)
          const taken = out.take()
          assert.deepStrictEqual(taken, values)
          assert.strictEqual(out.length, 0)
          // the slots beyond this read hold nothing of an earlier one
          const slots = (out as unknown as { values: Array<unknown> }).values
          for (let i = values.length; i < slots.length; i++) assert.isUndefined(slots[i])
        }
      })
    ))

  it.effect("a chunk emitted earlier does not change when later reads reuse the buffer", () =>
    Effect.gen(function*() {
      const chunks = yield* Stream.make("a\nb\nc\n", "d\n", "e\nf\n").pipe(
        Stream.rechunk(1),
        Lines.split,
        Stream.chunks,
        Stream.runCollect
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(chunks).map((c) => Chunk.toReadonlyArray(c)), [
        ["a", "b", "c"],
        ["d"],
        ["e", "f"]
      ])
    }))
})

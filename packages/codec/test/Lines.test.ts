import { describe, expect, it } from "@effect/vitest"
import { Lines } from "@streamwire/codec"
import { Effect } from "effect"
import { FastCheck as fc } from "effect"
import { collect, cutText, reads } from "./utils.js"

const lines = (pieces: ReadonlyArray<string>, options?: Lines.SplitOptions) =>
  collect(reads(pieces).pipe(Lines.split(options)))

describe("Lines.split", () => {
  it.effect("LF, CRLF and CR each end a line", () =>
    Effect.gen(function*() {
      const { out } = yield* lines(["a\nb\r\nc\rd\n"])
      expect(out).toEqual(["a", "b", "c", "d"])
    }))

  it.effect("CR at the end of one chunk and LF at the start of the next are one line ending", () =>
    Effect.gen(function*() {
      expect((yield* lines(["a\r", "\nb\n"])).out).toEqual(["a", "b"])
      expect((yield* lines(["a\r", "", "\nb\n"])).out).toEqual(["a", "b"])
      expect((yield* lines(["a\r", "\r", "\n"])).out).toEqual(["a", ""])
    }))

  it.effect("empty lines are lines", () =>
    Effect.gen(function*() {
      expect((yield* lines(["\n\r\n\r"])).out).toEqual(["", "", ""])
    }))

  it.effect("a final line without terminator is emitted, or dropped on request", () =>
    Effect.gen(function*() {
      expect((yield* lines(["a\nta", "il"])).out).toEqual(["a", "tail"])
      expect((yield* lines(["a\nta", "il"], { trailing: "drop" })).out).toEqual(["a"])
    }))

  it.effect("a line spanning many chunks is joined", () =>
    Effect.gen(function*() {
      expect((yield* lines(["ab", "cd", "ef\ng"])).out).toEqual(["abcdef", "g"])
    }))

  it.effect("maxLineLength: fails with LineTooLong naming the limit, size, line and offset", () =>
    Effect.gen(function*() {
      const { error, out } = yield* lines(["ok\n", "xxxx", "xxxx", "xxxx"], { maxLineLength: 10 })
      expect(out).toEqual(["ok"])
      expect(error).toMatchObject({ _tag: "LineTooLong", limit: 10, size: 12, line: 2, offset: 3 })
      const single = yield* lines(["a\n" + "y".repeat(11) + "\n"], { maxLineLength: 10 })
      expect(single.error).toMatchObject({ _tag: "LineTooLong", limit: 10, size: 11, line: 2, offset: 2 })
      expect((yield* lines(["y".repeat(10) + "\n"], { maxLineLength: 10 })).out).toEqual(["y".repeat(10)])
    }))

  it.effect("an endless line fails early, without buffering the stream", () =>
    Effect.gen(function*() {
      const piece = "z".repeat(1024)
      const { error } = yield* lines(Array.from({ length: 10_000 }, () => piece), { maxLineLength: 64 * 1024 })
      expect(error).toMatchObject({ _tag: "LineTooLong", limit: 65536, size: 65536 + 1024 })
    }))

  it.effect.prop(
    "chunking does not change the lines",
    [fc.string({ unit: fc.constantFrom("a", "b", "\r", "\n", "é", "🎉"), maxLength: 200 }), fc.array(fc.nat(200))],
    ([text, at]) =>
      Effect.gen(function*() {
        const pieces = cutText(text, at)
        const whole = (yield* lines([text])).out
        const chunked = (yield* lines(pieces)).out
        expect(chunked).toEqual(whole)
        // and the lines are what a regular expression says they are
        const expected = text.split(/\r\n|\r|\n/)
        if (expected[expected.length - 1] === "") expected.pop()
        expect(whole).toEqual(expected)
      })
  )
})

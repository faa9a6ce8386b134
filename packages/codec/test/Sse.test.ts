import { describe, expect, it } from "@effect/vitest"
import { Lines, Sse, Utf8 } from "@streamwire/codec"
import * as Testing from "@streamwire/codec/testing"
import { Effect, FastCheck as fc, Schema, Stream } from "effect"
import { referenceParse } from "./reference.js"
import { decodeSse, ev, sse } from "./sseHelpers.js"
import { collect, cutText, enc, reads } from "./utils.js"

const all = ["retry", "comment", "id"] as const

describe("Sse decoding: §3.1 UTF-8 and the BOM", () => {
  it.effect("one leading BOM is stripped", () =>
    Effect.gen(function*() {
      expect(yield* sse(["\uFEFFdata: a\n\n"])).toEqual([ev("a")])
      expect(yield* sse([[0xef, 0xbb, 0xbf], "data: a\n\n"])).toEqual([ev("a")])
    }))

  it.effect("the BOM is stripped once only: a second BOM is field text", () =>
    Effect.gen(function*() {
      // "\uFEFFdata" is then an unknown field name: nothing is dispatched
      expect(yield* sse(["\uFEFF\uFEFFdata: a\n\n"])).toEqual([])
      expect(yield* sse(["\uFEFFdata: a\n\n\uFEFFdata: b\n\n"])).toEqual([ev("a")])
      expect(yield* sse(["data: \uFEFFx\uFEFF\n\n"])).toEqual([ev("\uFEFFx\uFEFF")])
      // a BOM that is not at the very start is not a BOM
      expect(yield* sse(["\n\uFEFFdata: a\n\n"])).toEqual([])
    }))

  it.effect("a BOM split across chunks is still stripped", () =>
    Effect.gen(function*() {
      expect(yield* sse([[0xef], [0xbb], [0xbf], "data: a\n\n"])).toEqual([ev("a")])
      expect(yield* sse([[0xef, 0xbb], [0xbf, 0x64], "ata: a\n\n"])).toEqual([ev("a")])
      expect(yield* sse([[], [0xef], [], [0xbb, 0xbf], "data: a\n\n"])).toEqual([ev("a")])
      // decodeText takes text as it is: stripping the BOM is the UTF-8 decoder's business, so
      // `Utf8.decode` then `Sse.decodeText` strips exactly one, like `Sse.decode`
      const { out } = yield* collect(reads(["", "\uFEFF", "data: a\n\n"]).pipe(Sse.decodeText))
      expect(out).toEqual([])
    }))

  it.effect("invalid UTF-8 becomes U+FFFD", () =>
    Effect.gen(function*() {
      expect(yield* sse([[0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0x61, 0xff, 0x62, 0x0a, 0x0a]])).toEqual([
        ev("a\uFFFDb")
      ])
      expect(yield* sse(["data: ", [0xc0, 0xaf, 0x80, 0xed, 0xa0, 0x80], "\n\n"])).toEqual([
        ev("\uFFFD".repeat(6))
      ])
      // a field name with an invalid byte is not a known field
      expect(yield* sse(["dat", [0xe1], ": x\n\n"])).toEqual([])
    }))

  it.effect("a truncated UTF-8 sequence becomes U+FFFD, and completes when the rest follows", () =>
    Effect.gen(function*() {
      // cut short by the line ending
      expect(yield* sse(["data: ", [0xe2, 0x82], "\n\n"])).toEqual([ev("\uFFFD")])
      expect(yield* sse(["data: ", [0xf0, 0x9f, 0x98], "x\n\n"])).toEqual([ev("\uFFFDx")])
      // split across reads, then completed
      expect(yield* sse(["data: ", [0xe2, 0x82], [0xac], "\n\n"])).toEqual([ev("€")])
      // cut short by the end of the stream: the line is unterminated, so it is not processed
      expect(yield* sse(["data: a\n\n: ", [0xf0, 0x9f]], { include: ["comment"] })).toEqual([ev("a")])
    }))

  it.effect("4-byte characters split at every byte decode whole", () =>
    Effect.gen(function*() {
      const bytes = enc.encode("data: 😀𝄞\n\n")
      for (let i = 0; i <= bytes.length; i++) {
        for (let j = i; j <= bytes.length; j++) {
          const out = yield* sse([
            Array.from(bytes.subarray(0, i)),
            Array.from(bytes.subarray(i, j)),
            Array.from(bytes.subarray(j))
          ])
          expect(out).toEqual([ev("😀𝄞")])
        }
      }
      expect(yield* sse(Array.from(bytes, (b) => [b]))).toEqual([ev("😀𝄞")])
    }))
})

describe("Sse decoding: §3.2 line endings", () => {
  it.effect("CR at the end of one chunk and LF at the start of the next are one line ending", () =>
    Effect.gen(function*() {
      // were they two line endings, the empty line between would dispatch "a" alone
      expect(yield* sse(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual([ev("a\nb")])
      expect(yield* sse(["data: a\r", "", "\ndata: b\r\n", "\r", "\n"])).toEqual([ev("a\nb")])
      expect(yield* sse([[0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0x61, 0x0d], [0x0a, 0x0d], [0x0a]])).toEqual([ev("a")])
    }))

  it.effect("LF, CRLF and CR mixed in one chunk", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a\rdata: b\ndata: c\r\ndata: d\r\r\ndata: e\n\r"])).toEqual([
        ev("a\nb\nc\nd"),
        ev("e")
      ])
      // CR CR is two line endings; LF CR is two line endings
      expect(yield* sse(["data: a\r\rdata: b\n\rdata: c\n\n"])).toEqual([ev("a"), ev("b"), ev("c")])
    }))

  it.effect("a CR that ends the stream ends the line", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a\r\r"])).toEqual([ev("a")])
      expect(yield* sse(["retry: 5\r"], { include: ["retry"] })).toEqual([{ _tag: "Retry", millis: 5 }])
    }))
})

describe("Sse decoding: §3.3 lines", () => {
  it.effect("a comment line is ignored, or surfaced as a Comment with one leading space removed", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a\n: comment\ndata: b\n:\n\n"])).toEqual([ev("a\nb")])
      expect(yield* sse([": hello\n:no-space\n:  two\n:\n::x\n"], { include: ["comment"] })).toEqual([
        { _tag: "Comment", text: "hello" },
        { _tag: "Comment", text: "no-space" },
        { _tag: "Comment", text: " two" },
        { _tag: "Comment", text: "" },
        { _tag: "Comment", text: ":x" }
      ])
      // a comment does not dispatch, and does not end an event
      expect(yield* sse(["data: a\n: x\n\n"], { include: ["comment"] })).toEqual([
        { _tag: "Comment", text: "x" },
        ev("a")
      ])
    }))

  it.effect("the field name is before the first colon, the value after it", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a: b:c\n\n"])).toEqual([ev("a: b:c")])
      expect(yield* sse(["event: x:y\ndata:\n\n"])).toEqual([ev("", "x:y")])
    }))

  it.effect("a field without colon: the whole line is the name and the value is empty", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data\n\n"])).toEqual([ev("")])
      expect(yield* sse(["data\ndata\ndata: x\n\n"])).toEqual([ev("\n\nx")])
      expect(yield* sse(["event: x\nevent\ndata: a\n\n"])).toEqual([ev("a")])
      expect(yield* sse(["id: 1\nid\ndata: a\n\n"])).toEqual([ev("a", "message", "")])
      // "retry" alone: empty value, ignored
      expect(yield* sse(["retry\ndata: a\n\n"], { include: ["retry"] })).toEqual([ev("a")])
      // "data " (with a space) is not "data"
      expect(yield* sse(["data \n\n"])).toEqual([])
    }))

  it.effect("only one leading space is removed from the value", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data:  a\n\n"])).toEqual([ev(" a")])
      expect(yield* sse(["data:a\n\n"])).toEqual([ev("a")])
      expect(yield* sse(["data: \n\n"])).toEqual([ev("")])
      expect(yield* sse(["data:\t a\n\n"])).toEqual([ev("\t a")])
      expect(yield* sse(["event:  x\nid:  7\ndata:   a \n\n"])).toEqual([ev("  a ", " x", " 7")])
    }))
})

describe("Sse decoding: §3.4 fields", () => {
  it.effect("field names are case-sensitive and unknown fields are ignored", () =>
    Effect.gen(function*() {
      const text = "Data: a\nDATA: b\n data: c\ndata : d\ndatas: e\nfoo: bar\nEvent: x\nID: 1\nRetry: 5\ndata: ok\n\n"
      expect(yield* sse([text], { include: ["retry"] })).toEqual([ev("ok")])
    }))

  it.effect("an empty event field gives the type \"message\"", () =>
    Effect.gen(function*() {
      expect(yield* sse(["event: x\nevent:\ndata: a\n\n"])).toEqual([ev("a")])
      expect(yield* sse(["event: \ndata: a\n\n"])).toEqual([ev("a")])
      expect(yield* sse(["event: x\ndata: a\n\n"])).toEqual([ev("a", "x")])
    }))

  it.effect("the event type is reset after each dispatch, even one that emits nothing", () =>
    Effect.gen(function*() {
      expect(yield* sse(["event: x\ndata: a\n\ndata: b\n\n"])).toEqual([ev("a", "x"), ev("b")])
      expect(yield* sse(["event: x\n\ndata: b\n\n"])).toEqual([ev("b")])
    }))

  it.effect("data lines are joined with LF", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a\ndata: b\r\ndata: c\rdata: d\n\n"])).toEqual([ev("a\nb\nc\nd")])
      expect(yield* sse(["data: a\nevent: t\ndata: b\n\n"])).toEqual([ev("a\nb", "t")])
    }))

  it.effect("the last event id persists across events", () =>
    Effect.gen(function*() {
      expect(yield* sse(["id: 1\ndata: a\n\ndata: b\n\nevent: x\ndata: c\n\nid: 2\ndata: d\n\ndata: e\n\n"])).toEqual([
        ev("a", "message", "1"),
        ev("b", "message", "1"),
        ev("c", "x", "1"),
        ev("d", "message", "2"),
        ev("e", "message", "2")
      ])
      // an id set in a block without data still counts for the events after it
      expect(yield* sse(["id: 7\n\ndata: a\n\n"])).toEqual([ev("a", "message", "7")])
      // the id set anywhere in the block counts, even after the data line
      expect(yield* sse(["data: a\nid: 3\n\n"])).toEqual([ev("a", "message", "3")])
    }))

  it.effect("an id field with an empty value resets the last event id", () =>
    Effect.gen(function*() {
      expect(yield* sse(["id: 1\ndata: a\n\nid:\ndata: b\n\nid: 2\n\ndata: c\n\nid\ndata: d\n\n"])).toEqual([
        ev("a", "message", "1"),
        ev("b", "message", ""),
        ev("c", "message", "2"),
        ev("d", "message", "")
      ])
    }))

  it.effect("an id containing NUL is ignored", () =>
    Effect.gen(function*() {
      expect(yield* sse(["id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\nid: \u0000\ndata: c\n\n"])).toEqual([
        ev("a", "message", "1"),
        ev("b", "message", "1"),
        ev("c", "message", "1")
      ])
      // other control characters are fine
      expect(yield* sse(["id: \u0001\t\ndata: a\n\n"])).toEqual([ev("a", "message", "\u0001\t")])
    }))

  it.effect("a retry of ASCII digits is read in base ten; anything else is ignored", () =>
    Effect.gen(function*() {
      const retries = (text: string) =>
        Effect.map(sse([text], { include: ["retry"] }), (out) => out.map((m) => m._tag === "Retry" ? m.millis : m))
      expect(yield* retries("retry: 1000\n")).toEqual([1000])
      expect(yield* retries("retry:0\nretry: 007\n")).toEqual([0, 7])
      // non-digits, signs, decimals, exponents, inner spaces, non-ASCII digits: ignored
      expect(yield* retries("retry: 10a\nretry: -1\nretry: +1\nretry: 1.5\nretry: 1e3\nretry: 1 0\nretry: ٣\n"))
        .toEqual([])
      // two leading spaces leave " 5", which is not all digits
      expect(yield* retries("retry:  5\nretry: 5 \n")).toEqual([])
      // empty value
      expect(yield* retries("retry:\nretry: \nretry\n")).toEqual([])
      // huge values: read as a base-ten integer however large
      expect(yield* retries("retry: 99999999999999999999\n")).toEqual([1e20])
      expect(yield* retries("retry: " + "9".repeat(400) + "\n")).toEqual([Infinity])
      // a retry never dispatches nor touches the event
      expect(yield* sse(["data: a\nretry: 5\ndata: b\n\n"])).toEqual([ev("a\nb")])
    }))
})

describe("Sse decoding: §3.5 dispatch", () => {
  it.effect("an empty data buffer dispatches nothing", () =>
    Effect.gen(function*() {
      expect(yield* sse(["\n\n\r\n\revent: x\nid: 1\n\nretry: 5\n\n: c\n\n"])).toEqual([])
      // but the id change is visible with include: ["id"]
      expect(yield* sse(["id: 1\n\n\nid: 1\n\nid: 2\ndata: a\n\nid:\n\n"], { include: ["id"] })).toEqual([
        { _tag: "LastEventId", id: "1" },
        ev("a", "message", "2"),
        { _tag: "LastEventId", id: "" }
      ])
    }))

  it.effect("an empty data line still dispatches an event with empty data", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data:\n\n"])).toEqual([ev("")])
    }))

  it.effect("one trailing LF is removed from the data, no more", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a\ndata:\n\n"])).toEqual([ev("a\n")])
      expect(yield* sse(["data\ndata\n\n"])).toEqual([ev("\n")])
      expect(yield* sse(["data\ndata\ndata\n\n"])).toEqual([ev("\n\n")])
    }))
})

describe("Sse decoding: §3.6 end of stream", () => {
  it.effect("an event not terminated by an empty line is discarded", () =>
    Effect.gen(function*() {
      expect(yield* sse(["data: a\n\ndata: b\n"])).toEqual([ev("a")])
      expect(yield* sse(["data: a\n\ndata: b"])).toEqual([ev("a")])
      expect(yield* sse(["data: a\n\ndata: b\n", "\r"])).toEqual([ev("a"), ev("b")])
    }))

  it.effect("an unterminated last line is not processed: an id:, retry: or comment there has no effect", () =>
    Effect.gen(function*() {
      expect(yield* sse(["retry: 5"], { include: all })).toEqual([])
      expect(yield* sse([": c"], { include: all })).toEqual([])
      expect(yield* sse(["id: 9\n\nid: 10"], { include: all })).toEqual([{ _tag: "LastEventId", id: "9" }])
      expect(yield* sse(["data: a\n\nid: 9"], { include: all })).toEqual([ev("a")])
      // the unterminated line never counts, however it is cut
      expect(yield* sse(["retr", "y: 5", "0"], { include: all })).toEqual([])
    }))
})

describe("Sse decoding: §5 limits", () => {
  it.effect("a read larger than 16 KiB (taken in pieces, one chunk each) decodes as the same bytes in small reads", () =>
    Effect.gen(function*() {
      const parts: Array<string> = ["\uFEFF", "retry: 1500\n"]
      for (let i = 0; i < 2000; i++) {
        const eol = i % 7 === 0 ? "\r\n" : i % 11 === 0 ? "\r" : "\n"
        parts.push(
          i % 13 === 0 ? `: note ${i}${eol}` : "",
          i % 17 === 0 ? `id: ${i}${eol}` : "",
          `data: ${JSON.stringify({ i, s: "é→🎉".repeat(i % 5) })}${eol}`,
          i % 3 === 0 ? `data: second line ${i}${eol}event: two${eol}` : "",
          eol
        )
      }
      const bytes = enc.encode(parts.join("") + "data: " + "y".repeat(300) + "\n\n")
      expect(bytes.length).toBeGreaterThan(100 * 1024)
      const small: Array<Uint8Array> = []
      for (let at = 0; at < bytes.length; at += 1000) small.push(bytes.subarray(at, at + 1000))
      const run = (pieces: ReadonlyArray<Uint8Array>, options: Sse.ParseOptions<"retry" | "comment" | "id">) =>
        Effect.gen(function*() {
          const chunks = yield* collect(reads(pieces).pipe(Sse.decode(options), Stream.chunks))
          const sizes = chunks.out.map((c) => c.length)
          return { sizes, out: chunks.out.flatMap((c) => [...c]), error: chunks.error }
        })
      const options = { include: all }
      const whole = yield* run([bytes], options)
      const inSmall = yield* run(small, options)
      expect(whole.error).toBeUndefined()
      expect(whole.out).toEqual(inSmall.out)
      expect(whole.out.filter((m) => m._tag === "SseEvent").length).toBe(2001)
      // one chunk per ≤ 16 KiB piece of the read, not one chunk for all of it
      expect(whole.sizes.length).toBeGreaterThanOrEqual(Math.ceil(bytes.length / (16 * 1024)))
      expect(Math.max(...whole.sizes)).toBeLessThan(whole.out.length / 4)
      // a failure inside the read: the same events before it, the same error
      const strict = { include: all, maxLineLength: 299 }
      const wholeFailed = yield* run([bytes], strict)
      const smallFailed = yield* run(small, strict)
      expect(wholeFailed.out).toEqual(whole.out.slice(0, -1))
      expect(wholeFailed.out).toEqual(smallFailed.out)
      expect(wholeFailed.error).toEqual(smallFailed.error)
      expect(wholeFailed.error).toMatchObject({ _tag: "LineTooLong", limit: 299, size: 306 })
    }))

  it.effect("maxLineLength: LineTooLong with the limit, size, line and offset", () =>
    Effect.gen(function*() {
      const { error, out } = yield* decodeSse(["data: a\n\n", "data: " + "x".repeat(20) + "\n\n"], {
        maxLineLength: 10
      })
      expect(out).toEqual([ev("a")])
      expect(error).toMatchObject({ _tag: "LineTooLong", limit: 10, size: 26, line: 3, offset: 9 })
      // a line of exactly the limit is fine
      expect(yield* sse(["data: " + "x".repeat(4) + "\n\n"], { maxLineLength: 10 })).toEqual([ev("xxxx")])
    }))

  it.effect("maxEventSize: EventTooLarge with the limit, size and line, after the events before it", () =>
    Effect.gen(function*() {
      const { error, out } = yield* decodeSse(["data: ok\n\ndata: 12345\ndata: 67890\n\n"], { maxEventSize: 8 })
      expect(out).toEqual([ev("ok")])
      expect(error).toMatchObject({ _tag: "EventTooLarge", limit: 8, size: 11, line: 4 })
      // data of exactly the limit (joining LF included) is fine
      expect(yield* sse(["data: 1234\ndata: 567\n\n"], { maxEventSize: 8 })).toEqual([ev("1234\n567")])
    }))

  it.effect("an endless line fails with LineTooLong after reading a bounded amount", () =>
    Effect.gen(function*() {
      let reads = 0
      const endless = Stream.repeatValue(enc.encode("x".repeat(1024))).pipe(
        Stream.tap(() => Effect.sync(() => reads++))
      )
      const { error } = yield* collect(endless.pipe(Sse.decode({ maxLineLength: 64 * 1024 })))
      expect(error).toMatchObject({ _tag: "LineTooLong", limit: 64 * 1024, line: 1, offset: 0 })
      // the stream stops as soon as the limit is crossed: nothing past it is buffered
      expect(reads).toBeLessThanOrEqual(66)
    }))

  it.effect("an endless event fails with EventTooLarge after reading a bounded amount", () =>
    Effect.gen(function*() {
      let reads = 0
      const endless = Stream.repeatValue(enc.encode("data: " + "x".repeat(1017) + "\n")).pipe(
        Stream.tap(() => Effect.sync(() => reads++))
      )
      const { error, out } = yield* collect(endless.pipe(Sse.decode({ maxEventSize: 64 * 1024 })))
      expect(out).toEqual([])
      expect(error).toMatchObject({ _tag: "EventTooLarge", limit: 64 * 1024 })
      expect((error as Sse.EventTooLarge).size).toBeGreaterThan(64 * 1024)
      expect(reads).toBeLessThanOrEqual(66)
      // an endless run of empty data lines also grows the event
      const empties = Stream.repeatValue(enc.encode("data\n".repeat(100)))
      const second = yield* collect(empties.pipe(Sse.decode({ maxEventSize: 1000 })))
      expect(second.error).toMatchObject({ _tag: "EventTooLarge", limit: 1000, size: 1001, line: 1002 })
    }))

  it.effect("comments and unknown fields do not grow memory: an endless stream of them runs until stopped", () =>
    Effect.gen(function*() {
      const noise = Stream.repeatValue(enc.encode(": ping\nfoo: bar\nevent: x\nid: 1\n")).pipe(Stream.take(2000))
      const { error, out } = yield* collect(noise.pipe(Sse.decode({ maxEventSize: 10, maxLineLength: 20 })))
      expect(error).toBeUndefined()
      expect(out).toEqual([])
    }))
})

describe("Sse typed payloads", () => {
  const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))
  const Chat = Schema.parseJson(Schema.Struct({ text: Schema.String }))

  it.effect("decodeSchema decodes each event's data; a failure names the event type and id", () =>
    Effect.gen(function*() {
      const stream = reads([enc.encode("id: 1\ndata: {\"n\":1}\n\nid: 2\nevent: t\ndata: {\"n\":\"x\"}\n\n")])
      const { error, out } = yield* collect(stream.pipe(Sse.decode, Sse.decodeSchema(Tick)))
      expect(out).toEqual([{ n: 1 }])
      expect(error).toMatchObject({ _tag: "InvalidEventData", type: "t", lastEventId: "2", excerpt: "{\"n\":\"x\"}" })
    }))

  it.effect("decodeSchemas gives a union by type; unknown types are ignored or fail", () =>
    Effect.gen(function*() {
      const text =
        "event: tick\ndata: {\"n\":1}\n\nevent: other\ndata: x\n\nevent: chat\nid: 5\ndata: {\"text\":\"hi\"}\n\n"
      const { error, out } = yield* collect(
        reads([enc.encode(text)]).pipe(Sse.decode, Sse.decodeSchemas({ tick: Tick, chat: Chat }))
      )
      expect(error).toBeUndefined()
      expect(out).toEqual([
        { type: "tick", data: { n: 1 }, lastEventId: "" },
        { type: "chat", data: { text: "hi" }, lastEventId: "5" }
      ])
      const strict = yield* collect(
        reads([enc.encode(text)]).pipe(
          Sse.decode,
          Sse.decodeSchemas({ tick: Tick, chat: Chat }, { onUnknownType: "fail" })
        )
      )
      expect(strict.out).toEqual([{ type: "tick", data: { n: 1 }, lastEventId: "" }])
      expect(strict.error).toMatchObject({ _tag: "InvalidEventData", type: "other" })
    }))

  it.effect("encodeSchemas and decodeSchemas round-trip typed events", () =>
    Effect.gen(function*() {
      const schemas = { tick: Tick, chat: Chat }
      const events = [
        { type: "tick" as const, data: { n: 1 }, id: "1" },
        { type: "chat" as const, data: { text: "a\nb" }, id: "2" }
      ]
      const { error, out } = yield* collect(
        Stream.fromIterable(events).pipe(Sse.encodeSchemas(schemas), Sse.encode, Sse.decode, Sse.decodeSchemas(schemas))
      )
      expect(error).toBeUndefined()
      expect(out).toEqual(events.map(({ data, id, type }) => ({ type, data, lastEventId: id })))
      const bad = yield* collect(
        Stream.make({ type: "tick" as const, data: { n: 1 }, id: "a\nb" }).pipe(Sse.encodeSchemas(schemas))
      )
      expect(bad.error).toMatchObject({ _tag: "InvalidField", field: "id" })
    }))

  it.effect("encodeSchema wraps encoded values in events of one type", () =>
    Effect.gen(function*() {
      const { out } = yield* collect(
        Stream.make({ n: 1 }, { n: 2 }).pipe(Sse.encodeSchema(Tick, { type: "tick" }), Sse.render)
      )
      expect(out.join("")).toBe("event: tick\ndata: {\"n\":1}\n\nevent: tick\ndata: {\"n\":2}\n\n")
      const bad = yield* collect(Stream.make({ n: 1 }).pipe(Sse.encodeSchema(Tick, { type: "a\rb" })))
      expect(bad.error).toMatchObject({ _tag: "InvalidField", field: "event" })
    }))
})

// ---------------------------------------------------------------------------------------------
// properties

const run = <A, E>(stream: Stream.Stream<A, E>) => collect(stream)

const fused = (chunks: ReadonlyArray<Uint8Array>) => run(reads(chunks).pipe(Sse.decode({ include: all })))

describe("Sse properties", () => {
  it.effect.prop(
    "chunking invariance: Sse.decode gives the same for any cutting of the bytes",
    [Testing.chunks(Testing.sseStream())],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        const whole = yield* fused([bytes])
        expect(whole.error).toBeUndefined()
        expect((yield* fused(chunks)).out).toEqual(whole.out)
      })
  )

  it.effect.prop(
    "copyValues: the same messages, for any cutting of the bytes (values are owned strings, not views)",
    [Testing.chunks(Testing.sseStream())],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        const copied = yield* run(reads(chunks).pipe(Sse.decode({ include: all, copyValues: true })))
        expect(copied).toEqual(yield* fused([bytes]))
      })
  )

  it.effect.prop(
    "chunking invariance: Sse.decodeText gives the same for any cutting of the text",
    [Testing.sseStream(), fc.array(fc.nat(2000), { maxLength: 12 })],
    ([bytes, at]) =>
      Effect.gen(function*() {
        const text = new TextDecoder().decode(bytes)
        const decodeText = (pieces: ReadonlyArray<string>) => run(reads(pieces).pipe(Sse.decodeText({ include: all })))
        const whole = yield* decodeText([text])
        expect(whole.out).toEqual((yield* fused([bytes])).out)
        expect((yield* decodeText(cutText(text, at))).out).toEqual(whole.out)
      })
  )

  it.effect.prop(
    "chunking invariance: Utf8.decode, Lines.split({ trailing: \"drop\" }), Sse.parse() gives the same as Sse.decode",
    [Testing.chunks(Testing.sseStream())],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        const staged = (pieces: ReadonlyArray<Uint8Array>) =>
          run(reads(pieces).pipe(Utf8.decode, Lines.split({ trailing: "drop" }), Sse.parse({ include: all })))
        const whole = yield* fused([bytes])
        expect((yield* staged([bytes])).out).toEqual(whole.out)
        expect((yield* staged(chunks)).out).toEqual(whole.out)
      })
  )

  it.effect.prop(
    "conformance: Sse.decode equals the literal WHATWG reference parser",
    [Testing.chunks(Testing.sseStream({ maxLines: 60 }))],
    ([{ bytes, chunks }]) =>
      Effect.gen(function*() {
        expect((yield* fused(chunks)).out).toEqual(referenceParse(bytes, { idChanges: true }))
        const eventsOnly = yield* run(reads(chunks).pipe(Sse.decode))
        expect(eventsOnly.out).toEqual(referenceParse(bytes).filter((m) => m._tag === "SseEvent"))
      }),
    // 200 runs of up to 60 lines: 7.8 s once on a loaded machine, so a limit well above it
    { fastCheck: { numRuns: 200 }, timeout: 120_000 }
  )

  it.effect.prop(
    "limits: the error, when the limits are small, does not depend on the chunking",
    [
      Testing.chunks(Testing.sseStream({ invalidUtf8: false })),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 40 })
    ],
    ([{ bytes, chunks }, maxLineLength, maxEventSize]) =>
      Effect.gen(function*() {
        const decode = (pieces: ReadonlyArray<Uint8Array>) =>
          run(reads(pieces).pipe(Sse.decode({ include: all, maxLineLength, maxEventSize })))
        const whole = yield* decode([bytes])
        const cut = yield* decode(chunks)
        expect(cut.out).toEqual(whole.out)
        // everything but the size seen: a line is caught as soon as the read that crosses the
        // limit arrives, so the size seen depends on the cutting (it is always above the limit)
        const where = (e: typeof whole.error) => e && { ...e, size: e._tag === "LineTooLong" ? "limit + n" : e.size }
        expect(where(cut.error)).toEqual(where(whole.error))
        if (cut.error) expect(cut.error.size).toBeGreaterThan(cut.error.limit)
      })
  )
})

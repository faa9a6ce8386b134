import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { MemoryEventLog } from "@streamwire/server"
import { connect, dataOf, eventually, serve } from "@streamwire/server/testing"
import { Chunk, Effect, Option, Stream } from "effect"

const decoded = (text: string) =>
  Chunk.toArray(
    Effect.runSync(Stream.make(text).pipe(Sse.decodeText({ include: ["comment", "retry"] }), Stream.runCollect))
  )

describe("@streamwire/server/testing", () => {
  it.scopedLive("connect parses what the codec parses: CR, LF and CRLF line ends split anywhere, comments, retry, ids", () =>
    Effect.gen(function*() {
      const text = "\uFEFFretry: 250\r\n: hi\rdata: a\r\ndata: b\n\nid: 7\revent: x\r\ndata\r\r" +
        "retry: soon\nid: bad\0id\ndata: c\n\n: tail\r\n\r\nevent: lost\ndata: incomplete"
      // the text in small chunks, so that CR and LF of one CRLF can arrive in different reads
      const chunks = Array.from({ length: Math.ceil(text.length / 3) }, (_, i) => text.slice(i * 3, i * 3 + 3))
      const url = yield* serve(
        HttpServerResponse.stream(
          Stream.fromIterable(chunks).pipe(Stream.tap(() => Effect.sleep("1 millis")), Stream.encodeText),
          { contentType: Sse.contentType }
        )
      )
      const client = yield* connect(url)
      yield* Effect.promise(() => client.waitForEnd(30_000))
      expect(client.status).toBe(200)
      expect(client.messages()).toEqual(decoded(text.slice(1))) // the BOM goes with the UTF-8 decoding
      expect(client.events().map((e) => [e.type, e.data, e.lastEventId])).toEqual([
        ["message", "a\nb", ""],
        ["x", "", "7"],
        ["message", "c", "7"]
      ])
      const events = yield* Effect.promise(() => client.waitForEvents(3))
      expect(events).toEqual(client.events())
    }))

  it.scopedLive("waitForEvents rejects after its time with what was received", () =>
    Effect.gen(function*() {
      const url = yield* serve(HttpServerResponse.text("data: one\n\n", { contentType: Sse.contentType }))
      const client = yield* connect(url)
      const error = yield* Effect.flip(Effect.tryPromise(() => client.waitForEvents(2, 200)))
      expect(String(error.cause)).toContain("timed out after 200 ms waiting for 2 events")
    }))

  it.live("eventually returns the value that holds, and dies with what it waited for", () =>
    Effect.gen(function*() {
      let n = 0
      expect(yield* eventually(Effect.sync(() => ++n), (v) => v >= 3)).toBe(3)
      const exit = yield* Effect.exit(eventually(Effect.succeed(1), (v) => v > 1, 50, "a miracle"))
      expect(exit._tag === "Failure" && String(exit.cause)).toContain("timed out after 50 ms waiting for a miracle")
    }))

  it.scoped("dataOf: data, and reset:<reason> for a Reset", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make()
      const a = yield* log.append({ data: "a" })
      expect(dataOf([{ _tag: "Reset", requested: "x", reason: "unknown", oldest: Option.none() }, a])).toEqual([
        "reset:unknown",
        "a"
      ])
    }))
})

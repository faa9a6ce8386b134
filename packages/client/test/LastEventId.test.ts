import { HttpClientRequest, HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Reconnect, SseClient } from "@streamwire/client"
import { Sse } from "@streamwire/codec"
import { SseResponse } from "@streamwire/server"
import { serve } from "@streamwire/server/testing"
import { Chunk, Effect, FastCheck as fc, Option, Stream } from "effect"
import { clients } from "./utils.js"

/**
 * `GET /?emit=<id>`: without a resume id, one event carrying `emit` as its id, then the end (the
 * client reconnects); resumed, one event whose data is the id the server read back.
 */
const echo = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
  const emit = new URL(request.url, "http://x").searchParams.get("emit") ?? ""
  return SseResponse.resume((after) =>
    Option.match(after, {
      onNone: () => Stream.make(Sse.unsafeEvent({ data: "first", id: emit })),
      onSome: (id) => Stream.make(Sse.unsafeEvent({ data: id }))
    }), { heartbeat: false })
})

/** Any id the spec allows: no CR, LF or NUL; every plane of Unicode. */
const specId = fc.fullUnicodeString({ minLength: 1, maxLength: 24 }).filter((s) => !/[\r\n\0]/.test(s))

const tricky = [
  "ид",
  "😀",
  "a😀b\u{10FFFF}",
  "é",
  "\u00ff\u0100",
  "日本語-42",
  " leading space",
  "trailing tab\t",
  "ctrl\u0001\u007f",
  "a b%20c+d&lastEventId=x",
  "\uFEFFbom",
  "x".repeat(2000)
]

describe.each(clients)("Last-Event-ID round trip with %s", (_, layer) => {
  it.live("any id the spec allows comes back to our server as it was sent", () =>
    Effect.gen(function*() {
      const url = yield* serve(echo)
      const random = fc.sample(specId, { numRuns: 40, seed: 42 })
      for (const id of [...tricky, ...random]) {
        const request = HttpClientRequest.get(url).pipe(HttpClientRequest.setUrlParam("emit", id))
        const events = yield* SseClient.events(request, { retry: "1 millis", reconnect: Reconnect.reconnectionTime })
          .pipe(
            Stream.take(2),
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.timeout("5 seconds")
          )
        expect(events.map((e) => e.data), JSON.stringify(id)).toEqual(["first", id])
      }
    }).pipe(Effect.scoped, Effect.provide(layer)), 60_000)
})

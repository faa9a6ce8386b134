import { HttpRouter } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { NdjsonResponse, SseResponse } from "@streamwire/server"
import { connect, serve } from "@streamwire/server/testing"
import { Effect, Option, Stream } from "effect"

const numbered = (from: number, to: number) =>
  Stream.range(from, to).pipe(Stream.map((n) => Sse.unsafeEvent({ data: String(n), id: String(n) })))

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/ten",
    SseResponse.resume((after) => {
      const next = Option.match(after, { onNone: () => 1, onSome: (id) => Number(id) + 1 })
      return next > 10 ? SseResponse.noContent : numbered(next, 10)
    }, { heartbeat: false })
  ),
  HttpRouter.get("/abort", SseResponse.make(Stream.concat(numbered(1, 3), SseResponse.abort), { heartbeat: false })),
  HttpRouter.get(
    "/abort-mode",
    SseResponse.make(Stream.concat(numbered(1, 3), Stream.fail("boom")), { heartbeat: false, onError: "abort" })
  ),
  HttpRouter.get(
    "/close-mode",
    SseResponse.make(Stream.concat(numbered(1, 3), Stream.fail("boom")), { heartbeat: false, onError: "close" })
  ),
  HttpRouter.get(
    "/abort-later",
    SseResponse.make(
      Stream.concat(
        numbered(1, 3),
        Stream.fromEffect(Effect.sleep("50 millis")).pipe(Stream.drain, Stream.concat(SseResponse.abort))
      ),
      { heartbeat: false }
    )
  ),
  HttpRouter.get("/ndjson", NdjsonResponse.make(Stream.make({ a: 1 })))
)

describe("how an SSE response ends", () => {
  it.scopedLive("Cache-Control: no-cache, no-transform on SSE and NDJSON responses", () =>
    Effect.gen(function*() {
      const url = yield* serve(router)
      const sse = yield* connect(`${url}/ten`)
      expect(sse.headers["cache-control"]).toBe("no-cache, no-transform")
      const ndjson = yield* connect(`${url}/ndjson`)
      expect(ndjson.headers["cache-control"]).toBe("no-cache, no-transform")
    }))

  it.scopedLive("resume answers 204 (empty body) when the factory returns SseResponse.noContent", () =>
    Effect.gen(function*() {
      const url = yield* serve(router)
      const partial = yield* connect(`${url}/ten`, { headers: { "last-event-id": "8" } })
      yield* Effect.promise(() => partial.waitForEnd())
      expect(partial.status).toBe(200)
      expect(partial.events().map((e) => e.data)).toEqual(["9", "10"])
      const done = yield* connect(`${url}/ten`, { headers: { "last-event-id": "10" } })
      yield* Effect.promise(() => done.waitForEnd())
      expect(done.status).toBe(204)
      expect(done.text).toBe("")
    }))

  for (const path of ["/abort", "/abort-mode", "/abort-later"]) {
    it.scopedLive(`${path}: the events written arrive, then the connection is cut (no clean end of the body)`, () =>
      Effect.gen(function*() {
        const url = yield* serve(router)
        const client = yield* connect(`${url}${path}`)
        yield* Effect.promise(() => client.waitForEnd(5000))
        expect(client.events().map((e) => e.data)).toEqual(["1", "2", "3"])
        expect(client.error?.message).toMatch(/aborted|ECONNRESET|socket hang up/)
        expect(client.res.complete).toBe(false)
      }))
  }

  it.scopedLive("onError: \"close\" ends the body cleanly (for comparison)", () =>
    Effect.gen(function*() {
      const url = yield* serve(router)
      const client = yield* connect(`${url}/close-mode`)
      yield* Effect.promise(() => client.waitForEnd(5000))
      expect(client.events().map((e) => e.data)).toEqual(["1", "2", "3"])
      expect(client.error).toBeUndefined()
      expect(client.res.complete).toBe(true)
    }))
})

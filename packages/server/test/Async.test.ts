import * as HttpRouter from "@effect/platform/HttpRouter"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { connect, eventually, serve } from "@streamwire/server/testing"
import { Context, Effect, Ref, Stream } from "effect"
import { SseResponse } from "../src/index.js"
import { promise } from "./utils.js"

const ev = (data: string, id?: string) => Sse.unsafeEvent({ data, id })

class Greeting extends Context.Tag("Greeting")<Greeting, string>() {}

describe("SseResponse.async", () => {
  it.scopedLive("callbacks feed the response; end ends it after what was sent; the same bytes as make", () =>
    Effect.gen(function*() {
      const pushed = SseResponse.async((emit) =>
        Effect.sync(() => {
          emit.single(ev("a", "1"))
          // from a later turn of the event loop, as a timer or an emitter would
          setTimeout(() => {
            emit.chunk([Sse.comment("c"), ev("b\nc", "2")])
            emit.end()
            emit.single(ev("after the end"))
          }, 5)
        }), { retry: "1 second", heartbeat: false })
      const streamed = SseResponse.make(
        Stream.make(ev("a", "1"), Sse.comment("c"), ev("b\nc", "2")),
        { retry: "1 second", heartbeat: false }
      )
      const url = yield* serve(
        HttpRouter.empty.pipe(HttpRouter.get("/push", pushed), HttpRouter.get("/stream", streamed))
      )
      const a = yield* connect(`${url}/push`)
      const b = yield* connect(`${url}/stream`)
      yield* promise(() => a.waitForEnd())
      yield* promise(() => b.waitForEnd())
      expect(a.status).toBe(200)
      expect(a.headers["content-type"]).toBe("text/event-stream; charset=utf-8")
      expect(a.text).toBe("retry: 1000\nid: 1\ndata: a\n\n: c\nid: 2\ndata: b\ndata: c\n\n")
      expect(a.text).toBe(b.text)
    }))

  it.scopedLive("register runs in the handler's context; its scope closes when the client leaves", () =>
    Effect.gen(function*() {
      const released = yield* Ref.make(0)
      const handler = SseResponse.async((emit) =>
        Effect.gen(function*() {
          const greeting = yield* Greeting
          yield* Effect.acquireRelease(
            Effect.sync(() => setInterval(() => emit.single(ev(greeting)), 5)),
            (timer) => Effect.zipRight(Effect.sync(() => clearInterval(timer)), Ref.update(released, (n) => n + 1))
          )
        }), { heartbeat: false })
      const url = yield* serve(
        HttpRouter.empty.pipe(HttpRouter.get("/ticks", Effect.provideService(handler, Greeting, "hello")))
      )
      const client = yield* connect(`${url}/ticks`)
      const events = yield* promise(() => client.waitForEvents(3))
      expect(events.slice(0, 3).map((e) => e.data)).toEqual(["hello", "hello", "hello"])
      expect(yield* Ref.get(released)).toBe(0)
      client.close()
      yield* eventually(Ref.get(released), (n) => n === 1, 10_000, "the register scope closed")
    }))

  it.scopedLive("a defect in register ends the response with onError's event", () =>
    Effect.gen(function*() {
      const handler = SseResponse.async(() => Effect.dieMessage("boom"), {
        heartbeat: false,
        onError: () => Sse.unsafeEvent({ type: "error", data: "failed" })
      })
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/fails", handler)))
      const client = yield* connect(`${url}/fails`)
      yield* promise(() => client.waitForEnd())
      expect(client.events().map((e) => [e.type, e.data])).toEqual([["error", "failed"]])
    }))

  it.scopedLive("a client that does not read is dropped, not buffered without bound (disconnect)", () =>
    Effect.gen(function*() {
      const stopped = yield* Ref.make(false)
      const big = "x".repeat(64 * 1024)
      const handler = SseResponse.async((emit) =>
        Effect.acquireRelease(
          Effect.sync(() => setInterval(() => emit.chunk(Array.from({ length: 16 }, () => ev(big))), 1)),
          (timer) => Effect.zipRight(Effect.sync(() => clearInterval(timer)), Ref.set(stopped, true))
        ), { heartbeat: false, bufferSize: 8 })
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/flood", handler)))
      yield* connect(`${url}/flood`, { paused: true })
      // the socket and the buffer fill, the policy ends the response, the register scope closes
      yield* eventually(Ref.get(stopped), (s) => s, 20_000, "the stalled client dropped")
    }))
})

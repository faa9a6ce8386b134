import * as HttpRouter from "@effect/platform/HttpRouter"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { connect, eventually, serve } from "@streamwire/server/testing"
import { Cause, Context, Effect, Ref, Schedule, Stream } from "effect"
import { NdjsonResponse, SseResponse } from "../src/index.js"
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

  it.scopedLive("a custom Schedule heartbeat stops when the client leaves (its fiber is interrupted)", () =>
    Effect.gen(function*() {
      let ticks = 0
      const heartbeat = Schedule.spaced("5 millis").pipe(Schedule.tapOutput(() => Effect.sync(() => ticks++)))
      const handler = SseResponse.async(() => Effect.void, { heartbeat })
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/hb", handler)))
      const client = yield* connect(`${url}/hb`)
      yield* promise(() => client.waitFor((c) => c.text.includes(":\n"), 10_000, "a heartbeat"))
      client.close()
      // the ticks stop: the same count over 300 ms, within 10 s
      let last = -1
      yield* eventually(
        Effect.gen(function*() {
          const before = ticks
          yield* Effect.sleep("300 millis")
          last = ticks
          return before === last
        }),
        (stopped) => stopped,
        10_000,
        "the heartbeat's fiber interrupted"
      )
      expect(last).toBeGreaterThan(0)
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

describe("NdjsonResponse.async", () => {
  it.scopedLive("callbacks feed the response; the same bytes and headers as make for the same values", () =>
    Effect.gen(function*() {
      const values = [{ a: 1 }, [2, "x\ny"], "é", null]
      const pushed = NdjsonResponse.async((emit: NdjsonResponse.Emit) =>
        Effect.sync(() => {
          emit.single(values[0])
          setTimeout(() => {
            emit.chunk(values.slice(1))
            emit.end()
            emit.single({ after: "the end" })
          }, 5)
        })
      )
      const url = yield* serve(
        HttpRouter.empty.pipe(
          HttpRouter.get("/push", pushed),
          HttpRouter.get("/stream", NdjsonResponse.make(Stream.fromIterable(values)))
        )
      )
      const a = yield* connect(`${url}/push`)
      const b = yield* connect(`${url}/stream`)
      yield* promise(() => a.waitForEnd())
      yield* promise(() => b.waitForEnd())
      expect(a.status).toBe(200)
      expect(a.headers["content-type"]).toBe("application/x-ndjson")
      expect(a.text).toBe("{\"a\":1}\n[2,\"x\\ny\"]\n\"é\"\nnull\n")
      expect(a.text).toBe(b.text)
      expect(a.headers["cache-control"]).toBe(b.headers["cache-control"])
    }))

  it.scopedLive("register runs in the handler's context; its scope closes when the client leaves", () =>
    Effect.gen(function*() {
      const released = yield* Ref.make(0)
      const handler = NdjsonResponse.async((emit: NdjsonResponse.Emit<{ readonly greeting: string }>) =>
        Effect.gen(function*() {
          const greeting = yield* Greeting
          yield* Effect.acquireRelease(
            Effect.sync(() => setInterval(() => emit.single({ greeting }), 5)),
            (timer) => Effect.zipRight(Effect.sync(() => clearInterval(timer)), Ref.update(released, (n) => n + 1))
          )
        })
      )
      const url = yield* serve(
        HttpRouter.empty.pipe(HttpRouter.get("/rows", Effect.provideService(handler, Greeting, "hello")))
      )
      const client = yield* connect(`${url}/rows`)
      yield* promise(() => client.waitFor((c) => c.text.split("\n").length > 3, 10_000, "three rows"))
      expect(client.text.split("\n").slice(0, 3)).toEqual(Array(3).fill("{\"greeting\":\"hello\"}"))
      expect(yield* Ref.get(released)).toBe(0)
      client.close()
      yield* eventually(Ref.get(released), (n) => n === 1, 10_000, "the register scope closed")
    }))

  it.scopedLive("a value with no JSON text ends the response with onError's value, after what came before", () =>
    Effect.gen(function*() {
      const released = yield* Ref.make(false)
      const handler = NdjsonResponse.async((emit: NdjsonResponse.Emit) =>
        Effect.acquireRelease(
          Effect.sync(() => emit.chunk([{ ok: 1 }, 10n, { never: "written" }])),
          () => Ref.set(released, true)
        ), {
        onError: (cause) => ({
          error: Cause.squash(cause) instanceof Error ? (Cause.squash(cause) as Error).name : "?"
        })
      })
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/bad", handler)))
      const client = yield* connect(`${url}/bad`)
      yield* promise(() => client.waitForEnd())
      const rows = client.text.trim().split("\n").map((line) => JSON.parse(line) as unknown)
      expect(rows[0]).toEqual({ ok: 1 })
      expect(rows).toHaveLength(2)
      expect(JSON.stringify(rows[1])).toContain("error")
      yield* eventually(Ref.get(released), (r) => r, 10_000, "the register scope closed")
    }))

  it.scopedLive("a client that does not read is dropped, not buffered without bound (disconnect)", () =>
    Effect.gen(function*() {
      const stopped = yield* Ref.make(false)
      const big = "x".repeat(64 * 1024)
      const handler = NdjsonResponse.async((emit: NdjsonResponse.Emit<string>) =>
        Effect.acquireRelease(
          Effect.sync(() => setInterval(() => emit.chunk(Array.from({ length: 16 }, () => big)), 1)),
          (timer) => Effect.zipRight(Effect.sync(() => clearInterval(timer)), Ref.set(stopped, true))
        ), { bufferSize: 8 })
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/flood", handler)))
      yield* connect(`${url}/flood`, { paused: true })
      yield* eventually(Ref.get(stopped), (s) => s, 20_000, "the stalled client dropped")
    }))
})

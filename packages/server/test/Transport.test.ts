import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { connect, eventually, open, serve } from "@streamwire/server/testing"
import { Effect, Metric, MetricLabel, Stream } from "effect"
import { MemoryEventLog, NdjsonResponse, SseResponse } from "../src/index.js"
import * as metrics from "../src/internal/metrics.js"
import { nodeResponseOf } from "../src/internal/nodeResponse.js"
import { promise } from "./utils.js"

const ev = (data: string, extra: Partial<{ type: string; id: string }> = {}) => Sse.unsafeEvent({ data, ...extra })

/** The text of a response through the portable path (a web handler), up to `until` characters or its end. */
const viaWeb = async (
  handler: (request: Request) => Promise<Response>,
  url: string,
  until = Infinity,
  headers?: Record<string, string>
) => {
  const response = await handler(new Request(url, headers === undefined ? {} : { headers }))
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ""
  while (text.length < until) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  await reader.cancel()
  return { text, headers: Object.fromEntries(response.headers) }
}

describe("the Node fast path and the portable path", () => {
  it.scopedLive("write the same bytes (finite streams, failures, NDJSON, a log with a reset)", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make({ maxEvents: 3 })
      const first = yield* log.append({ type: "tick", data: "0" })
      for (let i = 1; i <= 5; i++) yield* log.append({ type: "tick", data: `${i}\nline two` })
      const app = HttpRouter.empty.pipe(
        HttpRouter.get(
          "/finite",
          SseResponse.make(
            Stream.make(
              ev("hello"),
              ev("two\nlines", { type: "greeting", id: "1" }),
              Sse.comment("a comment"),
              ev("same id", { id: "1" }),
              ev("", { id: "2" })
            ).pipe(Stream.rechunk(2)),
            { retry: "2 seconds", heartbeat: false }
          )
        ),
        HttpRouter.get(
          "/fails",
          SseResponse.make(Stream.concat(Stream.make(ev("before")), Stream.fail("boom")), { heartbeat: false })
        ),
        HttpRouter.get("/ndjson", NdjsonResponse.make(Stream.range(1, 50).pipe(Stream.map((n) => ({ n }))))),
        HttpRouter.get("/log", SseResponse.fromEventLog(log, { heartbeat: false, retry: "1 second" }))
      )
      const base = yield* serve(app)
      const web = HttpApp.toWebHandler(app)
      const viaNode = (path: string, until: number, headers?: Record<string, string>) =>
        promise(async () => {
          const c = await open(base + path, headers === undefined ? {} : { headers })
          await c.waitFor((x) => x.ended || x.text.length >= until, 5000, "the response")
          c.close()
          return { text: c.text.slice(0, until === Infinity ? undefined : until), headers: c.res.headers }
        })
      for (const path of ["/finite", "/fails", "/ndjson"]) {
        const node = yield* viaNode(path, Infinity)
        const portable = yield* promise(() => viaWeb(web, "http://x" + path))
        expect(node.text.length).toBeGreaterThan(0)
        expect(node.text).toBe(portable.text)
        expect(node.headers["content-type"]).toBe(portable.headers["content-type"])
        expect(node.headers["cache-control"]).toBe(portable.headers["cache-control"])
      }
      // a resume from an id that is no longer retained: the reset, then what the log retains (never ends)
      const resume = { "last-event-id": first.lastEventId }
      const portable = yield* promise(() => viaWeb(web, "http://x/log", 200, resume))
      const node = yield* viaNode("/log", portable.text.length, resume)
      expect(portable.text).toContain("event: reset")
      expect(node.text).toBe(portable.text)
    }))

  it.scopedLive("the Node response is the one NodeHttpServerRequest.toServerResponse gives; a web request has none", () =>
    Effect.gen(function*() {
      let same: boolean | undefined
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/",
        Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
          same = nodeResponseOf(request) === NodeHttpServerRequest.toServerResponse(request)
          return HttpServerResponse.text("ok")
        })
      )))
      yield* promise(() => fetch(url + "/").then((r) => r.text()))
      expect(same).toBe(true)
      expect(nodeResponseOf(HttpServerRequest.fromWeb(new Request("http://x/")))).toBeUndefined()
    }))
})

describe("metrics", () => {
  const tagged = <T, I, O>(metric: Metric.Metric<T, I, O>, route: string) =>
    Metric.value(Metric.taggedWithLabels(metric, [MetricLabel.make("kind", "sse"), MetricLabel.make("route", route)]))
  const counters = {
    streamwire_heartbeats_total: metrics.heartbeats,
    streamwire_events_written_total: metrics.eventsWritten,
    streamwire_bytes_written_total: metrics.bytesWritten,
    streamwire_resumes_total: metrics.resumes,
    streamwire_slow_clients_dropped_total: metrics.slowClientsDropped
  }
  const counter = (name: keyof typeof counters, route: string) =>
    Effect.map(tagged(counters[name], route), (s) => s.count)

  it.scopedLive("open connections, events and bytes, heartbeats, resumes, resets, slow clients: per route", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make({ maxEvents: 2 })
      const route = `/metrics-${Math.random().toString(36).slice(2)}` as const
      const url = yield* serve(HttpRouter.empty.pipe(
        HttpRouter.get(route, SseResponse.fromEventLog(log, { heartbeat: "30 millis", bufferSize: 4 }))
      ))
      const open = Effect.map(tagged(metrics.connectionsOpen, route), (s) => s.value)
      const a = yield* connect(url + route)
      const b = yield* connect(url + route)
      yield* eventually(open, (n) => n === 2, 3000, "two open connections")
      // heartbeats while idle
      yield* eventually(counter("streamwire_heartbeats_total", route), (n) => n >= 2, 3000, "heartbeats")
      const e1 = yield* log.append({ data: "x" })
      for (let i = 0; i < 3; i++) yield* log.append({ data: "y" })
      yield* promise(() => a.waitForEvents(4))
      yield* promise(() => b.waitForEvents(4))
      expect(yield* counter("streamwire_events_written_total", route)).toBe(8)
      expect(yield* counter("streamwire_bytes_written_total", route)).toBeGreaterThan(8 * 10)
      a.close()
      b.close()
      yield* eventually(open, (n) => n === 0, 3000, "no open connection")
      // a resume from an id out of retention: a resume and a reset (expired)
      const c = yield* connect(url + route, { headers: { "Last-Event-ID": e1.lastEventId } })
      yield* promise(() => c.waitForEvents(3))
      c.close()
      expect(yield* counter("streamwire_resumes_total", route)).toBe(1)
      const resets = yield* Metric.value(Metric.taggedWithLabels(metrics.resets, [
        MetricLabel.make("kind", "sse"),
        MetricLabel.make("route", route),
        MetricLabel.make("reason", "expired")
      ]))
      expect(resets.count).toBe(1)
      // a client that stops reading is dropped
      const stalled = yield* connect(url + route, { paused: true, truncateData: 4 })
      yield* eventually(log.subscriberCount, (n) => n === 1)
      const big = "z".repeat(64 * 1024)
      for (let i = 0; i < 200 && (yield* log.subscriberCount) > 0; i++) {
        yield* log.append({ data: big })
        yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
      }
      yield* eventually(
        counter("streamwire_slow_clients_dropped_total", route),
        (n) => n === 1,
        5000,
        "a slow client dropped"
      )
      stalled.close()
      yield* eventually(open, (n) => n === 0, 3000, "no open connection")
    }))
})

describe("push sources on NodeHttpServer: the connection starts from a raw body (no body Stream)", () => {
  const tagged = <E, R>(handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>, tags: Array<string>) =>
    Effect.tap(handler, (response) => Effect.sync(() => tags.push(response.body._tag)))

  it.scopedLive(
    "async and a memory log's responses are raw, a Stream's is a Stream; middleware headers and the bytes are kept; the same bytes through the portable path",
    () =>
      Effect.gen(function*() {
        const tags: Array<string> = []
        const log = yield* MemoryEventLog.make({ maxEvents: 10 })
        yield* log.append({ type: "t", data: "one" })
        const sse = SseResponse.async((emit) =>
          Effect.sync(() => {
            emit.chunk([ev("a", { id: "1" }), ev("b\nc")])
            emit.end()
          }), { retry: "1 second", heartbeat: false })
        const nd = NdjsonResponse.async((emit: NdjsonResponse.Emit) =>
          Effect.sync(() => {
            emit.chunk([{ a: 1 }, [2]])
            emit.end()
          })
        )
        const app = HttpRouter.empty.pipe(
          HttpRouter.get("/sse", tagged(sse, tags)),
          HttpRouter.get("/nd", tagged(nd, tags)),
          HttpRouter.get(
            "/log",
            tagged(SseResponse.fromEventLog(log, { heartbeat: false, initial: "retained" }), tags)
          ),
          HttpRouter.get("/stream", tagged(SseResponse.make(Stream.make(ev("s")), { heartbeat: false }), tags)),
          // a middleware's header on every response
          HttpRouter.use(Effect.map(HttpServerResponse.setHeader("x-middleware", "yes")))
        )
        const url = yield* serve(app)
        const a = yield* connect(`${url}/sse`)
        yield* promise(() => a.waitForEnd())
        expect(a.text).toBe("retry: 1000\nid: 1\ndata: a\n\nid:\ndata: b\ndata: c\n\n")
        expect(a.headers["x-middleware"]).toBe("yes")
        expect(a.headers["content-type"]).toBe("text/event-stream; charset=utf-8")
        const b = yield* connect(`${url}/nd`)
        yield* promise(() => b.waitForEnd())
        expect(b.text).toBe("{\"a\":1}\n[2]\n")
        expect(b.headers["x-middleware"]).toBe("yes")
        const c = yield* connect(`${url}/log`)
        const events = yield* promise(() => c.waitForEvents(1))
        expect(events.map((e) => e.data)).toEqual(["one"])
        expect(c.headers["x-middleware"]).toBe("yes")
        c.close()
        const d = yield* connect(`${url}/stream`)
        yield* promise(() => d.waitForEnd())
        expect(tags).toEqual(["Raw", "Raw", "Raw", "Stream"])
        // the portable path (a web handler) writes the same bytes
        const web = HttpApp.toWebHandler(app)
        expect((yield* promise(() => viaWeb(web, "http://localhost/sse"))).text).toBe(a.text)
        expect((yield* promise(() => viaWeb(web, "http://localhost/nd"))).text).toBe(b.text)
      })
  )

  it.scopedLive(
    "an idle raw connection keeps nothing of the request: the platform's listeners are released, `end` is Node's again",
    () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make({ maxEvents: 10 })
        const responses: Array<unknown> = []
        const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
          "/log",
          Effect.zipRight(
            Effect.map(HttpServerRequest.HttpServerRequest, (request) => responses.push(nodeResponseOf(request))),
            SseResponse.fromEventLog(log, { heartbeat: false })
          )
        )))
        const client = yield* connect(`${url}/log`)
        yield* log.append({ data: "x" })
        yield* promise(() => client.waitForEvents(1))
        const res = responses[0] as import("node:http").ServerResponse
        const sources = (event: string) => res.listeners(event).map((f) => Function.prototype.toString.call(f))
        // the 'close' listener holding the request's (finished) fiber is added after the handler has
        // run: it is released all the same
        yield* eventually(
          Effect.sync(() => sources("close").some((s) => s.includes("unsafeInterruptAsFork"))),
          (held) => !held,
          5000,
          "the platform's 'close' listener released"
        )
        expect(sources("close").length).toBeGreaterThan(0)
        // restored, not deleted: deleting an own property added before Node's own turns the response
        // into a dictionary-mode object (≈ 3 KiB per connection)
        expect(res.end).toBe(Object.getPrototypeOf(res).end)
        client.close()
        yield* eventually(log.subscriberCount, (n) => n === 0, 5000, "the subscription released")
      })
  )

  it.scopedLive("a HEAD request gets the status and headers and an end; the source is never attached", () =>
    Effect.gen(function*() {
      let registered = 0
      const log = yield* MemoryEventLog.make({ maxEvents: 10 })
      const sse = SseResponse.async(() => Effect.sync(() => registered++), { heartbeat: false })
      const url = yield* serve(HttpRouter.empty.pipe(
        HttpRouter.route("HEAD")("/sse", sse),
        HttpRouter.route("HEAD")("/log", SseResponse.fromEventLog(log))
      ))
      for (const path of ["/sse", "/log"]) {
        const response = yield* promise(() => fetch(`${url}${path}`, { method: "HEAD" }))
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8")
        expect(yield* promise(() => response.text())).toBe("")
      }
      expect(registered).toBe(0)
      expect(yield* log.subscriberCount).toBe(0)
    }))
})

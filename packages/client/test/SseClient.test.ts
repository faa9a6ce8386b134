import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Reconnect, SseClient } from "@streamwire/client"
import { Sse } from "@streamwire/codec"
import { Chunk, Deferred, Duration, Effect, Either, Exit, Fiber, Schedule, Schema, Stream } from "effect"
import { clients, dropAfter, nodeServer, numbered, platformServer, sseHead } from "./utils.js"

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  stream.pipe(Stream.runCollect, Effect.map(Chunk.toArray), Effect.timeout("8 seconds"))

const data = (elements: ReadonlyArray<SseClient.Element>) => elements.filter(SseClient.isEvent).map((e) => e.data)

const tags = (elements: ReadonlyArray<SseClient.Element>) => elements.map((e) => e._tag)

/** Short reconnection time for tests, no jitter. */
const fast = { retry: "5 millis", reconnect: Reconnect.reconnectionTime } as const

describe.each(clients)("SseClient with %s", (_, layer) => {
  const test = (name: string, self: () => Effect.Effect<void, unknown, any>) =>
    it.live(name, () => Effect.scoped(self()).pipe(Effect.provide(layer)) as Effect.Effect<void, unknown>, 60_000)

  test("opens on 200 text/event-stream, sends Accept and Cache-Control, no Last-Event-ID at first", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        sseHead(res)
        res.end("event: greeting\nid: 1\ndata: hello\n\n: a comment\ndata: two\ndata: lines\n\n")
      })
      const out = yield* collect(SseClient.connect(server.url, { reconnect: false }))
      expect(out.filter(SseClient.isEvent)).toEqual([
        { _tag: "SseEvent", type: "greeting", data: "hello", lastEventId: "1" },
        { _tag: "SseEvent", type: "message", data: "two\nlines", lastEventId: "1" }
      ])
      expect(tags(out)).toEqual(["Connecting", "Open", "SseEvent", "SseEvent", "Closed"])
      const open = out[1] as SseClient.Open
      expect(open.status).toBe(200)
      expect(open.headers["content-type"]).toBe("text/event-stream; charset=utf-8")
      expect(server.requests).toHaveLength(1)
      const headers = server.requests[0]!.headers
      expect(headers["accept"]).toBe("text/event-stream")
      expect(headers["cache-control"]).toBe("no-store")
      expect(headers["last-event-id"]).toBeUndefined()
    }))

  test("an initial lastEventId is sent on the first request; the request's own header works too", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => res.writeHead(204).end())
      yield* collect(SseClient.events(server.url, { lastEventId: "41" }))
      yield* collect(SseClient.events(HttpClientRequest.get(server.url, { headers: { "Last-Event-ID": "7" } })))
      expect(server.requests.map((r) => r.headers["last-event-id"])).toEqual(["41", "7"])
    }))

  test("204 ends the stream cleanly and never reconnects", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => res.writeHead(204).end())
      const out = yield* collect(SseClient.connect(server.url, fast))
      expect(out).toEqual([
        { _tag: "Connecting", attempt: 0, lastEventId: "" },
        { _tag: "Closed", reason: { _tag: "NoContent" } }
      ])
      expect(server.requests).toHaveLength(1)
    }))

  test("500 fails with UnexpectedResponse carrying status and content type, no reconnect", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => res.writeHead(500, { "content-type": "text/plain" }).end("boom"))
      const error = yield* Effect.flip(collect(SseClient.events(server.url, fast)))
      expect(error._tag).toBe("UnexpectedResponse")
      if (error._tag !== "UnexpectedResponse") return
      expect(error.status).toBe(500)
      expect(error.contentType).toBe("text/plain")
      expect(error.method).toBe("GET")
      expect(error.message).toContain("500 text/plain")
      expect(server.requests).toHaveLength(1)
    }))

  test("200 text/html fails with UnexpectedResponse, no reconnect", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) =>
        res.writeHead(200, { "content-type": "text/html" }).end("<p>not sse</p>")
      )
      const error = yield* Effect.flip(collect(SseClient.events(server.url, fast)))
      expect(error).toMatchObject({ _tag: "UnexpectedResponse", status: 200, contentType: "text/html" })
      expect(server.requests).toHaveLength(1)
    }))

  test("a redirect (301 → 200) is followed", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((req, res) => {
        if (req.url === "/old") return res.writeHead(301, { location: "/events" }).end()
        sseHead(res)
        res.end("id: 1\ndata: moved\n\n")
      })
      const out = yield* collect(SseClient.events(`${server.url}/old`, { reconnect: false }))
      expect(out.map((e) => e.data)).toEqual(["moved"])
      expect(server.requests.map((r) => r.path)).toEqual(["/old", "/events"])
      expect(server.requests[1]!.headers["accept"]).toBe("text/event-stream")
    }))

  test("a drop mid-event and mid-line: the partial event is discarded and the resume continues", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n === 0) {
          sseHead(res)
          return dropAfter(res, "id: 1\ndata: one\n\nid: 2\ndata: tw")
        }
        if (n === 1) {
          sseHead(res)
          return dropAfter(res, "id: 2\ndata: two\n\nid: 3\ndata: three\n")
        }
        if (n === 2) {
          sseHead(res)
          return res.end("id: 3\ndata: three\n\n")
        }
        res.writeHead(204).end()
      })
      const out = yield* collect(SseClient.connect(server.url, fast))
      expect(data(out)).toEqual(["one", "two", "three"])
      expect(server.requests.map((r) => r.headers["last-event-id"])).toEqual([undefined, "1", "2", "3"])
      const closes = out.filter((e): e is SseClient.Closed => e._tag === "Closed").map((c) => c.reason._tag)
      expect(closes).toEqual(["ResponseError", "ResponseError", "StreamEnded", "NoContent"])
    }))

  test("retry: sets the reconnection time; the next reconnect waits that long", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n === 0) {
          sseHead(res)
          return res.end("retry: 300\nid: 1\ndata: a\n\n")
        }
        res.writeHead(204).end()
      })
      const out = yield* collect(SseClient.connect(server.url, { reconnect: Reconnect.reconnectionTime }))
      const retrying = out.find((e): e is SseClient.Retrying => e._tag === "Retrying")!
      expect(Duration.toMillis(retrying.delay)).toBe(300)
      expect(retrying.cause._tag).toBe("StreamEnded")
      const gap = server.requests[1]!.at - server.requests[0]!.at
      expect(gap).toBeGreaterThanOrEqual(290)
      expect(gap).toBeLessThan(3000)
    }))

  test("an empty id: clears the last event id; an id-only block sets it", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n === 3) return res.writeHead(204).end()
        sseHead(res)
        if (n === 0) return res.end("id: 5\ndata: x\n\nid\ndata: y\n\n")
        if (n === 1) return res.end("id: 9\n\n")
        res.end("data: no id on this connection\n\n")
      })
      const out = yield* collect(SseClient.events(server.url, fast))
      expect(out.map((e) => e.lastEventId)).toEqual(["5", "", ""])
      expect(server.requests.map((r) => r.headers["last-event-id"])).toEqual([undefined, undefined, "9", undefined])
    }))

  test("idle timeout: a server that sends headers and then nothing is reconnected", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n === 0) return sseHead(res) // ...and silence
        if (n === 1) return // no headers at all
        sseHead(res)
        res.end("data: finally\n\n")
      })
      const out = yield* collect(
        SseClient.connect(server.url, { ...fast, idleTimeout: "300 millis" }).pipe(Stream.takeUntil(SseClient.isEvent))
      )
      expect(data(out)).toEqual(["finally"])
      const reasons = out.filter((e): e is SseClient.Closed => e._tag === "Closed").map((c) => c.reason)
      expect(reasons.map((r) => r._tag)).toEqual(["IdleTimeout", "IdleTimeout"])
      expect(server.requests).toHaveLength(3)
    }))

  test("connectTimeout: a server that accepts the request and never answers is a drop, not a stall", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n === 0) return // the request is read, the answer never comes
        sseHead(res)
        res.end("data: answered\n\n")
      })
      const out = yield* collect(
        SseClient.connect(server.url, { ...fast, connectTimeout: "200 millis" }).pipe(
          Stream.takeUntil(SseClient.isEvent)
        )
      )
      expect(data(out)).toEqual(["answered"])
      const reasons = out.filter((e): e is SseClient.Closed => e._tag === "Closed").map((c) => c.reason._tag)
      expect(reasons).toEqual(["IdleTimeout"])
      expect(server.requests).toHaveLength(2)
    }))

  test("heartbeat comments keep an idle-timeout connection alive", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n > 0) return res.writeHead(204).end()
        sseHead(res)
        let i = 0
        const timer = setInterval(() => {
          i++
          if (i < 6) res.write(": ping\n\n")
          else {
            clearInterval(timer)
            res.end("data: done\n\n")
          }
        }, 50)
        res.on("close", () => clearInterval(timer))
      })
      const out = yield* collect(SseClient.connect(server.url, { ...fast, idleTimeout: "500 millis" }))
      expect(data(out)).toEqual(["done"])
      expect(out.some((e) => e._tag === "Closed" && e.reason._tag === "IdleTimeout")).toBe(false)
    }))

  test("exactly-once, in-order delivery across 50 forced drops", () =>
    Effect.gen(function*() {
      const total = 150
      const server = yield* nodeServer((req, res, n) => {
        const from = Number(req.headers["last-event-id"] ?? "0") + 1
        if (from > total) return res.writeHead(204).end()
        sseHead(res)
        const to = Math.min(total, from + 2)
        // cut the next event mid-field or mid-line, or right after its data line
        const partial = [`id: ${to + 1}\nda`, `id: ${to + 1}\ndata: event ${to + 1}`, `id: ${to + 1}\ndata: x\n`][n % 3]
        dropAfter(res, (n === 0 ? "retry: 1\n" : "") + numbered(from, to) + partial)
      })
      const out = yield* collect(SseClient.events(server.url))
      expect(out.map((e) => e.data)).toEqual(Array.from({ length: total }, (_, i) => `event ${i + 1}`))
      expect(out.map((e) => e.lastEventId)).toEqual(Array.from({ length: total }, (_, i) => `${i + 1}`))
      expect(server.requests.length).toBeGreaterThanOrEqual(51)
    }))

  test("closing = interrupting: the request is aborted and the server sees the close", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        sseHead(res)
        res.write("data: first\n\n")
        const timer = setInterval(() => res.write(": ping\n\n"), 20)
        res.on("close", () => clearInterval(timer))
      })
      const out = yield* collect(SseClient.events(server.url).pipe(Stream.take(1)))
      expect(out.map((e) => e.data)).toEqual(["first"])
      yield* Deferred.await(server.requests[0]!.closed).pipe(Effect.timeout("3 seconds"))

      // interrupting the fiber works the same way
      const fiber = yield* Effect.fork(Stream.runDrain(SseClient.events(server.url)))
      while (server.requests.length < 2) yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(fiber)
      yield* Deferred.await(server.requests[1]!.closed).pipe(Effect.timeout("3 seconds"))
    }))

  test("interrupting while waiting to reconnect leaves nothing running", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        sseHead(res)
        dropAfter(res, "data: a\n\n")
      })
      const fiber = yield* Effect.fork(Stream.runCollect(SseClient.connect(server.url, { retry: "10 seconds" })))
      while (server.requests.length < 1) yield* Effect.sleep("5 millis")
      yield* Effect.sleep("100 millis")
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(server.requests).toHaveLength(1)
    }))

  test("consecutive failures back off; the schedule giving up fails with ConnectionLost and the last cause", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n === 0) {
          sseHead(res)
          return dropAfter(res, "retry: 10\nid: 1\ndata: a\n\n")
        }
        res.socket?.destroy() // fails before any response
      })
      const elements: Array<SseClient.Element> = []
      const error = yield* Effect.flip(
        SseClient.connect(server.url, {
          reconnect: Reconnect.backoff({ jitter: false, maxAttempts: 3 })
        }).pipe(Stream.runForEach((e) => Effect.sync(() => elements.push(e))), Effect.timeout("5 seconds"))
      )
      const retrying = elements.filter((e): e is SseClient.Retrying => e._tag === "Retrying")
      expect(retrying.map((r) => [r.attempt, Duration.toMillis(r.delay)])).toEqual([[1, 10], [2, 20], [3, 40]])
      expect(error._tag).toBe("ConnectionLost")
      if (error._tag !== "ConnectionLost") return
      expect(error.attempts).toBe(3)
      expect(error.lastEventId).toBe("1")
      expect(error.cause._tag).toBe("RequestError")
      expect(server.requests.length).toBe(4)
    }))

  test("a healthy connection resets the schedule", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res, n) => {
        if (n >= 4) return res.writeHead(204).end()
        sseHead(res)
        dropAfter(res, `retry: 5\nid: ${n}\ndata: ${n}\n\n`)
      })
      const out = yield* collect(
        SseClient.connect(server.url, { reconnect: Reconnect.backoff({ jitter: false, maxAttempts: 1 }) })
      )
      const retrying = out.filter((e): e is SseClient.Retrying => e._tag === "Retrying")
      expect(retrying.map((r) => [r.attempt, Duration.toMillis(r.delay)])).toEqual([[1, 5], [1, 5], [1, 5], [1, 5]])
      expect(data(out)).toEqual(["0", "1", "2", "3"])
    }))

  test("POST: body and headers sent, the end of the body ends the stream, no retry by default", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        sseHead(res)
        res.end("data: tok1\n\ndata: tok2\n\n")
      })
      const request = HttpClientRequest.post(`${server.url}/chat`).pipe(
        HttpClientRequest.setHeader("x-api-key", "k"),
        HttpClientRequest.bodyUnsafeJson({ prompt: "hi" })
      )
      const out = yield* collect(request.pipe(SseClient.events))
      expect(out.map((e) => e.data)).toEqual(["tok1", "tok2"])
      expect(server.requests).toHaveLength(1)
      const seen = server.requests[0]!
      expect([seen.method, seen.body, seen.headers["x-api-key"], seen.headers["accept"]]).toEqual([
        "POST",
        "{\"prompt\":\"hi\"}",
        "k",
        "text/event-stream"
      ])
    }))

  test("POST: a drop fails with ConnectionLost (not retried) unless the user opts in", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((req, res) => {
        sseHead(res)
        if (req.headers["last-event-id"] === "1") return res.end("id: 2\ndata: tok2\n\n")
        dropAfter(res, "id: 1\ndata: tok1\n\n")
      })
      const request = HttpClientRequest.post(server.url).pipe(HttpClientRequest.bodyUnsafeJson({ prompt: "hi" }))
      const error = yield* Effect.flip(collect(SseClient.events(request)))
      expect(error).toMatchObject({ _tag: "ConnectionLost", attempts: 0, lastEventId: "1", method: "POST" })
      expect(server.requests).toHaveLength(1)

      const resumed = yield* collect(
        SseClient.events(request, {
          reconnect: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(1)))
        }).pipe(Stream.take(2))
      )
      expect(resumed.map((e) => e.data)).toEqual(["tok1", "tok2"])
      expect(server.requests.slice(1).map((r) => [r.method, r.body])).toEqual([
        ["POST", "{\"prompt\":\"hi\"}"],
        ["POST", "{\"prompt\":\"hi\"}"]
      ])
    }))

  test("a refused connection is a drop: reconnected, then ConnectionLost", () =>
    Effect.gen(function*() {
      // a port nobody listens on: take one from a server, then close it
      const url = yield* Effect.scoped(Effect.map(nodeServer(() => undefined), (s) => s.url))
      const error = yield* Effect.flip(
        collect(SseClient.events(url, { reconnect: Schedule.recurs(2).pipe(Schedule.addDelay(() => "5 millis")) }))
      )
      expect(error).toMatchObject({ _tag: "ConnectionLost", attempts: 2 })
      if (error._tag === "ConnectionLost") expect(error.cause._tag).toBe("RequestError")
    }))

  test("a line over maxLineLength fails with LineTooLong (not retried)", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        sseHead(res)
        res.end(`data: ${"x".repeat(100)}\n\n`)
      })
      const error = yield* Effect.flip(collect(SseClient.events(server.url, { ...fast, maxLineLength: 50 })))
      expect(error._tag).toBe("LineTooLong")
      expect(server.requests).toHaveLength(1)
    }))

  test("typed payloads: one Schema, or one per event type", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        sseHead(res)
        res.end(
          "event: token\ndata: {\"text\":\"Hel\"}\n\nevent: token\ndata: {\"text\":\"lo\"}\n\n" +
            "event: other\ndata: ignored\n\nevent: done\ndata: {\"tokens\":2}\n\n"
        )
      })
      const Token = Schema.parseJson(Schema.Struct({ text: Schema.String }))
      const Done = Schema.parseJson(Schema.Struct({ tokens: Schema.Number }))
      const typed = yield* collect(SseClient.schemas(server.url, { token: Token, done: Done }, { reconnect: false }))
      expect(typed).toEqual([
        { type: "token", data: { text: "Hel" }, lastEventId: "" },
        { type: "token", data: { text: "lo" }, lastEventId: "" },
        { type: "done", data: { tokens: 2 }, lastEventId: "" }
      ])
      const tokens = yield* collect(
        SseClient.events(server.url, { reconnect: false }).pipe(
          Stream.filter((e) => e.type === "token"),
          Sse.decodeSchema(Token)
        )
      )
      expect(tokens).toEqual([{ text: "Hel" }, { text: "lo" }])
      const bad = yield* Effect.either(collect(SseClient.schema(server.url, Token, { reconnect: false })))
      expect(Either.isLeft(bad) && bad.left._tag).toBe("InvalidEventData")
      const dataLast = yield* collect(
        HttpClientRequest.get(server.url).pipe(SseClient.schema(Schema.String, { reconnect: false }), Stream.take(1))
      )
      expect(dataLast).toEqual(["{\"text\":\"Hel\"}"])
    }))

  test("against an @effect/platform server (HttpServerResponse.stream + Sse.encode): resume by Last-Event-ID", () =>
    Effect.gen(function*() {
      const log = Array.from({ length: 10 }, (_, i) => Sse.unsafeEvent({ id: `${i + 1}`, data: `{"n":${i + 1}}` }))
      const url = yield* platformServer((lastEventId) => {
        const from = Number(lastEventId || "0")
        // each response carries at most 3 events, then ends: the client reconnects and resumes
        return from >= 10
          ? Stream.empty
          : Stream.fromIterable<Sse.SseMessage>([Sse.retry(1), ...log.slice(from, from + 3)])
      })
      const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))
      const out = yield* collect(SseClient.schema(url, Tick).pipe(Stream.take(10)))
      expect(out.map((t) => t.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    }))
})

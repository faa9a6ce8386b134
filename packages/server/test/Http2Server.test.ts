import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { Effect, Exit, Option, Ref, Schedule, Scope, Stream, Supervisor } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Http2 from "node:http2"
import * as Path from "node:path"
import * as Http2Server from "../src/Http2Server.js"
import { MemoryEventLog, NdjsonResponse, SseResponse } from "../src/index.js"
import { eventually } from "../src/testing.js"
import { connectH1, connectH2, serveH2, session } from "./http2Utils.js"
import { ioTurn, promise } from "./utils.js"

const certificate = await Effect.runPromise(
  Http2Server.devCertificate({ openssl: process.env["STREAMWIRE_OPENSSL"] || undefined })
)
afterAll(() => Fs.rmSync(Path.dirname(certificate.keyPath), { recursive: true, force: true }))

const ev = (data: string, type?: string, id?: string) => Sse.unsafeEvent({ data, type, id })

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i))

describe("Http2Server", () => {
  it.effect("devCertificate: valid for localhost and the loopback addresses, reused while valid, remade for other hosts; a typed error without openssl", () =>
    Effect.gen(function*() {
      const dir = Path.join(Path.dirname(certificate.keyPath), "reuse")
      const openssl = process.env["STREAMWIRE_OPENSSL"] || undefined
      const a = yield* Http2Server.devCertificate({ dir, openssl })
      const x509 = new Crypto.X509Certificate(a.cert)
      expect(x509.checkHost("localhost")).toBe("localhost")
      expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1")
      expect(x509.checkIP("::1")).toBe("::1")
      expect(Fs.statSync(a.keyPath).mode & 0o777).toBe(0o600)
      const b = yield* Http2Server.devCertificate({ dir, openssl })
      expect(b.cert).toBe(a.cert)
      const c = yield* Http2Server.devCertificate({ dir, openssl, hosts: ["streamwire.test"] })
      expect(c.cert).not.toBe(a.cert)
      expect(new Crypto.X509Certificate(c.cert).checkHost("streamwire.test")).toBe("streamwire.test")
      const error = yield* Effect.flip(
        Http2Server.devCertificate({ dir: Path.join(dir, "none"), openssl: "/nonexistent/openssl" })
      )
      expect(error._tag).toBe("DevCertificateError")
      expect(error.message).toContain("openssl command is not installed")
    }))

  describe("one port, both protocols, the header rules of each", () => {
    it.scopedLive("SSE: the same bytes over HTTP/2 and HTTP/1.1; Connection: keep-alive only on HTTP/1.1", () =>
      Effect.gen(function*() {
        const events = Stream.make(
          ev("hello"),
          ev("two\nlines", "greeting", "1"),
          Sse.comment("c"),
          ev("", undefined, "2")
        )
        const { counts, origin } = yield* serveH2(
          HttpRouter.empty.pipe(
            HttpRouter.get("/events", SseResponse.make(events, { retry: "2 seconds", headers: { "x-extra": "yes" } }))
          ),
          certificate
        )
        const s = yield* session(origin, certificate)
        const h2 = yield* connectH2(s, "/events")
        const h1 = yield* connectH1(`${origin}/events`, certificate)
        yield* promise(() => h2.waitForEnd())
        yield* promise(() => h1.waitForEnd())
        const expected = "retry: 2000\n" +
          "data: hello\n\n" +
          "id: 1\nevent: greeting\ndata: two\ndata: lines\n\n" +
          ": c\n" +
          "id: 2\ndata: \n\n"
        expect(h2.text).toBe(expected)
        expect(h1.text).toBe(expected)
        expect(h2.responseHeaders[":status"]).toBe(200)
        expect(h1.status).toBe(200)
        // every SSE header over both protocols, but the connection-specific ones over HTTP/1.1 only
        for (const [name, value] of Object.entries(SseResponse.headers)) {
          expect(h1.headers[name]).toBe(value)
          expect(h2.headers[name]).toBe(Http2Server.connectionHeaders.includes(name) ? undefined : value)
        }
        for (const headers of [h2.headers, h1.headers]) {
          expect(headers["content-type"]).toBe("text/event-stream; charset=utf-8")
          expect(headers["x-accel-buffering"]).toBe("no")
          expect(headers["x-extra"]).toBe("yes")
        }
        expect(h1.headers["connection"]).toBe("keep-alive")
        expect(h1.headers["transfer-encoding"]).toBe("chunked")
        for (const name of Http2Server.connectionHeaders) expect(h2.headers[name]).toBeUndefined()
        expect(counts.sessions).toBe(1) // the HTTP/1.1 request had its own TLS connection, no session
        expect(counts.connections).toBe(2)
      }))

    it.scopedLive("NDJSON: the same bytes over HTTP/2 and HTTP/1.1", () =>
      Effect.gen(function*() {
        const { origin } = yield* serveH2(
          HttpRouter.empty.pipe(HttpRouter.get("/rows", NdjsonResponse.make(Stream.make({ a: 1 }, [2, "x"], "é")))),
          certificate
        )
        const s = yield* session(origin, certificate)
        const h2 = yield* connectH2(s, "/rows")
        const h1 = yield* connectH1(`${origin}/rows`, certificate)
        yield* promise(() => h2.waitForEnd())
        yield* promise(() => h1.waitForEnd())
        expect(h2.text).toBe("{\"a\":1}\n[2,\"x\"]\n\"é\"\n")
        expect(h1.text).toBe(h2.text)
        expect(h2.headers["content-type"]).toBe("application/x-ndjson")
      }))

    it.scopedLive("every connection-specific header, whoever sets it, is left out on HTTP/2 and kept on HTTP/1.1; host from :authority", () =>
      Effect.gen(function*() {
        const { origin } = yield* serveH2(
          HttpRouter.empty.pipe(
            HttpRouter.get(
              "/url",
              Effect.map(
                HttpServerRequest.HttpServerRequest,
                (request) =>
                  HttpServerResponse.text(
                    Option.match(HttpServerRequest.toURL(request), { onNone: () => "-", onSome: String }),
                    {
                      headers: {
                        "Keep-Alive": "timeout=5",
                        "Proxy-Connection": "keep-alive",
                        "Upgrade": "h2c",
                        "x-kept": "1"
                      }
                    }
                  )
              )
            )
          ),
          certificate
        )
        const s = yield* session(origin, certificate)
        const h2 = yield* connectH2(s, "/url")
        const h1 = yield* connectH1(`${origin}/url`, certificate)
        yield* promise(() => h2.waitForEnd())
        yield* promise(() => h1.waitForEnd())
        expect(h2.headers[":status"]).toBe(200)
        expect(h2.headers["x-kept"]).toBe("1")
        for (const name of Http2Server.connectionHeaders) expect(h2.headers[name]).toBeUndefined()
        expect(h1.headers["keep-alive"]).toBe("timeout=5")
        expect(h1.headers["proxy-connection"]).toBe("keep-alive")
        // the URL the app sees is the same over both (HTTP/2 sends :authority, not host)
        expect(h2.text).toBe(`http://127.0.0.1:${new URL(origin).port}/url`)
        expect(h1.text).toBe(h2.text)
      }))
  })

  describe("disconnects", () => {
    it.scopedLive("a stream reset ends that stream alone; a session closed, or sent a GOAWAY with an error, ends all of its streams; subscriptions, finalizers and fibers return to zero", () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make()
        const finalized = yield* Ref.make(0)
        const supervisor = yield* Supervisor.track
        const { counts, origin } = yield* serveH2(
          HttpRouter.empty.pipe(
            HttpRouter.get("/log", SseResponse.fromEventLog(log, { heartbeat: "20 millis" })),
            HttpRouter.get(
              "/own",
              SseResponse.make(
                Stream.fromSchedule(Schedule.spaced("10 millis")).pipe(
                  Stream.map((n) => ev(String(n))),
                  Stream.ensuring(Ref.update(finalized, (n) => n + 1))
                ),
                { heartbeat: "20 millis" }
              )
            )
          ),
          certificate
        ).pipe(Effect.supervised(supervisor)) // every request fiber and its children
        const open = (s: Http2.ClientHttp2Session) =>
          Effect.forEach(["/log", "/own", "/log", "/own"], (path) => connectH2(s, path), { concurrency: "unbounded" })
        const [a, b, c] = yield* Effect.all([
          session(origin, certificate),
          session(origin, certificate),
          session(origin, certificate)
        ])
        const clients = [...yield* open(a), ...yield* open(b), ...yield* open(c)]
        expect(counts.openSessions).toBe(3)
        yield* eventually(log.subscriberCount, (n) => n === 6)
        yield* log.append({ data: "x" })
        yield* Effect.forEach(clients, (client) => promise(() => client.waitForEvents(1)), { discard: true })
        expect((yield* supervisor.value).length).toBeGreaterThan(0)

        // RST_STREAM (CANCEL) on two streams of session a: those two end, the others keep flowing
        clients[0]!.close()
        clients[1]!.close()
        yield* eventually(log.subscriberCount, (n) => n === 5, 3000, "5 subscriptions")
        yield* eventually(Ref.get(finalized), (n) => n === 1, 3000, "1 finalizer")
        const before = clients[3]!.eventCount
        yield* promise(() => clients[3]!.waitForEvents(before + 3))
        yield* log.append({ data: "y" })
        yield* promise(() => clients[2]!.waitForEvents(2))

        // session b: its TCP connection closed (no GOAWAY): all four streams end
        b.destroy()
        yield* eventually(log.subscriberCount, (n) => n === 3, 3000, "3 subscriptions")
        yield* eventually(Ref.get(finalized), (n) => n === 3, 3000, "3 finalizers")

        // session c: a GOAWAY with an error code: the server ends the session and its streams
        c.goaway(Http2.constants.NGHTTP2_PROTOCOL_ERROR)
        yield* eventually(log.subscriberCount, (n) => n === 1, 3000, "1 subscription")
        yield* eventually(Ref.get(finalized), (n) => n === 5, 3000, "5 finalizers")
        yield* eventually(Effect.sync(() => counts.openSessions), (n) => n === 1, 3000, "one session left")

        // session a: the last two streams reset; then nothing is left on the server
        clients[2]!.close()
        clients[3]!.close()
        yield* eventually(log.subscriberCount, (n) => n === 0, 3000, "no subscriptions")
        yield* eventually(Ref.get(finalized), (n) => n === 6, 3000, "6 finalizers")
        yield* eventually(Effect.map(supervisor.value, (fibers) => fibers.length), (n) => n === 0, 3000, "no fibers")
      }))

    it.scopedLive("SseResponse.abort cuts that stream alone (RST_STREAM after what was written), not the connection its neighbours share", () =>
      Effect.gen(function*() {
        const three = Stream.make(1, 2, 3).pipe(Stream.map((n) => ev(String(n), undefined, String(n))))
        const { counts, origin } = yield* serveH2(
          HttpRouter.empty.pipe(
            HttpRouter.get("/cut", SseResponse.make(Stream.concat(three, SseResponse.abort), { heartbeat: false })),
            HttpRouter.get(
              "/ticks",
              SseResponse.make(Stream.fromSchedule(Schedule.spaced("20 millis")).pipe(Stream.map((n) => ev(String(n)))))
            )
          ),
          certificate
        )
        const s = yield* session(origin, certificate)
        const neighbour = yield* connectH2(s, "/ticks")
        yield* promise(() => neighbour.waitForEvents(2))
        const cut = yield* connectH2(s, "/cut")
        yield* promise(() => cut.waitForEnd())
        expect(cut.events().map((e) => e.data)).toEqual(["1", "2", "3"])
        expect(cut.stream.rstCode).not.toBe(Http2.constants.NGHTTP2_NO_ERROR) // reset, not ended cleanly
        const before = neighbour.eventCount
        yield* promise(() => neighbour.waitForEvents(before + 3))
        expect(s.destroyed).toBe(false)
        expect(counts.sessions).toBe(1)
        // and over HTTP/1.1 on the same server: the connection is cut after the three events
        const h1 = yield* connectH1(`${origin}/cut`, certificate)
        yield* promise(() => h1.waitForEnd())
        expect(h1.events().map((e) => e.data)).toEqual(["1", "2", "3"])
      }))

    it.scopedLive("shutdown: closing the server sends a GOAWAY to every session, ends its streams (finalizers run) and completes", () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make()
        const scope = yield* Scope.make()
        const { counts, origin } = yield* serveH2(
          HttpRouter.empty.pipe(HttpRouter.get("/log", SseResponse.fromEventLog(log))),
          certificate
        ).pipe(Scope.extend(scope))
        const s = yield* session(origin, certificate)
        let goaway = -1
        s.on("goaway", (code) => (goaway = code))
        const clients = yield* Effect.forEach([1, 2, 3], () => connectH2(s, "/log"))
        const h1 = yield* connectH1(`${origin}/log`, certificate)
        yield* eventually(log.subscriberCount, (n) => n === 4)
        yield* log.append({ data: "x" })
        yield* Effect.forEach([...clients, h1], (client) => promise(() => client.waitForEvents(1)), { discard: true })
        yield* Scope.close(scope, Exit.void).pipe(
          Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "shutdown hung" })
        )
        yield* eventually(log.subscriberCount, (n) => n === 0, 3000, "no subscriptions")
        yield* Effect.forEach([...clients, h1], (client) => promise(() => client.waitForEnd()), { discard: true })
        yield* eventually(
          Effect.sync(() => goaway),
          (code) => code === Http2.constants.NGHTTP2_NO_ERROR,
          3000,
          "a GOAWAY"
        )
        expect(counts.openSessions).toBe(0)
        yield* eventually(Effect.sync(() => counts.openConnections), (n) => n === 0, 3000, "no connections")
      }))
  })

  describe("as over HTTP/1.1", () => {
    it.scopedLive("heartbeats, on any Schedule; none when turned off", () =>
      Effect.gen(function*() {
        const { origin } = yield* serveH2(
          HttpRouter.empty.pipe(
            HttpRouter.get("/on", SseResponse.make(Stream.never, { heartbeat: Schedule.spaced("30 millis") })),
            HttpRouter.get("/off", SseResponse.make(Stream.never, { heartbeat: false }))
          ),
          certificate
        )
        const s = yield* session(origin, certificate)
        const on = yield* connectH2(s, "/on")
        const off = yield* connectH2(s, "/off")
        yield* promise(() => on.waitFor((c) => c.text.length >= 6, 3000, "three heartbeats"))
        expect(on.text.startsWith(":\n:\n:\n")).toBe(true)
        expect(off.text).toBe("")
      }))

    it.scopedLive("resume: read k events, reset the stream, a new stream on the same session with Last-Event-ID gets the rest exactly once", () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make()
        const { counts, origin } = yield* serveH2(
          HttpRouter.empty.pipe(HttpRouter.get("/events", SseResponse.fromEventLog(log))),
          certificate
        )
        const s = yield* session(origin, certificate)
        const first = yield* connectH2(s, "/events")
        yield* eventually(log.subscriberCount, (n) => n === 1)
        for (let i = 1; i <= 10; i++) yield* log.append({ type: "n", data: String(i) })
        yield* promise(() => first.waitForEvents(4))
        first.close()
        const seen = first.events().slice(0, 4)
        expect(seen.map((e) => e.data)).toEqual(range(1, 4))
        yield* eventually(log.subscriberCount, (n) => n === 0)
        for (let i = 11; i <= 12; i++) yield* log.append({ type: "n", data: String(i) })
        const again = yield* connectH2(s, "/events", { headers: { "last-event-id": seen[3]!.lastEventId } })
        yield* promise(() => again.waitForEvents(8))
        yield* log.append({ type: "n", data: "13" })
        yield* promise(() => again.waitForEvents(9))
        expect(again.events().map((e) => e.data)).toEqual(range(5, 13))
        expect(counts.sessions).toBe(1)
      }))

    it.scopedLive(
      "slow clients on one session: a stalled stream is dropped (disconnect), another keeps its newest events (drop-oldest), a third one reading is not held up",
      () =>
        Effect.gen(function*() {
          const log = yield* MemoryEventLog.make({ maxEvents: 50 })
          const { origin } = yield* serveH2(
            HttpRouter.empty.pipe(
              HttpRouter.get("/events", SseResponse.fromEventLog(log, { bufferSize: 32, heartbeat: false })),
              HttpRouter.get(
                "/latest",
                SseResponse.fromEventLog(log, { bufferSize: 16, onSlowClient: "drop-oldest", heartbeat: false })
              )
            ),
            certificate
          )
          const s = yield* session(origin, certificate)
          const fast = yield* connectH2(s, "/events", { truncateData: 8 })
          const stalled = yield* connectH2(s, "/events", { paused: true, truncateData: 8 }) // never reads
          const slow = yield* connectH2(s, "/latest", { paused: true, truncateData: 8 })
          yield* eventually(log.subscriberCount, (n) => n === 3)
          const payload = "x".repeat(16 * 1024)
          const total = 600 // 9.6 MiB: far more than the stream windows (64 KiB) and the buffers
          for (let i = 1; i <= total; i++) {
            yield* log.append({ data: `${i} ${payload}` })
            yield* ioTurn
            if (i % 50 === 0) yield* promise(() => fast.waitForEvents(i - 40, 10_000))
          }
          yield* promise(() => fast.waitForEvents(total, 10_000))
          expect(fast.events().map((e) => Number(e.data.split(" ")[0]))).toEqual(range(1, total).map(Number))
          // the stalled stream was dropped, the drop-oldest one is still there
          yield* eventually(log.subscriberCount, (n) => n === 2, 5000, "the stalled subscription to be dropped")

          // the stalled client, reading again, finds the end after what was buffered, in order
          stalled.stream.resume()
          yield* promise(() => stalled.waitForEnd(10_000))
          const got = stalled.events().map((e) => Number(e.data.split(" ")[0]))
          expect(got.length).toBeGreaterThan(0)
          expect(got.length).toBeLessThan(total)
          expect(got).toEqual(range(1, got.length).map(Number))

          // the slow one gets some, in order, up to the newest
          slow.stream.resume()
          yield* promise(() =>
            slow.waitFor((c) => c.events().some((e) => e.data.startsWith(`${total} `)), 10_000, "the last event")
          )
          const numbers = slow.events().map((e) => Number(e.data.split(" ")[0]))
          expect(numbers.length).toBeLessThan(total)
          expect([...numbers].sort((a, b) => a - b)).toEqual(numbers)
          expect(yield* log.subscriberCount).toBe(2)
        }),
      60_000
    )
  })
})

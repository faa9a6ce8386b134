/**
 * HTTP/2 end to end: our `SseClient` on undici with `allowH2` multiplexes its streams over one
 * connection (and resumes over it after a stream reset); headless Chromium holds 12 `EventSource`s
 * of one page over one HTTP/2 connection, where HTTP/1.1 serves 6 and leaves the rest waiting.
 * A self-signed certificate is made for the run (`Http2Server.devCertificate`, openssl) and trusted
 * by its SPKI hash (Chromium) or as a CA (undici).
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Undici from "@effect/platform-node/Undici"
import { SseClient } from "@streamwire/client"
import { Sse } from "@streamwire/codec"
import { MemoryEventLog, SseResponse } from "@streamwire/server"
import * as Http2Server from "@streamwire/server/Http2Server"
import { Chunk, Effect, Exit, Fiber, Layer, Schedule, Scope, Stream } from "effect"
import * as Fs from "node:fs"
import type * as Http from "node:http"
import * as Http2 from "node:http2"
import * as Https from "node:https"
import * as Path from "node:path"
import type * as Tls from "node:tls"
import { afterAll, describe, expect, it } from "vitest"
import * as Browser from "../src/Browser.js"
import { sleep, waitFor } from "../src/util.js"

const certificate = await Effect.runPromise(Http2Server.devCertificate())
afterAll(() => Fs.rmSync(Path.dirname(certificate.keyPath), { recursive: true, force: true }))

interface Seen {
  readonly url: string
  /** Which HTTP/2 session (connection) carried it, numbered from 1 in order of arrival; 0 on HTTP/1.1. */
  readonly session: number
  readonly httpVersion: string
  readonly lastEventId: string | undefined
}

/**
 * The app on `Http2Server.createServer` ("h2": HTTP/2, and HTTP/1.1 for clients without it) or on
 * `node:https` ("h1": HTTP/1.1 only), on 127.0.0.1 over TLS; what it saw, and a way to reset the
 * open requests from the server side.
 */
const start = async <A>(protocol: "h2" | "h1", build: Effect.Effect<readonly [HttpApp.Default<unknown, Scope.Scope>, A], never, Scope.Scope>) => {
  const scope = Effect.runSync(Scope.make())
  const tls = { key: certificate.key, cert: certificate.cert }
  const node = protocol === "h2" ? Http2Server.createServer(tls) : Https.createServer(tls)
  const counts = { sessions: 0, connections: 0 }
  const seen: Array<Seen> = []
  const open = new Set<Http.IncomingMessage | Http2.Http2ServerRequest>()
  const sessionIds = new WeakMap<Http2.Http2Session, number>()
  node.on("session", (session: Http2.Http2Session) => sessionIds.set(session, ++counts.sessions))
  node.on("secureConnection", (_: Tls.TLSSocket) => counts.connections++)
  node.on("request", (req: Http.IncomingMessage | Http2.Http2ServerRequest, res: Http.ServerResponse | Http2.Http2ServerResponse) => {
    const session = "stream" in req ? sessionIds.get(req.stream.session!) ?? -1 : 0
    seen.push({ url: req.url ?? "", session, httpVersion: req.httpVersion, lastEventId: req.headers["last-event-id"] as string | undefined })
    open.add(req)
    res.on("close", () => open.delete(req))
  })
  const [value, port] = await Effect.runPromise(
    Effect.gen(function*() {
      const [app, value] = yield* build
      const server = protocol === "h2"
        ? yield* Http2Server.make(() => node as Http2.Http2SecureServer, { port: 0, host: "127.0.0.1" })
        : yield* NodeHttpServer.make(() => node as unknown as Http.Server, { port: 0, host: "127.0.0.1" })
      yield* server.serve(app)
      if (server.address._tag !== "TcpAddress") throw new Error("expected a TCP address")
      return [value, server.address.port] as const
    }).pipe(Scope.extend(scope))
  )
  return {
    origin: `https://127.0.0.1:${port}`,
    value,
    counts,
    seen,
    /** Resets every open request (RST_STREAM on HTTP/2, the socket on HTTP/1.1); how many. */
    reset: () => {
      const n = open.size
      for (const req of open) {
        if ("stream" in req) req.stream.close(Http2.constants.NGHTTP2_CANCEL)
        else req.socket.destroy()
      }
      return n
    },
    close: async () => {
      if (protocol === "h1") (node as Https.Server).closeAllConnections()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }
}

describe("SseClient over HTTP/2 (undici, allowH2)", () => {
  it("8 streams of one client share ONE connection; after the server resets them all, each resumes over it with Last-Event-ID, every event exactly once, in order", async () => {
    const server = await start(
      "h2",
      Effect.map(MemoryEventLog.make(), (log) =>
        [HttpRouter.empty.pipe(HttpRouter.get("/events", SseResponse.fromEventLog(log, { retry: "100 millis" }))), log] as const)
    )
    try {
      const log = server.value
      // undici with HTTP/2 allowed (ALPN offers h2), trusting the test certificate. undici 7 runs one
      // request at a time per connection unless `pipelining` says more, HTTP/2 or not; and a burst of
      // requests opens a connection each while the first is still connecting, unless `connections`
      // bounds them. Both are right for an origin known to speak HTTP/2 (over HTTP/1.1 a stream would
      // wait behind another for ever).
      const HttpClientLive = NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
        Layer.provide(Layer.scoped(
          NodeHttpClient.Dispatcher,
          Effect.acquireRelease(
            Effect.sync(() => new Undici.Agent({ allowH2: true, connections: 1, pipelining: 100, connect: { ca: certificate.cert } })),
            (agent) => Effect.promise(() => agent.destroy())
          )
        ))
      )
      const streams = 8
      const total = 20
      const received = await Effect.runPromise(
        Effect.gen(function*() {
          const fibers = yield* Effect.forEach(
            Array.from({ length: streams }, (_, i) => i),
            (i) =>
              SseClient.events(`${server.origin}/events?client=${i}`).pipe(
                Stream.take(total),
                Stream.map((e) => e.data),
                Stream.runCollect,
                Effect.map(Chunk.toReadonlyArray),
                Effect.fork
              )
          )
          yield* Effect.promise(() => waitFor(() => Effect.runSync(log.subscriberCount) === streams))
          for (let n = 1; n <= 10; n++) yield* log.append({ data: String(n) })
          yield* Effect.promise(() => waitFor(() => server.seen.length === streams && Effect.runSync(log.subscriberCount) === streams))
          yield* Effect.sleep("200 millis") // let the ten events reach the clients (a reset discards what is unread)
          expect(server.reset()).toBe(streams)
          yield* Effect.promise(() =>
            waitFor(() => server.seen.length === 2 * streams && Effect.runSync(log.subscriberCount) === streams, {
              timeout: 15_000,
              message: () => `${server.seen.length} requests, ${Effect.runSync(log.subscriberCount)} subscriptions`
            })
          )
          for (let n = 11; n <= total; n++) yield* log.append({ data: String(n) })
          return yield* Fiber.joinAll(fibers)
        }).pipe(Effect.timeout("60 seconds"), Effect.provide(HttpClientLive))
      )
      const expected = Array.from({ length: total }, (_, i) => String(i + 1))
      for (const data of received) expect(data).toEqual(expected)
      // one TLS connection, one HTTP/2 session, 16 HTTP/2 requests (8 of them resuming)
      expect(server.counts).toEqual({ sessions: 1, connections: 1 })
      expect(server.seen.length).toBe(2 * streams)
      expect(server.seen.every((r) => r.httpVersion === "2.0")).toBe(true)
      expect(server.seen.filter((r) => r.lastEventId !== undefined).length).toBe(streams)
    } finally {
      await server.close()
    }
  }, 90_000)
})

interface PageCounts {
  readonly events: ReadonlyArray<number>
  readonly states: ReadonlyArray<number>
}

/** The page: 12 EventSources to /ticks, a table of what each received. */
const page = (sources: number, protocol: string) => `<!doctype html><meta charset="utf-8"><title>12 EventSources</title>
<style>body{font:15px system-ui,sans-serif;margin:24px}td,th{padding:4px 14px;border-bottom:1px solid #ddd;text-align:left}
.open{color:#080}.waiting{color:#b60}</style>
<h1>${protocol} over TLS: ${sources} EventSources to one origin</h1><p id="summary"></p><p id="server"></p><table><thead><tr><th>EventSource</th><th>state</th><th>events</th></tr></thead><tbody id="rows"></tbody></table>
<script>
  const names = ["CONNECTING", "OPEN", "CLOSED"]
  const events = new Array(${sources}).fill(0)
  const sources = []
  const render = () => {
    const receiving = events.filter((n) => n > 0).length
    document.getElementById("summary").textContent = receiving + " of ${sources} receive events"
    document.getElementById("rows").innerHTML = sources.map((es, i) =>
      '<tr class="' + (events[i] > 0 ? "open" : "waiting") + '"><td>#' + (i + 1) + '</td><td>' + names[es.readyState] +
      '</td><td>' + events[i] + '</td></tr>').join("")
  }
  for (let i = 0; i < ${sources}; i++) {
    const es = new EventSource("/ticks?source=" + i)
    es.onmessage = () => { events[i]++; render() }
    es.onopen = render
    sources.push(es)
  }
  window.counts = () => ({ events: events.slice(), states: sources.map((es) => es.readyState) })
  render()
</script>`

describe("headless Chromium: 12 EventSources on one page", () => {
  const ticks = HttpRouter.empty.pipe(
    HttpRouter.get(
      "/ticks",
      SseResponse.make(
        Stream.fromSchedule(Schedule.spaced("200 millis")).pipe(Stream.map((n) => Sse.unsafeEvent({ data: String(n) })))
      )
    )
  )
  const sources = 12

  const run = async (protocol: "h2" | "h1", browser: Browser.Browser) => {
    const server = await start(protocol, Effect.succeed([ticks, undefined] as const))
    const tab = await browser.context.newPage()
    try {
      // the page itself is fulfilled by the browser (the server never sees it): only the streams go out
      await tab.route(server.origin + "/", (route) =>
        route.fulfill({ contentType: "text/html; charset=utf-8", body: page(sources, protocol === "h2" ? "HTTP/2" : "HTTP/1.1") }))
      await tab.goto(server.origin + "/")
      const counts = () => tab.evaluate("window.counts()") as Promise<PageCounts>
      const receiving = async () => (await counts()).events.filter((n) => n >= 3).length
      const expected = protocol === "h2" ? sources : 6
      await waitFor(async () => (await receiving()) >= expected, {
        timeout: 30_000,
        message: () => `${expected} EventSources receiving`
      })
      // time enough for any more to get a connection (none does over HTTP/1.1): 10 more ticks
      await sleep(2_000)
      const final = await counts()
      const server_ = `server: ${server.counts.connections} TLS connection(s), ${server.counts.sessions} HTTP/2 session(s), ${server.seen.length} stream request(s)`
      await tab.evaluate(`document.getElementById("server").textContent = ${JSON.stringify(server_)}`)
      const file = Path.join(Browser.artifactsDir(), `http2-eventsource-${protocol}.png`)
      Fs.rmSync(file, { force: true })
      await tab.screenshot({ path: file, fullPage: true })
      return { final, counts: { ...server.counts }, seen: [...server.seen], file }
    } finally {
      await tab.close()
      await server.close()
    }
  }

  it("over HTTP/1.1 exactly 6 receive events and 6 stay pending; over HTTP/2 all 12 do, all on one connection", async () => {
    const browser = await Browser.launch([`--ignore-certificate-errors-spki-list=${certificate.spki}`])
    try {
      const h1 = await run("h1", browser)
      const h2 = await run("h2", browser)
      console.log(
        `HTTP/1.1: ${h1.final.events.filter((n) => n > 0).length} of ${sources} EventSources received events ` +
          `(events ${h1.final.events.join(",")}; ${h1.counts.connections} TLS connections, ${h1.seen.length} requests)\n` +
          `HTTP/2: ${h2.final.events.filter((n) => n > 0).length} of ${sources} ` +
          `(events ${h2.final.events.join(",")}; ${h2.counts.connections} TLS connections, ${h2.counts.sessions} sessions, ${h2.seen.length} requests on sessions ${h2.seen.map((r) => r.session).join(",")})`
      )
      // HTTP/1.1: six connections, six streams; the other six never reached the server
      expect(h1.final.events.filter((n) => n > 0).length).toBe(6)
      expect(h1.final.events.filter((n) => n === 0).length).toBe(6)
      expect(h1.final.states.filter((s) => s === 1).length).toBe(6) // OPEN
      expect(h1.final.states.filter((s) => s === 0).length).toBe(6) // CONNECTING, for ever
      expect(h1.seen.length).toBe(6)
      expect(h1.seen.every((r) => r.httpVersion === "1.1")).toBe(true)
      expect(h1.counts.connections).toBe(6)
      // HTTP/2: twelve streams on one connection
      expect(h2.final.events.every((n) => n > 0)).toBe(true)
      expect(h2.final.states.every((s) => s === 1)).toBe(true)
      expect(h2.seen.length).toBe(sources)
      expect(h2.seen.every((r) => r.httpVersion === "2.0")).toBe(true)
      // Chromium may open a second connection that carries nothing (a speculative preconnect)
      expect(new Set(h2.seen.map((r) => r.session)).size).toBe(1)
      for (const { file } of [h1, h2]) expect(Fs.statSync(file).size).toBeGreaterThan(10_000)
    } finally {
      await browser.close()
    }
  }, 120_000)
})

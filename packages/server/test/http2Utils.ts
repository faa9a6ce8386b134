import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"
import * as Http2 from "node:http2"
import * as Https from "node:https"
import type * as Tls from "node:tls"
import * as Http2Server from "../src/Http2Server.js"
import { type OpenOptions, RawClient } from "../src/internal/testing/rawClient.js"

/** What the server saw: HTTP/2 sessions and TLS connections (either protocol) opened so far, and open now. */
export interface Counts {
  sessions: number
  openSessions: number
  connections: number
  openConnections: number
}

/**
 * Serves the app on `Http2Server.createServer` (HTTP/2 and HTTP/1.1 over TLS) on 127.0.0.1, a free
 * port, for the scope; gives the origin and live counts of sessions and connections.
 */
export const serveH2 = <E, R>(app: HttpApp.Default<E, R>, certificate: Http2Server.DevCertificate) =>
  Effect.gen(function*() {
    const counts: Counts = { sessions: 0, openSessions: 0, connections: 0, openConnections: 0 }
    const node = Http2Server.createServer({ key: certificate.key, cert: certificate.cert })
    node.on("session", (session: Http2.ServerHttp2Session) => {
      counts.sessions++
      counts.openSessions++
      session.once("close", () => counts.openSessions--)
    })
    node.on("secureConnection", (socket: Tls.TLSSocket) => {
      counts.connections++
      counts.openConnections++
      socket.once("close", () => counts.openConnections--)
    })
    const server = yield* Http2Server.make(() => node, { port: 0, host: "127.0.0.1" })
    yield* server.serve(app)
    const address = server.address
    if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
    return { origin: `https://127.0.0.1:${address.port}`, counts, node }
  }) as Effect.Effect<
    { readonly origin: string; readonly counts: Counts; readonly node: Http2.Http2SecureServer },
    never,
    Scope.Scope | Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>
  >

/** A client HTTP/2 session (one TCP connection) for the scope, trusting the test certificate. */
export const session = (origin: string, certificate: Http2Server.DevCertificate) =>
  Effect.acquireRelease(
    Effect.async<Http2.ClientHttp2Session, Error>((resume) => {
      const s = Http2.connect(origin, { ca: certificate.cert })
      const onError = (e: Error) => resume(Effect.fail(e))
      s.once("error", onError)
      s.once("connect", () => {
        s.off("error", onError)
        s.on("error", () => {}) // a reset session is what several tests do on purpose
        resume(Effect.succeed(s))
      })
    }),
    (s) => Effect.sync(() => s.destroy())
  ).pipe(Effect.orDie)

/**
 * One request on an HTTP/2 session, read by the same `RawClient` as the HTTP/1.1 tests (an HTTP/2
 * stream has the readable surface it uses; `status` and `headers` come from the response headers).
 * `close()` resets the stream (RST_STREAM, CANCEL).
 */
export const openH2 = (s: Http2.ClientHttp2Session, path: string, options: OpenOptions = {}): Promise<H2Client> =>
  new Promise((resolve, reject) => {
    const stream = s.request({ ":method": options.method ?? "GET", ":path": path, ...options.headers }, {
      endStream: options.body === undefined
    })
    stream.once("response", (headers) => {
      if (options.paused) stream.pause()
      resolve(new H2Client(stream, headers, options))
    })
    stream.once("error", reject)
    if (options.body !== undefined) stream.end(options.body)
  })

export class H2Client extends RawClient {
  constructor(
    readonly stream: Http2.ClientHttp2Stream,
    readonly responseHeaders: Http2.IncomingHttpHeaders & Http2.IncomingHttpStatusHeader,
    options: OpenOptions
  ) {
    const res = Object.assign(stream, { statusCode: responseHeaders[":status"], headers: responseHeaders })
    super(stream as unknown as Http.ClientRequest, res as unknown as Http.IncomingMessage, options)
    stream.on("error", () => {}) // resets are expected
  }

  override close() {
    if (!this.stream.closed) this.stream.close(Http2.constants.NGHTTP2_CANCEL)
  }
}

/** For the scope: a stream reset when the scope closes, whatever happened. */
export const connectH2 = (s: Http2.ClientHttp2Session, path: string, options?: OpenOptions) =>
  Effect.acquireRelease(Effect.promise(() => openH2(s, path, options)), (c) => Effect.sync(() => c.close()))

const h1Agent = (certificate: Http2Server.DevCertificate) =>
  new Https.Agent({ keepAlive: false, ca: certificate.cert, maxSockets: Infinity })

/** One HTTP/1.1 request over TLS (ALPN offers only http/1.1), for the scope. */
export const connectH1 = (url: string, certificate: Http2Server.DevCertificate, options: OpenOptions = {}) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<RawClient>((resolve, reject) => {
        const req = Https.request(url, {
          method: options.method ?? "GET",
          headers: options.headers,
          agent: h1Agent(certificate)
        }, (res) => {
          if (options.paused) res.pause()
          resolve(new RawClient(req, res, options))
        })
        req.on("error", reject)
        if (options.body !== undefined) req.write(options.body)
        req.end()
      })
    ),
    (c) => Effect.sync(() => c.close())
  )

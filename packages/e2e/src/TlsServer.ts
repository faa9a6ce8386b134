/**
 * An `@effect/platform` app served over TLS on 127.0.0.1 (a free port): on
 * `Http2Server.createServer` (HTTP/2, and HTTP/1.1 for clients without it) or on `node:https`
 * (HTTP/1.1 only), with what the server saw (sessions, TLS connections, requests with their protocol
 * and session) and a way to reset the open requests from the server side.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as Http2Server from "@streamwire/server/Http2Server"
import { Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import type * as Http from "node:http"
import * as Http2 from "node:http2"
import * as Https from "node:https"
import type * as Net from "node:net"
import * as Path from "node:path"
import type * as Tls from "node:tls"
import { afterAll } from "vitest"

/** A self-signed certificate for the test file, in a temporary directory removed after it. */
export const certificate = async (): Promise<Http2Server.DevCertificate> => {
  const made = await Effect.runPromise(
    Http2Server.devCertificate({ openssl: process.env["STREAMWIRE_OPENSSL"] || undefined })
  )
  afterAll(() => Fs.rmSync(Path.dirname(made.keyPath), { recursive: true, force: true }))
  return made
}

export interface Seen {
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
export const start = async <A>(
  certificate: Http2Server.DevCertificate,
  protocol: "h2" | "h1",
  build: Effect.Effect<readonly [HttpApp.Default<unknown, Scope.Scope>, A], never, Scope.Scope>
) => {
  const scope = Effect.runSync(Scope.make())
  const tls = { key: certificate.key, cert: certificate.cert }
  const node = protocol === "h2" ? Http2Server.createServer(tls) : Https.createServer(tls)
  const counts = { sessions: 0, connections: 0 }
  const seen: Array<Seen> = []
  const open = new Set<Http.IncomingMessage | Http2.Http2ServerRequest>()
  const sessionIds = new WeakMap<Http2.Http2Session, number>()
  node.on("session", (session: Http2.Http2Session) => sessionIds.set(session, ++counts.sessions))
  node.on("secureConnection", (_: Tls.TLSSocket) => counts.connections++)
  // every TCP connection, including the ones a browser opens speculatively and never sends a request on:
  // `closeAllConnections` does not see those, and a server's close waits for them (up to Node's
  // 60 s headers timeout plus its checking interval: the close of the "h1" case took 102 s in CI)
  const sockets = new Set<Net.Socket>()
  node.on("connection", (socket: Net.Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  node.on(
    "request",
    (req: Http.IncomingMessage | Http2.Http2ServerRequest, res: Http.ServerResponse | Http2.Http2ServerResponse) => {
      const session = "stream" in req ? sessionIds.get(req.stream.session!) ?? -1 : 0
      seen.push({
        url: req.url ?? "",
        session,
        httpVersion: req.httpVersion,
        lastEventId: req.headers["last-event-id"] as string | undefined
      })
      open.add(req)
      res.on("close", () => open.delete(req))
    }
  )
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
    /** Stops listening and destroys every connection still open, then waits for the server's close. */
    close: async () => {
      const closed = Effect.runPromise(Scope.close(scope, Exit.void))
      for (const socket of sockets) socket.destroy()
      await closed
    }
  }
}

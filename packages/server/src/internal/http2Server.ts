/**
 * The HTTP/2 adapter: `node:http2`'s secure server, with HTTP/1.1 on the same port, made to look
 * like the `node:http` server `@effect/platform-node`'s `NodeHttpServer` drives. The platform only
 * uses `listen`, `address`, `close` and the `request` / `upgrade` events, which the HTTP/2 server
 * has; the compatibility request and response objects (`Http2ServerRequest`,
 * `Http2ServerResponse`) have the surface it reads and writes (`url`, `method`, `headers`,
 * `writeHead`, `write` + `drain`, `end`, `close`, `writableEnded`).
 *
 * What the adapter adds, in the classes the server builds its requests and responses with:
 * - the header rules of HTTP/2: connection-specific response headers (RFC 9113 §8.2.2) are left
 *   out on HTTP/2 streams and kept on HTTP/1.x, so one response value serves both protocols;
 * - a `host` header from `:authority` when the client sent none (HTTP/2 clients usually do not),
 *   so `HttpServerRequest.toURL` and host-based code see the same request over both protocols;
 * - a `close` that ends the connections still open (a GOAWAY to every HTTP/2 session, then the
 *   sockets): long-lived streams would otherwise hold the shutdown open for ever.
 *
 * @internal
 */
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as Etag from "@effect/platform/Etag"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as Effect from "effect/Effect"
import type { LazyArg } from "effect/Function"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import * as Http2 from "node:http2"
import type * as Net from "node:net"
import type * as Tls from "node:tls"

/** @internal */
export const connectionHeaders: ReadonlyArray<string> = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade"
]

const forbidden = new Set(connectionHeaders)

const isForbidden = (name: unknown): boolean => typeof name === "string" && forbidden.has(name.toLowerCase())

type OutgoingHeaders = Http.OutgoingHttpHeaders | Http.OutgoingHttpHeader[] | undefined

/** The headers of a `writeHead` call, without the connection-specific ones (the same shape back). */
const stripHeaders = (headers: OutgoingHeaders): OutgoingHeaders => {
  if (headers === undefined || headers === null || typeof headers !== "object") return headers
  if (Array.isArray(headers)) {
    if (headers.length === 0) return headers
    if (Array.isArray(headers[0])) {
      return (headers as unknown as Array<[string, unknown]>).filter(([k]) =>
        !isForbidden(k)
      ) as unknown as OutgoingHeaders
    }
    const out: Array<Http.OutgoingHttpHeader> = []
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (!isForbidden(headers[i])) out.push(headers[i]!, headers[i + 1]!)
    }
    return out
  }
  let found = false
  for (const k in headers) {
    if (isForbidden(k)) {
      found = true
      break
    }
  }
  if (!found) return headers
  const out: Http.OutgoingHttpHeaders = {}
  for (const k in headers) if (!isForbidden(k)) out[k] = headers[k]
  return out
}

/**
 * An HTTP/2 stream's response without connection-specific headers. Node drops `Connection` itself
 * (with a process warning) but refuses the others (`ERR_HTTP2_INVALID_CONNECTION_HEADERS`, thrown
 * from `writeHead`): here they are left out quietly, whoever sets them.
 *
 * @internal
 */
export class Http2Response extends Http2.Http2ServerResponse {
  override setHeader(name: string, value: number | string | ReadonlyArray<string>): void {
    if (!isForbidden(name)) super.setHeader(name, value)
  }

  override appendHeader(name: string, value: string | Array<string>): void {
    if (!isForbidden(name)) super.appendHeader(name, value)
  }

  override writeHead(statusCode: number, headers?: Http.OutgoingHttpHeaders): this
  override writeHead(statusCode: number, statusMessage: string, headers?: Http.OutgoingHttpHeaders): this
  override writeHead(statusCode: number, a?: string | Http.OutgoingHttpHeaders, b?: Http.OutgoingHttpHeaders): this {
    // a status message does not exist in HTTP/2 (Node warns and ignores it): leave it out.
    // Node also takes headers as an array (typed as an object only)
    return super.writeHead(
      statusCode,
      stripHeaders(typeof a === "string" ? b : a) as Http.OutgoingHttpHeaders | undefined
    )
  }
}

/**
 * An HTTP/2 stream's request with a `host` header (from `:authority`) when the client sent none.
 *
 * @internal
 */
export class Http2Request extends Http2.Http2ServerRequest {
  constructor(
    stream: Http2.ServerHttp2Stream,
    headers: Http.IncomingHttpHeaders,
    options: unknown,
    rawHeaders: Array<string>
  ) {
    if (headers["host"] === undefined && typeof headers[":authority"] === "string") {
      headers["host"] = headers[":authority"]
    }
    // @ts-expect-error the constructor's parameters are not in Node's type declarations
    super(stream, headers, options, rawHeaders)
  }
}

/** @internal */
export type Options = Http2.SecureServerOptions

/** @internal */
export const createServer = (options: Options): Http2.Http2SecureServer => {
  const server = Http2.createSecureServer({
    allowHTTP1: true,
    Http2ServerRequest: Http2Request as unknown as typeof Http2.Http2ServerRequest,
    Http2ServerResponse: Http2Response,
    ...options
  })
  // every session (HTTP/2) and every TLS socket (either protocol), to end them on close
  const sessions = new Set<Http2.ServerHttp2Session>()
  const sockets = new Set<Tls.TLSSocket>()
  server.on("session", (session: Http2.ServerHttp2Session) => {
    sessions.add(session)
    session.once("close", () => sessions.delete(session))
  })
  server.on("secureConnection", (socket: Tls.TLSSocket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  const close = server.close.bind(server)
  server.close = ((callback?: (error?: Error) => void) => {
    close(callback)
    // every session: a GOAWAY (NO_ERROR: no new streams), its streams reset (CANCEL), its socket
    // ended. (`destroy` alone sends no GOAWAY when several streams are open, as of Node 20.)
    for (const session of sessions) {
      session.goaway(Http2.constants.NGHTTP2_NO_ERROR)
      session.destroy()
    }
    // the HTTP/1.x connections (an HTTP/2 session's socket is its session's to end)
    for (const socket of sockets) if (socket.alpnProtocol !== "h2") socket.destroy()
    return server
  }) as typeof server.close
  return server
}

// `NodeHttpServer` is typed for `node:http`'s server, and uses of it only what both servers have
type AsHttp = LazyArg<Http.Server>
const asHttp = (evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>): AsHttp => evaluate as unknown as AsHttp

/** @internal */
export const make = (
  evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>,
  options: Net.ListenOptions
): Effect.Effect<HttpServer.HttpServer, ServeError, Scope.Scope> => NodeHttpServer.make(asHttp(evaluate), options)

/** @internal */
export const layerServer = (
  evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>,
  options: Net.ListenOptions
): Layer.Layer<HttpServer.HttpServer, ServeError> => NodeHttpServer.layerServer(asHttp(evaluate), options)

/** @internal */
export const layer = (
  evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>,
  options: Net.ListenOptions
): Layer.Layer<
  HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext | HttpServer.HttpServer,
  ServeError
> => NodeHttpServer.layer(asHttp(evaluate), options)

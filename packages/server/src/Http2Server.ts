/**
 * Runs an `@effect/platform` app on `node:http2`'s secure server: HTTP/2 over TLS for the clients
 * that speak it (every browser: all the streams of a page then share one connection, instead of
 * HTTP/1.1's six per origin), and HTTP/1.1 on the same port for the others.
 *
 * The same shape as `NodeHttpServer` (`make`, `layerServer`, `layer`, given a function that builds
 * the Node server and the listen options), with {@link createServer} building the server: it
 * applies the header rules of each protocol (no connection-specific headers on HTTP/2, so one
 * `HttpServerResponse` serves both), gives HTTP/2 requests a `host` header from `:authority`, and
 * ends its open connections on shutdown (a GOAWAY to every HTTP/2 session). Disconnects are seen
 * as over HTTP/1.1: a stream reset (`RST_STREAM`), a session closed or a GOAWAY interrupt the
 * fiber writing each response of that stream or session, and its finalizers run.
 *
 * An entry point of its own (`@streamwire/server/Http2Server`) because it needs
 * `@effect/platform-node`, which the rest of the package does not.
 *
 * @since 0.1.0
 */
import type * as NodeContext from "@effect/platform-node/NodeContext"
import type * as Etag from "@effect/platform/Etag"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as Effect from "effect/Effect"
import type { LazyArg } from "effect/Function"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Http2 from "node:http2"
import type * as Net from "node:net"
import * as devCert from "./internal/devCertificate.js"
import * as internal from "./internal/http2Server.js"

/**
 * The response headers HTTP/2 forbids (RFC 9113 §8.2.2): they describe one TCP connection, and an
 * HTTP/2 stream is not one. {@link createServer}'s server leaves them out of HTTP/2 responses and
 * sends them over HTTP/1.x (an SSE response's `Connection: keep-alive`, say).
 *
 * @example
 * ```ts
 * import * as Http2Server from "@streamwire/server/Http2Server"
 *
 * Http2Server.connectionHeaders.includes("connection") // true
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const connectionHeaders: ReadonlyArray<string> = internal.connectionHeaders

/**
 * Options of {@link createServer}: those of `http2.createSecureServer` (`key` and `cert`, or `pfx`,
 * are required for browsers; `settings.maxConcurrentStreams`, 100 by default in Node, bounds the
 * streams of one connection). `allowHTTP1` is `true` unless you say otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = Http2.SecureServerOptions

/**
 * `http2.createSecureServer` with HTTP/1.1 allowed on the same port, the header rules of each
 * protocol applied to every response (whoever writes it), a `host` header on HTTP/2 requests, and a
 * `close` that ends the connections still open (long-lived streams would otherwise hold a shutdown
 * open for ever). Hand it to {@link layer} or {@link make}; count its `session` events to see how
 * many HTTP/2 connections clients hold.
 *
 * @example
 * ```ts
 * import * as Http2Server from "@streamwire/server/Http2Server"
 * import * as Fs from "node:fs"
 *
 * const server = Http2Server.createServer({ key: Fs.readFileSync("key.pem"), cert: Fs.readFileSync("cert.pem") })
 * server.on("session", () => console.log("one more HTTP/2 connection"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const createServer: (options: Options) => Http2.Http2SecureServer = internal.createServer

/**
 * Serves on a `node:http2` server for the scope, like `NodeHttpServer.make` does on a `node:http`
 * one: the server is built by `evaluate` and listens with `options`; closing the scope closes it.
 *
 * @example
 * ```ts
 * import * as Http2Server from "@streamwire/server/Http2Server"
 * import { HttpServer, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * declare const key: string, cert: string
 * const program = Effect.gen(function*() {
 *   const server = yield* Http2Server.make(() => Http2Server.createServer({ key, cert }), { port: 8443 })
 *   yield* server.serve(HttpServerResponse.text("hello over HTTP/2"))
 *   return server.address
 * }).pipe(Effect.provide(HttpServer.layerContext))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>,
  options: Net.ListenOptions
) => Effect.Effect<HttpServer.HttpServer, ServeError, Scope.Scope> = internal.make

/**
 * The `HttpServer` alone, as a layer (see {@link layer} for the platform services with it).
 *
 * @example
 * ```ts
 * import * as Http2Server from "@streamwire/server/Http2Server"
 *
 * declare const key: string, cert: string
 * const ServerLive = Http2Server.layerServer(() => Http2Server.createServer({ key, cert }), { port: 8443 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer: (
  evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>,
  options: Net.ListenOptions
) => Layer.Layer<HttpServer.HttpServer, ServeError> = internal.layerServer

/**
 * The `HttpServer` on `node:http2` with the platform services `NodeHttpServer.layer` provides
 * (`HttpPlatform`, `Etag.Generator`, `NodeContext`): swap one for the other.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import * as Http2Server from "@streamwire/server/Http2Server"
 * import { Sse } from "@streamwire/codec"
 * import { HttpRouter, HttpServer } from "@effect/platform"
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer, Schedule, Stream } from "effect"
 * import * as Fs from "node:fs"
 *
 * const ticks = Stream.fromSchedule(Schedule.spaced("1 second")).pipe(
 *   Stream.map((n) => Sse.unsafeEvent({ data: String(n), id: String(n) }))
 * )
 * const app = HttpRouter.empty.pipe(HttpRouter.get("/ticks", SseResponse.make(ticks)))
 *
 * const ServerLive = Http2Server.layer(
 *   () => Http2Server.createServer({ key: Fs.readFileSync("key.pem"), cert: Fs.readFileSync("cert.pem") }),
 *   { port: 8443 }
 * )
 * HttpServer.serve(app).pipe(Layer.provide(ServerLive), Layer.launch, NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (
  evaluate: LazyArg<Http2.Http2SecureServer | Http2.Http2Server>,
  options: Net.ListenOptions
) => Layer.Layer<
  HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext | HttpServer.HttpServer,
  ServeError
> = internal.layer

/**
 * A self-signed certificate made for development and tests (see {@link devCertificate}).
 *
 * @since 0.1.0
 * @category development
 */
export type DevCertificate = devCert.DevCertificate

/**
 * Options of {@link devCertificate}.
 *
 * @since 0.1.0
 * @category development
 */
export type DevCertificateOptions = devCert.DevCertificateOptions

/**
 * {@link devCertificate} could not make or read the certificate (`openssl` missing or failing, a
 * directory that cannot be written): the message says which.
 *
 * @example
 * ```ts
 * import * as Http2Server from "@streamwire/server/Http2Server"
 * import { Effect } from "effect"
 *
 * const cert = Http2Server.devCertificate().pipe(
 *   Effect.catchTag("DevCertificateError", (e) => Effect.dieMessage(`no certificate: ${e.message}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category development
 */
export const DevCertificateError: typeof devCert.DevCertificateError = devCert.DevCertificateError

/**
 * @since 0.1.0
 * @category development
 */
export type DevCertificateError = devCert.DevCertificateError

/**
 * A self-signed certificate for development and tests, never for production: a P-256 key and a
 * certificate valid for `localhost`, `127.0.0.1` and `::1` (or the `hosts` you give), written as
 * `key.pem` and `cert.pem` into `dir` (a fresh temporary directory by default) and reused from
 * there while valid. Made by the `openssl` command-line tool (Node can make keys, not certificates).
 * `spki` is what Chromium's `--ignore-certificate-errors-spki-list` takes to trust this certificate
 * alone.
 *
 * @example
 * ```ts
 * import * as Http2Server from "@streamwire/server/Http2Server"
 * import { HttpServer, HttpServerResponse } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 *
 * const ServerLive = Layer.unwrapEffect(
 *   Effect.map(Http2Server.devCertificate({ dir: ".certs" }), ({ cert, key }) =>
 *     Http2Server.layer(() => Http2Server.createServer({ key, cert }), { port: 8443 }))
 * )
 * const main = HttpServer.serve(HttpServerResponse.text("hello")).pipe(Layer.provide(ServerLive))
 * ```
 *
 * @since 0.1.0
 * @category development
 */
export const devCertificate: (options?: DevCertificateOptions) => Effect.Effect<DevCertificate, DevCertificateError> =
  devCert.devCertificate

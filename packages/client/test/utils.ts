/**
 * Test servers: plain `node:http` servers that misbehave on purpose, and a minimal
 * `@effect/platform` server (on `serve` of `@streamwire/server/testing`). All listen on 127.0.0.1,
 * port 0, and are closed with their scope.
 */
import { FetchHttpClient, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Sse } from "@streamwire/codec"
import { serve } from "@streamwire/server/testing"
import { Deferred, Effect, type Layer, type Scope, Stream } from "effect"
import * as http from "node:http"

/** The HTTP clients every network test runs with. */
export const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["FetchHttpClient.layer", FetchHttpClient.layer],
  ["NodeHttpClient.layer (node:http)", NodeHttpClient.layer]
]

/** What the server saw of one request. */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
  /** `Date.now()` when the request arrived. */
  readonly at: number
  /** Resolved when the request's connection closes (the client aborted, or the response ended). */
  readonly closed: Deferred.Deferred<void>
}

export interface TestServer {
  readonly url: string
  readonly requests: Array<Seen>
}

/** A response helper for the handlers. */
export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  n: number,
  seen: Seen
) => void

/** Writes SSE response headers. */
export const sseHead = (res: http.ServerResponse) => {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" })
  res.flushHeaders()
}

/** Kills the TCP connection after the given bytes were written (a drop, not a clean end). */
export const dropAfter = (res: http.ServerResponse, text: string) => {
  res.write(text, () => {
    // let the bytes reach the client before the reset
    setTimeout(() => res.socket?.destroy(), 10)
  })
}

/**
 * A `node:http` server whose handler gets each request (body read first) and its 0-based number.
 */
export const nodeServer = (handler: Handler): Effect.Effect<TestServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: http.Server; url: string; requests: Array<Seen> }>((resume) => {
      const requests: Array<Seen> = []
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const seen: Seen = {
            method: req.method ?? "",
            path: req.url ?? "",
            headers: req.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            at: Date.now(),
            closed: Deferred.unsafeMake(undefined as any)
          }
          res.on("close", () => Deferred.unsafeDone(seen.closed, Effect.void))
          requests.push(seen)
          handler(req, res, requests.length - 1, seen)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as import("node:net").AddressInfo
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${address.port}`, requests }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ requests, url }) => ({ url, requests })))

/**
 * A minimal `@effect/platform` server: `GET /events` streams `events(lastEventId)` with
 * `HttpServerResponse.stream(events.pipe(Sse.encode), { contentType: "text/event-stream" })`.
 */
export const platformServer = (
  events: (lastEventId: string) => Stream.Stream<Sse.SseMessage>
): Effect.Effect<string, never, Scope.Scope> =>
  serve(
    Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
      HttpServerResponse.stream(events(request.headers["last-event-id"] ?? "").pipe(Sse.encode), {
        contentType: Sse.contentType
      }))
  )

/** SSE text of events with ids `from..to` (inclusive), data `event <id>`. */
export const numbered = (from: number, to: number) => {
  let s = ""
  for (let i = from; i <= to; i++) s += `id: ${i}\ndata: event ${i}\n\n`
  return s
}

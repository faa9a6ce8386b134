/**
 * Our `SseClient` over HTTP/2: undici with `allowH2` multiplexes its streams over one connection,
 * and resumes over it after the server resets them. A self-signed certificate is made for the run
 * (`Http2Server.devCertificate`, openssl) and trusted as a CA.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { SseClient } from "@streamwire/client"
import { MemoryEventLog, SseResponse } from "@streamwire/server"
import { Chunk, Effect, Fiber, Layer, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as TlsServer from "../src/TlsServer.js"
import { waitFor } from "../src/util.js"

const certificate = await TlsServer.certificate()

describe("SseClient over HTTP/2 (undici, allowH2)", () => {
  it(
    "8 streams of one client share ONE connection; after the server resets them all, each resumes over it with Last-Event-ID, every event exactly once, in order",
    async () => {
      const server = await TlsServer.start(
        certificate,
        "h2",
        Effect.map(
          MemoryEventLog.make(),
          (log) =>
            [
              HttpRouter.empty.pipe(HttpRouter.get("/events", SseResponse.fromEventLog(log, { retry: "100 millis" }))),
              log
            ] as const
        )
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
              Effect.sync(() =>
                new Undici.Agent({ allowH2: true, connections: 1, pipelining: 100, connect: { ca: certificate.cert } })
              ),
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
            yield* Effect.promise(() =>
              waitFor(() => server.seen.length === streams && Effect.runSync(log.subscriberCount) === streams)
            )
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
    },
    90_000
  )
})

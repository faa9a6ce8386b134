/**
 * The README's quick start: an SSE route on a real server, and a client that follows it. The
 * server's stream ends after three events; the client reconnects (after the server's `retry:`
 * hint) with `Last-Event-ID`, and the server resumes after it.
 *
 *   npm run tsx -- examples/src/quickstart.ts     # received 1, 2, 3, 4, 5
 */
import { FetchHttpClient, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { SseClient } from "@streamwire/client"
import { Sse } from "@streamwire/codec"
import { SseResponse } from "@streamwire/server"
import { Console, Effect, Layer, Option, Schema, Stream } from "effect"
import { createServer } from "node:http"

const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))

// server: a stream of events is a response; `resume` hands it the client's Last-Event-ID
const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/ticks",
    SseResponse.resume((lastEventId) => {
      const from = Option.match(lastEventId, { onNone: () => 1, onSome: (id) => Number(id) + 1 })
      return Stream.iterate(from, (n) => n + 1).pipe(
        Stream.take(3),
        Stream.map((n) => Sse.unsafeEvent({ type: "tick", data: JSON.stringify({ n }), id: String(n) }))
      )
    }, { retry: "100 millis" })
  )
)

const ServerLive = router.pipe(
  HttpServer.serve(),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

// client: EventSource semantics as a Stream, payloads decoded with the Schema
export const program = Effect.gen(function*() {
  const { address } = yield* HttpServer.HttpServer
  const port = address._tag === "TcpAddress" ? address.port : 0
  const ticks = yield* SseClient.schema(`http://127.0.0.1:${port}/ticks`, Tick).pipe(
    Stream.take(5),
    Stream.runCollect
  )
  const received = Array.from(ticks, (t) => t.n)
  yield* Console.log(`received ${received.join(", ")}`)
  return received
}).pipe(Effect.provide(ServerLive), Effect.provide(FetchHttpClient.layer))

if (import.meta.url === `file://${process.argv[1]}`) NodeRuntime.runMain(program)

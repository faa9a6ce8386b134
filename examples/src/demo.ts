/**
 * The streamwire demo server.
 *
 *   npm start                 # http://localhost:8080/
 *   PORT=3000 npm start
 *
 * Routes:
 *   GET  /             a page using the browser's own EventSource and fetch + ReadableStream
 *   GET  /events       a ticker backed by an EventLog: resumable (Last-Event-ID or ?lastEventId=)
 *   POST /chat         {"prompt": "..."} answered token by token as Server-Sent Events
 *   POST /chat.ndjson  the same answer as NDJSON
 *
 * Try it with curl too:
 *   curl -N localhost:8080/events
 *   curl -N -H 'Last-Event-ID: <an id you saw>' localhost:8080/events
 *   curl -N localhost:8080/chat -d '{"prompt":"hello there"}' -H 'content-type: application/json'
 *
 * With STREAMWIRE_REDIS_URL=redis://127.0.0.1:6379 the ticker log lives in Redis (several demo
 * instances then serve one resumable stream).
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Sse } from "@streamwire/codec"
import { RedisEventLog } from "@streamwire/redis"
import { EventLog, MemoryEventLog, NdjsonResponse, SseResponse } from "@streamwire/server"
import { Console, Effect, Layer, Schedule, Schema, Stream } from "effect"
import { createServer } from "node:http"
import { page } from "./demo-page.js"

const port = Number(process.env["PORT"] ?? 8080)

// On shutdown the platform removes the request handler, then waits for every connection to close.
// A client reconnecting over a kept-alive socket in that window would wait for an answer that never
// comes, and hold the shutdown open with it: end every connection as soon as the server closes.
const createNodeServer = () => {
  const server = createServer()
  const close = server.close.bind(server)
  server.close = ((callback?: (error?: Error) => void) => {
    close(callback)
    server.closeAllConnections()
    return server
  }) as typeof server.close
  return server
}

// ---------------------------------------------------------------------------------------------
// the ticker: one event a second in the log ("tick"), a "quote" every fifth second

const ticker = Effect.gen(function*() {
  const log = yield* EventLog.EventLog
  let n = 0
  let price = 100
  yield* Effect.repeat(
    Effect.gen(function*() {
      n++
      yield* log.append({ type: "tick", data: JSON.stringify({ n, at: new Date().toISOString() }) })
      if (n % 5 === 0) {
        price = Math.round((price + (Math.random() - 0.5) * 4) * 100) / 100
        yield* log.append({ type: "quote", data: JSON.stringify({ symbol: "ACME", price }) })
      }
    }),
    Schedule.spaced("1 second")
  )
})

// ---------------------------------------------------------------------------------------------
// the chat: a fake language model that answers one token at a time

const Prompt = Schema.Struct({ prompt: Schema.String.pipe(Schema.maxLength(2000)) })

const answer = (prompt: string): Stream.Stream<string> => {
  const words = prompt.trim().split(/\s+/).filter((w) => w.length > 0)
  const text = `You said ${words.length} word${words.length === 1 ? "" : "s"}: "${words.join(" ")}". ` +
    "Each token of this answer is written to the socket as soon as it is produced, " +
    "so the page shows it before the answer is complete."
  return Stream.fromIterable(text.match(/\S+\s*/g) ?? []).pipe(Stream.schedule(Schedule.spaced("60 millis")))
}

// ---------------------------------------------------------------------------------------------
// routes

const router = HttpRouter.empty.pipe(
  HttpRouter.get("/", Effect.succeed(HttpServerResponse.html(page))),
  HttpRouter.get("/events", SseResponse.fromLog({ retry: "2 seconds", heartbeat: "15 seconds", initial: "retained" })),
  HttpRouter.post(
    "/chat",
    SseResponse.fromJsonBody(Prompt, ({ prompt }) =>
      answer(prompt).pipe(
        Stream.map((token) => Sse.unsafeEvent({ type: "token", data: token })),
        Stream.concat(Stream.make(Sse.unsafeEvent({ type: "done", data: "" })))
      ))
  ),
  HttpRouter.post(
    "/chat.ndjson",
    NdjsonResponse.fromJsonBody(Prompt, ({ prompt }) =>
      answer(prompt).pipe(
        Stream.map((token) => ({ token })),
        Stream.concat(Stream.make({ done: true }))
      ))
  )
)

const Ticker = Layer.scopedDiscard(Effect.forkScoped(ticker))

const Main = router.pipe(
  HttpServer.serve(),
  Layer.provide(Ticker),
  // STREAMWIRE_REDIS_URL set: the log lives in a Redis stream, shared by every demo instance;
  // otherwise the in-memory log
  Layer.provide(
    RedisEventLog.layerFromEnv(MemoryEventLog.layer({ maxEvents: 500, maxAge: "10 minutes" }), {
      key: "streamwire:demo",
      retention: { maxLength: 500 }
    })
  ),
  Layer.provide(NodeHttpServer.layer(createNodeServer, { port })),
  Layer.tap(() => Console.log(`streamwire demo listening on http://localhost:${port}/`))
)

NodeRuntime.runMain(Layer.launch(Main))

/**
 * The server README's first example: an SSE route that follows an in-memory EventLog, and a ticker
 * that appends the time to it every second (each tick its own time).
 *
 *   npm run tsx -- examples/src/server-ticker.ts    # then: curl -N localhost:8080/events
 */
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { EventLog, MemoryEventLog, SseResponse } from "@streamwire/server"
import { DateTime, type Duration, Effect, Layer, Schedule } from "effect"
import { createServer } from "node:http"

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/events",
    SseResponse.fromEventLog(EventLog.EventLog, { retry: "2 seconds", heartbeat: "15 seconds" })
  )
)

// something appends to the log: here, the time, read afresh at every tick
const Ticker = (every: Duration.DurationInput) =>
  Layer.scopedDiscard(Effect.forkScoped(
    Effect.flatMap(EventLog.EventLog, (log) =>
      Effect.repeat(
        Effect.flatMap(DateTime.now, (now) => log.append({ type: "tick", data: DateTime.formatIso(now) })),
        Schedule.spaced(every)
      ))
  ))

export const Server = (port: number, every: Duration.DurationInput = "1 second") =>
  router.pipe(
    HttpServer.serve(),
    Layer.provide(Ticker(every)),
    Layer.provide(MemoryEventLog.layer({ maxEvents: 1000 })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port }))
  )

if (import.meta.url === `file://${process.argv[1]}`) Server(8080).pipe(Layer.launch, NodeRuntime.runMain)
// curl -N localhost:8080/events ; curl -N -H 'Last-Event-ID: <an id>' localhost:8080/events

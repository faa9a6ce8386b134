/**
 * The demo server (examples/src/demo.ts), rebuilt from the same server-package calls so tests can
 * run it in-process on a free port: `examples/src/demo.ts` launches itself on import and exports
 * nothing. Same routes, same page (`demo-page.ts`'s `page`), same ticker and chat; what tests need
 * to vary is an option: the tick interval, the `retry:` hint, CORS headers for a second origin.
 * Every event the ticker appends is recorded, so a test can compare what a client received with
 * what was published.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Sse } from "@streamwire/codec"
import { MemoryEventLog, NdjsonResponse, SseResponse } from "@streamwire/server"
import type { EventLog } from "@streamwire/server"
import { Duration, Effect, Schedule, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { page } from "../../../examples/src/demo-page.js"

export interface Options {
  /** How often the ticker appends a `tick` (a `quote` every fifth tick). Demo: 1 second. */
  readonly tickEvery?: Duration.DurationInput | undefined
  /** The `retry:` hint on /events. Demo: 2 seconds. */
  readonly retry?: Duration.DurationInput | undefined
  /** Stop the ticker after this many ticks (default: never). */
  readonly maxTicks?: number | undefined
  /** Pause between chat tokens. Demo: 60 ms. */
  readonly tokenEvery?: Duration.DurationInput | undefined
  /**
   * A second origin allowed to read /events with credentials: `Access-Control-Allow-Origin` (that
   * origin), `Access-Control-Allow-Credentials: true`, `Vary: Origin` on the SSE response, and an
   * `OPTIONS /events` answering preflights (for `Last-Event-ID`).
   */
  readonly corsOrigin?: string | undefined
  /**
   * How the CORS headers are sent: `"headers"` (default) through `SseResponse`'s `headers` option
   * plus an `OPTIONS /events` route, `"middleware"` with `@effect/platform`'s `HttpMiddleware.cors`
   * around the whole app.
   */
  readonly corsVia?: "headers" | "middleware" | undefined
}

export interface Published {
  readonly type: string
  readonly id: string
  readonly data: string
}

export interface Demo {
  readonly log: EventLog.EventLog
  /** Every event the ticker appended, in order. */
  readonly published: ReadonlyArray<Published>
}

const Prompt = Schema.Struct({ prompt: Schema.String.pipe(Schema.maxLength(2000)) })

/** The demo's fake language model: one token every `every`. */
export const answer = (prompt: string, every: Duration.DurationInput = "60 millis"): Stream.Stream<string> => {
  const words = prompt.trim().split(/\s+/).filter((w) => w.length > 0)
  const text = `You said ${words.length} word${words.length === 1 ? "" : "s"}: "${words.join(" ")}". ` +
    "Each token of this answer is written to the socket as soon as it is produced, " +
    "so the page shows it before the answer is complete."
  return Stream.fromIterable(text.match(/\S+\s*/g) ?? []).pipe(Stream.schedule(Schedule.spaced(every)))
}

export const corsHeaders = (origin: string): Record<string, string> => ({
  "access-control-allow-origin": origin,
  "access-control-allow-credentials": "true",
  "vary": "Origin"
})

export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const log = yield* MemoryEventLog.make({ maxEvents: 10_000, maxAge: "10 minutes" })
    const published: Array<Published> = []
    let n = 0
    let price = 100
    const tick = Effect.gen(function*() {
      n++
      const t = yield* log.append({ type: "tick", data: JSON.stringify({ n, at: new Date().toISOString() }) })
      published.push({ type: "tick", id: t.lastEventId, data: t.data })
      if (n % 5 === 0) {
        price = Math.round((price + (n % 7) - 3) * 100) / 100
        const q = yield* log.append({ type: "quote", data: JSON.stringify({ symbol: "ACME", price }) })
        published.push({ type: "quote", id: q.lastEventId, data: q.data })
      }
    })
    const schedule = Schedule.spaced(options.tickEvery ?? "1 second")
    yield* Effect.forkScoped(
      options.maxTicks === undefined
        ? Effect.asVoid(Effect.repeat(tick, schedule))
        : Effect.asVoid(Effect.repeat(tick, Schedule.intersect(schedule, Schedule.recurs(options.maxTicks - 1))))
    )

    const viaMiddleware = options.corsVia === "middleware"
    const cors = options.corsOrigin === undefined || viaMiddleware ? undefined : corsHeaders(options.corsOrigin)
    const tokenEvery = options.tokenEvery ?? "60 millis"
    let router = HttpRouter.empty.pipe(
      HttpRouter.get("/", Effect.succeed(HttpServerResponse.html(page))),
      HttpRouter.get(
        "/events",
        SseResponse.fromEventLog(log, {
          retry: options.retry ?? "2 seconds",
          heartbeat: "15 seconds",
          initial: "retained",
          headers: cors
        })
      ),
      HttpRouter.post(
        "/chat",
        SseResponse.fromJsonBody(Prompt, ({ prompt }) =>
          answer(prompt, tokenEvery).pipe(
            Stream.map((token) => Sse.unsafeEvent({ type: "token", data: token })),
            Stream.concat(Stream.make(Sse.unsafeEvent({ type: "done", data: "" })))
          ))
      ),
      HttpRouter.post(
        "/chat.ndjson",
        NdjsonResponse.fromJsonBody(Prompt, ({ prompt }) =>
          answer(prompt, tokenEvery).pipe(
            Stream.map((token) => ({ token })),
            Stream.concat(Stream.make({ done: true }))
          ))
      )
    )
    if (cors !== undefined) {
      router = HttpRouter.options(
        router,
        "/events",
        Effect.succeed(HttpServerResponse.empty({
          status: 204,
          headers: {
            ...cors,
            "access-control-allow-methods": "GET",
            "access-control-allow-headers": "last-event-id, cache-control",
            "access-control-max-age": "600"
          }
        }))
      )
    }
    const demo: Demo = { log, published }
    const app: HttpApp.Default<unknown, Scope.Scope> = viaMiddleware && options.corsOrigin !== undefined
      ? HttpMiddleware.cors({ allowedOrigins: [options.corsOrigin], credentials: true })(router)
      : router
    return [app, demo] as const
  }) satisfies Effect.Effect<unknown, unknown, Scope.Scope>

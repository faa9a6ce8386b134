/**
 * The demo's routes, ticker and fake language model, as a module: `demo.ts` serves it with the
 * defaults, and the browser tests (packages/e2e) serve the same app on a free port with faster
 * ticks, a shorter `retry:` or CORS for a second origin.
 *
 * Routes: `GET /` (the page), `GET /favicon.ico`, `GET /events` (the ticker's log, resumable),
 * `POST /drop` (cuts every open `/events` connection, as a network failure would: the page's
 * `EventSource` then reconnects by itself with `Last-Event-ID`), `POST /chat` (SSE) and
 * `POST /chat.ndjson` (NDJSON).
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Sse } from "@streamwire/codec"
import { EventLog, NdjsonResponse, SseResponse } from "@streamwire/server"
import { type Duration, Effect, Schedule, Schema, type Scope, Stream } from "effect"
import * as Http from "node:http"
import type * as Net from "node:net"
import { icon, page } from "./demo-page.js"

export interface Options {
  /** How often the ticker appends a `tick` (a `quote` every fifth tick). Default: 250 ms. */
  readonly tickEvery?: Duration.DurationInput | undefined
  /** Stop the ticker after this many ticks (default: never). */
  readonly maxTicks?: number | undefined
  /** Called with each event the ticker appended (tests compare it with what clients received). */
  readonly onAppend?: ((event: Sse.SseEvent) => void) | undefined
  /** The `retry:` hint on /events. Default: 2 seconds. */
  readonly retry?: Duration.DurationInput | undefined
  /** Pause between chat tokens. Default: 60 ms. */
  readonly tokenEvery?: Duration.DurationInput | undefined
  /**
   * A second origin allowed to read /events with credentials: `Access-Control-Allow-Origin` (that
   * origin), `Access-Control-Allow-Credentials: true`, `Vary: Origin`, and an `OPTIONS /events`
   * answering preflights (for `Last-Event-ID`).
   */
  readonly corsOrigin?: string | undefined
  /**
   * How the CORS headers are sent: `"headers"` (default) through `SseResponse`'s `headers` option
   * plus an `OPTIONS /events` route, or `"middleware"`: `@effect/platform`'s `HttpMiddleware.cors`.
   */
  readonly corsVia?: "headers" | "middleware" | undefined
  /**
   * The page's "shared across tabs" panel script (`shared-panel.ts` bundled: see
   * `browser-bundle.ts`), served at `/shared.js`; without it the panel says it is unavailable.
   */
  readonly sharedScript?: string | undefined
}

/**
 * The ticker: a `tick` every `tickEvery` in the EventLog, a `quote` every fifth one. Every event's
 * data carries `src` (this ticker, random) and `seq` (1, 2, 3, ... over ticks and quotes), so a
 * client can count gaps and duplicates itself, per ticker (several demo instances on one Redis log
 * each run their own).
 */
export const ticker = (options: Options = {}) =>
  Effect.gen(function*() {
    const log = yield* EventLog.EventLog
    const src = Math.random().toString(36).slice(2, 8)
    let n = 0
    let seq = 0
    let price = 100
    const tick = Effect.gen(function*() {
      n++
      const t = yield* log.append({
        type: "tick",
        data: JSON.stringify({ n, at: new Date().toISOString(), src, seq: ++seq })
      })
      options.onAppend?.(t)
      if (n % 5 === 0) {
        price = Math.round((price + (n % 7) - 3) * 100) / 100
        const q = yield* log.append({ type: "quote", data: JSON.stringify({ symbol: "ACME", price, src, seq: ++seq }) })
        options.onAppend?.(q)
      }
    })
    const every = Schedule.spaced(options.tickEvery ?? "250 millis")
    yield* Effect.repeat(
      tick,
      options.maxTicks === undefined
        ? Schedule.asVoid(every)
        : Schedule.asVoid(Schedule.intersect(every, Schedule.recurs(options.maxTicks - 1)))
    )
  })

// one short message for any bad body (the server's 400 carries it), not a Schema tree
const Prompt = Schema.Struct({ prompt: Schema.String.pipe(Schema.maxLength(2000)) }).annotations({
  message: () => ({ message: "expected {\"prompt\": \"...\"}, a string of at most 2000 characters", override: true })
})

/** The fake language model: answers one token every `every`. */
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

/**
 * The sockets of the open `/events` requests, and a way to cut them all. Only for a Node server
 * (the request's source is a `node:http` `IncomingMessage`); elsewhere nothing is tracked.
 */
const eventConnections = () => {
  const sockets = new Set<Net.Socket>()
  return {
    track: <A, E, R>(handler: Effect.Effect<A, E, R>) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const source = request.source
        if (source instanceof Http.IncomingMessage && !sockets.has(source.socket)) {
          const socket = source.socket
          sockets.add(socket)
          socket.once("close", () => sockets.delete(socket))
        }
        return handler
      }),
    count: Effect.sync(() => sockets.size),
    drop: Effect.sync(() => {
      const n = sockets.size
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      return n
    })
  }
}

/**
 * The app: `/` (the page), `/events` (the log, resumable), `/drop` (POST: cut the `/events`
 * connections), `/chat` (POST, SSE) and `/chat.ndjson` (POST, NDJSON), and for the page's "shared
 * across tabs" panel `/shared/events` (the same log), `/shared.js` and `/connections` (how many
 * `/events` and `/shared/events` connections the server holds); the ticker runs in the surrounding
 * scope.
 */
export const make = (
  options: Options = {}
): Effect.Effect<HttpApp.Default<unknown, Scope.Scope>, never, EventLog.EventLog | Scope.Scope> =>
  Effect.gen(function*() {
    const log = yield* EventLog.EventLog
    yield* Effect.forkScoped(
      ticker(options).pipe(Effect.provideService(EventLog.EventLog, log), Effect.catchAllCause(Effect.logError))
    )
    const viaMiddleware = options.corsVia === "middleware"
    const cors = options.corsOrigin === undefined || viaMiddleware ? undefined : corsHeaders(options.corsOrigin)
    const tokenEvery = options.tokenEvery ?? "60 millis"
    const connections = eventConnections()
    const shared = eventConnections()
    let router = HttpRouter.empty.pipe(
      HttpRouter.get("/", Effect.succeed(HttpServerResponse.html(page))),
      HttpRouter.get(
        "/favicon.ico",
        Effect.succeed(
          HttpServerResponse.text(icon, {
            contentType: "image/svg+xml",
            headers: { "cache-control": "public, max-age=86400" }
          })
        )
      ),
      HttpRouter.get(
        "/events",
        connections.track(SseResponse.fromEventLog(log, {
          retry: options.retry ?? "2 seconds",
          heartbeat: "15 seconds",
          initial: "retained",
          headers: cors
        }))
      ),
      // the "shared across tabs" panel: the same log for all the tabs over one connection
      HttpRouter.get(
        "/shared/events",
        shared.track(SseResponse.fromEventLog(log, { retry: "1 second", heartbeat: "15 seconds", initial: "live" }))
      ),
      HttpRouter.get(
        "/shared.js",
        Effect.succeed(
          HttpServerResponse.text(
            options.sharedScript ?? "document.getElementById('sharedRole').textContent = 'unavailable: not bundled'",
            { contentType: "text/javascript; charset=utf-8" }
          )
        )
      ),
      HttpRouter.get(
        "/connections",
        Effect.map(
          Effect.all({ events: connections.count, shared: shared.count }),
          (count) => HttpServerResponse.unsafeJson(count, { headers: { "cache-control": "no-store" } })
        )
      ),
      HttpRouter.post(
        "/drop",
        Effect.map(connections.drop, (dropped) => HttpServerResponse.unsafeJson({ dropped }))
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
    return viaMiddleware && options.corsOrigin !== undefined
      ? HttpMiddleware.cors({ allowedOrigins: [options.corsOrigin], credentials: true })(router)
      : router
  })

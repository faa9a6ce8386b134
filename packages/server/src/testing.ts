/**
 * Test support for `EventLog` engines and streaming endpoints, on vitest and `@effect/vitest`:
 *
 * - `eventLogContract`: the suite every `EventLog` implementation must pass (ours run it: the
 *   memory log and `@streamwire/redis`; an outside engine runs it with its own layer);
 * - `serve`: an `@effect/platform` app on a real `node:http` server, 127.0.0.1, a free port;
 * - `connect` / `open`: a raw `node:http` client that keeps every byte and the SSE messages in it;
 * - `eventually`: polls an effect in real time until a condition holds.
 *
 * This entry point imports `vitest`, `@effect/vitest` and `@effect/platform-node`: optional peer
 * dependencies of `@streamwire/server`, needed only here (the main entry does not load them).
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type { Sse } from "@streamwire/codec"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import type * as EventLog from "./EventLog.js"
import * as contract from "./internal/testing/contract.js"
import * as raw from "./internal/testing/rawClient.js"
import * as internalServe from "./internal/testing/serve.js"

// ---------------------------------------------------------------------------------------------
// the EventLog contract

/**
 * Options of `eventLogContract`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ContractOptions {
  /** How many events a log of the layer retains, by count (its retention by count). At least 3. */
  readonly retained: number
}

/**
 * The contract every `EventLog` implementation must meet, as a vitest `describe` block: ids,
 * `lastId`, field validation, resuming after an id exactly once and in order, `initial: "retained"`,
 * appends racing subscriptions, `Reset`s for expired and unknown ids, and subscriptions released
 * on interruption (`subscriberCount`).
 *
 * Call it at the top level of a test file with a function that builds a layer of a fresh, empty
 * log retaining exactly `retained` events by count (each test gets its own log).
 *
 * @example
 * ```ts
 * import { MemoryEventLog } from "@streamwire/server"
 * import { eventLogContract } from "@streamwire/server/testing"
 *
 * // in a *.test.ts file
 * eventLogContract("MemoryEventLog", () => MemoryEventLog.layer({ maxEvents: 5 }), { retained: 5 })
 * ```
 *
 * @since 0.1.0
 * @category contract
 */
export const eventLogContract: (
  name: string,
  makeLayer: () => Layer.Layer<EventLog.EventLog, unknown>,
  options: ContractOptions
) => void = contract.eventLogContract

/**
 * The data of log items, `reset:<reason>` for a `Reset`: easy to compare in assertions.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { dataOf } from "@streamwire/server/testing"
 * import { Option } from "effect"
 *
 * dataOf([
 *   { _tag: "Reset", requested: "7", reason: "expired", oldest: Option.some("9") },
 *   Sse.unsafeEvent({ data: "a", id: "9" })
 * ]) // ["reset:expired", "a"]
 * ```
 *
 * @since 0.1.0
 * @category contract
 */
export const dataOf: (items: ReadonlyArray<EventLog.LogItem>) => Array<string> = contract.dataOf

// ---------------------------------------------------------------------------------------------
// serving

/**
 * Options of `serve`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions {
  /** Builds the `node:http` server to listen with (default `http.createServer()`), e.g. to watch its requests. */
  readonly server?: (() => Http.Server) | undefined
}

/**
 * Serves an app (a router, a handler) on a real `node:http` server on 127.0.0.1, a free port, for
 * the scope, and gives its base URL (`http://127.0.0.1:<port>`, no trailing slash). Closing the
 * scope closes the server and interrupts the requests in flight.
 *
 * @example
 * ```ts
 * import { HttpRouter } from "@effect/platform"
 * import { Sse } from "@streamwire/codec"
 * import { SseResponse } from "@streamwire/server"
 * import { connect, serve } from "@streamwire/server/testing"
 * import { Effect, Stream } from "effect"
 *
 * const app = HttpRouter.empty.pipe(
 *   HttpRouter.get("/events", SseResponse.make(Stream.make(Sse.unsafeEvent({ data: "hi" }))))
 * )
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const url = yield* serve(app)
 *   const client = yield* connect(`${url}/events`)
 *   yield* Effect.promise(() => client.waitForEnd())
 *   return client.events() // [{ _tag: "SseEvent", type: "message", data: "hi", lastEventId: "" }]
 * }))
 * ```
 *
 * @since 0.1.0
 * @category serving
 */
export const serve: <E, R>(
  app: HttpApp.Default<E, R>,
  options?: ServeOptions
) => Effect.Effect<string, never, Scope.Scope | Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>> =
  internalServe.serve

// ---------------------------------------------------------------------------------------------
// the raw client

/**
 * Options of `open` and `connect`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawClientOptions {
  /** Default `GET`. */
  readonly method?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | undefined
  /** Do not read the response at all (a stalled client); `client.res.resume()` reads it. */
  readonly paused?: boolean | undefined
  /** Keep only this many characters of each event's data, and not the raw text (for big streams). */
  readonly truncateData?: number | undefined
}

/**
 * A response read with `node:http`: every byte received, and the SSE messages in it parsed as
 * they arrive (WHATWG rules: CR, LF or CRLF line ends, comments, `retry`, `id`). Works for any
 * response: `text` holds NDJSON or anything else as well.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawClient {
  /** Everything received, decoded as UTF-8 (empty with `truncateData`). */
  readonly text: string
  /** How many bytes were received. */
  readonly bytes: number
  /** The response ended, was closed, or failed. */
  readonly ended: boolean
  /** The error of the response, if it failed. */
  readonly error: Error | undefined
  readonly status: number | undefined
  readonly headers: Http.IncomingHttpHeaders
  /** How many complete events were received. */
  readonly eventCount: number
  readonly req: Http.ClientRequest
  readonly res: Http.IncomingMessage
  /** The complete events received so far. */
  readonly events: () => Array<Sse.SseEvent>
  /** Everything received so far: events, comments and retry hints. */
  readonly messages: () => ReadonlyArray<Sse.SseMessage>
  /** Resolves once `predicate` holds; rejects after `ms` (default 5,000) with what was received. */
  readonly waitFor: (predicate: (client: RawClient) => boolean, ms?: number, what?: string) => Promise<void>
  /** Resolves with the events once at least `n` arrived; rejects after `ms` (default 5,000). */
  readonly waitForEvents: (n: number, ms?: number) => Promise<Array<Sse.SseEvent>>
  /** Resolves once the response ended; rejects after `ms` (default 5,000). */
  readonly waitForEnd: (ms?: number) => Promise<void>
  /** Aborts the request and the response (the client goes away). */
  readonly close: () => void
}

/**
 * Sends a request and resolves with a `RawClient` once the response head arrived. The caller
 * closes it; `connect` ties it to a scope.
 *
 * @example
 * ```ts
 * import { open } from "@streamwire/server/testing"
 *
 * const read = async (url: string) => {
 *   const client = await open(url, { headers: { "Last-Event-ID": "41" } })
 *   try {
 *     return await client.waitForEvents(3, 10_000)
 *   } finally {
 *     client.close()
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category raw client
 */
export const open: (url: string, options?: RawClientOptions) => Promise<RawClient> = raw.open

/**
 * Opens a `RawClient` for the scope: it is closed when the scope closes, whatever happened.
 *
 * @example
 * ```ts
 * import { connect } from "@streamwire/server/testing"
 * import { Effect } from "effect"
 *
 * const firstTwo = (url: string) =>
 *   Effect.scoped(Effect.gen(function*() {
 *     const client = yield* connect(url, { headers: { accept: "text/event-stream" } })
 *     return yield* Effect.promise(() => client.waitForEvents(2))
 *   }))
 * ```
 *
 * @since 0.1.0
 * @category raw client
 */
export const connect: (url: string, options?: RawClientOptions) => Effect.Effect<RawClient, never, Scope.Scope> =
  raw.connect

// ---------------------------------------------------------------------------------------------
// polling

/**
 * Runs `check` every 10 ms of real time (whatever clock the test uses) until `ok` holds on its
 * result, which it returns; dies after `ms` (default 5,000) with `what` and the last value.
 *
 * @example
 * ```ts
 * import { EventLog } from "@streamwire/server"
 * import { eventually } from "@streamwire/server/testing"
 *
 * const tenSubscribers = (log: EventLog.EventLog) =>
 *   eventually(log.subscriberCount, (n) => n === 10, 5_000, "10 subscriptions")
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const eventually: <A, E, R>(
  check: Effect.Effect<A, E, R>,
  ok: (a: A) => boolean,
  ms?: number,
  what?: string
) => Effect.Effect<A, E, R> = internalServe.eventually

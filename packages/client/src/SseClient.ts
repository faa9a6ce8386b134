/**
 * Server-Sent Events over `@effect/platform`'s `HttpClient`, with the WHATWG EventSource
 * connection rules: any request (GET by default; POST with a body and headers for the LLM
 * pattern), `Last-Event-ID` resume, the server's `retry:` hint, reconnects driven by an Effect
 * `Schedule`, an optional idle timeout, and the connection's lifecycle in the stream itself.
 *
 * Runs with any `HttpClient` layer: `NodeHttpClient.layerUndici`, `NodeHttpClient.layer`,
 * `FetchHttpClient.layer` (browsers, Bun, Deno). Closing is interrupting the stream: the request
 * is aborted and nothing keeps running.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Sse } from "@streamwire/codec"
import type * as Duration from "effect/Duration"
import { dual } from "effect/Function"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { ConnectionLost, DropCause, TooManyRedirects, UnexpectedResponse } from "./ClientError.js"
import { isRequestInput } from "./internal/request.js"
import * as internal from "./internal/sseClient.js"
import type * as Reconnect from "./Reconnect.js"

/**
 * A request, or a URL to GET.
 *
 * @example
 * ```ts
 * import { HttpClientRequest } from "@effect/platform"
 * import { SseClient } from "@streamwire/client"
 *
 * SseClient.events("http://127.0.0.1:8080/events")                                  // a URL: GET
 * SseClient.events(HttpClientRequest.post("http://127.0.0.1:8080/chat"))            // any request
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export type RequestInput = HttpClientRequest.HttpClientRequest | string | URL

/**
 * Options of every `SseClient` function.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 *
 * const options: SseClient.Options = { lastEventId: "41", retry: "1 second", idleTimeout: "30 seconds" }
 * SseClient.events("http://127.0.0.1:8080/events", options)
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<R = never> {
  /**
   * The reconnect policy, a `Schedule` over {@link Reconnect.ReconnectInput}; `false` for one
   * connection only (the end of the body then ends the stream cleanly). Default:
   * `Reconnect.defaultSchedule` for GET, `false` for other methods (a POST may not be
   * idempotent: pass a schedule to opt in).
   */
  readonly reconnect?: Schedule.Schedule<unknown, Reconnect.ReconnectInput, R> | false | undefined
  /** The id to send as `Last-Event-ID` on the first request (default: the request's own header, else none). */
  readonly lastEventId?: string | undefined
  /** The reconnection time until the server sends `retry:` (default 3 seconds). */
  readonly retry?: Duration.DurationInput | undefined
  /** Treat the connection as dropped when no byte (headers, events, comments) arrives for this long. Default: none. */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /**
   * Treat the attempt as dropped (and reconnect per the schedule) when the response headers have
   * not arrived within this long — a server that accepts a request and never answers (one shutting
   * down, with the request on a kept-alive socket, say) must not stall the stream. Default
   * 30 seconds; `false` waits as long as the HttpClient does.
   */
  readonly connectTimeout?: Duration.DurationInput | false | undefined
  /**
   * Redirects to follow (default 10; more fails with `TooManyRedirects`; `0`: a 3xx is the answer,
   * an `UnexpectedResponse`). Followed by the Fetch standard's rules on every HttpClient, credentials
   * dropped across origins: see `ClientError.TooManyRedirects`.
   */
  readonly maxRedirects?: number | undefined
  /** Longest line accepted (default 1 MiB); passed to `Sse.decode`. */
  readonly maxLineLength?: number | undefined
  /** Largest event data accepted (default 8 MiB); passed to `Sse.decode`. */
  readonly maxEventSize?: number | undefined
}

/**
 * A request is about to be sent. `attempt` is 0 for the first connection and after a healthy one,
 * else the number of the consecutive reconnect.
 *
 * @example
 * ```ts
 * import type { SseClient } from "@streamwire/client"
 *
 * const describe = (c: SseClient.Connecting) => `attempt ${c.attempt}, Last-Event-ID ${c.lastEventId || "none"}`
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export interface Connecting {
  readonly _tag: "Connecting"
  readonly attempt: number
  /** Sent as `Last-Event-ID` (`""`: not sent). */
  readonly lastEventId: string
}

/**
 * The server answered 200 with `text/event-stream`: events follow.
 *
 * @example
 * ```ts
 * import type { SseClient } from "@streamwire/client"
 *
 * const server = (o: SseClient.Open) => o.headers["server"] ?? "unknown"
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export interface Open {
  readonly _tag: "Open"
  readonly status: number
  readonly headers: Headers.Headers
  /** The URL that answered (after redirects the HttpClient followed itself, the last hop's request URL). */
  readonly url: string
}

/**
 * The connection ended; the reconnect schedule said to try again after `delay`.
 *
 * @example
 * ```ts
 * import type { SseClient } from "@streamwire/client"
 * import { Duration } from "effect"
 *
 * const describe = (r: SseClient.Retrying) => `reconnect #${r.attempt} in ${Duration.toMillis(r.delay)} ms: ${r.cause._tag}`
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export interface Retrying {
  readonly _tag: "Retrying"
  readonly attempt: number
  readonly delay: Duration.Duration
  readonly cause: DropCause
}

/**
 * The server answered 204 No Content: the stream ends and is not reconnected.
 *
 * @example
 * ```ts
 * import type { SseClient } from "@streamwire/client"
 *
 * const stopped = (c: SseClient.Closed) => c.reason._tag === "NoContent"
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export interface NoContent {
  readonly _tag: "NoContent"
}

/**
 * Why a connection closed: a drop (transport error, idle timeout, end of body) or a 204.
 *
 * @example
 * ```ts
 * import type { SseClient } from "@streamwire/client"
 *
 * const label = (r: SseClient.CloseReason) => r._tag === "NoContent" ? "server said stop" : r.message
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export type CloseReason = DropCause | NoContent

/**
 * A connection ended by a drop or a 204 (emitted before `Retrying`, or before the stream ends or
 * fails with `ConnectionLost`). Not emitted when the consumer interrupts the stream, nor before a
 * fatal failure (`UnexpectedResponse`, a bad request, a decode error), which ends the stream at once.
 *
 * @example
 * ```ts
 * import type { SseClient } from "@streamwire/client"
 *
 * const isIdle = (c: SseClient.Closed) => c.reason._tag === "IdleTimeout"
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export interface Closed {
  readonly _tag: "Closed"
  readonly reason: CloseReason
}

/**
 * The life of the connection, in order with the events.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Stream } from "effect"
 *
 * const states: Stream.Stream<SseClient.Lifecycle, SseClient.SseClientError, any> = SseClient.connect(
 *   "http://127.0.0.1:8080/events"
 * ).pipe(Stream.filter(SseClient.isLifecycle))
 * ```
 *
 * @since 0.1.0
 * @category lifecycle
 */
export type Lifecycle = Connecting | Open | Retrying | Closed

/**
 * What {@link connect} emits: events and lifecycle elements, in the order they happened.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Console, Stream } from "effect"
 *
 * SseClient.connect("http://127.0.0.1:8080/events").pipe(
 *   Stream.runForEach((e: SseClient.Element) => Console.log(e._tag))
 * )
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export type Element = Sse.SseEvent | Lifecycle

/**
 * How an SSE client stream fails: a response that is not an event stream, the connection lost for
 * good, a request that cannot be sent (bad URL or body), or a line/event over the limits.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Console, Effect, Stream } from "effect"
 *
 * SseClient.events("http://127.0.0.1:8080/events").pipe(
 *   Stream.runDrain,
 *   Effect.catchAll((e: SseClient.SseClientError) => Console.error(e._tag, e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type SseClientError =
  | UnexpectedResponse
  | ConnectionLost
  | TooManyRedirects
  | HttpClientError.RequestError
  | Sse.DecodeError

/**
 * Is this element a lifecycle element (not an event)?
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Console, Stream } from "effect"
 *
 * SseClient.connect("http://127.0.0.1:8080/events").pipe(
 *   Stream.filter(SseClient.isLifecycle),
 *   Stream.runForEach((l) => Console.log(l._tag))
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isLifecycle: (element: Element) => element is Lifecycle = internal.isLifecycle

/**
 * Is this element an event?
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Stream } from "effect"
 *
 * SseClient.connect("http://127.0.0.1:8080/events").pipe(Stream.filter(SseClient.isEvent))
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isEvent = (element: Element): element is Sse.SseEvent => element._tag === "SseEvent"

/**
 * The full view: events and the connection's lifecycle (`Connecting`, `Open`, `Retrying`,
 * `Closed`), interleaved in the order they happened. Needs an `HttpClient`.
 *
 * Connection rules (WHATWG EventSource): sends `Accept: text/event-stream`,
 * `Cache-Control: no-store` and, when the last event id is non-empty, `Last-Event-ID` (the id's
 * UTF-8 bytes, as EventSource sends them; an id a header cannot carry — control characters, or
 * spaces or tabs at either end, which HTTP trims — goes as the `lastEventId` query parameter
 * instead, which `@streamwire/server` reads too). Redirects are followed by the Fetch standard's
 * rules on every HttpClient (see `maxRedirects`). 200 with
 * `text/event-stream` opens; 204 ends the stream cleanly; any other status or content type fails
 * with `UnexpectedResponse`; a transport error, the idle timeout or the end of the body reconnects
 * when the schedule says so, else fails with `ConnectionLost` (or, with `reconnect: false`, ends
 * cleanly at the end of the body). A partial event at a drop is discarded.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Console, Effect, Stream } from "effect"
 *
 * const program = SseClient.connect("http://127.0.0.1:8080/events").pipe(
 *   Stream.runForEach((element) =>
 *     element._tag === "SseEvent"
 *       ? Console.log(`#${element.lastEventId} ${element.type}: ${element.data}`)
 *       : element._tag === "Retrying"
 *       ? Console.log(`reconnecting in ${element.delay}`)
 *       : Effect.void
 *   ),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect: <R = never>(
  request: RequestInput,
  options?: Options<R>
) => Stream.Stream<Element, SseClientError, HttpClient.HttpClient | R> = internal.connect

/**
 * The events only (see {@link connect} for the connection rules).
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { HttpClientRequest } from "@effect/platform"
 * import { Stream } from "effect"
 *
 * // GET with resume from id 41 and a 30 s idle timeout
 * const ticks = SseClient.events("http://127.0.0.1:8080/events", { lastEventId: "41", idleTimeout: "30 seconds" })
 *
 * // the LLM pattern: POST a body, read the answer as it streams (not retried unless asked)
 * const tokens = HttpClientRequest.post("http://127.0.0.1:8080/chat").pipe(
 *   HttpClientRequest.bodyUnsafeJson({ prompt: "hello" }),
 *   SseClient.events
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const events = <R = never>(
  request: RequestInput,
  options?: Options<R>
): Stream.Stream<Sse.SseEvent, SseClientError, HttpClient.HttpClient | R> =>
  Stream.filter(internal.connect(request, options), isEvent)

/**
 * The events' data, decoded with one Schema from string (`Schema.parseJson(...)` for JSON). A
 * value that does not decode fails the stream with `InvalidEventData` (not retried).
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Schema, Stream } from "effect"
 *
 * const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))
 *
 * SseClient.schema("http://127.0.0.1:8080/events", Tick)       // Stream<{ readonly n: number }>
 * SseClient.schema(Tick)("http://127.0.0.1:8080/events")       // the same, data-last
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schema: {
  <A, I extends string, R = never>(
    schema: Schema.Schema<A, I, never>,
    options?: Options<R>
  ): (
    request: RequestInput
  ) => Stream.Stream<A, SseClientError | Sse.InvalidEventData, HttpClient.HttpClient | R>
  <A, I extends string, R = never>(
    request: RequestInput,
    schema: Schema.Schema<A, I, never>,
    options?: Options<R>
  ): Stream.Stream<A, SseClientError | Sse.InvalidEventData, HttpClient.HttpClient | R>
} = dual(
  (args) => isRequestInput(args[0]),
  <A, R>(request: RequestInput, schema: Schema.Schema<A, string, never>, options?: Options<R>) =>
    Sse.decodeSchema(events(request, options), schema)
)

/**
 * Several event types, each decoded with its own Schema, as a union discriminated by `type`.
 * Events of other types are ignored (as EventSource ignores types nobody listens to), unless
 * `onUnknownType: "fail"`.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Schema, Stream } from "effect"
 *
 * const schemas = {
 *   token: Schema.parseJson(Schema.Struct({ text: Schema.String })),
 *   done: Schema.parseJson(Schema.Struct({ tokens: Schema.Number }))
 * }
 * const answer = SseClient.schemas("http://127.0.0.1:8080/chat", schemas).pipe(
 *   Stream.takeUntil((e) => e.type === "done")
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schemas: {
  <S extends Sse.EventSchemas, R = never>(
    schemas: S,
    options?: Options<R> & Sse.DecodeSchemasOptions
  ): (
    request: RequestInput
  ) => Stream.Stream<Sse.EventsOf<S>, SseClientError | Sse.InvalidEventData, HttpClient.HttpClient | R>
  <S extends Sse.EventSchemas, R = never>(
    request: RequestInput,
    schemas: S,
    options?: Options<R> & Sse.DecodeSchemasOptions
  ): Stream.Stream<Sse.EventsOf<S>, SseClientError | Sse.InvalidEventData, HttpClient.HttpClient | R>
} = dual(
  (args) => isRequestInput(args[0]),
  <R>(request: RequestInput, schemas: Sse.EventSchemas, options?: Options<R> & Sse.DecodeSchemasOptions) =>
    Sse.decodeSchemas(events(request, options), schemas, { onUnknownType: options?.onUnknownType })
)

/**
 * Server-Sent Events responses for `@effect/platform`: a `Stream` of events becomes a streamed
 * `HttpServerResponse` (`text/event-stream; charset=utf-8`, `Cache-Control: no-cache, no-transform`,
 * `Connection: keep-alive`, `X-Accel-Buffering: no`), written as produced, with heartbeat comments
 * on a `Schedule` while the line is idle, an optional `retry:` hint, a bounded per-connection
 * buffer with a slow-client policy, and a defined ending when the stream fails. Resuming after the
 * request's `Last-Event-ID` is one call away, from an `EventLog` or from your own stream.
 *
 * When the client goes away, the fiber writing the response is interrupted and the stream's scope
 * closes: its finalizers run and no timer, subscription or fiber is left behind.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Sse } from "@streamwire/codec"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import type * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { EventLog, Reset } from "./EventLog.js"
import * as attach from "./internal/attach.js"
import * as callbacks from "./internal/callbacks.js"
import * as connection from "./internal/connection.js"
import { toRecord } from "./internal/headers.js"
import { http2StreamOf, resetStream } from "./internal/http2Stream.js"
import * as metrics from "./internal/metrics.js"
import * as nodeResponse from "./internal/nodeResponse.js"
import { SseEncoder } from "./internal/render.js"
import { isStreamArg } from "./internal/stream.js"
import * as RequestBody from "./RequestBody.js"

/**
 * The headers of every SSE response (extra headers are added to these).
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 *
 * SseResponse.headers["cache-control"] // "no-cache, no-transform"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const headers: Readonly<Record<string, string>> = {
  "cache-control": "no-cache, no-transform",
  "connection": "keep-alive",
  "x-accel-buffering": "no"
}

/**
 * The `Content-Type` of every SSE response.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType = "text/event-stream; charset=utf-8"

/**
 * What happens when the client reads more slowly than events are produced and the connection's
 * buffer is full:
 * - `"disconnect"`: end the response; an `EventSource` reconnects with its `Last-Event-ID` and
 *   resumes from the log. The default for shared sources (`fromEventLog`), so one slow client never holds
 *   memory or slows anyone else.
 * - `"drop-oldest"`: discard the oldest buffered events (for "latest value" feeds).
 * - `"backpressure"`: the source waits. The default for `make`, whose stream is usually made for
 *   this one connection (an LLM answer, a query result).
 *
 * @since 0.1.0
 * @category models
 */
export type SlowClientPolicy = connection.SlowClientPolicy

/**
 * The event type under which a stream failure is written by default (`onError: "event"`):
 * `stream-error`, not `error`. A browser's `EventSource` dispatches an `event: error` to the same
 * `onerror` listeners as its own connection errors, so a page could not tell "the server's stream
 * failed" from "the network dropped"; a `stream-error` reaches only
 * `addEventListener("stream-error", …)`, and `onerror` keeps meaning a transport error.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 *
 * SseResponse.streamErrorType // "stream-error"
 * // in the page: es.addEventListener("stream-error", (e) => show(e.data))
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const streamErrorType = "stream-error"

/**
 * What a failure of the stream becomes, once the response has started (the status is already 200):
 * - `"event"` (default): an `event: stream-error` (see {@link streamErrorType}) whose data is a
 *   safe, generic message, then close.
 * - `"close"`: just close (the body ends cleanly: the client sees the end of the stream).
 * - `"abort"`: end the response abruptly: what was written is flushed, then the connection is
 *   destroyed without ending the body, so clients see a network error (an `EventSource`
 *   reconnects with its `Last-Event-ID`). See also {@link Abort}.
 * - a function of the `Cause` giving the event to write (keep secrets out of it), then close.
 *
 * The cause is logged either way. A failure with {@link Abort} always aborts, whatever `onError`.
 *
 * @since 0.1.0
 * @category models
 */
export type OnError = "event" | "close" | "abort" | ((cause: Cause.Cause<unknown>) => Sse.SseEvent)

/**
 * Options of every SSE response.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Heartbeat comments (`:\n`) so proxies keep an idle line open: a duration (sent when nothing was
   * written since the previous tick), any `Schedule`, or `false`. Default: every 15 seconds.
   */
  readonly heartbeat?: Duration.DurationInput | Schedule.Schedule<unknown> | false | undefined
  /** Text of the heartbeat comment (default empty: `:\n`). */
  readonly heartbeatComment?: string | undefined
  /** A `retry:` hint written first: how long clients wait before reconnecting. */
  readonly retry?: Duration.DurationInput | undefined
  /** Extra response headers (they may override the defaults). */
  readonly headers?: Headers.Input | undefined
  /** Status code (default 200). */
  readonly status?: number | undefined
  /** Messages that may wait for a slow client (default 1,024). */
  readonly bufferSize?: number | undefined
  /** See {@link SlowClientPolicy}. Default `"backpressure"` (`"disconnect"` for `fromEventLog`). */
  readonly onSlowClient?: SlowClientPolicy | undefined
  /** See {@link OnError}. */
  readonly onError?: OnError | undefined
}

const encoder = new TextEncoder()

/**
 * Ends a response abruptly when the stream fails with it: what was written is flushed, then the
 * connection is destroyed (on Node, the socket) instead of ending the chunked body cleanly, so the
 * client sees a network error, as when a server crashes or a proxy cuts the line; an `EventSource`
 * reconnects with its `Last-Event-ID`. For tests, and to force a reconnect (say, to move clients
 * to another instance). Whatever `onError` says; logged at debug level only. Without a Node socket
 * (a web handler), the body stream dies instead, which aborts a web `Response`'s body.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * // three events, then a cut line: the client reconnects and resumes after "3"
 * const handler = SseResponse.make(
 *   Stream.make(1, 2, 3).pipe(
 *     Stream.map((n) => Sse.unsafeEvent({ data: String(n), id: String(n) })),
 *     Stream.concat(SseResponse.abort)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Abort extends Data.TaggedError("Abort")<{}> {
  override get message(): string {
    return "the SSE response was aborted on purpose"
  }
}

/**
 * A stream that fails with {@link Abort} at once: concatenate it to end a response abruptly.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const cut = Stream.make(Sse.unsafeEvent({ data: "last" })).pipe(Stream.concat(SseResponse.abort))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const abort: Stream.Stream<never, Abort> = Stream.suspend(() => Stream.fail(new Abort()))

const isAbort = (cause: Cause.Cause<unknown>): boolean => {
  for (const failure of Cause.failures(cause)) if (failure instanceof Abort) return true
  return false
}

/** The part of a Node socket used to cut a connection. */
interface NodeSocket {
  readonly destroyed: boolean
  destroy(): void
  write(chunk: Uint8Array, callback: () => void): unknown
  once(event: string, listener: () => void): unknown
  off(event: string, listener: () => void): unknown
}

const socketOf = (request: Option.Option<HttpServerRequest.HttpServerRequest>): NodeSocket | undefined => {
  if (Option.isNone(request)) return undefined
  const socket = (request.value.source as { socket?: unknown } | undefined)?.socket as NodeSocket | undefined
  return typeof socket === "object" && socket !== null && typeof socket.destroy === "function" ? socket : undefined
}

/**
 * Cuts the connection once what was written has left: the response is never ended cleanly (the
 * last chunk of a chunked body is never sent). Without a socket, the body dies.
 */
const cut = (request: Option.Option<HttpServerRequest.HttpServerRequest>): Effect.Effect<void> => {
  // HTTP/2: the socket is the session's, shared with other streams: reset this stream alone
  const h2 = Option.isSome(request) ? http2StreamOf(request.value.source) : undefined
  if (h2 !== undefined) return Effect.async<void>((resume) => resetStream(h2, () => resume(Effect.void)))
  const socket = socketOf(request)
  if (socket === undefined) return Effect.die(new Abort())
  return Effect.async<void>((resume) => {
    if (socket.destroyed) return resume(Effect.void)
    const closed = () => resume(Effect.void)
    socket.once("close", closed)
    // an empty write's callback runs once everything written before it has been handed over
    socket.write(new Uint8Array(0), () => socket.destroy())
    return Effect.sync(() => socket.off("close", closed))
  })
}

const errorEvent = (onError: OnError | undefined, cause: Cause.Cause<unknown>): Sse.SseEvent | undefined => {
  if (onError === "close" || onError === "abort") return undefined
  if (onError === undefined || onError === "event") {
    return { _tag: "SseEvent", type: streamErrorType, data: "the stream failed", lastEventId: "" }
  }
  return onError(cause)
}

// the heartbeat's bytes, made once per comment text (every connection writes the same array)
const heartbeats = new Map<string, Uint8Array>()
const heartbeatBytes = (comment: string): Uint8Array => {
  let bytes = heartbeats.get(comment)
  if (bytes === undefined) {
    bytes = encoder.encode(Either.getOrThrow(Sse.renderMessage(Sse.comment(comment))))
    if (heartbeats.size < 64) heartbeats.set(comment, bytes)
  }
  return bytes
}

/** The body of a response whose stream carries messages and, from a log, resets. */
const bodyOf = <E>(
  stream: Stream.Stream<Sse.SseMessage | Reset, E> | connection.PushSource<attach.Attached | Sse.SseMessage>,
  options: Options | undefined,
  onReset: ((reset: Reset) => Sse.SseMessage) | undefined,
  share: (() => boolean) | undefined,
  transport: Transport,
  request: Option.Option<HttpServerRequest.HttpServerRequest> = Option.none()
): Stream.Stream<Uint8Array> => {
  const portable = portableBody(stream, options, onReset, share, transport, request)
  const res = transport.node && Option.isSome(request) ? nodeResponse.nodeResponseOf(request.value) : undefined
  if (res === undefined) return portable
  // the Node fast path: the connection cuts the response itself (see `cut` in the config)
  return nodeResponse.body(res, stream, () => abortable(options, onReset, share, transport).config, portable)
}

/**
 * A streamed response: on `NodeHttpServer`, a push source gets a raw body the connection starts
 * from (no body `Stream`, see `nodeResponse.raw`); everything else the body `Stream` of `bodyOf`.
 */
const responseOf = <E>(
  stream: Stream.Stream<Sse.SseMessage | Reset, E> | connection.PushSource<attach.Attached | Sse.SseMessage>,
  options: Options | undefined,
  onReset: ((reset: Reset) => Sse.SseMessage) | undefined,
  share: (() => boolean) | undefined,
  transport: Transport,
  request: Option.Option<HttpServerRequest.HttpServerRequest>
): HttpServerResponse.HttpServerResponse => {
  if (!connection.isStream(stream) && transport.node && transport.runtime !== undefined && Option.isSome(request)) {
    const res = nodeResponse.nodeResponseOf(request.value)
    if (res !== undefined) {
      const config = () => abortable(options, onReset, share, transport).config
      return HttpServerResponse.raw(nodeResponse.raw(res, stream, config, transport.runtime), responseOptions(options))
    }
  }
  return response(bodyOf(stream, options, onReset, share, transport, request), options)
}

/**
 * The connection's config, and whether the stream failed with `Abort` (or `onError` is
 * `"abort"`): the response is then cut after what was written.
 */
const abortable = (
  options: Options | undefined,
  onReset: ((reset: Reset) => Sse.SseMessage) | undefined,
  share: (() => boolean) | undefined,
  transport: Transport
) => {
  let aborted = false
  const config = configOf(
    options,
    onReset,
    share,
    (cause) => {
      const abort = aborting(options, cause)
      if (abort !== undefined) aborted = true
      return abort
    },
    transport,
    () => aborted
  )
  return { config, aborted: () => aborted }
}

/** Whether a failure aborts the response, and what is logged then; undefined when it does not. */
const aborting = (options: Options | undefined, cause: Cause.Cause<unknown>): Effect.Effect<void> | undefined => {
  if (!isAbort(cause) && options?.onError !== "abort") return undefined
  return isAbort(cause)
    ? Effect.logDebug("SSE response aborted on purpose")
    : Effect.logWarning("SSE stream failed; aborting the response", cause)
}

/** The portable body: a pull-based `Stream` (then a cut, when aborted). */
const portableBody = <E>(
  stream: Stream.Stream<Sse.SseMessage | Reset, E> | connection.PushSource<attach.Attached | Sse.SseMessage>,
  options: Options | undefined,
  onReset: ((reset: Reset) => Sse.SseMessage) | undefined,
  share: (() => boolean) | undefined,
  transport: Transport,
  request: Option.Option<HttpServerRequest.HttpServerRequest>
): Stream.Stream<Uint8Array> =>
  Stream.suspend(() => {
    const { aborted, config } = abortable(options, onReset, share, transport)
    return Stream.concat(
      connection.body(stream, config),
      Stream.suspend(() => aborted() ? Stream.execute(cut(request)) : Stream.empty)
    )
  })

const configOf = (
  options: Options | undefined,
  onReset: ((reset: Reset) => Sse.SseMessage) | undefined,
  share: (() => boolean) | undefined,
  aborting: (cause: Cause.Cause<unknown>) => Effect.Effect<void> | undefined,
  transport: Transport,
  aborted: () => boolean
): connection.Config<Sse.SseMessage | Reset | attach.Entry> => {
  const sse = new SseEncoder(share)
  const routeMetrics = transport.metrics
  return {
    bufferSize: options?.bufferSize ?? connection.DEFAULT_BUFFER,
    onSlowClient: options?.onSlowClient ?? "backpressure",
    heartbeat: connection.heartbeatOf(options?.heartbeat),
    heartbeatBytes: heartbeatBytes(options?.heartbeatComment ?? ""),
    first: options?.retry === undefined ? [] : [Sse.retry(options.retry)],
    encode: (item, out) =>
      item._tag === "Entry"
        ? sse.encodeEntry(item, out)
        : item._tag === "Reset"
        ? sse.encode((onReset ?? resetEvent)(item), out)
        : sse.encode(item, out),
    onFailure: (cause) => {
      const abort = aborting(cause)
      if (abort !== undefined) return Effect.as(abort, undefined)
      return Effect.as(
        Effect.logWarning("SSE stream failed; closing the response", cause),
        Option.match(Option.fromNullable(errorEvent(options?.onError, cause)), {
          onNone: () => undefined,
          onSome: (event) =>
            Either.match(Sse.renderMessage(event), {
              onLeft: () => undefined,
              onRight: (text) => encoder.encode(text)
            })
        })
      )
    },
    metrics: routeMetrics,
    onWritten: onReset === undefined && share === undefined
      ? undefined
      : (item) => {
        if (item._tag === "Reset") routeMetrics.reset(item.reason)
      },
    context: transport.context,
    cut: aborted
  }
}

/**
 * Where a body is written: the Node fast path when the server is Node's (responses), or always the
 * portable `Stream` (`body`); the metrics of its route; the context its stream runs in.
 */
interface Transport {
  readonly node: boolean
  readonly metrics: metrics.RouteMetrics
  readonly context?: Context.Context<never> | undefined
  /** The handler's runtime: a push source's connection is opened in it on the raw fast path. */
  readonly runtime?: Runtime.Runtime<never> | undefined
}

/**
 * The body of an SSE response, as bytes: the `retry:` hint, then the messages through the
 * connection's buffer with heartbeats, rendered by the codec's rules (`Sse.renderMessage`; a whole
 * batch becomes one `Uint8Array`), with the failure handling applied.
 * `make` is this plus the headers; use it directly to build a response by hand.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const body = SseResponse.body(Stream.make(Sse.unsafeEvent({ data: "hi" })), { heartbeat: false })
 * // Stream<Uint8Array>: "data: hi\n\n"
 * const same = Stream.make(Sse.unsafeEvent({ data: "hi" })).pipe(SseResponse.body({ heartbeat: false }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const body: <const A extends Stream.Stream<Sse.SseMessage, any, never> | Options | undefined>(
  streamOrOptions?: A,
  options?: Options
) => [A] extends [Stream.Stream<Sse.SseMessage, any, never>] ? Stream.Stream<Uint8Array>
  : <E>(stream: Stream.Stream<Sse.SseMessage, E>) => Stream.Stream<Uint8Array> = dual(
    isStreamArg,
    (stream: Stream.Stream<Sse.SseMessage, unknown>, options?: Options): Stream.Stream<Uint8Array> =>
      bodyOf(stream, options, undefined, undefined, { node: false, metrics: metrics.forRoute("body", "sse") })
  )

/**
 * A `Stream` of SSE messages (events, comments, retry hints) as a streamed response.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { HttpRouter } from "@effect/platform"
 * import { Schedule, Stream } from "effect"
 *
 * const ticks = Stream.fromSchedule(Schedule.spaced("1 second")).pipe(
 *   Stream.map((n) => Sse.unsafeEvent({ type: "tick", data: String(n), id: String(n) }))
 * )
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.get("/ticks", SseResponse.make(ticks, { retry: "2 seconds", heartbeat: "15 seconds" }))
 * )
 * // or in a pipe: `ticks.pipe(SseResponse.make)`, `ticks.pipe(SseResponse.make({ retry: "1 second" }))`
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <const A extends Stream.Stream<Sse.SseMessage, any, any> | Options | undefined>(
  streamOrOptions?: A,
  options?: Options
) => [A] extends [Stream.Stream<Sse.SseMessage, any, infer R>]
  ? Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  : <E, R>(
    stream: Stream.Stream<Sse.SseMessage, E, R>
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> = dual(
    isStreamArg,
    <E, R>(stream: Stream.Stream<Sse.SseMessage, E, R>, options?: Options) =>
      Effect.map(
        Effect.context<R>(),
        // the stream runs in the handler's context (see `context` in the config)
        (context) => inHandler(stream as Stream.Stream<Sse.SseMessage, E>, options, context as Context.Context<never>)
      )
  )

/**
 * How a callback source hands messages to a response made by {@link async}. Calls after the
 * response ended (the client left, `end` was called, a slow client was dropped) do nothing.
 *
 * @example
 * ```ts
 * import type { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 *
 * const onMessage = (emit: SseResponse.Emit) => (text: string) => emit.single(Sse.unsafeEvent({ data: text }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Emit {
  /** Sends one message (an event, a comment, a retry hint), under the slow-client policy. */
  readonly single: (message: Sse.SseMessage) => void
  /** Sends several messages, each under the slow-client policy. */
  readonly chunk: (messages: Iterable<Sse.SseMessage>) => void
  /** Ends the response once what was sent is written. */
  readonly end: () => void
}

/**
 * Options of {@link async}: those of every response, with a slow-client policy that never waits
 * (a callback cannot be made to wait). Default `"disconnect"`.
 *
 * @example
 * ```ts
 * import type { SseResponse } from "@streamwire/server"
 *
 * const options: SseResponse.AsyncOptions = { onSlowClient: "drop-oldest", bufferSize: 64, heartbeat: "15 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AsyncOptions extends Omit<Options, "onSlowClient"> {
  readonly onSlowClient?: "disconnect" | "drop-oldest" | undefined
}

/**
 * A response fed by callbacks — timers, event emitters, a database's notifications — rather than
 * a `Stream`, as `Stream.async` is to `Stream`. `register` runs once the response is open, in the
 * handler's context and a `Scope` that is closed when the response ends (the client left, `end`
 * was called): acquire your listeners with `Effect.acquireRelease` there. Messages go straight
 * into the connection (no fiber, `Stream` or `Schedule` per connection), which is what makes this
 * the cheap way to give many connections a stream of their own: 200 connections paced at 10
 * events/s cost a few times less CPU than the same with `Stream.fromSchedule` (see the README's
 * figures). A defect in `register` ends the response as a failed stream does (`onError`).
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const ticks = SseResponse.async((emit) =>
 *   Effect.acquireRelease(
 *     Effect.sync(() => {
 *       let n = 0
 *       return setInterval(() => emit.single(Sse.unsafeEvent({ type: "tick", data: String(n++) })), 100)
 *     }),
 *     (timer) => Effect.sync(() => clearInterval(timer))
 *   )
 * )
 * const router = HttpRouter.empty.pipe(HttpRouter.get("/ticks", ticks))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const async = <R = never>(
  register: (emit: Emit) => Effect.Effect<unknown, never, R>,
  options?: AsyncOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Exclude<R, Scope.Scope>> =>
  Effect.map(Effect.runtime<Exclude<R, Scope.Scope>>(), (runtime) => {
    const context = runtime.context
    const source = callbacks.source(register, context)
    const policy: Options = { ...options, onSlowClient: options?.onSlowClient ?? "disconnect" }
    return inHandler(source, policy, context as Context.Context<never>, runtime as Runtime.Runtime<never>)
  })

/** A response whose source runs in the handler's `context`: on `NodeHttpServer`, the fast path. */
const inHandler = <E>(
  source: Stream.Stream<Sse.SseMessage, E> | connection.PushSource<Sse.SseMessage>,
  options: Options | undefined,
  context: Context.Context<never>,
  runtime?: Runtime.Runtime<never>
): HttpServerResponse.HttpServerResponse =>
  responseOf(
    source,
    options,
    undefined,
    undefined,
    { node: true, metrics: metrics.forRoute(metrics.routeOf(context), "sse"), context, runtime },
    Context.getOption(context as Context.Context<unknown>, HttpServerRequest.HttpServerRequest)
  )

const response = (
  bytes: Stream.Stream<Uint8Array>,
  options: Options | undefined
): HttpServerResponse.HttpServerResponse => HttpServerResponse.stream(bytes, responseOptions(options))

const responseOptions = (options: Options | undefined) => ({
  status: options?.status ?? 200,
  contentType,
  headers: options?.headers === undefined ? headers : { ...headers, ...toRecord(options.headers) }
})

/**
 * Options of {@link schema}: those of every response and the events' `type`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SchemaOptions extends Options {
  /** The type of every event (default `"message"`). */
  readonly type?: string | undefined
}

/**
 * Values encoded with a Schema (to a string, e.g. `Schema.parseJson(...)`) as events of one type
 * (through the codec's `Sse.encodeSchema`). `SseResponse.schema(schema, options?)` is a function
 * of the stream, for `pipe`; `SseResponse.schema(stream, schema, options?)` is data-first.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Schema, Stream } from "effect"
 *
 * const Price = Schema.parseJson(Schema.Struct({ symbol: Schema.String, price: Schema.Number }))
 * const handler = Stream.make({ symbol: "ACME", price: 42 }).pipe(SseResponse.schema(Price, { type: "price" }))
 * // event: price
 * // data: {"symbol":"ACME","price":42}
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schema: {
  <A, I extends string>(
    schema: Schema.Schema<A, I, never>,
    options?: SchemaOptions
  ): <E, R>(stream: Stream.Stream<A, E, R>) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  <A, I extends string, E, R>(
    stream: Stream.Stream<A, E, R>,
    schema: Schema.Schema<A, I, never>,
    options?: SchemaOptions
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
} = dual(
  isStreamArg,
  <A, E, R>(stream: Stream.Stream<A, E, R>, schema: Schema.Schema<A, string, never>, options?: SchemaOptions) =>
    make(Sse.encodeSchema(stream, schema, { type: options?.type }), options)
)

/**
 * Typed events, each type with its own Schema (through the codec's `Sse.encodeSchemas`): the
 * server side of `Sse.decodeSchemas` and `SseClient.schemas`. Dual like {@link schema}.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Schema, Stream } from "effect"
 *
 * const schemas = {
 *   price: Schema.parseJson(Schema.Struct({ symbol: Schema.String, price: Schema.Number })),
 *   halt: Schema.parseJson(Schema.Struct({ symbol: Schema.String }))
 * }
 * const handler = Stream.make(
 *   { type: "price" as const, data: { symbol: "ACME", price: 42 }, id: "1" },
 *   { type: "halt" as const, data: { symbol: "ACME" }, id: "2" }
 * ).pipe(SseResponse.schemas(schemas))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schemas: {
  <S extends Sse.EventSchemas>(
    schemas: S,
    options?: Options
  ): <E, R>(
    stream: Stream.Stream<Sse.OutgoingOf<S>, E, R>
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  <S extends Sse.EventSchemas, E, R>(
    stream: Stream.Stream<Sse.OutgoingOf<S>, E, R>,
    schemas: S,
    options?: Options
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
} = dual(
  isStreamArg,
  <E, R>(stream: Stream.Stream<Sse.OutgoingOf<Sse.EventSchemas>, E, R>, schemas: Sse.EventSchemas, options?: Options) =>
    make(Sse.encodeSchemas(stream, schemas), options)
)

// ---------------------------------------------------------------------------------------------
// resume

/**
 * The id a reconnecting client resumes after: the `Last-Event-ID` header (which `EventSource`
 * sends on reconnect), else the `lastEventId` query parameter (for clients that cannot set headers,
 * e.g. a first `EventSource` connection that resumes a stored id). Empty values count as absent.
 * The header carries the id's UTF-8 bytes (as `EventSource` and `@streamwire/client` send it) and
 * is read back as UTF-8, so any id round-trips, non-ASCII included; header bytes that are not UTF-8
 * are taken one character per byte (latin1). The query parameter is percent-decoded as
 * `URLSearchParams` does (an invalid escape is kept or replaced, never an error).
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect, Option } from "effect"
 *
 * const handler = Effect.map(SseResponse.lastEventId, (id) =>
 *   HttpServerResponse.text(Option.getOrElse(id, () => "(none)")))
 * ```
 *
 * @since 0.1.0
 * @category resume
 */
export const lastEventId: Effect.Effect<Option.Option<string>, never, HttpServerRequest.HttpServerRequest> = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => lastEventIdOf(request)
)

/**
 * {@link lastEventId} of a given request.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { HttpServerRequest } from "@effect/platform"
 *
 * const request = HttpServerRequest.fromWeb(new Request("http://x/events?lastEventId=41"))
 * SseResponse.lastEventIdOf(request) // Option.some("41")
 * ```
 *
 * @since 0.1.0
 * @category resume
 */
export const lastEventIdOf = (request: HttpServerRequest.HttpServerRequest): Option.Option<string> => {
  const header = request.headers["last-event-id"]
  if (header !== undefined && header !== "") return Option.some(headerText(header))
  const q = request.url.indexOf("?")
  if (q < 0) return Option.none()
  const value = new URLSearchParams(request.url.slice(q + 1)).get("lastEventId")
  return value === null || value === "" ? Option.none() : Option.some(value)
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * A header value as text: HTTP servers hand header values over as one character per byte
 * (latin1), and `EventSource` sends the id's UTF-8 bytes, so bytes that form valid UTF-8 are read
 * as UTF-8. Anything else (ASCII, already decoded text, or bytes that are not UTF-8, such as a
 * client that sent latin1) is kept as it came.
 */
const headerText = (value: string): string => {
  let high = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 0xff) return value
    if (c > 0x7f) high = true
  }
  if (!high) return value
  const bytes = new Uint8Array(value.length)
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i)
  try {
    return utf8.decode(bytes)
  } catch {
    return value
  }
}

/**
 * What a {@link resume} factory returns when the stream has nothing left for this client: the
 * response is a `204 No Content`, the one answer that tells an `EventSource` "stop, do not
 * reconnect" (`@streamwire/client` ends its stream cleanly too).
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { Option, Stream } from "effect"
 *
 * // ten events in all; a client that has seen the last one is told to stop
 * const handler = SseResponse.resume((after) => {
 *   const next = Option.match(after, { onNone: () => 1, onSome: (id) => Number(id) + 1 })
 *   return next > 10
 *     ? SseResponse.noContent
 *     : Stream.range(next, 10).pipe(Stream.map((n) => Sse.unsafeEvent({ data: String(n), id: String(n) })))
 * })
 * ```
 *
 * @since 0.1.0
 * @category resume
 */
export const noContent: unique symbol = Symbol.for("@streamwire/server/SseResponse/noContent")

/**
 * The type of {@link noContent}.
 *
 * @since 0.1.0
 * @category resume
 */
export type NoContent = typeof noContent

/**
 * Resume in one line: your stream factory gets the id the client resumes after, and returns the
 * stream, or {@link noContent} when there is nothing left (a `204`).
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { Option, Stream } from "effect"
 *
 * // counts from where the client left off
 * const handler = SseResponse.resume((after) => {
 *   const start = Option.match(after, { onNone: () => 1, onSome: (id) => Number(id) + 1 })
 *   return Stream.iterate(start, (n) => n + 1).pipe(
 *     Stream.take(10),
 *     Stream.map((n) => Sse.unsafeEvent({ data: String(n), id: String(n) }))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category resume
 */
export const resume = <E, R>(
  f: (lastEventId: Option.Option<string>) => Stream.Stream<Sse.SseMessage, E, R> | NoContent,
  options?: Options
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(lastEventId, (id) => {
    const stream = f(id)
    return stream === noContent
      ? Effect.succeed(HttpServerResponse.empty({ status: 204, headers: { "cache-control": "no-store" } }))
      : make(stream, options)
  })

/**
 * Options of {@link fromEventLog}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FromLogOptions extends Options {
  /** Without a `Last-Event-ID`: live events only (default) or the retained ones first. */
  readonly initial?: "live" | "retained" | undefined
  /**
   * What a {@link Reset} (the client's id is no longer retained, or unknown) is written as: by default
   * an `event: reset` whose data is `{"lastEventId":…,"reason":"expired"|"unknown"}`. The events
   * the log retains follow it.
   */
  readonly onReset?: ((reset: Reset) => Sse.SseMessage) | undefined
}

/**
 * The default rendering of a {@link Reset}.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Option } from "effect"
 *
 * SseResponse.resetEvent({ _tag: "Reset", requested: "a-1", reason: "expired", oldest: Option.some("a-9") })
 * // event: reset / data: {"lastEventId":"a-1","reason":"expired","oldest":"a-9"}
 * ```
 *
 * @since 0.1.0
 * @category resume
 */
export const resetEvent = (reset: Reset): Sse.SseEvent => ({
  _tag: "SseEvent",
  type: "reset",
  data: JSON.stringify({ lastEventId: reset.requested, reason: reset.reason, oldest: Option.getOrNull(reset.oldest) }),
  lastEventId: ""
})

/**
 * A resumable SSE endpoint following an `EventLog`: replay after the request's `Last-Event-ID`
 * (header or query), then live. Given the `EventLog` tag (`EventLog.EventLog`), it reads the
 * service (so `EventLog` is in the requirements); given a log, it follows that one.
 *
 * @example
 * ```ts
 * import { EventLog, MemoryEventLog, SseResponse } from "@streamwire/server"
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * // the service: provide MemoryEventLog.layer() (or another EventLog) where the server is built
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.get("/events", SseResponse.fromEventLog(EventLog.EventLog, { heartbeat: "15 seconds" }))
 * )
 *
 * // given logs
 * const program = Effect.gen(function*() {
 *   const prices = yield* MemoryEventLog.make()
 *   const news = yield* MemoryEventLog.make()
 *   return HttpRouter.empty.pipe(
 *     HttpRouter.get("/prices", SseResponse.fromEventLog(prices)),
 *     HttpRouter.get("/news", SseResponse.fromEventLog(news, { initial: "retained" }))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category resume
 */
export const fromEventLog: {
  (
    tag: Context.Tag<EventLog, EventLog>,
    options?: FromLogOptions
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | EventLog>
  (
    log: EventLog,
    options?: FromLogOptions
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
} = fromEventLogImpl

function fromEventLogImpl(
  tag: Context.Tag<EventLog, EventLog>,
  options?: FromLogOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | EventLog>
function fromEventLogImpl(
  log: EventLog,
  options?: FromLogOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
function fromEventLogImpl(
  logOrTag: EventLog | Context.Tag<EventLog, EventLog>,
  options?: FromLogOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | EventLog> {
  return isTag(logOrTag) ? Effect.flatMap(logOrTag, (log) => follow(log, options)) : follow(logOrTag, options)
}

const isTag = (u: EventLog | Context.Tag<EventLog, EventLog>): u is Context.Tag<EventLog, EventLog> => Context.isTag(u)

const follow = (
  log: EventLog,
  options: FromLogOptions | undefined
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request) =>
      Effect.map(Effect.runtime<never>(), (runtime) => {
        const routeMetrics = metrics.forRoute(metrics.routeOf(runtime.context), "sse")
        const after = lastEventIdOf(request)
        if (Option.isSome(after)) routeMetrics.resumed()
        const logOptions = { ...options, onSlowClient: options?.onSlowClient ?? "disconnect" } as const
        // the in-memory log pushes to connections that may drop messages or be ended (not wait)
        const { messages, share } = attach.follow(
          log,
          { after, initial: options?.initial },
          logOptions.onSlowClient !== "backpressure"
        )
        return responseOf(
          messages,
          logOptions,
          options?.onReset ?? resetEvent,
          share,
          { node: true, metrics: routeMetrics, runtime },
          Option.some(request)
        )
      })
  )

// ---------------------------------------------------------------------------------------------
// POST then stream

/**
 * Options of `fromJsonBody`: the response's, and the request body's byte limit.
 *
 * @since 0.1.0
 * @category models
 */
export interface FromJsonBodyOptions extends Options {
  /**
   * The most bytes of request body read (default `RequestBody.defaultMaxBytes`, 1 MiB); a larger
   * body is answered `413` before anything is streamed.
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * The LLM-chat pattern: decode the JSON request body with a Schema, then answer with an event
 * stream. A body that is not JSON or fails the Schema gets a `400` with a clear message before
 * anything is streamed; one over `maxBodyBytes` (default 1 MiB) gets a `413`.
 *
 * @example
 * ```ts
 * import { SseResponse } from "@streamwire/server"
 * import { Sse } from "@streamwire/codec"
 * import { HttpRouter } from "@effect/platform"
 * import { Schema, Stream } from "effect"
 *
 * const Prompt = Schema.Struct({ prompt: Schema.String })
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.post("/chat", SseResponse.fromJsonBody(Prompt, ({ prompt }) =>
 *     Stream.fromIterable(prompt.split(" ")).pipe(Stream.map((word) => Sse.unsafeEvent({ type: "token", data: word })))
 *   ))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromJsonBody = <A, I, RS, E, R>(
  bodySchema: Schema.Schema<A, I, RS>,
  f: (body: A) => Stream.Stream<Sse.SseMessage, E, R>,
  options?: FromJsonBodyOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | RS | R> =>
  RequestBody.withJson(bodySchema, (value) => make(f(value), options), { maxBytes: options?.maxBodyBytes })

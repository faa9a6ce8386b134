/**
 * Newline-delimited JSON responses: a `Stream` of values (optionally encoded by a Schema) becomes a
 * streamed `application/x-ndjson` response, one JSON text per line, written as produced. Same
 * per-connection buffer, slow-client policy and clean disconnects as `SseResponse`; heartbeats
 * (off by default) are empty lines, which NDJSON readers skip.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { CodecError, Ndjson } from "@streamwire/codec"
import type * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import type * as Runtime from "effect/Runtime"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as callbacks from "./internal/callbacks.js"
import * as connection from "./internal/connection.js"
import { toRecord } from "./internal/headers.js"
import * as metrics from "./internal/metrics.js"
import * as nodeResponse from "./internal/nodeResponse.js"
import { isStreamArg } from "./internal/stream.js"
import * as RequestBody from "./RequestBody.js"
import type { SlowClientPolicy } from "./SseResponse.js"

/**
 * The `Content-Type` of every NDJSON response.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType = "application/x-ndjson"

/**
 * Options of every NDJSON response.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Empty lines while idle: a duration, a `Schedule`, or `false` (the default). */
  readonly heartbeat?: Duration.DurationInput | Schedule.Schedule<unknown> | false | undefined
  /** Extra response headers. */
  readonly headers?: Headers.Input | undefined
  /** Status code (default 200). */
  readonly status?: number | undefined
  /** Values that may wait for a slow client (default 1,024). */
  readonly bufferSize?: number | undefined
  /** See `SseResponse.SlowClientPolicy`. Default `"backpressure"`. */
  readonly onSlowClient?: SlowClientPolicy | undefined
  /**
   * What a failure of the stream becomes: `"close"` (default: end the response; the cause is logged)
   * or a function giving a last value to write (e.g. `{ error: "..." }`), then close.
   */
  readonly onError?: "close" | ((cause: Cause.Cause<unknown>) => unknown) | undefined
}

const newline = new TextEncoder().encode("\n")
const { UnencodableValue } = CodecError

/**
 * The body of an NDJSON response, as bytes: values encoded (one write per chunk of values), through
 * the connection's buffer (its size counts those writes), with empty lines as heartbeats.
 *
 * @example
 * ```ts
 * import { NdjsonResponse } from "@streamwire/server"
 * import { Ndjson } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const bytes = NdjsonResponse.body(Stream.make({ a: 1 }).pipe(Ndjson.encode)) // '{"a":1}\n'
 * const same = Stream.make({ a: 1 }).pipe(Ndjson.encode, NdjsonResponse.body({ heartbeat: false }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const body: <const A extends Stream.Stream<Uint8Array, any, never> | Options | undefined>(
  linesOrOptions?: A,
  options?: Options
) => [A] extends [Stream.Stream<Uint8Array, any, never>] ? Stream.Stream<Uint8Array>
  : <E>(lines: Stream.Stream<Uint8Array, E>) => Stream.Stream<Uint8Array> = dual(
    isStreamArg,
    (lines: Stream.Stream<Uint8Array, unknown>, options?: Options) =>
      bodyOf(lines, () => writeBytes, options, false, metrics.forRoute("body", "ndjson"))
  )

const writeBytes = (bytes: Uint8Array, out: connection.Out) => out.bytes(bytes)

const configOf = <A>(
  encode: () => (item: A, out: connection.Out) => unknown,
  options: Options | undefined,
  routeMetrics: metrics.RouteMetrics,
  context?: Context.Context<never>
) =>
(): connection.Config<A> => ({
  metrics: routeMetrics,
  bufferSize: options?.bufferSize ?? connection.DEFAULT_BUFFER,
  onSlowClient: options?.onSlowClient ?? "backpressure",
  heartbeat: connection.heartbeatOf(options?.heartbeat ?? false),
  heartbeatBytes: newline,
  first: [],
  encode: encode(),
  onFailure: (cause) => {
    const onError = options?.onError
    return Effect.zipRight(
      Effect.logWarning("NDJSON stream failed; closing the response", cause),
      onError === undefined || onError === "close"
        ? Effect.succeed(undefined)
        : Ndjson.encode(Stream.make(onError(cause))).pipe(
          Stream.runCollect,
          Effect.map((chunks) => Chunk.isEmpty(chunks) ? undefined : Chunk.unsafeHead(chunks)),
          Effect.orElseSucceed(() => undefined)
        )
    )
  },
  context
})

const bodyOf = <A, E>(
  source: connection.Source<A, E>,
  encode: () => (item: A, out: connection.Out) => unknown,
  options: Options | undefined,
  node: boolean,
  routeMetrics: metrics.RouteMetrics,
  context?: Context.Context<never>
): Stream.Stream<Uint8Array> => {
  const config = configOf(encode, options, routeMetrics, context)
  const portable = Stream.suspend(() => connection.body(source, config()))
  const request = node && context !== undefined
    ? Context.getOption(context as Context.Context<unknown>, HttpServerRequest.HttpServerRequest)
    : Option.none()
  const res = Option.isSome(request) ? nodeResponse.nodeResponseOf(request.value) : undefined
  return res === undefined ? portable : nodeResponse.body(res, source, config, portable)
}

const respond = <E, R>(
  lines: Stream.Stream<Uint8Array, E, R>,
  options: Options | undefined
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.map(Effect.context<R>(), (context) =>
    // the stream runs in the handler's context (see `context` in the config)
    response(lines as Stream.Stream<Uint8Array, E>, () => writeBytes, options, context as Context.Context<never>))

const response = <A, E>(
  source: connection.Source<A, E>,
  encode: () => (item: A, out: connection.Out) => unknown,
  options: Options | undefined,
  context: Context.Context<never>,
  runtime?: Runtime.Runtime<never>
): HttpServerResponse.HttpServerResponse => {
  const responseOptions = {
    status: options?.status ?? 200,
    contentType,
    headers: { "cache-control": "no-cache, no-transform", "x-accel-buffering": "no", ...toRecord(options?.headers) }
  }
  const routeMetrics = metrics.forRoute(metrics.routeOf(context), "ndjson")
  if (!connection.isStream(source) && runtime !== undefined) {
    // on NodeHttpServer, a push source gets a raw body the connection starts from (`nodeResponse.raw`)
    const request = Context.getOption(context as Context.Context<unknown>, HttpServerRequest.HttpServerRequest)
    const res = Option.isSome(request) ? nodeResponse.nodeResponseOf(request.value) : undefined
    if (res !== undefined) {
      const config = configOf(encode, options, routeMetrics, context)
      return HttpServerResponse.raw(nodeResponse.raw(res, source, config, runtime), responseOptions)
    }
  }
  return HttpServerResponse.stream(bodyOf(source, encode, options, true, routeMetrics, context), responseOptions)
}

/**
 * A `Stream` of JSON values as a streamed NDJSON response.
 *
 * @example
 * ```ts
 * import { NdjsonResponse } from "@streamwire/server"
 * import { HttpRouter } from "@effect/platform"
 * import { Stream } from "effect"
 *
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.get("/rows", NdjsonResponse.make(Stream.range(1, 3).pipe(Stream.map((id) => ({ id })))))
 * )
 * // {"id":1}\n{"id":2}\n{"id":3}\n
 * // or in a pipe: `rows.pipe(NdjsonResponse.make)`, `rows.pipe(NdjsonResponse.make({ heartbeat: "15 seconds" }))`
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <const S extends Stream.Stream<any, any, any> | Options | undefined>(
  streamOrOptions?: S,
  options?: Options
) => [S] extends [Stream.Stream<any, any, infer R>] ? Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  : <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> = dual(
    isStreamArg,
    <A, E, R>(stream: Stream.Stream<A, E, R>, options?: Options) => respond(Ndjson.encode(stream), options)
  )

/**
 * How a callback source hands values to a response made by {@link async}. Calls after the
 * response ended (the client left, `end` was called, a slow client was dropped) do nothing.
 *
 * @example
 * ```ts
 * import type { NdjsonResponse } from "@streamwire/server"
 *
 * const onRow = (emit: NdjsonResponse.Emit<{ readonly id: number }>) => (id: number) => emit.single({ id })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Emit<A = unknown> {
  /** Sends one value (written as `JSON.stringify(value)` and a newline), under the slow-client policy. */
  readonly single: (value: A) => void
  /** Sends several values, each under the slow-client policy. */
  readonly chunk: (values: Iterable<A>) => void
  /** Ends the response once what was sent is written. */
  readonly end: () => void
}

/**
 * Options of {@link async}: those of every NDJSON response, with a slow-client policy that never
 * waits (a callback cannot be made to wait). Default `"disconnect"`.
 *
 * @example
 * ```ts
 * import type { NdjsonResponse } from "@streamwire/server"
 *
 * const options: NdjsonResponse.AsyncOptions = { onSlowClient: "drop-oldest", bufferSize: 64 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface AsyncOptions extends Omit<Options, "onSlowClient"> {
  readonly onSlowClient?: "disconnect" | "drop-oldest" | undefined
}

/**
 * An NDJSON response fed by callbacks — timers, event emitters, a database's notifications —
 * rather than a `Stream`: the twin of `SseResponse.async`. `register` runs once the response is
 * open, in the handler's context and a `Scope` closed when the response ends (the client left,
 * `end` was called, a slow client was dropped): acquire listeners with `Effect.acquireRelease`
 * there. Values go straight into the connection (no fiber or `Stream` per connection) and are
 * encoded as they are written; a value with no JSON text (`undefined`, a function, a cycle, a
 * BigInt) ends the response as a failed stream does (`UnencodableValue`, then `onError`), as does
 * a defect in `register`.
 *
 * @example
 * ```ts
 * import { NdjsonResponse } from "@streamwire/server"
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * // the values' type comes from `emit`'s annotation (`NdjsonResponse.Emit` alone: `unknown`)
 * const clock = NdjsonResponse.async((emit: NdjsonResponse.Emit<{ readonly now: number }>) =>
 *   Effect.acquireRelease(
 *     Effect.sync(() => setInterval(() => emit.single({ now: Date.now() }), 1000)),
 *     (timer) => Effect.sync(() => clearInterval(timer))
 *   )
 * )
 * const router = HttpRouter.empty.pipe(HttpRouter.get("/clock.ndjson", clock))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const async = <A = unknown, R = never>(
  register: (emit: Emit<A>) => Effect.Effect<unknown, never, R>,
  options?: AsyncOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Exclude<R, Scope.Scope>> =>
  Effect.map(Effect.runtime<Exclude<R, Scope.Scope>>(), (runtime) =>
    response(
      callbacks.source(register, runtime.context),
      writeJson,
      { ...options, onSlowClient: options?.onSlowClient ?? "disconnect" },
      runtime.context as Context.Context<never>,
      runtime as Runtime.Runtime<never>
    ))

/** Each value as `JSON.stringify(value)` and a newline; the connection's count of values for errors. */
const writeJson = () => {
  let index = 0
  return (value: unknown, out: connection.Out): unknown => {
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch (cause) {
      return new UnencodableValue({ index, cause })
    }
    if (json === undefined) {
      return new UnencodableValue({ index, cause: `JSON.stringify gives no text for ${typeof value}` })
    }
    index++
    out.text(json + "\n")
    return undefined
  }
}

/**
 * Values encoded by a Schema, then as NDJSON.
 *
 * @example
 * ```ts
 * import { NdjsonResponse } from "@streamwire/server"
 * import { Schema, Stream } from "effect"
 *
 * const Row = Schema.Struct({ at: Schema.DateFromString })
 * const handler = Stream.make({ at: new Date(0) }).pipe(NdjsonResponse.schema(Row))
 * // {"at":"1970-01-01T00:00:00.000Z"}\n
 * const same = NdjsonResponse.schema(Stream.make({ at: new Date(0) }), Row) // data-first
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schema: {
  <A, I>(
    schema: Schema.Schema<A, I, never>,
    options?: Options
  ): <E, R>(stream: Stream.Stream<A, E, R>) => Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  <A, I, E, R>(
    stream: Stream.Stream<A, E, R>,
    schema: Schema.Schema<A, I, never>,
    options?: Options
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
} = dual(
  isStreamArg,
  <A, I, E, R>(stream: Stream.Stream<A, E, R>, schema: Schema.Schema<A, I, never>, options?: Options) =>
    respond(Ndjson.encodeSchema(stream, schema), options)
)

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
 * POST-then-stream as NDJSON: decode the JSON body with a Schema (a bad body gets a `400` with a
 * clear message, before anything is streamed; one over `maxBodyBytes`, default 1 MiB, a `413`),
 * answer with a stream of values.
 *
 * @example
 * ```ts
 * import { NdjsonResponse } from "@streamwire/server"
 * import { HttpRouter } from "@effect/platform"
 * import { Schema, Stream } from "effect"
 *
 * const Prompt = Schema.Struct({ prompt: Schema.String })
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.post("/chat.ndjson", NdjsonResponse.fromJsonBody(Prompt, ({ prompt }) =>
 *     Stream.fromIterable(prompt.split(" ")).pipe(Stream.map((token) => ({ token })))
 *   ))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromJsonBody = <B, I, RS, A, E, R>(
  bodySchema: Schema.Schema<B, I, RS>,
  f: (body: B) => Stream.Stream<A, E, R>,
  options?: FromJsonBodyOptions
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | RS | R> =>
  RequestBody.withJson(bodySchema, (value) => make(f(value), options), { maxBytes: options?.maxBodyBytes })

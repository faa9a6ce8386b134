/**
 * NDJSON (newline-delimited JSON) over `@effect/platform`'s `HttpClient`: a request becomes a
 * `Stream` of values, Schema-typed if you like, with the codec's bad-line policy and limits. A
 * response cut mid-stream fails with `ConnectionLost`, never hangs; there is no reconnect (NDJSON
 * has no resume protocol — wrap the stream in `Stream.retry` if your endpoint is idempotent).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { Ndjson } from "@streamwire/codec"
import type * as Duration from "effect/Duration"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { ConnectionLost, TooManyRedirects, UnexpectedResponse } from "./ClientError.js"
import * as internal from "./internal/ndjsonClient.js"
import { isRequestInput, type RequestInput } from "./internal/request.js"

/**
 * Options of the NDJSON client: the codec's decode options plus transport ones.
 *
 * @example
 * ```ts
 * import { NdjsonClient } from "@streamwire/client"
 *
 * const options: NdjsonClient.Options = { onBadLine: "skip", maxLineLength: 64 * 1024, idleTimeout: "30 seconds" }
 * NdjsonClient.values("http://127.0.0.1:8080/rows", options)
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Options extends Ndjson.DecodeOptions {
  /** Fail with `ConnectionLost` (cause `IdleTimeout`) when no byte arrives for this long. Default: none. */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Redirects to follow (default 10; see `SseClient.Options.maxRedirects`). */
  readonly maxRedirects?: number | undefined
}

/**
 * How an NDJSON client stream fails: a non-2xx answer, the connection lost (refused, cut
 * mid-body, idle), a request that cannot be sent, or a bad line / line too long.
 *
 * @example
 * ```ts
 * import { NdjsonClient } from "@streamwire/client"
 * import { Console, Effect, Stream } from "effect"
 *
 * NdjsonClient.values("http://127.0.0.1:8080/rows").pipe(
 *   Stream.runDrain,
 *   Effect.catchAll((e: NdjsonClient.NdjsonClientError) => Console.error(e._tag, e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type NdjsonClientError =
  | UnexpectedResponse
  | ConnectionLost
  | TooManyRedirects
  | HttpClientError.RequestError
  | Ndjson.DecodeError

/**
 * The body's JSON values, unchecked (`unknown`). Sends `Accept: application/x-ndjson` unless the
 * request sets its own `Accept`. Any 2xx status is accepted (204: no values); the content type is
 * not checked (servers label NDJSON many ways).
 *
 * @example
 * ```ts
 * import { NdjsonClient } from "@streamwire/client"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Console, Effect, Stream } from "effect"
 *
 * const program = NdjsonClient.values("http://127.0.0.1:8080/rows", { onBadLine: "skip" }).pipe(
 *   Stream.runForEach((row) => Console.log(row)),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const values = (
  request: RequestInput,
  options?: Options
): Stream.Stream<unknown, NdjsonClientError, HttpClient.HttpClient> => internal.stream(request, Schema.Unknown, options)

/**
 * The body's values, each decoded with a Schema. A line that is not JSON or fails the Schema
 * follows `onBadLine` (default `"fail"` with `InvalidLine`, carrying the line number).
 *
 * @example
 * ```ts
 * import { NdjsonClient } from "@streamwire/client"
 * import { HttpClientRequest } from "@effect/platform"
 * import { Schema } from "effect"
 *
 * const Row = Schema.Struct({ id: Schema.Number, name: Schema.String })
 *
 * NdjsonClient.schema("http://127.0.0.1:8080/rows", Row)    // Stream<{ id: number; name: string }>
 * HttpClientRequest.post("http://127.0.0.1:8080/search").pipe(
 *   HttpClientRequest.bodyUnsafeJson({ q: "effect" }),
 *   NdjsonClient.schema(Row, { maxLineLength: 64 * 1024 })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const schema: {
  <A, I>(
    schema: Schema.Schema<A, I, never>,
    options?: Options
  ): (request: RequestInput) => Stream.Stream<A, NdjsonClientError, HttpClient.HttpClient>
  <A, I>(
    request: RequestInput,
    schema: Schema.Schema<A, I, never>,
    options?: Options
  ): Stream.Stream<A, NdjsonClientError, HttpClient.HttpClient>
} = dual(
  (args) => isRequestInput(args[0]),
  <A, I>(request: RequestInput, schema: Schema.Schema<A, I, never>, options?: Options) =>
    internal.stream(request, schema, options)
)

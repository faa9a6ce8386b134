/**
 * One NDJSON request over `HttpClient`.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Ndjson } from "@streamwire/codec"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  ConnectionLost,
  type DropCause,
  IdleTimeout,
  type TooManyRedirects,
  UnexpectedResponse
} from "../ClientError.js"
import type * as NdjsonClient from "../NdjsonClient.js"
import { describe, isTransport, type RequestInput, scopedClient, toRequest } from "./request.js"

/** @internal */
export const stream = <A, I>(
  input: RequestInput,
  schema: Schema.Schema<A, I, never>,
  options: NdjsonClient.Options | undefined
): Stream.Stream<A, NdjsonClient.NdjsonClientError, HttpClient.HttpClient> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const client = yield* scopedClient(options?.maxRedirects)
    const original = toRequest(input)
    const where = describe(original)
    const request = Headers.has(original.headers, "accept")
      ? original
      : HttpClientRequest.setHeader(original, "accept", Ndjson.contentType)
    const idle = options?.idleTimeout === undefined ? undefined : Duration.decode(options.idleTimeout)
    const idleTimeout = () => new IdleTimeout({ ...where, timeout: idle! })
    const lost = (cause: DropCause) => new ConnectionLost({ ...where, attempts: 0, lastEventId: "", cause })

    const executed = idle === undefined
      ? client.execute(request)
      : client.execute(request).pipe(Effect.timeoutFail({ duration: idle, onTimeout: idleTimeout }))
    const response = yield* executed.pipe(
      Effect.mapError((error) =>
        error._tag === "IdleTimeout" || isTransport(error)
          ? lost(error)
          : error as HttpClientError.RequestError | TooManyRedirects
      )
    )
    type Out = Stream.Stream<A, NdjsonClient.NdjsonClientError>
    if (response.status === 204) return Stream.empty as Out
    if (response.status < 200 || response.status > 299) {
      return Stream.fail<NdjsonClient.NdjsonClientError>(
        new UnexpectedResponse({
          method: where.method,
          url: response.request.url,
          status: response.status,
          contentType: Option.getOrElse(Headers.get(response.headers, "content-type"), () => ""),
          expected: "2xx"
        })
      )
    }
    const bytes = idle === undefined
      ? response.stream
      : Stream.timeoutFailCause(response.stream, () => Cause.fail(idleTimeout()), idle)
    return bytes.pipe(
      Stream.mapError((error) => error._tag === "ResponseError" || error._tag === "IdleTimeout" ? lost(error) : error),
      Ndjson.decodeSchema(schema, {
        maxLineLength: options?.maxLineLength,
        onBadLine: options?.onBadLine
      })
    )
  }))

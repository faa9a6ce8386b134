/**
 * Request helpers shared by the SSE and NDJSON clients.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"

/** What the client functions accept as a request: a request, or a URL to GET. */
export type RequestInput = HttpClientRequest.HttpClientRequest | string | URL

/** @internal */
export const isRequestInput = (u: unknown): u is RequestInput =>
  typeof u === "string" || u instanceof URL ||
  (typeof u === "object" && u !== null && HttpClientRequest.TypeId in u)

/** @internal */
export const toRequest = (input: RequestInput): HttpClientRequest.HttpClientRequest =>
  typeof input === "string" || input instanceof URL ? HttpClientRequest.get(input) : input

/** The request with one header removed (HttpClientRequest has no `removeHeader`). */
export const removeHeader = (
  request: HttpClientRequest.HttpClientRequest,
  name: string
): HttpClientRequest.HttpClientRequest =>
  Headers.has(request.headers, name)
    ? HttpClientRequest.modify(HttpClientRequest.make(request.method)(request.url), {
      headers: Headers.remove(request.headers, name),
      urlParams: request.urlParams,
      body: request.body,
      ...(Option.isSome(request.hash) ? { hash: request.hash.value } : {})
    })
    : request

/** `METHOD url` parts for error messages. */
export const describe = (request: HttpClientRequest.HttpClientRequest) => ({
  method: request.method,
  url: request.url
})

/**
 * The HttpClient to use: every hop aborted when the request's scope closes (the response body is
 * never left half-read in a pool), redirects followed (fetch follows them itself; undici and
 * node:http do not).
 */
export const scopedClient = (maxRedirects: number | undefined): Effect.Effect<
  HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>,
  never,
  HttpClient.HttpClient
> =>
  Effect.map(HttpClient.HttpClient, (client) => {
    const scoped = HttpClient.withScope(client)
    return maxRedirects === 0 ? scoped : HttpClient.followRedirects(scoped, maxRedirects ?? 10)
  })

/** The media type of a Content-Type header value, lower-cased, parameters removed. */
export const mediaType = (contentType: string): string => {
  const semi = contentType.indexOf(";")
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

/** Is this `RequestError` a transport failure (worth reconnecting), rather than a bad URL or body? */
export const isTransport = (error: HttpClientError.HttpClientError): boolean =>
  error._tag === "ResponseError" || error.reason === "Transport"

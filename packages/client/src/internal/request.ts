/**
 * Request helpers shared by the SSE and NDJSON clients.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { TooManyRedirects } from "../ClientError.js"

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

/** Headers that carry credentials: dropped when a redirect leaves the origin. */
const credentialHeaders = ["authorization", "cookie", "proxy-authorization"] as const

/** Headers that describe a request body: dropped when a redirect turns the request into a GET. */
const bodyHeaders = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-location"
] as const

const redirectStatuses = new Set([301, 302, 303, 307, 308])

/** The URL a request goes to, query included. */
const fullUrl = (request: HttpClientRequest.HttpClientRequest): URL | undefined =>
  Option.getOrUndefined(HttpClientRequest.toUrl(request))

/**
 * The request a redirect leads to, by the Fetch standard's "HTTP-redirect fetch": 303 (for any
 * method but GET and HEAD) and 301/302 for POST become a GET without body (and without the headers
 * describing the body); 307/308 keep method and body; credentials (`Authorization`, `Cookie`,
 * `Proxy-Authorization`) are dropped when the new URL is on another origin (scheme, host, port).
 * `undefined` when the redirect cannot be followed (no or bad `Location`, a scheme other than
 * http(s), or a streamed body that cannot be sent again): the 3xx response is then the answer.
 *
 * @internal
 */
export const redirected = (
  request: HttpClientRequest.HttpClientRequest,
  status: number,
  location: string | undefined
): HttpClientRequest.HttpClientRequest | undefined => {
  if (!redirectStatuses.has(status) || location === undefined) return undefined
  const from = fullUrl(request)
  if (from === undefined) return undefined
  let to: URL
  try {
    to = new URL(location, from)
  } catch {
    return undefined
  }
  if (to.protocol !== "http:" && to.protocol !== "https:") return undefined
  const toGet = (status === 303 && request.method !== "GET" && request.method !== "HEAD") ||
    ((status === 301 || status === 302) && request.method === "POST")
  if (!toGet && request.body._tag === "Stream") return undefined
  let headers = request.headers
  if (toGet) { for (const name of bodyHeaders) headers = Headers.remove(headers, name) }
  if (to.origin !== from.origin) { for (const name of credentialHeaders) headers = Headers.remove(headers, name) }
  const next = HttpClientRequest.make(toGet ? "GET" : request.method)(to)
  return HttpClientRequest.modify(next, {
    headers,
    ...(toGet || request.body._tag === "Empty" ? {} : { body: request.body })
  })
}

/** What the clients call: `execute` with every hop in the caller's scope. */
export interface Executor {
  readonly execute: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<
    HttpClientResponse.HttpClientResponse,
    HttpClientError.HttpClientError | TooManyRedirects,
    Scope.Scope
  >
}

const isNode = typeof globalThis.process === "object" && typeof globalThis.process?.versions?.node === "string"

/**
 * Runs a request with the fetch client's own redirect following turned off (`redirect: "manual"`),
 * so that every HttpClient redirects by the same rules (ours). Only where fetch then hands over the
 * 3xx response itself (Node, Deno, Bun); a browser's fetch answers `"manual"` with an opaque
 * response, so there fetch keeps following redirects itself (by the same standard). A
 * `FetchHttpClient.RequestInit` that sets `redirect` is left alone. Other clients ignore the service.
 */
const manualRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  isNode
    ? Effect.flatMap(
      Effect.serviceOption(FetchHttpClient.RequestInit),
      (init) =>
        Option.isSome(init) && init.value.redirect !== undefined
          ? effect
          : Effect.provideService(effect, FetchHttpClient.RequestInit, {
            ...Option.getOrElse(init, () => ({})),
            redirect: "manual"
          })
    )
    : effect

/**
 * The HttpClient to use: every hop aborted when the request's scope closes (the response body is
 * never left half-read in a pool), redirects followed by our rules ({@link redirected}) up to
 * `maxRedirects` (default 10; more fails with `TooManyRedirects`; `0`: a 3xx is the answer).
 */
export const scopedClient = (maxRedirects: number | undefined): Effect.Effect<Executor, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client) => {
    const scoped = HttpClient.withScope(client)
    const max = maxRedirects ?? 10
    const loop = (
      first: HttpClientRequest.HttpClientRequest,
      request: HttpClientRequest.HttpClientRequest,
      hops: number
    ): Effect.Effect<
      HttpClientResponse.HttpClientResponse,
      HttpClientError.HttpClientError | TooManyRedirects,
      Scope.Scope
    > =>
      Effect.flatMap(manualRedirects(scoped.execute(request)), (response) => {
        const next = redirected(request, response.status, response.headers["location"])
        if (next === undefined) return Effect.succeed(response)
        if (max === 0) return Effect.succeed(response)
        if (hops >= max) {
          return Effect.fail(
            new TooManyRedirects({
              method: first.method,
              url: first.url,
              limit: max,
              location: fullUrl(next)?.href ?? next.url
            })
          )
        }
        return loop(first, next, hops + 1)
      })
    return { execute: (request) => loop(request, request, 0) }
  })

const utf8 = new TextEncoder()

/**
 * A header value carrying any string as its UTF-8 bytes, one character per byte (what `EventSource`
 * sends as `Last-Event-ID`): HTTP clients take header values as "byte strings" (characters up to
 * U+00FF, written out as one byte each), so this is the form every HttpClient accepts and writes
 * as the UTF-8 bytes. ASCII is returned as is.
 *
 * @internal
 */
export const utf8HeaderValue = (value: string): string => {
  if (/^[\x00-\x7f]*$/.test(value)) return value
  const bytes = utf8.encode(value)
  let out = ""
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as Array<number>)
  }
  return out
}

/** The media type of a Content-Type header value, lower-cased, parameters removed. */
export const mediaType = (contentType: string): string => {
  const semi = contentType.indexOf(";")
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

/** Is this `RequestError` a transport failure (worth reconnecting), rather than a bad URL or body? */
export const isTransport = (
  error: HttpClientError.HttpClientError | TooManyRedirects
): error is HttpClientError.HttpClientError =>
  error._tag === "ResponseError" || (error._tag === "RequestError" && error.reason === "Transport")

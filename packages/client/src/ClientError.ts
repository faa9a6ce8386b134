/**
 * The typed errors of `@streamwire/client`, and the reasons a connection ends. Every error names
 * the request (method and URL) and what was seen.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"

/**
 * The server answered, but not with a stream this client may read: for SSE a status other than
 * 200 (and 204, which ends the stream cleanly) or a content type other than `text/event-stream`;
 * for NDJSON a status outside 2xx. The connection is not retried (the WHATWG EventSource rule:
 * "fail the connection").
 *
 * @example
 * ```ts
 * import { ClientError, SseClient } from "@streamwire/client"
 * import { Effect, Stream } from "effect"
 *
 * const program = SseClient.events("http://127.0.0.1:8080/events").pipe(
 *   Stream.runDrain,
 *   Effect.catchTag("UnexpectedResponse", (e: ClientError.UnexpectedResponse) =>
 *     Effect.logError(`status ${e.status}, content type ${e.contentType}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Data.TaggedError("UnexpectedResponse")<{
  readonly method: string
  readonly url: string
  readonly status: number
  /** The response's `Content-Type` header, `""` when absent. */
  readonly contentType: string
  /** What was expected, e.g. `"200 text/event-stream"`. */
  readonly expected: string
}> {
  override get message(): string {
    return `${this.method} ${this.url} answered ${this.status} ${
      this.contentType === "" ? "(no content type)" : this.contentType
    }, expected ${this.expected}`
  }
}

/**
 * A redirect was not followed: more than `maxRedirects` (default 10) in a row. Fatal, like
 * {@link UnexpectedResponse} (no reconnect). Redirects are followed by the Fetch standard's rules
 * on every HttpClient: 303 (and 301/302 for POST) become a GET without body, 307/308 keep method
 * and body, and `Authorization`, `Cookie` and `Proxy-Authorization` are dropped when a redirect
 * leaves the origin (scheme, host, port).
 *
 * @example
 * ```ts
 * import { ClientError, SseClient } from "@streamwire/client"
 * import { Effect, Stream } from "effect"
 *
 * const program = SseClient.events("http://127.0.0.1:8080/loop", { maxRedirects: 3 }).pipe(
 *   Stream.runDrain,
 *   Effect.catchTag("TooManyRedirects", (e: ClientError.TooManyRedirects) =>
 *     Effect.logError(`gave up after ${e.limit} redirects, next: ${e.location}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyRedirects extends Data.TaggedError("TooManyRedirects")<{
  readonly method: string
  readonly url: string
  /** The limit that was reached (`maxRedirects`). */
  readonly limit: number
  /** Where the next redirect pointed. */
  readonly location: string
}> {
  override get message(): string {
    return `${this.method} ${this.url}: more than ${this.limit} redirects (next: ${this.location})`
  }
}

/**
 * No byte (no event, no heartbeat comment, no response headers) arrived within the idle timeout:
 * the connection is treated as dropped.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 *
 * // reconnects when the server stays silent for 30 s (send heartbeats more often than that)
 * SseClient.events("http://127.0.0.1:8080/events", { idleTimeout: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category drop causes
 */
export class IdleTimeout extends Data.TaggedError("IdleTimeout")<{
  readonly method: string
  readonly url: string
  readonly timeout: Duration.Duration
}> {
  override get message(): string {
    return `${this.method} ${this.url}: nothing received for ${Duration.format(this.timeout)}`
  }
}

/**
 * The server ended the response body. For SSE this is a drop like any other (EventSource
 * reconnects), unless reconnecting is off, in which case the stream ends cleanly.
 *
 * @example
 * ```ts
 * import { ClientError } from "@streamwire/client"
 *
 * const isEnd = (cause: ClientError.DropCause) => cause._tag === "StreamEnded"
 * ```
 *
 * @since 0.1.0
 * @category drop causes
 */
export class StreamEnded extends Data.TaggedError("StreamEnded")<{
  readonly method: string
  readonly url: string
}> {
  override get message(): string {
    return `${this.method} ${this.url}: the server ended the response`
  }
}

/**
 * Why a connection that was (or was being) established went away: a transport error while
 * connecting or reading the body (`RequestError` with reason `"Transport"`, `ResponseError`), the
 * idle timeout, or the end of the body.
 *
 * @example
 * ```ts
 * import type { ClientError } from "@streamwire/client"
 *
 * const label = (cause: ClientError.DropCause) =>
 *   cause._tag === "StreamEnded" ? "ended" : cause._tag === "IdleTimeout" ? "silent" : "network"
 * ```
 *
 * @since 0.1.0
 * @category drop causes
 */
export type DropCause = HttpClientError.HttpClientError | IdleTimeout | StreamEnded

/**
 * The connection was lost and the client will not reconnect: the reconnect schedule gave up, or
 * reconnecting is off (the default for methods other than GET). Carries the last cause and the
 * last event id seen, so the caller can resume later.
 *
 * @example
 * ```ts
 * import { SseClient } from "@streamwire/client"
 * import { Effect, Schedule, Stream } from "effect"
 *
 * SseClient.events("http://127.0.0.1:8080/events", { reconnect: Schedule.recurs(3) }).pipe(
 *   Stream.runDrain,
 *   Effect.catchTag("ConnectionLost", (e) =>
 *     Effect.logWarning(`gave up after ${e.attempts} reconnects, last id ${e.lastEventId}: ${e.cause.message}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionLost extends Data.TaggedError("ConnectionLost")<{
  readonly method: string
  readonly url: string
  /** Reconnects attempted since the last healthy connection (0 when reconnecting is off). */
  readonly attempts: number
  /** The last event id (what a reconnect would send as `Last-Event-ID`; `""`: none), to resume from later. */
  readonly lastEventId: string
  /** Why the last connection went away. */
  readonly cause: DropCause
}> {
  override get message(): string {
    return `${this.method} ${this.url}: connection lost after ${this.attempts} reconnect attempt${
      this.attempts === 1 ? "" : "s"
    }: ${this.cause.message}`
  }
}

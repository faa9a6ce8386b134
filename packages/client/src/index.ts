/**
 * `@streamwire/client`: EventSource semantics as an Effect Stream over `@effect/platform`'s
 * `HttpClient` — reconnect as a Schedule, server `retry:`, `Last-Event-ID` resume, POST streaming —
 * and NDJSON sources.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as ClientError from "./ClientError.js"
/** @since 0.1.0 */
export * as NdjsonClient from "./NdjsonClient.js"
/** @since 0.1.0 */
export * as Reconnect from "./Reconnect.js"
/** @since 0.1.0 */
export * as SseClient from "./SseClient.js"

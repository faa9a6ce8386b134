/**
 * `@streamwire/server`: Server-Sent Events and NDJSON responses for `@effect/platform`, with
 * heartbeats, retry hints, `Last-Event-ID` resume through an `EventLog`, fan-out with bounded
 * per-connection buffers, and clean disconnects.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as EventLog from "./EventLog.js"
/** @since 0.1.0 */
export * as FileEventLog from "./FileEventLog.js"
/** @since 0.1.0 */
export * as MemoryEventLog from "./MemoryEventLog.js"
/** @since 0.1.0 */
export * as NdjsonResponse from "./NdjsonResponse.js"
/** @since 0.1.0 */
export * as RequestBody from "./RequestBody.js"
/** @since 0.1.0 */
export * as SseResponse from "./SseResponse.js"

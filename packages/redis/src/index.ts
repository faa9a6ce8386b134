/**
 * `@streamwire/redis`: an `EventLog` for `@streamwire/server` on Redis Streams, so several server
 * instances serve one resumable SSE stream.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as RedisEventLog from "./RedisEventLog.js"

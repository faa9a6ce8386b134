/**
 * `@streamwire/codec`: Server-Sent Events and NDJSON as Effect Stream transformers.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as CodecError from "./CodecError.js"
/** @since 0.1.0 */
export * as Lines from "./Lines.js"
/** @since 0.1.0 */
export * as Ndjson from "./Ndjson.js"
/** @since 0.1.0 */
export * as Sse from "./Sse.js"
/** @since 0.1.0 */
export * as Utf8 from "./Utf8.js"

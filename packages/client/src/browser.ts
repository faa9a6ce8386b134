/**
 * `@streamwire/client/browser`: what only makes sense in a browser — one SSE connection shared by
 * all the tabs of a site ({@link SharedSse}).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as SharedSse from "./SharedSse.js"

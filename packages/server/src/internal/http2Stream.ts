/**
 * Cutting a response on HTTP/2. The socket of an `Http2ServerRequest` / `Http2ServerResponse` is
 * the session's, shared by every stream of the connection (and Node refuses writes to it:
 * `ERR_HTTP2_NO_SOCKET_MANIPULATION`): a cut is a reset of the response's own stream
 * (`RST_STREAM`), once what was written has been handed over. The neighbours go on.
 *
 * Read from the objects (no `node:http2` import), so the portable modules can use it.
 *
 * @internal
 */

/** @internal */
export interface Http2StreamLike {
  readonly destroyed: boolean
  readonly closed: boolean
  readonly session: unknown
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): unknown
  close(code?: number, callback?: () => void): unknown
}

/** The HTTP/2 stream under a Node compatibility request or response (`.stream`); undefined on HTTP/1.x. @internal */
export const http2StreamOf = (requestOrResponse: unknown): Http2StreamLike | undefined => {
  if (typeof requestOrResponse !== "object" || requestOrResponse === null) return undefined
  const stream = (requestOrResponse as { readonly stream?: unknown }).stream
  if (typeof stream !== "object" || stream === null || !("session" in stream)) return undefined
  const s = stream as Partial<Http2StreamLike>
  return typeof s.close === "function" && typeof s.write === "function" ? stream as Http2StreamLike : undefined
}

/** NGHTTP2_INTERNAL_ERROR: what a client sees when a server fails mid-stream. */
const INTERNAL_ERROR = 2

/** Resets the stream once what was written before has been handed over; `done` once it is closed. @internal */
export const resetStream = (stream: Http2StreamLike, done?: () => void): void => {
  if (stream.destroyed || stream.closed) {
    done?.()
    return
  }
  stream.write(new Uint8Array(0), () => {
    if (stream.destroyed || stream.closed) done?.()
    else stream.close(INTERNAL_ERROR, done)
  })
}

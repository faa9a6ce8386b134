/**
 * The plain `node:http` SSE server both server benchmarks compare with: each open response is kept
 * in a set, and a publisher renders an event once and `res.write`s the same string to every one.
 */
import * as Http from "node:http"

/** The headers of the baseline's SSE responses. */
export const baselineHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "connection": "keep-alive",
  "x-accel-buffering": "no"
}

/** A `node:http` server that answers every request with an SSE response added to `clients`. */
export const baselineServer = (clients: Set<Http.ServerResponse>): Http.Server =>
  Http.createServer((_req, res) => {
    res.writeHead(200, baselineHeaders)
    res.write("")
    clients.add(res)
    res.on("close", () => clients.delete(res))
  })

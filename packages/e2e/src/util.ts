import * as Http from "node:http"
import type * as Net from "node:net"

/** Polls `check` until it returns true; fails with `message` (and the last value seen) after `timeout` ms. */
export const waitFor = async (
  check: () => boolean | Promise<boolean>,
  options: { readonly timeout?: number; readonly interval?: number; readonly message?: () => string } = {}
): Promise<void> => {
  const deadline = Date.now() + (options.timeout ?? 10_000)
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting: ${options.message?.() ?? "condition not met"}`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval ?? 25))
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export interface PlainServer {
  readonly origin: string
  readonly close: () => Promise<void>
}

/** A plain `node:http` server on 127.0.0.1, a free port. */
export const plainServer = async (handler: Http.RequestListener): Promise<PlainServer> => {
  const server = Http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as Net.AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** A server of one HTML page (any path). */
export const htmlServer = (html: string) =>
  plainServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
    res.end(html)
  })

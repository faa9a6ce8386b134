/**
 * Runs an `@effect/platform` app on a real `node:http` server on 127.0.0.1 (a free port, through
 * `serve` of `@streamwire/server/testing`) with a promise-shaped handle for plain async tests: the requests it saw (method, URL, headers), a way
 * to cut the connections of open requests from the server side, and a `close` that ends every
 * connection and runs every finalizer.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import { serve } from "@streamwire/server/testing"
import { Effect, Exit, Scope } from "effect"
import * as Http from "node:http"

export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly at: number
  /**
   * Did the server answer it (send the response head)? `false` when the connection closed first,
   * e.g. a kept-alive socket the server closed just as the request came in, which a browser then
   * sends again on a new connection.
   */
  readonly answered: () => boolean
  /** The client's port, and how many requests its connection had carried before this one. */
  readonly socket: { readonly port: number | undefined; readonly before: number }
  /** When its response closed (ms since the epoch), `undefined` while it is open. */
  readonly closedAt: () => number | undefined
}

export interface TestServer<A> {
  /** e.g. `http://127.0.0.1:40123` */
  readonly origin: string
  readonly port: number
  readonly url: (path: string) => string
  /** What the app's builder returned (a log, counters, ...). */
  readonly value: A
  readonly requests: ReadonlyArray<SeenRequest>
  /** How many requests whose URL starts with `prefix` are open now (their response not yet closed). */
  readonly openRequests: (prefix: string) => number
  /** Destroys the sockets of the open requests whose URL starts with `prefix`; how many. */
  readonly dropConnections: (prefix: string) => number
  readonly close: () => Promise<void>
}

/**
 * Builds the app in a fresh scope (so logs, tickers and subscriptions it creates live as long as
 * the server) and serves it.
 */
export const start = async <A, E>(
  build: Effect.Effect<readonly [HttpApp.Default<E, Scope.Scope>, A], unknown, Scope.Scope>
): Promise<TestServer<A>> => {
  const scope = Effect.runSync(Scope.make())
  const http = Http.createServer()
  const requests: Array<SeenRequest> = []
  const open = new Set<Http.IncomingMessage>()
  const carried = new WeakMap<object, number>()
  http.on("request", (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    let closedAt: number | undefined = undefined
    const before = carried.get(req.socket) ?? 0
    carried.set(req.socket, before + 1)
    requests.push({
      socket: { port: req.socket.remotePort, before },
      method: req.method ?? "",
      url: req.url ?? "",
      headers: { ...req.headers },
      at: Date.now(),
      answered: () => res.headersSent,
      closedAt: () => closedAt
    })
    open.add(req)
    res.on("close", () => {
      closedAt = Date.now()
      open.delete(req)
    })
  })
  try {
    const [origin, value] = await Effect.runPromise(
      Effect.gen(function*() {
        const [app, value] = yield* build
        return [yield* serve(app, { server: () => http }), value] as const
      }).pipe(Scope.extend(scope))
    )
    const port = Number(new URL(origin).port)
    let closed = false
    return {
      origin,
      port,
      url: (path) => origin + path,
      value,
      requests,
      openRequests: (prefix) => {
        let n = 0
        for (const req of open) if ((req.url ?? "").startsWith(prefix)) n++
        return n
      },
      dropConnections: (prefix) => {
        let n = 0
        for (const req of open) {
          if ((req.url ?? "").startsWith(prefix)) {
            req.socket.destroy()
            n++
          }
        }
        return n
      },
      close: async () => {
        if (closed) return
        closed = true
        http.closeAllConnections()
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    }
  } catch (error) {
    http.closeAllConnections()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}

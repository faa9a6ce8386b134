/**
 * Serving an app on 127.0.0.1 (a free port) for a scope, and polling in real time.
 *
 * @internal
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

export interface ServeOptions {
  readonly server?: (() => Http.Server) | undefined
}

export const serve = <E, R>(
  app: HttpApp.Default<E, R>,
  options?: ServeOptions
): Effect.Effect<string, never, Scope.Scope | Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>> =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(options?.server ?? (() => Http.createServer()), {
      port: 0,
      host: "127.0.0.1"
    }).pipe(Effect.orDie)
    yield* server.serve(app)
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("serve: expected a TCP address")
    return `http://127.0.0.1:${address.port}`
  }) as Effect.Effect<string, never, Scope.Scope | Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>>

const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

export const eventually = <A, E, R>(
  check: Effect.Effect<A, E, R>,
  ok: (a: A) => boolean,
  ms = 5000,
  what = "condition"
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    while (true) {
      const a = yield* check
      if (ok(a)) return a
      if (Date.now() > deadline) {
        return yield* Effect.dieMessage(`timed out after ${ms} ms waiting for ${what}; last value ${JSON.stringify(a)}`)
      }
      yield* realSleep(10)
    }
  })

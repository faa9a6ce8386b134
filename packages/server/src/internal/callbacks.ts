/**
 * A push source fed by callbacks (`SseResponse.async`, `NdjsonResponse.async`): `register` runs
 * once the connection is open, in the handler's context and a `Scope` of its own, closed when the
 * response ends; what it emits goes straight into the connection.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type * as connection from "./connection.js"

/** @internal */
export interface Emit<A> {
  readonly single: (item: A) => void
  readonly chunk: (items: Iterable<A>) => void
  readonly end: () => void
}

/** @internal */
export const source = <A, R>(
  register: (emit: Emit<A>) => Effect.Effect<unknown, never, R>,
  context: Context.Context<Exclude<R, Scope.Scope>>
): connection.PushSource<A> => ({
  _tag: "PushSource",
  attach: (push) =>
    Effect.flatMap(Scope.make(), (scope) => {
      const emit: Emit<A> = {
        single: (item) => push.one(item),
        chunk: (items) => {
          for (const item of items) push.one(item)
        },
        end: () => push.end()
      }
      const registered = register(emit).pipe(
        Scope.extend(scope),
        Effect.provide(context)
      ) as Effect.Effect<unknown>
      const detach = () => {
        Effect.runFork(Scope.close(scope, Exit.void))
      }
      return Effect.matchCauseEffect(registered, {
        onFailure: (cause) => Effect.as(push.fail(cause), detach),
        onSuccess: () => Effect.succeed(detach)
      })
    })
})

/** The policies a callback source can have: a push cannot be made to wait. @internal */
export type Policy = "disconnect" | "drop-oldest"

/**
 * One connection's pipe between the source stream and the response writer.
 *
 * The source runs in its own fiber and fills a bounded buffer; the response fiber (the one that
 * writes to the socket) takes whole batches from it. A heartbeat fiber adds a heartbeat when
 * nothing was written since its previous tick. When the client stops reading, the writer blocks
 * on the socket and the buffer fills: then the policy applies (wait, drop the oldest, or end the
 * connection by interrupting the response fiber, which is the only way to free a writer blocked
 * on a socket that never drains). All three fibers live in the stream's scope: when the client
 * goes away, the response fiber is interrupted and they all stop, finalizers run.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/** @internal */
export const DEFAULT_HEARTBEAT = Duration.seconds(15)
/** @internal */
export const DEFAULT_BUFFER = 1024

/**
 * An empty first write: the server sends the status and headers at once (Node holds them until the
 * first write), so `EventSource` opens even before the first event.
 *
 * @internal
 */
export const flushHeaders = Chunk.of(new Uint8Array(0))

/** @internal */
export const heartbeatSchedule = (
  heartbeat: Duration.DurationInput | Schedule.Schedule<unknown> | false | undefined
): Schedule.Schedule<unknown> | undefined => {
  if (heartbeat === false) return undefined
  if (heartbeat === undefined) return Schedule.spaced(DEFAULT_HEARTBEAT)
  return Schedule.isSchedule(heartbeat) ? heartbeat : Schedule.spaced(heartbeat)
}

/** @internal */
export type SlowClientPolicy = "disconnect" | "drop-oldest" | "backpressure"

/** @internal */
export interface Config<A> {
  readonly bufferSize: number
  readonly onSlowClient: SlowClientPolicy
  readonly heartbeat: Schedule.Schedule<unknown> | undefined
  readonly heartbeatItem: A
  readonly onDisconnect?: (() => void) | undefined
}

interface End<E> {
  readonly _tag: "End"
  readonly exit: Exit.Exit<void, E>
}

const isEnd = (u: unknown): u is End<any> => (u as End<any>)._tag === "End"

/** @internal */
export const buffered = <A, E>(source: Stream.Stream<A, E>, config: Config<A>): Stream.Stream<A, E> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const writer = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber) => Effect.succeed(fiber))
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Chunk.Chunk<A> | End<E>>(), Queue.shutdown)
    const capacity = Math.max(1, config.bufferSize)
    const policy = config.onSlowClient
    const permits = policy === "backpressure" ? yield* Effect.makeSemaphore(capacity) : undefined
    let queued = 0 // elements in the queue
    let written = false // something was taken since the last heartbeat tick
    let ended = false

    const push = (chunk: Chunk.Chunk<A>) => {
      queued += chunk.length
      queue.unsafeOffer(chunk)
    }

    const dropOldest = (n: number) =>
      Effect.suspend(function loop(): Effect.Effect<void> {
        if (queued === 0 || queued + n <= capacity) return Effect.void
        return Effect.flatMap(Queue.poll(queue), (item) => {
          if (Option.isSome(item) && !isEnd(item.value)) queued -= item.value.length
          return loop()
        })
      })

    const offer = (chunk: Chunk.Chunk<A>): Effect.Effect<void> => {
      const n = chunk.length
      if (n === 0) return Effect.void
      switch (policy) {
        case "backpressure":
          return Effect.zipRight(permits!.take(Math.min(n, capacity)), Effect.sync(() => push(chunk)))
        case "drop-oldest":
          return Effect.zipRight(dropOldest(n), Effect.sync(() => push(chunk)))
        case "disconnect":
          if (queued > 0 && queued + n > capacity) {
            // the client is not keeping up: end the connection (it resumes from its last id)
            return Effect.suspend(() => {
              ended = true
              queue.unsafeOffer({ _tag: "End", exit: Exit.void })
              config.onDisconnect?.()
              return Effect.zipRight(Fiber.interruptAsFork(writer, writer.id()), Effect.interrupt)
            })
          }
          push(chunk)
          return Effect.void
      }
    }

    yield* source.pipe(
      Stream.runForEachChunk(offer),
      Effect.exit,
      Effect.flatMap((exit) =>
        Effect.sync(() => {
          if (ended) return
          ended = true
          queue.unsafeOffer({ _tag: "End", exit })
        })
      ),
      Effect.forkScoped
    )

    const heartbeat = Chunk.of(config.heartbeatItem)
    if (config.heartbeat !== undefined) {
      const schedule = config.heartbeat
      yield* Effect.gen(function*() {
        const driver = yield* Schedule.driver(schedule)
        while (true) {
          yield* driver.next(undefined)
          if (!written && queued === 0 && !ended) push(heartbeat)
          written = false
        }
      }).pipe(Effect.ignore, Effect.forkScoped)
    }

    let pendingEnd: End<E> | undefined
    const finish = (end: End<E>): Effect.Effect<never, Option.Option<E>> => {
      const exit = end.exit
      if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return Effect.fail(Option.none())
      return Effect.failCause(Cause.map(exit.cause, Option.some))
    }

    const pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>> = Effect.suspend(() => {
      if (pendingEnd !== undefined) return finish(pendingEnd)
      return Effect.flatMap(Queue.takeBetween(queue, 1, Number.MAX_SAFE_INTEGER), (items) => {
        let release = 0
        let out: Chunk.Chunk<A> | undefined
        let parts: Array<Chunk.Chunk<A>> | undefined
        for (const item of items) {
          if (isEnd(item)) {
            pendingEnd = item
            break
          }
          queued -= item.length
          if (item !== heartbeat) written = true
          release += Math.min(item.length, capacity)
          if (out === undefined) out = item
          else (parts ??= [out]).push(item)
        }
        if (parts !== undefined) out = Chunk.flatten(Chunk.unsafeFromArray(parts))
        const result: Effect.Effect<Chunk.Chunk<A>, Option.Option<E>> = out === undefined
          ? finish(pendingEnd!)
          : Effect.succeed(out)
        return permits !== undefined && release > 0 ? Effect.zipRight(permits.release(release), result) : result
      })
    })

    return Stream.repeatEffectChunkOption(pull)
  }))

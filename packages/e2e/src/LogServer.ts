/**
 * The smallest resumable SSE server: a `MemoryEventLog` behind `SseResponse.fromEventLog` on
 * `GET /events`, with the log handed to the test so it can append.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import { MemoryEventLog, SseResponse } from "@streamwire/server"
import type { EventLog } from "@streamwire/server"
import { Effect } from "effect"
import type { Scope } from "effect"

export interface Options {
  readonly maxEvents?: number | undefined
  readonly retry?: SseResponse.Options["retry"]
  readonly initial?: "live" | "retained" | undefined
  readonly bufferSize?: number | undefined
  readonly heartbeat?: SseResponse.Options["heartbeat"]
}

export type Log = EventLog.EventLog

export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const log: EventLog.EventLog = yield* MemoryEventLog.make({ maxEvents: options.maxEvents ?? 20_000 })
    const router = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/events",
        SseResponse.fromEventLog(log, {
          retry: options.retry,
          initial: options.initial ?? "retained",
          bufferSize: options.bufferSize,
          heartbeat: options.heartbeat
        })
      )
    )
    return [router, log] as const
  }) satisfies Effect.Effect<unknown, unknown, Scope.Scope>

/** Appends `data` events (type optional) and returns the log's events as a client should see them. */
export const append = (
  log: EventLog.EventLog,
  events: ReadonlyArray<{ readonly data: string; readonly type?: string }>
) =>
  Effect.runPromise(
    Effect.forEach(events, (e) => log.append(e.type === undefined ? { data: e.data } : { data: e.data, type: e.type }))
  ).then((appended) => appended.map((e) => ({ type: e.type, id: e.lastEventId, data: e.data })))

/**
 * Two server instances (two NodeHttpServers, each with its own RedisEventLog on one stream key):
 * an event published on one reaches clients of both, and a client cut off from one resumes on the
 * other with its Last-Event-ID, exactly once and in order.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { RedisEventLog } from "@streamwire/redis"
import { type EventLog, SseResponse } from "@streamwire/server"
import { connect, serve } from "@streamwire/server/testing"
import { Effect } from "effect"
import { inject } from "vitest"

const url = inject("redisUrl")

const sse = { headers: { accept: "text/event-stream" } }

const post = (url: string) =>
  Effect.promise(() => fetch(url, { method: "POST" }).then(async (r) => ({ status: r.status, text: await r.text() })))

/** One instance: GET /events follows the log (resumable), POST /publish?data= appends. */
const instance = (key: string) =>
  Effect.gen(function*() {
    const log = yield* RedisEventLog.make({ url, key, retention: { maxLength: 1000 } })
    const app = HttpRouter.empty.pipe(
      HttpRouter.get("/events", SseResponse.fromEventLog(log, { heartbeat: false })),
      HttpRouter.post(
        "/publish",
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const data = new URL(request.url, "http://x").searchParams.get("data") ?? ""
          return log.append({ type: "msg", data }).pipe(
            Effect.flatMap((event) => HttpServerResponse.text(event.lastEventId)),
            Effect.orDie
          )
        })
      )
    )
    return { log, base: yield* serve(app) }
  })

/** Waits until the log has `n` running subscriptions. */
const subscribers = (log: EventLog.EventLog, n: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 3000
    while ((yield* log.subscriberCount) < n) {
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${n} subscribers`)
      yield* Effect.sleep("10 millis")
    }
  })

const publish = (base: string, from: number, to: number) =>
  Effect.forEach(
    Array.from({ length: to - from + 1 }, (_, i) => String(from + i)),
    (n) => post(`${base}/publish?data=${n}`)
  )

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i))

describe("two server instances on one Redis stream", () => {
  it.scopedLive("publish on A: clients on A and on B receive it, with the same id", () =>
    Effect.gen(function*() {
      const key = `test:multi:${Date.now()}:${Math.random().toString(36).slice(2)}`
      const a = yield* instance(key)
      const b = yield* instance(key)
      const onA = yield* connect(`${a.base}/events`, sse)
      const onB = yield* connect(`${b.base}/events`, sse)
      yield* subscribers(a.log, 1)
      yield* subscribers(b.log, 1)
      const published = yield* post(`${a.base}/publish?data=hello`)
      expect(published.status).toBe(200)
      const [gotA] = yield* Effect.promise(() => onA.waitForEvents(1))
      const [gotB] = yield* Effect.promise(() => onB.waitForEvents(1))
      expect(gotA).toEqual({ _tag: "SseEvent", type: "msg", data: "hello", lastEventId: published.text })
      expect(gotB).toEqual(gotA)
      // and the other way round
      yield* publish(b.base, 1, 3)
      const allA = yield* Effect.promise(() => onA.waitForEvents(4))
      const allB = yield* Effect.promise(() => onB.waitForEvents(4))
      expect(allA.map((e) => e.data)).toEqual(["hello", "1", "2", "3"])
      expect(allB).toEqual(allA)
    }))

  it.scopedLive("a client cut off from A resumes on B with Last-Event-ID: the rest exactly once, in order", () =>
    Effect.gen(function*() {
      const key = `test:multi:${Date.now()}:${Math.random().toString(36).slice(2)}`
      const a = yield* instance(key)
      const b = yield* instance(key)
      const first = yield* connect(`${a.base}/events`, sse)
      yield* subscribers(a.log, 1)
      yield* publish(a.base, 1, 5)
      const seen = yield* Effect.promise(() => first.waitForEvents(5))
      first.close() // cut off
      // events published while the client is away, on both instances
      yield* publish(a.base, 6, 8)
      yield* publish(b.base, 9, 10)
      const last = seen[seen.length - 1]!.lastEventId
      const second = yield* connect(`${b.base}/events`, {
        headers: { accept: "text/event-stream", "last-event-id": last }
      })
      yield* subscribers(b.log, 1)
      yield* publish(a.base, 11, 13)
      yield* publish(b.base, 14, 15)
      const rest = yield* Effect.promise(() => second.waitForEvents(10))
      yield* Effect.sleep("100 millis") // anything extra (a duplicate) would arrive now
      const all = [...seen, ...second.events()]
      expect(all.map((e) => e.data)).toEqual(range(1, 15))
      expect(new Set(all.map((e) => e.lastEventId)).size).toBe(15)
      expect(rest[0]!.data).toBe("6")
    }))

  it.scopedLive("a client with an expired Last-Event-ID gets a reset event on the other instance", () =>
    Effect.gen(function*() {
      const key = `test:multi:${Date.now()}:${Math.random().toString(36).slice(2)}`
      const a = yield* Effect.flatMap(
        RedisEventLog.make({ url, key, retention: { maxLength: 3, exact: true } }),
        (log) =>
          Effect.map(
            serve(HttpRouter.empty.pipe(HttpRouter.get("/events", SseResponse.fromEventLog(log)))),
            (base) => ({ log, base })
          )
      )
      const b = yield* instance(key)
      const ids = yield* Effect.forEach(range(1, 6), (n) => Effect.map(a.log.append({ data: n }), (e) => e.lastEventId))
      const client = yield* connect(`${b.base}/events`, {
        headers: { accept: "text/event-stream", "last-event-id": ids[0]! }
      })
      const events = yield* Effect.promise(() => client.waitForEvents(4))
      expect(events[0]!.type).toBe("reset")
      expect(JSON.parse(events[0]!.data)).toEqual({ lastEventId: ids[0], reason: "expired", oldest: ids[3] })
      expect(events.slice(1).map((e) => e.data)).toEqual(["4", "5", "6"])
    }))
})

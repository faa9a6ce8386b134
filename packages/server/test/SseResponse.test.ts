import * as HttpRouter from "@effect/platform/HttpRouter"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { connect, eventually, serve } from "@streamwire/server/testing"
import { Deferred, Effect, Fiber, Option, Ref, Schedule, type Scope, Stream, Supervisor, TestClock } from "effect"
import { EventLog, MemoryEventLog, SseResponse } from "../src/index.js"
import { promise, realSleep } from "./utils.js"

const ev = (data: string, type?: string, id?: string) => Sse.unsafeEvent({ data, type, id })

describe("SseResponse", () => {
  describe("bytes and headers", () => {
    it.scopedLive("exact headers and bytes for a known event stream", () =>
      Effect.gen(function*() {
        const events = Stream.make(
          ev("hello"),
          ev("two\nlines", "greeting", "1"),
          Sse.comment("a comment"),
          ev("", undefined, "2")
        )
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/events", SseResponse.make(events, { retry: "2 seconds", headers: { "x-extra": "yes" } }))
          )
        )
        const client = yield* connect(`${url}/events`)
        yield* promise(() => client.waitForEnd())
        expect(client.status).toBe(200)
        expect(client.headers["content-type"]).toBe("text/event-stream; charset=utf-8")
        expect(client.headers["cache-control"]).toBe("no-cache, no-transform")
        expect(client.headers["connection"]).toBe("keep-alive")
        expect(client.headers["x-accel-buffering"]).toBe("no")
        expect(client.headers["x-extra"]).toBe("yes")
        expect(client.headers["transfer-encoding"]).toBe("chunked")
        expect(client.headers["content-length"]).toBeUndefined()
        expect(client.text).toBe(
          "retry: 2000\n" +
            "data: hello\n\n" +
            "id: 1\nevent: greeting\ndata: two\ndata: lines\n\n" +
            ": a comment\n" +
            "id: 2\ndata: \n\n"
        )
      }))

    it.scopedLive("values with a Schema become events of one type", () =>
      Effect.gen(function*() {
        const { Schema } = yield* Effect.promise(() => import("effect"))
        const Price = Schema.parseJson(Schema.Struct({ symbol: Schema.String, price: Schema.Number }))
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get(
              "/prices",
              Stream.make({ symbol: "ACME", price: 42 }).pipe(
                SseResponse.schema(Price, { type: "price", heartbeat: false })
              )
            )
          )
        )
        const client = yield* connect(`${url}/prices`)
        yield* promise(() => client.waitForEnd())
        expect(client.text).toBe("event: price\ndata: {\"symbol\":\"ACME\",\"price\":42}\n\n")
      }))

    it.scopedLive("events are written as produced, not buffered until the end", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const events = Stream.concat(
          Stream.make(ev("first")),
          Stream.fromEffect(Effect.as(Deferred.await(gate), ev("second")))
        )
        const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/e", SseResponse.make(events))))
        const client = yield* connect(`${url}/e`)
        yield* promise(() => client.waitForEvents(1))
        expect(client.ended).toBe(false)
        expect(client.events().map((e) => e.data)).toEqual(["first"])
        yield* Deferred.succeed(gate, undefined)
        yield* promise(() => client.waitForEnd())
        expect(client.events().map((e) => e.data)).toEqual(["first", "second"])
      }))

    it.scopedLive("a failing stream ends with an event: stream-error carrying a safe message, then closes", () =>
      Effect.gen(function*() {
        const failing = Stream.concat(Stream.make(ev("ok")), Stream.fail(new Error("secret database password in here")))
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/default", SseResponse.make(failing)),
            HttpRouter.get("/close", SseResponse.make(failing, { onError: "close" })),
            HttpRouter.get("/custom", SseResponse.make(failing, { onError: () => ev("try later", "oops") })),
            HttpRouter.get("/defect", SseResponse.make(Stream.concat(Stream.make(ev("ok")), Stream.die("boom"))))
          )
        )
        const texts: Record<string, string> = {}
        for (const path of ["default", "close", "custom", "defect"]) {
          const client = yield* connect(`${url}/${path}`)
          yield* promise(() => client.waitForEnd())
          texts[path] = client.text
        }
        expect(texts["default"]).toBe("data: ok\n\nevent: stream-error\ndata: the stream failed\n\n")
        expect(texts["close"]).toBe("data: ok\n\n")
        expect(texts["custom"]).toBe("data: ok\n\nevent: oops\ndata: try later\n\n")
        expect(texts["defect"]).toBe("data: ok\n\nevent: stream-error\ndata: the stream failed\n\n")
      }))

    it.scopedLive("an event that would inject fields fails the stream before it is written", () =>
      Effect.gen(function*() {
        const bad: Sse.SseEvent = { _tag: "SseEvent", type: "x\ndata: injected", data: "d", lastEventId: "" }
        const url = yield* serve(
          HttpRouter.empty.pipe(HttpRouter.get("/e", SseResponse.make(Stream.make(ev("a"), bad))))
        )
        const client = yield* connect(`${url}/e`)
        yield* promise(() => client.waitForEnd())
        expect(client.text).toBe("data: a\n\nevent: stream-error\ndata: the stream failed\n\n")
      }))
  })

  describe("resume", () => {
    it.scopedLive("lastEventId: the header wins over the query parameter; empty values are absent", () =>
      Effect.gen(function*() {
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get(
              "/id",
              SseResponse.resume((id) => Stream.make(ev(Option.getOrElse(id, () => "none"))), { heartbeat: false })
            )
          )
        )
        const cases: Array<[string, Record<string, string>, string]> = [
          ["/id", {}, "none"],
          ["/id", { "Last-Event-ID": "h1" }, "h1"],
          ["/id?lastEventId=q1", {}, "q1"],
          ["/id?lastEventId=q1", { "Last-Event-ID": "h2" }, "h2"],
          ["/id?lastEventId=", { "Last-Event-ID": "" }, "none"],
          ["/id?x=1&lastEventId=a%20b", {}, "a b"]
        ]
        for (const [path, headers, expected] of cases) {
          const client = yield* connect(url + path, { headers })
          yield* promise(() => client.waitForEnd())
          expect(client.events().map((e) => e.data)).toEqual([expected])
        }
      }))

    const withLogServer = <A, E>(
      f: (url: string, log: EventLog.EventLog) => Effect.Effect<A, E, Scope.Scope>,
      options: { maxEvents?: number } = {}
    ) =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make({ maxEvents: options.maxEvents ?? 1000 })
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/events", SseResponse.fromEventLog(log, { heartbeat: false })),
            HttpRouter.get("/all", SseResponse.fromEventLog(log, { heartbeat: false, initial: "retained" }))
          )
        )
        return yield* f(url, log)
      }).pipe(Effect.scoped)

    const appendN = (log: EventLog.EventLog, from: number, to: number) =>
      Effect.forEach(
        Array.from({ length: to - from + 1 }, (_, i) => String(from + i)),
        (n) => log.append({ type: "n", data: n })
      )

    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i))

    it.scopedLive("connect, read k events, drop, reconnect with Last-Event-ID: the rest, exactly once, in order", () =>
      withLogServer((url, log) =>
        Effect.gen(function*() {
          const first = yield* connect(`${url}/events`)
          yield* eventually(log.subscriberCount, (n) => n === 1)
          yield* appendN(log, 1, 10)
          yield* promise(() => first.waitForEvents(4))
          first.close()
          const seen = first.events().slice(0, 4)
          expect(seen.map((e) => e.data)).toEqual(range(1, 4))
          yield* eventually(log.subscriberCount, (n) => n === 0)
          yield* appendN(log, 11, 12) // appended while the client was away
          const again = yield* connect(`${url}/events`, { headers: { "Last-Event-ID": seen[3]!.lastEventId } })
          yield* promise(() => again.waitForEvents(8))
          yield* appendN(log, 13, 13)
          yield* promise(() => again.waitForEvents(9))
          again.close()
          expect(again.events().map((e) => e.data)).toEqual(range(5, 13))
          expect(again.events()[0]!.type).toBe("n")
        })
      ))

    it.scopedLive("resume through the lastEventId query parameter", () =>
      withLogServer((url, log) =>
        Effect.gen(function*() {
          const events = yield* appendN(log, 1, 5)
          const client = yield* connect(`${url}/events?lastEventId=${encodeURIComponent(events[1]!.lastEventId)}`)
          yield* promise(() => client.waitForEvents(3))
          client.close()
          expect(client.events().map((e) => e.data)).toEqual(["3", "4", "5"])
          expect(client.text.startsWith(`id: ${events[2]!.lastEventId}\nevent: n\ndata: 3\n\n`)).toBe(true)
        })
      ))

    it.scopedLive("appends racing the reconnect: no gap, no duplicate", () =>
      withLogServer((url, log) =>
        Effect.gen(function*() {
          const events = yield* appendN(log, 1, 3)
          // a writer appends continuously while clients reconnect from various ids
          const writer = yield* Effect.fork(
            Effect.forEach(range(4, 400), (n) => Effect.zipRight(realSleep(0), log.append({ type: "n", data: n })), {
              discard: true
            })
          )
          const clients = yield* Effect.forEach([0, 1, 2, 2, 1], (k) =>
            Effect.zipRight(
              realSleep(3 * k),
              connect(`${url}/events`, { headers: { "Last-Event-ID": events[k]!.lastEventId } })
            ))
          yield* Fiber.join(writer)
          const from = [2, 3, 4, 4, 3]
          for (let i = 0; i < clients.length; i++) {
            const client = clients[i]!
            yield* promise(() => client.waitFor((c) => c.events().some((e) => e.data === "400"), 10_000, "event 400"))
            client.close()
            expect(client.events().map((e) => e.data)).toEqual(range(from[i]!, 400))
          }
        })
      ))

    it.scopedLive("an id that fell out of retention: event: reset, then what is retained, then live", () =>
      withLogServer(
        (url, log) =>
          Effect.gen(function*() {
            const events = yield* appendN(log, 1, 8) // retains 4..8
            const client = yield* connect(`${url}/events`, { headers: { "Last-Event-ID": events[0]!.lastEventId } })
            yield* promise(() => client.waitForEvents(6))
            yield* appendN(log, 9, 9)
            yield* promise(() => client.waitForEvents(7))
            client.close()
            const got = client.events()
            expect(got[0]!.type).toBe("reset")
            expect(JSON.parse(got[0]!.data)).toEqual({
              lastEventId: events[0]!.lastEventId,
              reason: "expired",
              oldest: events[3]!.lastEventId
            })
            expect(got.slice(1).map((e) => e.data)).toEqual(range(4, 9))
          }),
        { maxEvents: 5 }
      ))

    it.scopedLive("without an id: live by default; initial: retained replays the log first", () =>
      withLogServer((url, log) =>
        Effect.gen(function*() {
          yield* appendN(log, 1, 2)
          const live = yield* connect(`${url}/events`)
          const all = yield* connect(`${url}/all`)
          yield* eventually(log.subscriberCount, (n) => n === 2)
          yield* appendN(log, 3, 3)
          yield* promise(() => live.waitForEvents(1))
          yield* promise(() => all.waitForEvents(3))
          live.close()
          all.close()
          expect(live.events().map((e) => e.data)).toEqual(["3"])
          expect(all.events().map((e) => e.data)).toEqual(["1", "2", "3"])
        })
      ))

    it.scopedLive("fromEventLog(EventLog.EventLog): the EventLog service as a route", () =>
      Effect.gen(function*() {
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get(
              "/events",
              SseResponse.fromEventLog(EventLog.EventLog, { retry: "1 second", heartbeat: false })
            )
          )
        )
        const log = yield* EventLog.EventLog
        const client = yield* connect(`${url}/events`)
        yield* eventually(log.subscriberCount, (n) => n === 1)
        const e = yield* log.append({ type: "tick", data: "1" })
        yield* promise(() => client.waitForEvents(1))
        client.close()
        expect(client.text).toBe(`retry: 1000\nid: ${e.lastEventId}\nevent: tick\ndata: 1\n\n`)
      }).pipe(Effect.provide(MemoryEventLog.layer())))
  })

  describe("heartbeats", () => {
    it.effect("sent when idle, on the schedule (TestClock), not while events flow", () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make()
        const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/e", SseResponse.fromEventLog(log))))
        const client = yield* connect(`${url}/e`)
        yield* eventually(log.subscriberCount, (n) => n === 1)
        const heartbeats = () => client.messages().filter((m) => m._tag === "Comment").length
        yield* TestClock.adjust("14 seconds")
        yield* realSleep(50)
        expect(heartbeats()).toBe(0)
        yield* TestClock.adjust("1 second") // 15 s idle
        yield* promise(() => client.waitFor(() => heartbeats() === 1, 3000, "a heartbeat"))
        expect(client.text).toBe(":\n")
        // an event in the next period: no heartbeat at its end
        const x = yield* log.append({ data: "x" })
        yield* promise(() => client.waitForEvents(1))
        yield* TestClock.adjust("15 seconds")
        yield* realSleep(50)
        expect(heartbeats()).toBe(1)
        // idle again for a full period: a heartbeat
        yield* TestClock.adjust("15 seconds")
        yield* promise(() => client.waitFor(() => heartbeats() === 2, 3000, "a second heartbeat"))
        client.close()
        expect(client.text).toBe(`:\nid: ${x.lastEventId}\ndata: x\n\n:\n`)
      }).pipe(Effect.scoped))

    it.scopedLive("with a short schedule, live: none while events flow faster than it, then regular ones", () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make()
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/e", SseResponse.fromEventLog(log, { heartbeat: "100 millis", heartbeatComment: "hb" }))
          )
        )
        const client = yield* connect(`${url}/e`)
        yield* eventually(log.subscriberCount, (n) => n === 1)
        for (let i = 0; i < 25; i++) {
          yield* log.append({ data: String(i) })
          yield* realSleep(20)
        }
        yield* promise(() => client.waitForEvents(25))
        const duringFlow = client.messages().filter((m) => m._tag === "Comment").length
        yield* promise(() =>
          client.waitFor(
            (c) => c.messages().filter((m) => m._tag === "Comment").length >= duringFlow + 2,
            3000,
            "heartbeats"
          )
        )
        client.close()
        expect(duringFlow).toBeLessThanOrEqual(1) // at most one, around the very first event
        expect(client.text.endsWith(": hb\n")).toBe(true)
      }).pipe(Effect.scoped))

    it.scopedLive("any Schedule; false turns heartbeats off", () =>
      Effect.gen(function*() {
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/on", SseResponse.make(Stream.never, { heartbeat: Schedule.spaced("30 millis") })),
            HttpRouter.get("/off", SseResponse.make(Stream.never, { heartbeat: false }))
          )
        )
        const on = yield* connect(`${url}/on`)
        const off = yield* connect(`${url}/off`)
        yield* promise(() => on.waitFor((c) => c.text.length >= 6, 3000, "three heartbeats"))
        on.close()
        off.close()
        expect(on.text.startsWith(":\n:\n:\n")).toBe(true)
        expect(off.text).toBe("")
      }).pipe(Effect.scoped))
  })

  describe("disconnects", () => {
    it.scopedLive("when clients abort: subscriptions and fibers return to zero, finalizers ran", () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make()
        const finalized = yield* Ref.make(0)
        const supervisor = yield* Supervisor.track
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get(
              "/e",
              SseResponse.fromEventLog(log, { heartbeat: "20 millis" })
            ),
            HttpRouter.get(
              "/own",
              SseResponse.make(
                Stream.fromSchedule(Schedule.spaced("10 millis")).pipe(
                  Stream.map((n) => ev(String(n))),
                  Stream.ensuring(Ref.update(finalized, (n) => n + 1))
                ),
                { heartbeat: "20 millis" }
              )
            )
          )
        ).pipe(Effect.supervised(supervisor)) // every request fiber and its children
        const clients = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? "/e" : "/own")),
          (path) => connect(url + path),
          { concurrency: "unbounded" }
        )
        yield* eventually(log.subscriberCount, (n) => n === 10)
        yield* log.append({ data: "x" })
        yield* Effect.forEach(clients, (c) => promise(() => c.waitForEvents(1)), { discard: true })
        const running = yield* supervisor.value
        expect(running.length).toBeGreaterThan(0)
        for (const c of clients) c.close()
        yield* eventually(log.subscriberCount, (n) => n === 0, 3000, "no subscriptions")
        yield* eventually(Ref.get(finalized), (n) => n === 10, 3000, "10 finalizers")
        yield* eventually(
          Effect.map(supervisor.value, (fibers) => fibers.length),
          (n) => n === 0,
          3000,
          "no fibers"
        )
      }).pipe(Effect.scoped))
  })
})

import * as HttpRouter from "@effect/platform/HttpRouter"
import { describe, expect, it } from "@effect/vitest"
import { connect, eventually, serve } from "@streamwire/server/testing"
import { Effect } from "effect"
import { MemoryEventLog, SseResponse } from "../src/index.js"
import { heapAfterGc, ioTurn, promise } from "./utils.js"

describe("fan-out", () => {
  it.scopedLive("1,000 concurrent connections all receive the same events, in order", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make()
      const url = yield* serve(HttpRouter.empty.pipe(HttpRouter.get("/events", SseResponse.fromEventLog(log))))
      const clients = yield* Effect.forEach(
        Array.from({ length: 1000 }),
        () => connect(`${url}/events`),
        { concurrency: 100 } // the listen backlog is finite; the connections stay open together
      )
      yield* eventually(log.subscriberCount, (n) => n === 1000, 10_000, "1,000 subscriptions")
      const sent: Array<string> = []
      for (let i = 1; i <= 5; i++) {
        const e = yield* log.append({ type: "tick", data: `event ${i}` })
        sent.push(`${e.lastEventId}|${e.data}`)
      }
      yield* Effect.forEach(clients, (c) => promise(() => c.waitForEvents(5, 10_000)), { discard: true })
      for (const c of clients) {
        expect(c.events().map((e) => `${e.lastEventId}|${e.data}`)).toEqual(sent)
      }
      for (const c of clients) c.close()
      yield* eventually(log.subscriberCount, (n) => n === 0, 10_000, "no subscriptions")
    }), 180_000) // 1,000 real connections: 83 s once at a load average of 23 on 2 cores

  it.scopedLive(
    "a stalled client is dropped without holding up the others; memory stays bounded",
    () =>
      Effect.gen(function*() {
        const log = yield* MemoryEventLog.make({ maxEvents: 50 })
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/events", SseResponse.fromEventLog(log, { bufferSize: 32, heartbeat: false }))
          )
        )
        const fast = yield* connect(`${url}/events`, { truncateData: 8 })
        const stalled = yield* connect(`${url}/events`, { paused: true, truncateData: 8 }) // never reads
        yield* eventually(log.subscriberCount, (n) => n === 2)

        const payload = "x".repeat(16 * 1024)
        const heapBefore = heapAfterGc()
        // 2,000 events of 16 KiB (32 MiB): far more than the socket buffers and the stalled client's 32-event buffer
        for (let i = 1; i <= 2000; i++) {
          yield* log.append({ type: "big", data: `${i} ${payload}` })
          yield* ioTurn // the publisher lets sockets drain between events, as one driven by I/O does
          if (i % 50 === 0) yield* promise(() => fast.waitForEvents(i - 40, 10_000)) // let the fast client keep up
        }
        yield* promise(() => fast.waitForEvents(2000, 10_000))
        // the stalled client was dropped: only the fast subscription remains
        yield* eventually(log.subscriberCount, (n) => n === 1, 5000, "the stalled subscription to be dropped")
        const heapGrowth = heapAfterGc() - heapBefore
        expect(fast.events().map((e) => Number(e.data.split(" ")[0]))).toEqual(
          Array.from({ length: 2000 }, (_, i) => i + 1)
        )
        // 32 MiB went through; what is held is the log (50 events), socket buffers and one connection's buffer
        expect(heapGrowth).toBeLessThan(8 * 1024 * 1024) // measured: about 2.5 MiB

        // the stalled client, when it reads again, finds the end of the response after what was buffered
        stalled.res.resume()
        yield* promise(() => stalled.waitForEnd(5000))
        const got = stalled.events()
        expect(got.length).toBeGreaterThan(0)
        expect(got.length).toBeLessThan(2000)
        expect(got.map((e) => Number(e.data.split(" ")[0]))).toEqual(
          Array.from({ length: got.length }, (_, i) => i + 1)
        )
        // and resumes from its last id: those events are no longer retained, so a reset comes first
        const again = yield* connect(`${url}/events`, {
          headers: { "Last-Event-ID": got[got.length - 1]!.lastEventId },
          truncateData: 8
        })
        yield* promise(() => again.waitForEvents(51))
        again.close()
        fast.close()
        expect(again.events()[0]!.type).toBe("reset")
        expect(again.events().slice(1).map((e) => Number(e.data.split(" ")[0]))).toEqual(
          Array.from({ length: 50 }, (_, i) => 1951 + i)
        )
        yield* eventually(log.subscriberCount, (n) => n === 0)
      }),
    180_000
  ) // real connections on a loaded machine

  it.scopedLive("drop-oldest keeps a slow client connected and its buffer bounded", () =>
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make({ maxEvents: 10 })
      const url = yield* serve(
        HttpRouter.empty.pipe(
          HttpRouter.get(
            "/events",
            SseResponse.fromEventLog(log, { bufferSize: 16, onSlowClient: "drop-oldest", heartbeat: false })
          )
        )
      )
      const slow = yield* connect(`${url}/events`, { paused: true, truncateData: 8 })
      yield* eventually(log.subscriberCount, (n) => n === 1)
      const payload = "y".repeat(16 * 1024)
      for (let i = 1; i <= 1000; i++) {
        yield* log.append({ data: `${i} ${payload}` })
        if (i % 100 === 0) yield* Effect.sleep("5 millis")
      }
      expect(yield* log.subscriberCount).toBe(1) // still connected
      slow.res.resume()
      yield* promise(() =>
        slow.waitFor((c) => c.events().some((e) => e.data.startsWith("1000 ")), 10_000, "the last event")
      )
      const numbers = slow.events().map((e) => Number(e.data.split(" ")[0]))
      slow.close()
      expect(numbers.length).toBeLessThan(1000) // some were dropped...
      expect([...numbers].sort((a, b) => a - b)).toEqual(numbers) // ...the rest in order
      expect(numbers[numbers.length - 1]).toBe(1000)
    }), 180_000) // real connections on a loaded machine
})

import * as HttpRouter from "@effect/platform/HttpRouter"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { connect, eventually, serve } from "@streamwire/server/testing"
import { Effect, Stream } from "effect"
import { MemoryEventLog, SseResponse } from "../src/index.js"
import { heapAfterGc, promise, realSleep } from "./utils.js"

// Issue 10 item 3: a stalled reader holds at most `bufferSize` messages (plus what the socket holds),
// whatever the chunking of the source, under every policy; other clients are not slowed down.
const EVENTS = 100_000
const BUFFER = 64
const DATA = "d".repeat(256)
const policies = ["disconnect", "drop-oldest", "backpressure"] as const
const chunkings = [1, 64, 4096, 100_000] as const

const rows: Array<string> = []
afterAll(() => {
  console.log(
    [
      `stalled reader, ${EVENTS.toLocaleString("en-US")} events of ~${DATA.length + 20} bytes, bufferSize ${BUFFER}`,
      "| policy | source chunk | events produced | heap after GC (growth) | other client p99 |",
      "|---|---:|---:|---:|---:|",
      ...rows
    ].join("\n")
  )
})

describe("a stalled reader holds at most bufferSize messages, whatever the chunking", () => {
  for (const policy of policies) {
    for (const chunk of chunkings) {
      it.scopedLive(`${policy}, chunks of ${chunk}`, () =>
        Effect.gen(function*() {
          let produced = 0
          const source = Stream.range(1, EVENTS).pipe(
            Stream.rechunk(chunk),
            Stream.map((n) => {
              produced++
              return Sse.unsafeEvent({ data: `${n} ${DATA}` })
            })
          )
          const log = yield* MemoryEventLog.make({ maxEvents: 10 })
          const url = yield* serve(HttpRouter.empty.pipe(
            HttpRouter.get(
              "/stalled",
              SseResponse.make(source, { bufferSize: BUFFER, onSlowClient: policy, heartbeat: false })
            ),
            HttpRouter.get("/other", SseResponse.fromEventLog(log, { heartbeat: false }))
          ))
          const other = yield* connect(`${url}/other`)
          yield* eventually(log.subscriberCount, (n) => n === 1)
          const heapBefore = heapAfterGc()
          const stalled = yield* connect(`${url}/stalled`, { paused: true, truncateData: 8 })
          // let the source run until it stops (it waits, it ended, or the connection was dropped)
          let last = -1
          while (produced !== last) {
            last = produced
            yield* realSleep(300)
          }
          // meanwhile another client's events arrive promptly
          const latencies: Array<number> = []
          for (let i = 0; i < 20; i++) {
            const at = performance.now()
            yield* log.append({ data: String(i) })
            yield* promise(() => other.waitForEvents(i + 1, 5000))
            latencies.push(performance.now() - at)
          }
          const heap = heapAfterGc() - heapBefore
          latencies.sort((a, b) => a - b)
          const p99 = latencies[latencies.length - 1]!
          rows.push(
            `| ${policy} | ${chunk.toLocaleString("en-US")} | ${produced.toLocaleString("en-US")} | ${
              (heap / 2 ** 20).toFixed(1)
            } MiB | ${p99.toFixed(1)} ms |`
          )
          stalled.close()
          other.close()
          const eventBytes = DATA.length + 30
          // what the socket holds (kernel buffers of a loopback connection that is never read): a few MiB at most
          const socketEvents = (8 * 2 ** 20) / eventBytes
          if (policy === "drop-oldest") {
            // never waits: everything is produced, the oldest are dropped; memory stays bounded
            expect(produced).toBe(EVENTS)
          } else if (chunk < EVENTS) {
            // the source is held (backpressure) or dropped (disconnect) once the buffer is full: at most the
            // buffer, the chunk being offered and what the socket took were produced
            expect(produced).toBeLessThanOrEqual(BUFFER + chunk + socketEvents)
            expect(produced).toBeLessThan(EVENTS)
          }
          // whatever the chunking, what is held after GC is the buffer and the socket's share, not the stream
          const held = chunk >= EVENTS && policy === "backpressure"
            ? EVENTS * (eventBytes + 100) // a source that made every event in one chunk holds that chunk while it waits
            : 12 * 2 ** 20
          expect(heap).toBeLessThan(held)
          expect(p99).toBeLessThan(2000)
        }), 120_000)
    }
  }
})

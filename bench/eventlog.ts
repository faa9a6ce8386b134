/**
 * The three EventLogs side by side, in one run: in memory, on files (`FileEventLog`, each
 * durability setting) and Redis Streams (`RedisEventLog`, one instance).
 *
 * - throughput: 32 appenders appending 64-byte events for ~2 s, 100 subscribers following the log;
 *   "appended/s" is acknowledged appends, "delivered/s" every delivery to every subscriber up to
 *   the moment the last subscriber has the last event.
 * - latency: one event every 2 ms for ~2 s; publish-to-receive time over every delivery (one
 *   process, one clock), p50/p99. With `sync: "always"` the time includes the append's write and
 *   `fdatasync` (subscribers only ever see events that are on disk).
 *
 * The file logs live in a temp dir (removed afterwards) on the machine's disk; Redis is a
 * redis-server of its own (a free port, a temp dir, no persistence) started and stopped here.
 *
 *   npm run tsx -- bench/eventlog.ts
 */
import { RedisEventLog } from "@streamwire/redis"
import { type EventLog, FileEventLog, MemoryEventLog } from "@streamwire/server"
import { Effect, Fiber, type Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { startRedis } from "../packages/redis/test/redisServer.js"
import { consumeUntil } from "./consume.js"

const SUBSCRIBERS = 100
const APPENDERS = 32
const THROUGHPUT_MILLIS = 2000
const LATENCY_MILLIS = 2000
const LATENCY_INTERVAL = 2

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const subscribeAll = (log: EventLog.EventLog, onEvent: (event: EventLog.LogItem) => boolean | void) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(
      Array.from({ length: SUBSCRIBERS }),
      () => Effect.fork(consumeUntil(log.subscribe(), onEvent))
    )
    while ((yield* log.subscriberCount) < SUBSCRIBERS) yield* Effect.sleep("5 millis")
    return fibers
  })

const throughput = (log: EventLog.EventLog) =>
  Effect.gen(function*() {
    let delivered = 0
    const fibers = yield* subscribeAll(log, (item) => {
      if (item._tag !== "SseEvent") return
      delivered++
      return item.type === "end"
    })
    const start = performance.now()
    let appended = 0
    const worker = Effect.gen(function*() {
      while (performance.now() - start < THROUGHPUT_MILLIS) {
        yield* log.append({ type: "n", data: "x".repeat(64) })
        appended++
      }
    })
    yield* Effect.all(Array.from({ length: APPENDERS }, () => worker), { concurrency: "unbounded", discard: true })
    yield* log.append({ type: "end", data: "" })
    appended++
    const appendMillis = performance.now() - start
    yield* Fiber.joinAll(fibers).pipe(Effect.timeout("120 seconds"))
    const millis = performance.now() - start
    if (delivered !== appended * SUBSCRIBERS) throw new Error(`delivered ${delivered} of ${appended * SUBSCRIBERS}`)
    return { appendedPerSec: (appended / appendMillis) * 1000, deliveredPerSec: (delivered / millis) * 1000 }
  })

const latency = (log: EventLog.EventLog) =>
  Effect.gen(function*() {
    const samples: Array<number> = []
    const fibers = yield* subscribeAll(log, (item) => {
      if (item._tag !== "SseEvent") return
      if (item.type === "end") return true
      samples.push(performance.now() - Number(item.data))
    })
    const start = performance.now()
    while (performance.now() - start < LATENCY_MILLIS) {
      // not awaited: the latency is publish (the call) to receive, whatever the append waits for
      yield* Effect.fork(log.append({ type: "t", data: String(performance.now()) }))
      yield* Effect.sleep(LATENCY_INTERVAL)
    }
    yield* log.append({ type: "end", data: "" })
    yield* Fiber.joinAll(fibers).pipe(Effect.timeout("120 seconds"))
    const sorted = Float64Array.from(samples).sort()
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) }
  })

const measure = (name: string, make: Effect.Effect<EventLog.EventLog, unknown, Scope.Scope>) =>
  Effect.gen(function*() {
    const t = yield* Effect.scoped(Effect.flatMap(make, throughput))
    const l = yield* Effect.scoped(Effect.flatMap(make, latency))
    return { name, ...t, ...l }
  })

const program = Effect.gen(function*() {
  const redis = yield* Effect.acquireRelease(
    Effect.promise(() => startRedis()),
    (r) => Effect.promise(() => r.dispose())
  )
  const root = yield* Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-bench-eventlog-"))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )
  let run = 0
  const file = (options: Omit<FileEventLog.Options, "directory">) =>
    Effect.suspend(() =>
      FileEventLog.make({ directory: Path.join(root, `log-${run++}`), maxEvents: 100_000, ...options })
    )
  const rows = [
    yield* measure("memory", MemoryEventLog.make({ maxEvents: 100_000 })),
    yield* measure(`file, sync: "always"`, file({ sync: "always" })),
    yield* measure(`file, sync: { every: "100 millis" }`, file({ sync: { every: "100 millis" } })),
    yield* measure(`file, sync: { every: "1 second" }`, file({ sync: { every: "1 second" } })),
    yield* measure(
      "redis (1 instance)",
      Effect.suspend(() =>
        RedisEventLog.make({ url: redis.url, key: `bench:${run++}`, retention: { maxLength: 100_000 } })
      )
    )
  ]
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  const ms = (n: number) => `${n.toFixed(2)} ms`
  const load = Os.loadavg().map((l) => l.toFixed(1)).join(" ")
  console.log([
    `EventLog: ${APPENDERS} appenders, ${SUBSCRIBERS} subscribers, 64-byte events (Node ${process.version}, ${redis.version}, load ${load})`,
    "",
    "| log | appended/s | delivered/s (all subscribers) | latency p50 | latency p99 |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.name} | ${fmt(r.appendedPerSec)} | ${fmt(r.deliveredPerSec)} | ${ms(r.p50)} | ${ms(r.p99)} |`
    )
  ].join("\n"))
})

Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e)
  process.exitCode = 1
})

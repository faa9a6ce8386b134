/**
 * EventLog throughput and latency: the in-memory log against Redis Streams.
 *
 * - throughput: events appended (32 appends in flight) for ~2 s, delivered to 100 subscribers; for
 *   Redis the subscribers are split over two log instances (two `RedisEventLog`s on one key, each
 *   with its own connections, as two server instances would have) and the appends alternate between
 *   them. "delivered/s" counts every delivery to every subscriber, up to the moment the last
 *   subscriber has the last event.
 * - latency: one event every 2 ms for ~2 s; publish-to-receive time over every delivery (all in one
 *   process, so one clock), p50/p99.
 *
 * Starts its own redis-server (a free port, a temp dir, no persistence) and stops it. Both
 * "instances" share this process's event loop, so the Redis figures include both instances' CPU.
 *
 *   npm run tsx -- bench/redis.ts
 */
import { RedisEventLog } from "@streamwire/redis"
import { type EventLog, MemoryEventLog } from "@streamwire/server"
import { Effect, Fiber, type Scope, Stream } from "effect"
import { startRedis } from "../packages/redis/test/redisServer.js"

const SUBSCRIBERS = 100
const THROUGHPUT_MILLIS = 2000
const LATENCY_MILLIS = 2000
const LATENCY_INTERVAL = 2

interface Row {
  readonly log: string
  readonly appended: number
  readonly appendedPerSec: number
  readonly deliveredPerSec: number
  readonly p50: number
  readonly p99: number
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const waitForSubscribers = (logs: ReadonlyArray<EventLog.EventLog>, n: number) =>
  Effect.gen(function*() {
    while (true) {
      const counts = yield* Effect.forEach(logs, (l) => l.subscriberCount)
      if (counts.reduce((a, b) => a + b, 0) >= n) return
      yield* Effect.sleep("5 millis")
    }
  })

/** Subscribers split over the instances; each calls `onEvent` per event. */
const subscribeAll = (
  logs: ReadonlyArray<EventLog.EventLog>,
  onEvent: (subscriber: number, event: EventLog.LogItem) => boolean | void
) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(Array.from({ length: SUBSCRIBERS }, (_, i) => i), (i) =>
      logs[i % logs.length]!.subscribe().pipe(
        Stream.takeUntil((item) =>
          onEvent(i, item) === true
        ),
        Stream.runDrain,
        Effect.fork
      ))
    yield* waitForSubscribers(logs, SUBSCRIBERS)
    return fibers
  })

const throughput = (logs: ReadonlyArray<EventLog.EventLog>) =>
  Effect.gen(function*() {
    let delivered = 0
    let doneSubscribers = 0
    const fibers = yield* subscribeAll(logs, (_, item) => {
      if (item._tag !== "SseEvent") return
      delivered++
      if (item.type === "end") {
        doneSubscribers++
        return true
      }
    })
    const start = performance.now()
    let appended = 0
    const worker = (w: number) =>
      Effect.gen(function*() {
        while (performance.now() - start < THROUGHPUT_MILLIS) {
          yield* logs[(appended + w) % logs.length]!.append({ type: "n", data: "x".repeat(64) })
          appended++
        }
      })
    yield* Effect.forEach(Array.from({ length: 32 }, (_, w) => w), worker, { concurrency: "unbounded", discard: true })
    yield* logs[0]!.append({ type: "end", data: "" })
    appended++
    const appendMillis = performance.now() - start
    yield* Fiber.joinAll(fibers).pipe(Effect.timeout("60 seconds"))
    const millis = performance.now() - start
    if (doneSubscribers !== SUBSCRIBERS) throw new Error(`only ${doneSubscribers} subscribers finished`)
    return {
      appended,
      appendedPerSec: (appended / appendMillis) * 1000,
      deliveredPerSec: (delivered / millis) * 1000,
      complete: delivered === appended * SUBSCRIBERS
    }
  })

const latency = (logs: ReadonlyArray<EventLog.EventLog>) =>
  Effect.gen(function*() {
    const samples: Array<number> = []
    const fibers = yield* subscribeAll(logs, (_, item) => {
      if (item._tag !== "SseEvent") return
      if (item.type === "end") return true
      samples.push(performance.now() - Number(item.data))
    })
    const start = performance.now()
    let i = 0
    while (performance.now() - start < LATENCY_MILLIS) {
      yield* logs[i++ % logs.length]!.append({ type: "t", data: String(performance.now()) })
      yield* Effect.sleep(LATENCY_INTERVAL)
    }
    yield* logs[0]!.append({ type: "end", data: "" })
    yield* Fiber.joinAll(fibers).pipe(Effect.timeout("60 seconds"))
    const sorted = Float64Array.from(samples).sort()
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: samples.length }
  })

/** Runs both measurements, each with fresh logs built by `logs`. */
const measure = (name: string, logs: Effect.Effect<ReadonlyArray<EventLog.EventLog>, unknown, Scope.Scope>) =>
  Effect.gen(function*() {
    const t = yield* Effect.scoped(Effect.flatMap(logs, throughput))
    const l = yield* Effect.scoped(Effect.flatMap(logs, latency))
    const row: Row = {
      log: name,
      appended: t.appended,
      appendedPerSec: t.appendedPerSec,
      deliveredPerSec: t.deliveredPerSec,
      p50: l.p50,
      p99: l.p99
    }
    if (!t.complete) console.error(`${name}: not every event reached every subscriber`)
    return row
  })

const program = Effect.gen(function*() {
  const redis = yield* Effect.acquireRelease(
    Effect.promise(() => startRedis()),
    (r) => Effect.promise(() => r.dispose())
  )
  let run = 0
  const memory = Effect.map(MemoryEventLog.make({ maxEvents: 100_000 }), (log) => [log])
  const redisLogs = (instances: number) =>
    Effect.suspend(() => {
      const key = `bench:${run++}`
      const options: RedisEventLog.Options = { url: redis.url, key, retention: { maxLength: 100_000 } }
      return Effect.forEach(Array.from({ length: instances }, () => options), RedisEventLog.make)
    })
  const rows = [
    yield* measure("memory (1 instance)", memory),
    yield* measure("redis (1 instance)", redisLogs(1)),
    yield* measure("redis (2 instances)", redisLogs(2))
  ]
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  const ms = (n: number) => `${n.toFixed(2)} ms`
  const lines = [
    `EventLog, ${SUBSCRIBERS} subscribers, 64-byte events (Node ${process.version}, ${redis.version})`,
    "",
    "| log | appended/s | delivered/s (all subscribers) | latency p50 | latency p99 |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.log} | ${fmt(r.appendedPerSec)} | ${fmt(r.deliveredPerSec)} | ${ms(r.p50)} | ${ms(r.p99)} |`
    )
  ]
  console.log(lines.join("\n"))
})

Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e)
  process.exitCode = 1
})

/**
 * EventLog throughput and latency: the in-memory log against Redis Streams, and (with
 * `--baseline <git ref>`) against the `RedisEventLog` of another commit, in the same run.
 *
 * - throughput: events appended (32 appends in flight) for ~2 s, delivered to 100 subscribers; for
 *   Redis the subscribers are split over two log instances (two `RedisEventLog`s on one key, each
 *   with its own connections, as two server instances would have) and the appends alternate between
 *   them. "delivered/s" counts every delivery to every subscriber, up to the moment the last
 *   subscriber has the last event. Every subscriber must get every event, in the same order.
 * - CPU: this process's CPU time (user + system) during the throughput phase, and redis-server's
 *   (`INFO cpu`), per append: less sensitive than the rates to what else runs on the machine.
 * - latency: one event every 2 ms for ~2 s; publish-to-receive time over every delivery (all in one
 *   process, so one clock), p50/p99.
 *
 * Starts its own redis-server (a free port, a temp dir, no persistence) and stops it. Both
 * "instances" share this process's event loop, so the Redis figures include both instances' CPU.
 *
 *   npm run tsx -- bench/redis.ts [--baseline <git ref>]... [--runs <n>] [--subscribers <n>]
 *
 * `--baseline` (repeatable): the baseline's `packages/redis/src/internal/{redisLog,streamId}.ts` are extracted
 * with `git show` to a temp dir under bench/ (removed afterwards) and imported from there. `--runs`:
 * every row is measured n times, the rows interleaved, and the median run (by appended/s) shown.
 */
import { RedisEventLog } from "@streamwire/redis"
import { type EventLog, MemoryEventLog } from "@streamwire/server"
import { Effect, Fiber, type Scope } from "effect"
import { Redis } from "ioredis"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import { startRedis } from "../packages/redis/test/redisServer.js"
import { consumeUntil } from "./consume.js"

const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}
const SUBSCRIBERS = Number(flag("subscribers") ?? 100)
const RUNS = Math.max(1, Number(flag("runs") ?? 1))
/** Every `--baseline <ref>` given. */
const BASELINES = process.argv.flatMap((
  arg,
  i
) => (arg === "--baseline" && i + 1 < process.argv.length ? [process.argv[i + 1]!] : []))
const APPENDERS = 32
const THROUGHPUT_MILLIS = 2000
const LATENCY_MILLIS = 2000
const LATENCY_INTERVAL = 2

type Make = (options: RedisEventLog.Options) => Effect.Effect<EventLog.EventLog, EventLog.EventLogError, Scope.Scope>

interface Row {
  readonly log: string
  readonly appended: number
  readonly appendedPerSec: number
  readonly deliveredPerSec: number
  readonly nodeMicrosPerAppend: number
  readonly redisMicrosPerAppend: number | undefined
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
      Effect.fork(consumeUntil(logs[i % logs.length]!.subscribe(), (item) => onEvent(i, item))))
    yield* waitForSubscribers(logs, SUBSCRIBERS)
    return fibers
  })

const throughput = (logs: ReadonlyArray<EventLog.EventLog>, redisCpu: () => Promise<number | undefined>) =>
  Effect.gen(function*() {
    let delivered = 0
    let doneSubscribers = 0
    // every subscriber must see the same ids in the same order: a hash of its sequence of ids
    const order = new Array<number>(SUBSCRIBERS).fill(0)
    const fibers = yield* subscribeAll(logs, (i, item) => {
      if (item._tag !== "SseEvent") return
      delivered++
      let h = order[i]!
      const id = item.lastEventId
      for (let k = 0; k < id.length; k++) h = (Math.imul(h, 31) + id.charCodeAt(k)) | 0
      order[i] = h
      if (item.type === "end") {
        doneSubscribers++
        return true
      }
    })
    const redis0 = yield* Effect.promise(redisCpu)
    const cpu0 = process.cpuUsage()
    const start = performance.now()
    let appended = 0
    const worker = (w: number) =>
      Effect.gen(function*() {
        while (performance.now() - start < THROUGHPUT_MILLIS) {
          yield* logs[(appended + w) % logs.length]!.append({ type: "n", data: "x".repeat(64) })
          appended++
        }
      })
    yield* Effect.forEach(Array.from({ length: APPENDERS }, (_, w) => w), worker, {
      concurrency: "unbounded",
      discard: true
    })
    yield* logs[0]!.append({ type: "end", data: "" })
    appended++
    const appendMillis = performance.now() - start
    yield* Fiber.joinAll(fibers).pipe(Effect.timeout("60 seconds"))
    const millis = performance.now() - start
    const cpu = process.cpuUsage(cpu0)
    const redis1 = yield* Effect.promise(redisCpu)
    if (doneSubscribers !== SUBSCRIBERS) throw new Error(`only ${doneSubscribers} subscribers finished`)
    return {
      appended,
      appendedPerSec: (appended / appendMillis) * 1000,
      deliveredPerSec: (delivered / millis) * 1000,
      nodeMicrosPerAppend: (cpu.user + cpu.system) / appended,
      redisMicrosPerAppend: redis0 === undefined || redis1 === undefined ? undefined : (redis1 - redis0) / appended,
      complete: delivered === appended * SUBSCRIBERS,
      sameOrder: order.every((h) => h === order[0])
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
const measure = (
  name: string,
  logs: Effect.Effect<ReadonlyArray<EventLog.EventLog>, unknown, Scope.Scope>,
  redisCpu: () => Promise<number | undefined>
) =>
  Effect.gen(function*() {
    const t = yield* Effect.scoped(Effect.flatMap(logs, (l) => throughput(l, redisCpu)))
    const l = yield* Effect.scoped(Effect.flatMap(logs, latency))
    if (!t.complete) console.error(`${name}: not every event reached every subscriber`)
    if (!t.sameOrder) console.error(`${name}: subscribers saw different orders`)
    const row: Row = {
      log: name,
      appended: t.appended,
      appendedPerSec: t.appendedPerSec,
      deliveredPerSec: t.deliveredPerSec,
      nodeMicrosPerAppend: t.nodeMicrosPerAppend,
      redisMicrosPerAppend: t.redisMicrosPerAppend,
      p50: l.p50,
      p99: l.p99
    }
    return row
  })

/** The baseline's `make`, from its sources at `ref`, extracted under bench/ so their imports resolve. */
const loadBaseline = (ref: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const here = Path.dirname(Url.fileURLToPath(import.meta.url))
      const dir = Fs.mkdtempSync(Path.join(here, ".baseline-"))
      for (const file of ["redisLog.ts", "streamId.ts"]) {
        const text = execFileSync("git", ["show", `${ref}:packages/redis/src/internal/${file}`], {
          cwd: here,
          encoding: "utf8"
        })
        Fs.writeFileSync(Path.join(dir, file), text)
      }
      const commit = execFileSync("git", ["rev-parse", "--short", ref], { cwd: here, encoding: "utf8" }).trim()
      return { dir, commit }
    }),
    ({ dir }) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  ).pipe(
    Effect.flatMap(({ commit, dir }) =>
      Effect.map(
        Effect.promise(() => import(Url.pathToFileURL(Path.join(dir, "redisLog.ts")).href) as Promise<{ make: Make }>),
        (module) => ({ commit, make: module.make })
      )
    )
  )

const median = (rows: ReadonlyArray<Row>): Row => {
  const sorted = [...rows].sort((a, b) => a.appendedPerSec - b.appendedPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

const program = Effect.gen(function*() {
  const redis = yield* Effect.acquireRelease(
    Effect.promise(() => startRedis()),
    (r) => Effect.promise(() => r.dispose())
  )
  const info = yield* Effect.acquireRelease(
    Effect.sync(() => new Redis(redis.url)),
    (c) => Effect.promise(() => c.quit())
  )
  // redis-server's CPU time (user + sys) so far, in microseconds
  const redisCpu = async () => {
    const text = await info.info("cpu")
    const user = /used_cpu_user:([0-9.]+)/.exec(text)
    const sys = /used_cpu_sys:([0-9.]+)/.exec(text)
    return user === null || sys === null ? undefined : (Number(user[1]) + Number(sys[1])) * 1e6
  }
  const noRedis = () => Promise.resolve(undefined)
  let run = 0
  const memory = Effect.map(MemoryEventLog.make({ maxEvents: 100_000 }), (log) => [log])
  const redisLogs = (make: Make, instances: number) =>
    Effect.suspend(() => {
      const key = `bench:${run++}`
      const options: RedisEventLog.Options = { url: redis.url, key, retention: { maxLength: 100_000 } }
      return Effect.forEach(Array.from({ length: instances }, () => options), make)
    })
  const baselines = yield* Effect.forEach(BASELINES, loadBaseline)
  const cases: Array<readonly [string, Effect.Effect<Row, unknown>]> = [
    ["memory (1 instance)", measure("memory (1 instance)", memory, noRedis)],
    ["redis (1 instance)", measure("redis (1 instance)", redisLogs(RedisEventLog.make, 1), redisCpu)],
    ["redis (2 instances)", measure("redis (2 instances)", redisLogs(RedisEventLog.make, 2), redisCpu)]
  ]
  for (const baseline of baselines) {
    const name = (n: number) => `redis @${baseline.commit} (${n} instance${n > 1 ? "s" : ""})`
    cases.push([name(1), measure(name(1), redisLogs(baseline.make, 1), redisCpu)])
    cases.push([name(2), measure(name(2), redisLogs(baseline.make, 2), redisCpu)])
  }
  const results = new Map<string, Array<Row>>(cases.map(([name]) => [name, []]))
  const load0 = Os.loadavg()
  for (let r = 0; r < RUNS; r++) {
    // interleaved, each run in another order, so that a change of load hits every row alike
    const order = cases.map((_, i) => (i + r) % cases.length)
    for (const i of order) {
      const [name, effect] = cases[i]!
      results.get(name)!.push(yield* effect)
    }
  }
  const load1 = Os.loadavg()
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  const ms = (n: number) => `${n.toFixed(2)} ms`
  const us = (n: number | undefined) => (n === undefined ? "–" : `${n.toFixed(1)} µs`)
  const range = (rows: ReadonlyArray<Row>) =>
    rows.length < 2 ?
      "" :
      ` (${fmt(Math.min(...rows.map((r) => r.appendedPerSec)))}–${fmt(Math.max(...rows.map((r) => r.appendedPerSec)))})`
  const load = (l: Array<number>) => l.map((x) => x.toFixed(2)).join(" ")
  const lines = [
    `EventLog, ${SUBSCRIBERS} subscribers, 64-byte events, ${APPENDERS} appends in flight (Node ${process.version}, ${redis.version})`,
    `load average ${load(load0)} at start, ${load(load1)} at end, ${Os.cpus().length} CPUs; ${RUNS} run${
      RUNS > 1 ? "s, median by appended/s (range)" : ""
    }`,
    "",
    "| log | appended/s | delivered/s (all subscribers) | node CPU / append | redis CPU / append | latency p50 | latency p99 |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...cases.map(([name]) => {
      const rows = results.get(name)!
      const r = median(rows)
      return `| ${r.log} | ${fmt(r.appendedPerSec)}${range(rows)} | ${fmt(r.deliveredPerSec)} | ${
        us(r.nodeMicrosPerAppend)
      } | ${us(r.redisMicrosPerAppend)} | ${ms(r.p50)} | ${ms(r.p99)} |`
    })
  ]
  console.log(lines.join("\n"))
})

Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e)
  process.exitCode = 1
})

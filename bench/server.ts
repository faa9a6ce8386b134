/**
 * Server benchmark: `npm run bench` (this file: `npm run tsx -- bench/server.ts [--quick]`).
 *
 * Two servers on 127.0.0.1, same wire format (`id`, `event`, `data` of ~100 bytes):
 * - baseline: plain `node:http`, each event rendered once and written with `res.write` to every
 *   open response (what a hand-written SSE fan-out looks like);
 * - streamwire: `@effect/platform` + `NodeHttpServer`, a `MemoryEventLog` and
 *   `SseResponse.fromEventLog` with its defaults (per-connection buffer, disconnect policy,
 *   heartbeat schedule).
 *
 * The clients run in a worker thread (their own event loop) and count events per connection into
 * shared memory, so the publisher can keep at most WINDOW events in flight per connection.
 *
 * Each turn the publisher appends BATCH events: the baseline in a loop, streamwire in one Effect
 * (one `Effect.runSync` per turn, as a producer fiber appending in a loop would run).
 *
 * Measures, per server:
 * - delivered events/s to 1, 100 and 1,000 connections (all connections receive every event), the
 *   median of ROUNDS cases run in turns with the other server's;
 * - server heap per idle connection (after GC, 1,000 idle connections);
 * - publish-to-receive latency p50/p99 at 100 connections, one event every 5 ms.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { EventLog, MemoryEventLog, SseResponse } from "@streamwire/server"
import { Effect, Exit, Scope } from "effect"
import * as Http from "node:http"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { Worker } from "node:worker_threads"
import { baselineServer } from "./baseline.js"

const quick = process.argv.includes("--quick")
const CASE_MS = quick ? 1000 : 3000 // upper bound of one throughput case
const WINDOW = 256 // events in flight per connection at most
const BATCH = 32 // events published per turn of the event loop
const ROUNDS = quick ? 1 : 3 // throughput cases per server, in turns

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void
const heap = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}
const turn = () => new Promise<void>((r) => setImmediate(r))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const now = () => performance.timeOrigin + performance.now()

// ------------------------------------------------------------------------------------------------
// servers

interface Server {
  readonly name: string
  readonly url: string
  /** Publishes `n` events (one turn's worth) to every connection. */
  publish(data: string, n?: number): void
  connections(): number
  close(): Promise<void>
}

const baseline = async (): Promise<Server> => {
  const clients = new Set<Http.ServerResponse>()
  let id = 0
  const server = baselineServer(clients)
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  const port = (server.address() as { port: number }).port
  return {
    name: "node:http baseline",
    url: `http://127.0.0.1:${port}/events`,
    publish(data, n = 1) {
      for (let i = 0; i < n; i++) {
        const text = `id: ${++id}\nevent: tick\ndata: ${data}\n\n`
        for (const res of clients) res.write(text)
      }
    },
    connections: () => clients.size,
    close: () =>
      new Promise((r) => {
        for (const res of clients) res.destroy()
        server.close(() => r())
      })
  }
}

const streamwire = async (): Promise<Server> => {
  const scope = Effect.runSync(Scope.make())
  const { log, port } = await Effect.runPromise(
    Effect.gen(function*() {
      const log = yield* MemoryEventLog.make()
      const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
      yield* server.serve(HttpRouter.empty.pipe(HttpRouter.get("/events", SseResponse.fromEventLog(log))))
      return { log, port: (server.address as { port: number }).port }
    }).pipe(Scope.extend(scope))
  )
  // a turn's events are appended by one Effect, as a producer fiber would (not one runSync per event)
  const append = (data: string, n: number) =>
    Effect.suspend(function loop(i = 0): Effect.Effect<void, unknown> {
      return i === n ? Effect.void : Effect.flatMap(log.append({ type: "tick", data }), () => loop(i + 1))
    })
  return {
    name: "streamwire",
    url: `http://127.0.0.1:${port}/events`,
    publish(data, n = 1) {
      Effect.runSync(append(data, n))
    },
    connections: () => Effect.runSync((log as EventLog.EventLog).subscriberCount),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

// ------------------------------------------------------------------------------------------------
// clients, in a worker thread

const clientCode = `
const { workerData, parentPort } = require("node:worker_threads")
const http = require("node:http")
const { url, conns, shared, latency } = workerData
const counts = new Int32Array(shared)
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
const reqs = []
const samples = []
const now = () => performance.timeOrigin + performance.now()
let opened = 0, next = 0, inflight = 0
const open = () => {
  while (inflight < 50 && next < conns) {
    const i = next++
    inflight++
    const req = http.get(url, { agent }, (res) => {
      inflight--
      opened++
      if (opened === conns) parentPort.postMessage("open")
      open()
      let lastLF = false
      res.on("data", (buf) => {
        let n = 0, at = 0
        if (lastLF && buf[0] === 10) n++
        while ((at = buf.indexOf("\\n\\n", at)) !== -1) { n++; at += 2 }
        lastLF = buf[buf.length - 1] === 10
        if (n > 0) Atomics.add(counts, i, n)
        if (latency) {
          const t = now()
          const s = buf.toString("latin1")
          let p = 0
          while ((p = s.indexOf('"t":', p)) !== -1) { samples.push(t - parseFloat(s.slice(p + 4))); p += 4 }
        }
      })
    })
    req.on("error", () => {})
    reqs.push(req)
  }
}
open()
parentPort.on("message", (m) => {
  if (m === "close") {
    for (const r of reqs) r.destroy()
    parentPort.postMessage({ samples })
  }
})
`

interface Clients {
  readonly counts: Int32Array
  close(): Promise<Array<number>>
}

const openClients = async (url: string, conns: number, latency = false): Promise<Clients> => {
  const shared = new SharedArrayBuffer(4 * conns)
  const worker = new Worker(clientCode, { eval: true, workerData: { url, conns, shared, latency } })
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve())
    worker.once("error", reject)
  })
  return {
    counts: new Int32Array(shared),
    close: () =>
      new Promise((resolve) => {
        worker.once("message", (m: { samples: Array<number> }) => {
          void worker.terminate()
          resolve(m.samples)
        })
        worker.postMessage("close")
      })
  }
}

const waitFor = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out")
    await sleep(2)
  }
}

const min = (a: Int32Array) => {
  let m = Infinity
  for (let i = 0; i < a.length; i++) if (a[i]! < m) m = a[i]!
  return m
}

// ------------------------------------------------------------------------------------------------
// measurements

const payload = JSON.stringify({ symbol: "ACME", price: 123.45, note: "x".repeat(60) })

/** Events/s delivered (summed over connections) while every connection gets every event. */
const throughput = async (server: Server, conns: number): Promise<number> => {
  const clients = await openClients(server.url, conns)
  await waitFor(() => server.connections() === conns, 20_000)
  await sleep(50)
  const start = performance.now()
  let published = 0
  while (performance.now() - start < CASE_MS) {
    if (published - min(clients.counts) < WINDOW - BATCH) {
      server.publish(payload, BATCH)
      published += BATCH
    }
    await turn()
  }
  // let what is in flight arrive, then count what was delivered
  await waitFor(() => min(clients.counts) >= published, 10_000).catch(() => undefined)
  const elapsed = (performance.now() - start) / 1000
  let delivered = 0
  for (let i = 0; i < conns; i++) delivered += clients.counts[i]!
  await clients.close()
  await waitFor(() => server.connections() === 0, 10_000)
  return delivered / elapsed
}

/** Server memory (JS heap + external) per idle connection, over 1,000 connections. */
const memoryPerConnection = async (server: Server): Promise<number> => {
  const conns = 1000
  const before = heap()
  const clients = await openClients(server.url, conns)
  await waitFor(() => server.connections() === conns, 20_000)
  await sleep(200)
  const after = heap()
  await clients.close()
  await waitFor(() => server.connections() === 0, 10_000)
  return (after - before) / conns
}

/** Publish-to-receive latency at 100 connections, one event every 5 ms. */
const latency = async (server: Server): Promise<{ p50: number; p99: number }> => {
  const conns = 100
  const clients = await openClients(server.url, conns, true)
  await waitFor(() => server.connections() === conns, 20_000)
  const events = quick ? 100 : 300
  for (let i = 0; i < events; i++) {
    server.publish(JSON.stringify({ t: now() }))
    await sleep(5)
  }
  await waitFor(() => min(clients.counts) >= events, 5000)
  const samples = (await clients.close()).sort((a, b) => a - b)
  await waitFor(() => server.connections() === 0, 10_000)
  return { p50: samples[Math.floor(samples.length * 0.5)]!, p99: samples[Math.floor(samples.length * 0.99)]! }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US")

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const main = async () => {
  console.log(
    `node ${process.version}, ${quick ? "quick" : "full"} run, loopback, clients in a worker thread, ${ROUNDS} rounds`
  )
  // both servers live for the whole run; every throughput case runs in turns (A B, B A, A B, …) so
  // that load drifting over the run falls on both alike, and the median of each is shown
  const servers = [await baseline(), await streamwire()]
  const tputs = servers.map(() => ({} as Record<number, Array<number>>))
  for (const conns of [1, 100, 1000]) {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0]
      for (const i of order) (tputs[i]![conns] ??= []).push(await throughput(servers[i]!, conns))
    }
  }
  const results: Array<{ name: string; tput: Record<number, number>; mem: number; lat: { p50: number; p99: number } }> =
    []
  for (const [i, server] of servers.entries()) {
    const tput: Record<number, number> = {}
    for (const conns of [1, 100, 1000]) tput[conns] = median(tputs[i]![conns]!)
    const mem = await memoryPerConnection(server)
    const lat = await latency(server)
    results.push({ name: server.name, tput, mem, lat })
  }
  for (const server of servers) await server.close()
  for (const conns of [1, 100, 1000]) {
    console.log(
      `events/s, ${conns} connection(s), every round: baseline ${tputs[0]![conns]!.map(fmt).join(", ")}; streamwire ${
        tputs[1]![conns]!.map(fmt).join(", ")
      }`
    )
  }
  const [base, ours] = results as [typeof results[0], typeof results[0]]
  console.log("")
  console.log("| | node:http baseline | streamwire | streamwire ÷ baseline |")
  console.log("|---|---:|---:|---:|")
  for (const conns of [1, 100, 1000]) {
    console.log(
      `| events/s delivered, ${fmt(conns)} connection${conns === 1 ? "" : "s"} | ${fmt(base.tput[conns]!)} | ${
        fmt(ours.tput[conns]!)
      } | ${(ours.tput[conns]! / base.tput[conns]!).toFixed(2)}× |`
    )
  }
  console.log(
    `| memory per idle connection (heap + external) | ${(base.mem / 1024).toFixed(1)} KiB | ${
      (ours.mem / 1024).toFixed(1)
    } KiB | ${(ours.mem / base.mem).toFixed(2)}× |`
  )
  console.log(
    `| latency p50, 100 connections | ${base.lat.p50.toFixed(2)} ms | ${ours.lat.p50.toFixed(2)} ms | ${
      (ours.lat.p50 / base.lat.p50).toFixed(2)
    }× |`
  )
  console.log(
    `| latency p99, 100 connections | ${base.lat.p99.toFixed(2)} ms | ${ours.lat.p99.toFixed(2)} ms | ${
      (ours.lat.p99 / base.lat.p99).toFixed(2)
    }× |`
  )
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})

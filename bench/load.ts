/**
 * Load benchmark: `npm run bench:load` (`npm run tsx -- bench/load.ts [--connections 5000] [--hold 30]
 * [--burst 100] [--paced 20] [--pace-ms 250] [--heartbeat 5] [--server both|streamwire|baseline]`;
 * `--scenario paced [--paced-connections 200] [--paced-rate 10] [--paced-seconds 10]` runs the other
 * scenario: connections that each get a stream of their own, paced, measuring server CPU and the
 * time to response headers while the others stream; there `--server all` (or `platform`) adds a
 * bare `@effect/platform` server streaming the same `Stream` with no code of ours; streamwire runs
 * twice there, with the `Stream` and with a timer per connection feeding `SseResponse.async`, as the
 * baseline does — `--server async` runs only that one). Flags for the
 * server processes' `node` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) go in
 * `STREAMWIRE_SERVER_FLAGS`.
 *
 * For each server (each in its own child process, so its RSS is its own):
 * 1. open `--connections` SSE connections on loopback (at most 100 opening at a time);
 * 2. hold them for `--hold` seconds, the server sending a heartbeat comment every `--heartbeat`
 *    seconds to idle connections;
 * 3. publish a burst of `--burst` events, each carrying its publish time, to all of them, then
 *    `--paced` single events `--pace-ms` apart (the latency of one event's fan-out, without a
 *    queue of burst events ahead of it);
 * 4. report connections held (client side and server side), heartbeats seen, events/s delivered,
 *    publish-to-receive latency p50/p99/max, server RSS and heap per connection, and whether every
 *    client got every event exactly once, in order.
 *
 * Servers:
 * - baseline: plain `node:http`, each event rendered once and `res.write`n to every open response,
 *   a `setInterval` writing `:\n` to every response (as in bench/server.ts);
 * - streamwire: `NodeHttpServer` + `MemoryEventLog` + `SseResponse.fromEventLog` (its defaults:
 *   per-connection buffer of 1,024, disconnect policy), `heartbeat: "<n> seconds"`.
 *
 * The clients run in this process (plain `node:http`, a minimal line parser). Both processes share
 * the machine's cores, so latency includes the clients' own parsing of the burst.
 */
import type { EventLog } from "@streamwire/server"
import { type ChildProcess, execSync, fork, spawn } from "node:child_process"
import * as Http from "node:http"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { baselineHeaders, baselineServer } from "./baseline.js"
import { serverExecArgv } from "./serverProcess.js"

const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const CONNECTIONS = Number(flag("connections", "5000"))
const HOLD_S = Number(flag("hold", "30"))
const BURST = Number(flag("burst", "100"))
const HEARTBEAT_S = Number(flag("heartbeat", "5"))
const PACED = Number(flag("paced", "20"))
const PACE_MS = Number(flag("pace-ms", "250"))
const WHICH = flag("server", "both")
const SCENARIO = flag("scenario", "hold") // "hold" (the default run) or "paced" (per-connection streams)
const PACED_CONNECTIONS = Number(flag("paced-connections", "200"))
const PACED_RATE = Number(flag("paced-rate", "10")) // events/s per connection
const PACED_SECONDS = Number(flag("paced-seconds", "10"))
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const self = fileURLToPath(import.meta.url)

// ------------------------------------------------------------------------------------------------
// the server process: `--serve baseline|streamwire`; talks over IPC

type Command =
  | { readonly cmd: "stats" }
  | { readonly cmd: "publish"; readonly n: number; readonly from: number }
  | { readonly cmd: "exit" }
interface Stats {
  readonly rss: number
  readonly heap: number
  readonly connections: number
  /** process CPU time so far (user + system), microseconds */
  readonly cpu: number
}

const serve = async (kind: string) => {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
  const memory = () => {
    gc()
    gc()
    const m = process.memoryUsage()
    return { rss: m.rss, heap: m.heapUsed + m.external }
  }
  const cpuNow = () => {
    const u = process.cpuUsage()
    return u.user + u.system
  }
  let publish: (data: () => string) => void
  let connections: () => number
  let port: number
  if (kind === "baseline") {
    const clients = new Set<Http.ServerResponse>()
    let id = 0
    const server = baselineServer(clients)
    server.maxConnections = 100_000
    // /paced: a stream of its own per connection, PACED_RATE events/s (a timer per connection)
    const common = server.listeners("request")[0] as (req: Http.IncomingMessage, res: Http.ServerResponse) => void
    server.removeAllListeners("request")
    server.on("request", (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      if (req.url !== "/paced") return common(req, res)
      res.writeHead(200, baselineHeaders)
      res.write("")
      let s = 0
      const timer = setInterval(
        () => res.write(`event: tick\ndata: ${JSON.stringify({ s: s++, t: now() })}\n\n`),
        1000 / PACED_RATE
      )
      const beat = setInterval(() => res.write(":\n"), HEARTBEAT_S * 1000)
      res.on("close", () => {
        clearInterval(timer)
        clearInterval(beat)
      })
    })
    setInterval(() => {
      for (const res of clients) res.write(":\n")
    }, HEARTBEAT_S * 1000).unref()
    await new Promise<void>((r) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, r))
    port = (server.address() as { port: number }).port
    publish = (data) => {
      const text = `id: ${++id}\nevent: tick\ndata: ${data()}\n\n`
      for (const res of clients) res.write(text)
    }
    connections = () => clients.size
  } else if (kind === "platform") {
    // /paced with no code of ours: the same Stream, rendered by hand, as a streamed platform body
    // (what Effect's Stream, Schedule and the platform's body loop cost by themselves)
    const [HttpRouter, HttpServerResponse, NodeHttpServer, { Effect, Schedule, Scope, Stream }] = await Promise.all([
      import("@effect/platform/HttpRouter"),
      import("@effect/platform/HttpServerResponse"),
      import("@effect/platform-node/NodeHttpServer"),
      import("effect")
    ])
    const encoder = new TextEncoder()
    const paced = Effect.sync(() =>
      HttpServerResponse.stream(
        Stream.fromSchedule(Schedule.spaced(`${1000 / PACED_RATE} millis`)).pipe(
          Stream.map((s) => encoder.encode(`event: tick\ndata: ${JSON.stringify({ s, t: now() })}\n\n`))
        ),
        { contentType: baselineHeaders["content-type"], headers: baselineHeaders }
      )
    )
    const scope = Effect.runSync(Scope.make())
    port = await Effect.runPromise(
      Effect.gen(function*() {
        const server = yield* NodeHttpServer.make(() => Http.createServer(), {
          port: 0,
          host: "127.0.0.1",
          backlog: 4096
        })
        yield* server.serve(HttpRouter.empty.pipe(HttpRouter.get("/paced", paced)))
        return (server.address as { port: number }).port
      }).pipe(Scope.extend(scope))
    )
    publish = () => {}
    connections = () => 0
  } else {
    // loaded here, so the baseline's process does not carry Effect
    const [HttpRouter, NodeHttpServer, { MemoryEventLog, SseResponse }, { Effect, Schedule, Scope, Stream }, { Sse }] =
      await Promise.all([
        import("@effect/platform/HttpRouter"),
        import("@effect/platform-node/NodeHttpServer"),
        import("@streamwire/server"),
        import("effect"),
        import("@streamwire/codec")
      ])
    // /paced: a stream of its own per connection, PACED_RATE events/s: a Stream on a Schedule, or
    // (kind "streamwire-async") a timer per connection feeding SseResponse.async, as the baseline does
    const paced = kind === "streamwire-async"
      ? SseResponse.async((emit) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            let s = 0
            return setInterval(
              () => emit.single(Sse.unsafeEvent({ type: "tick", data: JSON.stringify({ s: s++, t: now() }) })),
              1000 / PACED_RATE
            )
          }),
          (timer) => Effect.sync(() => clearInterval(timer))
        ), { heartbeat: `${HEARTBEAT_S} seconds` })
      : SseResponse.make(
        Stream.fromSchedule(Schedule.spaced(`${1000 / PACED_RATE} millis`)).pipe(
          Stream.map((s) => Sse.unsafeEvent({ type: "tick", data: JSON.stringify({ s, t: now() }) }))
        ),
        { heartbeat: `${HEARTBEAT_S} seconds` }
      )
    const scope = Effect.runSync(Scope.make())
    const made = await Effect.runPromise(
      Effect.gen(function*() {
        const log: EventLog.EventLog = yield* MemoryEventLog.make({ maxEvents: Math.max(1000, BURST + PACED + 100) })
        const server = yield* NodeHttpServer.make(() => Http.createServer(), {
          port: 0,
          host: "127.0.0.1",
          backlog: 4096
        })
        yield* server.serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/events", SseResponse.fromEventLog(log, { heartbeat: `${HEARTBEAT_S} seconds` })),
            HttpRouter.get("/paced", paced)
          )
        )
        return { log, port: (server.address as { port: number }).port }
      }).pipe(Scope.extend(scope))
    )
    port = made.port
    publish = (data) => {
      Effect.runSync(made.log.append({ type: "tick", data: data() }))
    }
    connections = () => Effect.runSync(made.log.subscriberCount)
  }
  const send = (message: unknown) => process.send!(message)
  process.on("message", (command: Command) => {
    switch (command.cmd) {
      case "stats":
        return send({ stats: { ...memory(), connections: connections(), cpu: cpuNow() } satisfies Stats })
      case "publish": {
        const at = now()
        for (let s = command.from; s < command.from + command.n; s++) publish(() => JSON.stringify({ s, t: now() }))
        return send({ published: command.n, at })
      }
      case "exit":
        return process.exit(0)
    }
  })
  send({ port, ...memory() })
}

// ------------------------------------------------------------------------------------------------
// the clients

class Client {
  open = false
  closed = false
  heartbeats = 0
  events = 0
  inOrder = true
  private partial = ""
  private data: string | undefined
  constructor(readonly sink: { latencies: Array<number> }, readonly onEvent: (at: number) => void) {}
  feed(text: string) {
    const at = now()
    const lines = (this.partial + text).split("\n")
    this.partial = lines.pop()!
    for (const line of lines) {
      if (line === "") {
        if (this.data !== undefined) {
          const { s, t } = JSON.parse(this.data) as { s: number; t: number }
          if (s !== this.events) this.inOrder = false
          this.events++
          this.sink.latencies.push(at - t)
          this.onEvent(at)
        }
        this.data = undefined
      } else if (line.startsWith(":")) {
        this.heartbeats++
      } else if (line.startsWith("data: ")) {
        this.data = line.slice(6)
      }
    }
  }
}

interface Result {
  readonly name: string
  readonly opened: number
  readonly openSeconds: number
  readonly heldClient: number
  readonly heldServer: number
  readonly heartbeatsMin: number
  readonly heartbeatsAvg: number
  readonly delivered: number
  readonly expected: number
  readonly allGotAll: boolean
  readonly missing: number
  readonly outOfOrder: number
  readonly eventsPerSecond: number
  readonly burst: Latency
  readonly paced: Latency
  readonly rssIdle: number
  readonly rssHeld: number
  readonly heapIdle: number
  readonly heapHeld: number
}

interface Latency {
  readonly p50: number
  readonly p99: number
  readonly max: number
}

const latency = (samples: ReadonlyArray<number>): Latency => {
  const sorted = Float64Array.from(samples).sort()
  const at = (p: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
  return { p50: at(50), p99: at(99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! }
}

/** Opens `count` SSE connections, at most 100 opening at a time. */
const openClients = async (
  url: string,
  count: number,
  agent: Http.Agent,
  sink: { latencies: Array<number> },
  onEvent: (at: number) => void
) => {
  const clients: Array<Client> = []
  const requests: Array<Http.ClientRequest> = []
  let failed = 0
  await new Promise<void>((resolve) => {
    let inflight = 0
    let settled = 0
    let nextIndex = 0
    const openMore = () => {
      while (inflight < 100 && nextIndex < count) {
        const client = new Client(sink, onEvent)
        clients.push(client)
        nextIndex++
        inflight++
        let counted = false
        const done = () => {
          if (counted) return
          counted = true
          inflight--
          settled++
          if (settled === count) resolve()
          else openMore()
        }
        // past ~10,000 connections, several source addresses (each gives its own range of ports)
        const localAddress = count > 10_000 ? `127.0.0.${1 + (nextIndex % 8)}` : undefined
        const req = Http.get(url, {
          agent,
          headers: { accept: "text/event-stream" },
          ...(localAddress ? { localAddress } : {})
        }, (res) => {
          client.open = true
          res.setEncoding("utf8")
          res.on("data", (text: string) => client.feed(text))
          res.on("close", () => {
            client.open = false
            client.closed = true
          })
          done()
        })
        req.on("error", () => {
          if (!client.open && !client.closed) {
            failed++
            client.closed = true
            done()
          }
        })
        requests.push(req)
      }
    }
    if (count === 0) resolve()
    openMore()
  })
  return { clients, requests, failed }
}

/** Starts a server process (`--serve kind`) and gives its IPC replies by key, and its stats. */
type Kind = "baseline" | "streamwire" | "streamwire-async" | "platform"

const serverProcess = (kind: Kind, label: string) => {
  const name = kind === "baseline"
    ? "node:http baseline"
    : kind === "platform"
    ? "@effect/platform alone"
    : kind === "streamwire-async"
    ? "streamwire, SseResponse.async"
    : "streamwire"
  console.log(`\n== ${name}${label}`)
  const child: ChildProcess = fork(self, ["--serve", kind, ...process.argv.slice(2)], {
    execArgv: serverExecArgv("--expose-gc"),
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const messages: Array<Record<string, unknown>> = []
  let waiter: (() => void) | undefined
  child.on("message", (m) => {
    messages.push(m as Record<string, unknown>)
    waiter?.()
  })
  const next = async <A>(key: string): Promise<A> => {
    for (;;) {
      const i = messages.findIndex((m) => key in m)
      if (i >= 0) return messages.splice(i, 1)[0] as A
      await new Promise<void>((r) => (waiter = r))
    }
  }
  const stats = async () => {
    child.send({ cmd: "stats" })
    return (await next<{ stats: Stats }>("stats")).stats
  }
  return { name, child, next, stats }
}

const run = async (kind: "baseline" | "streamwire"): Promise<Result> => {
  const { name, child, next, stats } = serverProcess(kind, "")
  const publish = async (n: number, from: number) => {
    child.send({ cmd: "publish", n, from })
    return (await next<{ at: number }>("published")).at
  }
  const agent = new Http.Agent({ keepAlive: false, maxSockets: Infinity })
  try {
    const ready = await next<{ port: number }>("port")
    const url = `http://127.0.0.1:${ready.port}/events`

    // warm up (lazy initialisation, first requests), then measure the idle server
    const warm = await openClients(url, 50, agent, { latencies: [] }, () => {})
    await publish(5, 0)
    await sleep(300)
    for (const req of warm.requests) req.destroy()
    await sleep(500)
    const idle = await stats()

    // open
    const sink = { latencies: [] as Array<number> }
    let lastReceive = 0
    const t0 = now()
    const { clients, requests, failed } = await openClients(url, CONNECTIONS, agent, sink, (at) => (lastReceive = at))
    const openSeconds = (now() - t0) / 1000
    console.log(`opened ${CONNECTIONS - failed}/${CONNECTIONS} in ${openSeconds.toFixed(1)} s; holding ${HOLD_S} s`)

    try {
      // hold
      const holdStart = now()
      for (;;) {
        const left = HOLD_S * 1000 - (now() - holdStart)
        if (left <= 0) break
        await sleep(Math.min(5000, left))
        console.log(`  t+${((now() - holdStart) / 1000).toFixed(0)} s: ${clients.filter((c) => c.open).length} open`)
      }
      const held = await stats()
      const holders = clients.filter((c) => c.open)
      const heldClient = holders.length
      const beats = holders.map((c) => c.heartbeats)

      // burst
      const publishedAt = await publish(BURST, 0)
      const deadline = now() + 120_000
      while (sink.latencies.length < heldClient * BURST && now() < deadline) await sleep(50)
      const elapsed = (lastReceive - publishedAt) / 1000
      const delivered = sink.latencies.length
      const burst = latency(sink.latencies)
      console.log(`burst: ${delivered} of ${heldClient * BURST} delivered in ${elapsed.toFixed(2)} s`)

      // paced: one event at a time
      sink.latencies = []
      for (let i = 0; i < PACED; i++) {
        await publish(1, BURST + i)
        await sleep(PACE_MS)
      }
      const deadline2 = now() + 30_000
      while (sink.latencies.length < heldClient * PACED && now() < deadline2) await sleep(50)
      await sleep(200)
      const pacedDelivered = sink.latencies.length
      const paced = latency(sink.latencies)

      const total = BURST + PACED
      const result: Result = {
        name,
        opened: CONNECTIONS - failed,
        openSeconds,
        heldClient,
        heldServer: held.connections,
        heartbeatsMin: Math.min(...beats),
        heartbeatsAvg: beats.reduce((a, b) => a + b, 0) / Math.max(1, beats.length),
        delivered: delivered + pacedDelivered,
        expected: heldClient * total,
        allGotAll: holders.length === CONNECTIONS && holders.every((c) => c.events === total && c.inOrder),
        missing: holders.reduce((a, c) => a + Math.max(0, total - c.events), 0),
        outOfOrder: holders.filter((c) => !c.inOrder).length,
        eventsPerSecond: delivered / elapsed,
        burst,
        paced,
        rssIdle: idle.rss,
        rssHeld: held.rss,
        heapIdle: idle.heap,
        heapHeld: held.heap
      }
      console.log(JSON.stringify(result))
      return result
    } finally {
      for (const req of requests) req.destroy()
    }
  } finally {
    agent.destroy()
    child.send({ cmd: "exit" })
    await Promise.race([new Promise((r) => child.once("exit", r)), sleep(3000)])
    if (child.exitCode === null) child.kill("SIGKILL")
  }
}

// ------------------------------------------------------------------------------------------------
// the paced scenario: PACED_CONNECTIONS connections, each with a stream of its own at PACED_RATE/s

interface PacedResult {
  readonly name: string
  readonly opened: number
  /** The warm-up's 20 connections, the first requests of a fresh process. */
  readonly cold: Latency
  readonly headers: Latency
  readonly cpuPercent: number
  readonly deliveredPerSecond: number
  readonly nominalPerSecond: number
  readonly latency: Latency
  readonly inOrder: boolean
}

const runPaced = async (kind: Kind): Promise<PacedResult> => {
  const { name, child, next, stats } = serverProcess(kind, " (paced)")
  const agent = new Http.Agent({ keepAlive: false, maxSockets: Infinity })
  const requests: Array<Http.ClientRequest> = []
  try {
    const ready = await next<{ port: number }>("port")
    const url = `http://127.0.0.1:${ready.port}/paced`
    const sink = { latencies: [] as Array<number> }
    const clients: Array<Client> = []
    const toHeaders: Array<number> = []
    // warm-up, as in the hold scenario: 20 connections to a fresh process (its first requests run
    // cold code: the JIT, lazy initialisation), their time to headers reported apart, then closed
    const cold: Array<number> = []
    const warmups: Array<Http.ClientRequest> = []
    for (let i = 0; i < 20; i++) {
      const t0 = now()
      const req = Http.get(url, { agent, headers: { accept: "text/event-stream" } }, (res) => {
        cold.push(now() - t0)
        res.resume()
      })
      req.on("error", () => {})
      warmups.push(req)
    }
    const warmDeadline = now() + 30_000
    while (cold.length < 20 && now() < warmDeadline) await sleep(20)
    for (const req of warmups) req.destroy()
    await sleep(500)
    // open them 20 at a time, every 100 ms, while the others stream
    for (let i = 0; i < PACED_CONNECTIONS; i++) {
      const client = new Client(sink, () => {})
      clients.push(client)
      const t0 = now()
      const req = Http.get(url, { agent, headers: { accept: "text/event-stream" } }, (res) => {
        toHeaders.push(now() - t0)
        client.open = true
        res.setEncoding("utf8")
        res.on("data", (text: string) => client.feed(text))
      })
      req.on("error", () => {})
      requests.push(req)
      if (i % 20 === 19) await sleep(100)
    }
    const deadline = now() + 30_000
    while (toHeaders.length < PACED_CONNECTIONS && now() < deadline) await sleep(20)
    await sleep(500)
    // the steady state: CPU and deliveries over PACED_SECONDS
    sink.latencies = []
    const before = await stats()
    const eventsBefore = clients.reduce((a, c) => a + c.events, 0)
    const t0 = now()
    await sleep(PACED_SECONDS * 1000)
    const after = await stats()
    const seconds = (now() - t0) / 1000
    const delivered = clients.reduce((a, c) => a + c.events, 0) - eventsBefore
    const result: PacedResult = {
      name,
      opened: toHeaders.length,
      cold: latency(cold),
      headers: latency(toHeaders),
      cpuPercent: ((after.cpu - before.cpu) / 1e6 / seconds) * 100,
      deliveredPerSecond: delivered / seconds,
      nominalPerSecond: PACED_CONNECTIONS * PACED_RATE,
      latency: latency(sink.latencies),
      inOrder: clients.every((c) => c.inOrder)
    }
    console.log(JSON.stringify(result))
    return result
  } finally {
    for (const req of requests) req.destroy()
    agent.destroy()
    child.send({ cmd: "exit" })
    await Promise.race([new Promise((r) => child.once("exit", r)), sleep(3000)])
    if (child.exitCode === null) child.kill("SIGKILL")
  }
}

const pacedTable = (results: ReadonlyArray<PacedResult>) => {
  const rows: Array<[string, (r: PacedResult) => string]> = [
    ["connections opened (20 every 100 ms)", (r) => int(r.opened)],
    ["time to response headers: p50 / p99 / max", (r) => ms(r.headers)],
    ["(cold start: the warm-up's 20 connections at once) p50 / p99 / max", (r) => ms(r.cold)],
    [`server CPU over ${PACED_SECONDS} s (one core = 100 %)`, (r) => `${r.cpuPercent.toFixed(1)} %`],
    ["events delivered/s (of nominal)", (r) => `${int(r.deliveredPerSecond)} (of ${int(r.nominalPerSecond)})`],
    ["send-to-receive latency: p50 / p99 / max", (r) => ms(r.latency)],
    ["every connection's events in order", (r) => (r.inOrder ? "yes" : "no")]
  ]
  const lines = [`| | ${results.map((r) => r.name).join(" | ")} |`, `|---|${results.map(() => "---:").join("|")}|`]
  for (const [label, f] of rows) lines.push(`| ${label} | ${results.map(f).join(" | ")} |`)
  return lines.join("\n")
}

const ms = (l: Latency) => `${l.p50.toFixed(0)} / ${l.p99.toFixed(0)} / ${l.max.toFixed(0)} ms`
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const int = (n: number) => Math.round(n).toLocaleString("en-US")

const table = (results: ReadonlyArray<Result>) => {
  const rows: Array<[string, (r: Result) => string]> = [
    ["connections opened", (r) => `${int(r.opened)} (${r.openSeconds.toFixed(1)} s)`],
    [
      `connections held after ${HOLD_S} s (client / server count)`,
      (r) => `${int(r.heldClient)} / ${int(r.heldServer)}`
    ],
    [
      `heartbeats per connection during the hold (min / mean)`,
      (r) => `${r.heartbeatsMin} / ${r.heartbeatsAvg.toFixed(1)}`
    ],
    [
      `events delivered (a burst of ${BURST}, then ${PACED} paced, to every connection)`,
      (r) => `${int(r.delivered)} of ${int(r.expected)}`
    ],
    [
      "every client got every event, once, in order",
      (r) => r.allGotAll ? "yes" : `no (${int(r.missing)} missing, ${r.outOfOrder} out of order)`
    ],
    ["events/s delivered (the burst)", (r) => int(r.eventsPerSecond)],
    ["publish-to-receive latency, burst: p50 / p99 / max", (r) => ms(r.burst)],
    [`publish-to-receive latency, one event every ${PACE_MS} ms: p50 / p99 / max`, (r) => ms(r.paced)],
    ["server RSS idle → held", (r) => `${(r.rssIdle / 2 ** 20).toFixed(0)} → ${(r.rssHeld / 2 ** 20).toFixed(0)} MiB`],
    ["server RSS per connection", (r) => kib((r.rssHeld - r.rssIdle) / r.heldServer)],
    ["server heap + external per connection (after GC)", (r) => kib((r.heapHeld - r.heapIdle) / r.heldServer)]
  ]
  const lines = [`| | ${results.map((r) => r.name).join(" | ")} |`, `|---|${results.map(() => "---:").join("|")}|`]
  for (const [label, f] of rows) lines.push(`| ${label} | ${results.map(f).join(" | ")} |`)
  return lines.join("\n")
}

// ------------------------------------------------------------------------------------------------
// main: raise the file-descriptor limit if needed (re-exec under `ulimit -n`), then run

const fdLimit = () => {
  try {
    return Number(execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim()) || 1024
  } catch {
    return 1024
  }
}

const main = async () => {
  const needed = CONNECTIONS + 1024
  if (fdLimit() < needed && process.env["STREAMWIRE_LOAD_REEXEC"] === undefined) {
    console.log(`raising the file-descriptor limit (ulimit -n ${fdLimit()} < ${needed})`)
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        `ulimit -n ${Math.max(needed, 65536)} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`,
        process.execPath,
        ...process.execArgv,
        self,
        ...process.argv.slice(2)
      ],
      { stdio: "inherit", env: { ...process.env, STREAMWIRE_LOAD_REEXEC: "1" } }
    )
    child.on("exit", (code) => process.exit(code ?? 1))
    return
  }
  if (fdLimit() < needed) {
    console.warn(`warning: ulimit -n is ${fdLimit()}, fewer than ${needed}: some connections may fail`)
  }
  console.log(
    `node ${process.version}, ${Os.cpus().length} cores, load ${Os.loadavg().map((l) => l.toFixed(2)).join(" ")}; ` +
      `${CONNECTIONS} connections, hold ${HOLD_S} s, heartbeat ${HEARTBEAT_S} s, burst ${BURST}`
  )
  if (SCENARIO === "paced") {
    console.log(`paced: ${PACED_CONNECTIONS} connections, each its own stream at ${PACED_RATE} events/s`)
    const paced: Array<PacedResult> = []
    if (WHICH === "both" || WHICH === "all" || WHICH === "baseline") paced.push(await runPaced("baseline"))
    if (WHICH === "both" || WHICH === "all" || WHICH === "streamwire") paced.push(await runPaced("streamwire"))
    if (WHICH === "both" || WHICH === "all" || WHICH === "streamwire" || WHICH === "async") {
      paced.push(await runPaced("streamwire-async"))
    }
    if (WHICH === "all" || WHICH === "platform") paced.push(await runPaced("platform"))
    console.log(`\n${pacedTable(paced)}\n`)
    process.exit(0)
  }
  const results: Array<Result> = []
  if (WHICH === "both" || WHICH === "baseline") results.push(await run("baseline"))
  if (WHICH === "both" || WHICH === "streamwire") results.push(await run("streamwire"))
  console.log(`\n${table(results)}\n`)
  process.exit(results.every((r) => r.allGotAll) ? 0 : 1)
}

const serveIndex = process.argv.indexOf("--serve")
if (serveIndex >= 0) void serve(process.argv[serveIndex + 1]!)
else void main()

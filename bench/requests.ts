/**
 * What one SSE request costs the server before its response headers leave, by layer:
 * `npm run tsx -- bench/requests.ts [--requests 600] [--runs 3] [--only node,text,...] [--heartbeat 15]
 * [--idle 0]`.
 *
 * Each case is a server in a fresh child process (`node:http` or `NodeHttpServer`), route `/x`;
 * this process opens `--requests` connections in batches of 20 (after 100 to warm up), waits for
 * each batch's response headers, keeps every connection open and idle (no events, no heartbeats:
 * only the cost of opening is measured), and reads the server process's CPU time
 * (`process.cpuUsage`, user + system) before and after. Cases, from the bottom up:
 *
 * - `node`: plain `node:http`, `writeHead` + an empty `write` (the baseline of bench/load.ts);
 * - `node+hb`: the same, with one `setInterval` writing a heartbeat comment to every response;
 * - `text`: `@effect/platform`, a route answering `HttpServerResponse.text` (the platform's own
 *   per-request cost: request object, fiber, router, middleware, span, response);
 * - `stream`: `@effect/platform`, a route answering `HttpServerResponse.stream` of a comment then
 *   `Stream.never` (what a streamed body adds: the platform's `Stream.runForEachChunk`);
 * - `async`: `SseResponse.async` with a listener acquired in its scope, no heartbeat;
 * - `async+hb`: the same with heartbeats (the shared timer);
 * - `make`: `SseResponse.make(Stream.never)` with heartbeats;
 * - `text-untraced`, `async-untraced`: `text` and `async` with the platform's tracer middleware off
 *   (`HttpMiddleware.currentTracerDisabledWhen`: no span per request).
 *
 * With `--idle S`, every case then holds its connections open for S more seconds and reports the
 * server CPU per connection per heartbeat period (`--heartbeat`, default 15 s): what heartbeats
 * cost in the `+hb` cases and `make`, what an idle connection costs in the others.
 *
 * Reported: the median over `--runs` fresh processes of µs of server CPU per request, and the
 * ratio to `node` in the same run; the time to headers p50 / p99 over the batches (client side).
 */
import { fork } from "node:child_process"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Url from "node:url"
import { serverExecArgv } from "./serverProcess.js"

const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : process.argv[i + 1]!
}
const CASES = [
  "node",
  "node+hb",
  "text",
  "stream",
  "async",
  "async+hb",
  "make",
  "text-untraced",
  "async-untraced"
] as const
/** The heartbeat period of the `+hb` cases and `make`, in seconds (`--heartbeat`, default 15). */
const heartbeatSeconds = Number(process.env.STREAMWIRE_REQUESTS_HEARTBEAT ?? flag("heartbeat", "15"))
type Case = (typeof CASES)[number]

if (process.env.STREAMWIRE_REQUESTS_CASE !== undefined) {
  await serve(process.env.STREAMWIRE_REQUESTS_CASE as Case)
} else {
  await main()
}

async function serve(which: Case) {
  let port: number
  if (which === "node" || which === "node+hb") {
    // `node+hb`: one interval for all responses, writing a comment to each (the baseline's heartbeat)
    const open = new Set<Http.ServerResponse>()
    if (which === "node+hb") {
      setInterval(() => {
        for (const res of open) res.write(":\n")
      }, heartbeatSeconds * 1000)
    }
    const server = Http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
      res.write("")
      if (which === "node+hb") {
        open.add(res)
        res.on("close", () => open.delete(res))
      }
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", 4096, resolve))
    port = (server.address() as { port: number }).port
  } else {
    const [HttpMiddleware, HttpRouter, HttpServerResponse, NodeHttpServer, { SseResponse }, { Effect, Scope, Stream }] =
      await Promise.all([
        import("@effect/platform/HttpMiddleware"),
        import("@effect/platform/HttpRouter"),
        import("@effect/platform/HttpServerResponse"),
        import("@effect/platform-node/NodeHttpServer"),
        import("@streamwire/server"),
        import("effect")
      ])
    const listener = (emit: unknown) => Effect.acquireRelease(Effect.sync(() => ({ emit })), () => Effect.void)
    const route = which === "text" || which === "text-untraced"
      ? Effect.succeed(HttpServerResponse.text("hi"))
      : which === "stream"
      ? Effect.sync(() =>
        HttpServerResponse.stream(Stream.concat(Stream.make(new TextEncoder().encode(": hi\n\n")), Stream.never), {
          contentType: "text/event-stream"
        })
      )
      : which === "async" || which === "async-untraced"
      ? SseResponse.async(listener, { heartbeat: false })
      : which === "async+hb"
      ? SseResponse.async(listener, { heartbeat: `${heartbeatSeconds} seconds` })
      : SseResponse.make(Stream.never, { heartbeat: `${heartbeatSeconds} seconds` })
    const scope = Effect.runSync(Scope.make())
    port = await Effect.runPromise(
      Effect.gen(function*() {
        const server = yield* NodeHttpServer.make(() => Http.createServer(), {
          port: 0,
          host: "127.0.0.1",
          backlog: 4096
        })
        const serve = server.serve(HttpRouter.empty.pipe(HttpRouter.get("/x", route)))
        // "-untraced": the platform's tracer middleware (a span per request) off, as an operator may
        yield* which.endsWith("-untraced")
          ? Effect.locally(serve, HttpMiddleware.currentTracerDisabledWhen, () => true)
          : serve
        return (server.address as { port: number }).port
      }).pipe(Scope.extend(scope))
    )
  }
  process.on("message", (m: { cmd: string }) => {
    if (m.cmd === "cpu") {
      const c = process.cpuUsage()
      process.send!({ cpu: c.user + c.system })
    } else process.exit(0)
  })
  process.send!({ port })
}

async function main() {
  const requests = Number(flag("requests", "600"))
  const runs = Number(flag("runs", "3"))
  const only = flag("only", CASES.join(",")).split(",") as Array<Case>
  const idle = Number(flag("idle", "0"))
  const load = () => Os.loadavg().map((l) => l.toFixed(1)).join(" ")
  console.log(`${requests} requests per case in batches of 20, ${runs} runs; load average ${load()} at start`)
  const results = new Map<Case, Array<{ micros: number; p50: number; p99: number; idleMicros: number }>>()
  for (let run = 0; run < runs; run++) {
    for (const which of only) {
      const r = await measure(which, requests, idle)
      results.set(which, [...(results.get(which) ?? []), r])
      console.log(JSON.stringify({ run, case: which, ...r }))
    }
  }
  const median = (xs: Array<number>) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const base = median((results.get("node") ?? []).map((r) => r.micros))
  console.log(`\nload average ${load()} at end\n`)
  console.log(
    `| case | server CPU per request (median, range) | ÷ node:http | time to headers p50 / p99 (median) |${
      idle > 0 ? ` idle: server CPU per connection per ${heartbeatSeconds} s (median) |` : ""
    }`
  )
  console.log(`|---|---:|---:|---:|${idle > 0 ? "---:|" : ""}`)
  for (const which of only) {
    const rs = results.get(which)!
    const micros = rs.map((r) => r.micros)
    console.log(
      `| ${which} | ${median(micros).toFixed(0)} µs (${Math.min(...micros).toFixed(0)}–${
        Math.max(...micros).toFixed(0)
      }) | ${Number.isFinite(base) ? (median(micros) / base).toFixed(2) + "×" : "–"} | ${
        median(rs.map((r) => r.p50)).toFixed(1)
      } / ${median(rs.map((r) => r.p99)).toFixed(1)} ms |${
        idle > 0 ? ` ${median(rs.map((r) => r.idleMicros)).toFixed(1)} µs |` : ""
      }`
    )
  }
}

async function measure(which: Case, requests: number, idle: number) {
  const child = fork(Url.fileURLToPath(import.meta.url), [], {
    env: { ...process.env, STREAMWIRE_REQUESTS_CASE: which, STREAMWIRE_REQUESTS_HEARTBEAT: String(heartbeatSeconds) },
    execArgv: serverExecArgv()
  })
  const next = <A>(key: string) =>
    new Promise<A>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off("message", on)
          resolve(m[key] as A)
        }
      }
      child.on("message", on)
    })
  const port = await next<number>("port")
  const agent = new Http.Agent({ keepAlive: false, maxSockets: Infinity })
  const open: Array<Http.ClientRequest> = []
  const batch = (n: number) =>
    new Promise<Array<number>>((resolve) => {
      const times: Array<number> = []
      for (let i = 0; i < n; i++) {
        const t0 = performance.now()
        const req = Http.get(`http://127.0.0.1:${port}/x`, { agent }, (res) => {
          times.push(performance.now() - t0)
          res.resume()
          if (times.length === n) resolve(times)
        })
        req.on("error", () => {})
        open.push(req)
      }
    })
  try {
    for (let i = 0; i < 5; i++) await batch(20)
    const cpu = () => {
      const p = next<number>("cpu")
      child.send({ cmd: "cpu" })
      return p
    }
    const times: Array<number> = []
    const before = await cpu()
    for (let i = 0; i < requests / 20; i++) {
      times.push(...await batch(20))
      await new Promise((r) => setTimeout(r, 20))
    }
    const after = await cpu()
    times.sort((a, b) => a - b)
    // `--idle S`: then S seconds with every connection open and idle: server CPU per connection
    // per heartbeat period (what the heartbeats cost; with none, what an idle connection costs)
    let idleMicros = NaN
    if (idle > 0) {
      const start = await cpu()
      await new Promise((r) => setTimeout(r, idle * 1000))
      idleMicros = (await cpu() - start) / open.length / (idle / heartbeatSeconds)
    }
    return {
      micros: (after - before) / requests,
      p50: times[Math.floor(times.length / 2)]!,
      p99: times[Math.floor(times.length * 0.99)]!,
      idleMicros
    }
  } finally {
    for (const req of open) req.destroy()
    agent.destroy()
    child.send({ cmd: "exit" })
    await new Promise((r) => child.once("exit", r))
  }
}

/**
 * A server process on a `FileEventLog` appending continuously (every append `fdatasync`ed), killed
 * with SIGKILL and started again on the same directory and port several times mid-stream, while
 * our `SseClient` and Chromium's own `EventSource` follow it: each client gets every event of the
 * log exactly once and in order, never a reset, and every append the server acknowledged before a
 * kill is in the log afterwards.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { SseClient } from "@streamwire/client"
import { FileEventLog } from "@streamwire/server"
import { Chunk, Effect, Fiber, Schedule, Stream } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Browser from "../src/Browser.js"
import * as DurableServer from "../src/DurableServer.js"
import { sleep, waitFor } from "../src/util.js"

interface Received {
  readonly type: string
  readonly id: string
  readonly data: string
}

const RESTARTS = Number(process.env["DURABLE_RESTARTS"] ?? 3)
/** Events each client must receive between two kills (about 0.2 s of appends, more when loaded). */
const BETWEEN_KILLS = 25

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })

let browser: Browser.Browser
const cleanups: Array<() => Promise<unknown> | unknown> = []

beforeAll(async () => {
  browser = await Browser.launch()
})

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  await browser?.close()
})

describe("a durable log across SIGKILL restarts", () => {
  it("SseClient and Chromium's EventSource get every event exactly once, in order, across 3 kills", async () => {
    const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-durable-e2e-"))
    cleanups.push(() => Fs.rmSync(directory, { recursive: true, force: true }))
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    let server = await DurableServer.start(directory, port)
    const servers = [server]
    cleanups.push(() => Promise.all(servers.map((s) => s.kill())))

    // our client: reconnects every 100 ms while the server is down
    const ours: Array<Received> = []
    let resets = 0
    const fiber = Effect.runFork(
      SseClient.connect(`${origin}/events`, { reconnect: Schedule.spaced("100 millis") }).pipe(
        Stream.runForEach((element) =>
          Effect.sync(() => {
            if (element._tag !== "SseEvent") return
            if (element.type === "reset") resets++
            ours.push({ type: element.type, id: element.lastEventId, data: element.data })
          })
        ),
        Effect.provide(NodeHttpClient.layerUndici)
      )
    )
    cleanups.push(() => Effect.runPromise(Fiber.interrupt(fiber)))

    // Chromium's EventSource, on a page of the server's origin (fulfilled by the browser itself)
    const page: Page = await browser.context.newPage()
    cleanups.push(() => page.close())
    await page.route(
      origin + "/blank",
      (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>blank</title>" })
    )
    await page.goto(origin + "/blank")
    await page.evaluate(`(() => {
      const rec = window.rec = { events: [], errors: 0, log: [] }
      const es = window.es = new EventSource(${JSON.stringify(origin + "/events")})
      const push = (e) => rec.events.push({ type: e.type, id: e.lastEventId, data: e.data })
      es.addEventListener("n", push)
      es.addEventListener("reset", push)
      es.onerror = () => { rec.errors++; rec.log.push(performance.now().toFixed(0) + " error state " + es.readyState) }
      es.onopen = () => rec.log.push(performance.now().toFixed(0) + " open")
    })()`)
    const browserEvents = () => page.evaluate("window.rec.events") as Promise<Array<Received>>
    const browserCount = () => page.evaluate("window.rec.events.length") as Promise<number>

    let seen = 0
    let browserLog: Array<string> = []
    const failures: Array<string> = []
    page.on("requestfailed", (r) => failures.push(`${Date.now() % 1_000_000} ${r.failure()?.errorText}`))
    page.on("response", (r) => failures.push(`${Date.now() % 1_000_000} ${r.status()}`))
    // the page's own log of opens and errors, for the failure message
    const poll = setInterval(
      () => void page.evaluate("window.rec.log").then((l) => (browserLog = l as Array<string>), () => {}),
      500
    )
    cleanups.push(() => clearInterval(poll))
    const bothReach = async (n: number, what: string) => {
      await waitFor(async () => ours.length >= n && (seen = await browserCount()) >= n, {
        timeout: 150_000, // a restart (tsx compiling the server) takes 15-30 s on a loaded machine
        interval: 100,
        message: () =>
          `${what}: wanted ${n}, ours ${ours.length}, Chromium's ${seen}; ${
            browserLog.slice(-20).join(", ")
          }; requests: ${failures.slice(-30).join(", ")}`
      })
    }

    const ackedBeforeKills: Array<string> = []
    for (let i = 0; i < RESTARTS; i++) {
      await bothReach(Math.max(ours.length, await browserCount()) + BETWEEN_KILLS, `before kill ${i + 1}`)
      await server.kill()
      failures.push(`${Date.now() % 1_000_000} killed`)
      ackedBeforeKills.push(...server.acked)
      await sleep(50 + Math.floor(Math.random() * 200))
      server = await DurableServer.start(directory, port)
      failures.push(`${Date.now() % 1_000_000} restarted`)
      servers.push(server)
    }
    await bothReach(Math.max(ours.length, await browserCount()) + BETWEEN_KILLS, "after the last restart")
    const last = await DurableServer.stopAppending(port)
    await waitFor(async () => ours.at(-1)?.id === last && (await browserEvents()).at(-1)?.id === last, {
      timeout: 30_000,
      message: () => `the last event ${last}: ours at ${ours.at(-1)?.id}`
    })
    await server.kill()
    await Effect.runPromise(Fiber.interrupt(fiber))

    // what the log holds, read from its files by a fresh log
    const logged = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const log = yield* FileEventLog.make({ directory })
      return yield* log.subscribe({ initial: "retained" }).pipe(
        Stream.takeUntil((item) => item._tag === "SseEvent" && item.lastEventId === last),
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.timeout("30 seconds")
      )
    })))
    const expected = logged.map((
      e
    ) => (e._tag === "SseEvent"
      ? { type: e.type, id: e.lastEventId, data: e.data }
      : { type: "reset", id: "", data: "" })
    )

    // ids numbered 1, 2, 3, ... across the five processes
    const seqs = expected.map((e) => Number(e.id.split("-")[1]))
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    expect(new Set(expected.map((e) => e.data.split(":")[0])).size).toBe(RESTARTS + 1)
    // every acknowledged append survived its process's SIGKILL
    const ids = new Set(expected.map((e) => e.id))
    expect(ackedBeforeKills.filter((id) => !ids.has(id))).toEqual([])
    expect(ackedBeforeKills.length).toBeGreaterThan(RESTARTS * BETWEEN_KILLS)

    // both clients: exactly the log, once each, in order, and no reset
    expect(resets).toBe(0)
    const firstBad = (got: ReadonlyArray<Received>) => got.findIndex((e, i) => e.id !== expected[i]?.id)
    expect(firstBad(ours)).toBe(-1)
    expect(ours).toEqual(expected)
    const theirs = await browserEvents()
    expect(firstBad(theirs)).toBe(-1)
    expect(theirs).toEqual(expected)
    expect(await page.evaluate("window.rec.errors")).toBeGreaterThanOrEqual(RESTARTS)
  }, 600_000)
})

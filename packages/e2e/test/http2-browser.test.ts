/**
 * Six connections per origin, shown both ways in headless Chromium: one page opens 12
 * `EventSource`s to one origin; over HTTP/1.1 (TLS, `node:https`) 6 receive events and 6 wait for
 * ever; over HTTP/2 (`Http2Server`) all 12 receive events, on one connection. A self-signed
 * certificate is made for the run and trusted by its SPKI hash; screenshots go to `test-artifacts/`.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import { Sse } from "@streamwire/codec"
import { SseResponse } from "@streamwire/server"
import { Effect, Schedule, Stream } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as Browser from "../src/Browser.js"
import * as TlsServer from "../src/TlsServer.js"
import { sleep, waitFor } from "../src/util.js"

const certificate = await TlsServer.certificate()

interface PageCounts {
  readonly events: ReadonlyArray<number>
  readonly states: ReadonlyArray<number>
}

/** The page: 12 EventSources to /ticks, a table of what each received. */
const page = (sources: number, protocol: string) =>
  `<!doctype html><meta charset="utf-8"><title>12 EventSources</title>
<style>body{font:15px system-ui,sans-serif;margin:24px}td,th{padding:4px 14px;border-bottom:1px solid #ddd;text-align:left}
.open{color:#080}.waiting{color:#b60}</style>
<h1>${protocol} over TLS: ${sources} EventSources to one origin</h1><p id="summary"></p><p id="server"></p><table><thead><tr><th>EventSource</th><th>state</th><th>events</th></tr></thead><tbody id="rows"></tbody></table>
<script>
  const names = ["CONNECTING", "OPEN", "CLOSED"]
  const events = new Array(${sources}).fill(0)
  const sources = []
  const render = () => {
    const receiving = events.filter((n) => n > 0).length
    document.getElementById("summary").textContent = receiving + " of ${sources} receive events"
    document.getElementById("rows").innerHTML = sources.map((es, i) =>
      '<tr class="' + (events[i] > 0 ? "open" : "waiting") + '"><td>#' + (i + 1) + '</td><td>' + names[es.readyState] +
      '</td><td>' + events[i] + '</td></tr>').join("")
  }
  for (let i = 0; i < ${sources}; i++) {
    const es = new EventSource("/ticks?source=" + i)
    es.onmessage = () => { events[i]++; render() }
    es.onopen = render
    sources.push(es)
  }
  window.counts = () => ({ events: events.slice(), states: sources.map((es) => es.readyState) })
  render()
</script>`

describe("headless Chromium: 12 EventSources on one page", () => {
  const ticks = HttpRouter.empty.pipe(
    HttpRouter.get(
      "/ticks",
      SseResponse.make(
        Stream.fromSchedule(Schedule.spaced("200 millis")).pipe(Stream.map((n) => Sse.unsafeEvent({ data: String(n) })))
      )
    )
  )
  const sources = 12

  const run = async (protocol: "h2" | "h1", browser: Browser.Browser) => {
    const server = await TlsServer.start(certificate, protocol, Effect.succeed([ticks, undefined] as const))
    const tab = await browser.context.newPage()
    try {
      // the page itself is fulfilled by the browser (the server never sees it): only the streams go out
      await tab.route(
        server.origin + "/",
        (route) =>
          route.fulfill({
            contentType: "text/html; charset=utf-8",
            body: page(sources, protocol === "h2" ? "HTTP/2" : "HTTP/1.1")
          })
      )
      await tab.goto(server.origin + "/")
      const counts = () => tab.evaluate("window.counts()") as Promise<PageCounts>
      const receiving = async () => (await counts()).events.filter((n) => n >= 3).length
      const expected = protocol === "h2" ? sources : 6
      await waitFor(async () => (await receiving()) >= expected, {
        timeout: 30_000,
        message: () => `${expected} EventSources receiving`
      })
      // time enough for any more to get a connection (none does over HTTP/1.1): 10 more ticks
      await sleep(2_000)
      const final = await counts()
      const server_ =
        `server: ${server.counts.connections} TLS connection(s), ${server.counts.sessions} HTTP/2 session(s), ${server.seen.length} stream request(s)`
      await tab.evaluate(`document.getElementById("server").textContent = ${JSON.stringify(server_)}`)
      const file = Path.join(Browser.artifactsDir(), `http2-eventsource-${protocol}.png`)
      Fs.rmSync(file, { force: true })
      await tab.screenshot({ path: file, fullPage: true })
      return { final, counts: { ...server.counts }, seen: [...server.seen], file }
    } finally {
      await tab.close()
      await server.close()
    }
  }

  it(
    "over HTTP/1.1 exactly 6 receive events and 6 stay pending; over HTTP/2 all 12 do, all on one connection",
    async () => {
      const browser = await Browser.launch([`--ignore-certificate-errors-spki-list=${certificate.spki}`])
      try {
        const h1 = await run("h1", browser)
        const h2 = await run("h2", browser)
        console.log(
          `HTTP/1.1: ${h1.final.events.filter((n) => n > 0).length} of ${sources} EventSources received events ` +
            `(events ${
              h1.final.events.join(",")
            }; ${h1.counts.connections} TLS connections, ${h1.seen.length} requests)\n` +
            `HTTP/2: ${h2.final.events.filter((n) => n > 0).length} of ${sources} ` +
            `(events ${
              h2.final.events.join(",")
            }; ${h2.counts.connections} TLS connections, ${h2.counts.sessions} sessions, ${h2.seen.length} requests on sessions ${
              h2.seen.map((r) => r.session).join(",")
            })`
        )
        // HTTP/1.1: six connections, six streams; the other six never reached the server
        expect(h1.final.events.filter((n) => n > 0).length).toBe(6)
        expect(h1.final.events.filter((n) => n === 0).length).toBe(6)
        expect(h1.final.states.filter((s) => s === 1).length).toBe(6) // OPEN
        expect(h1.final.states.filter((s) => s === 0).length).toBe(6) // CONNECTING, for ever
        expect(h1.seen.length).toBe(6)
        expect(h1.seen.every((r) => r.httpVersion === "1.1")).toBe(true)
        expect(h1.counts.connections).toBe(6)
        // HTTP/2: twelve streams on one connection
        expect(h2.final.events.every((n) => n > 0)).toBe(true)
        expect(h2.final.states.every((s) => s === 1)).toBe(true)
        expect(h2.seen.length).toBe(sources)
        expect(h2.seen.every((r) => r.httpVersion === "2.0")).toBe(true)
        // Chromium may open a second connection that carries nothing (a speculative preconnect)
        expect(new Set(h2.seen.map((r) => r.session)).size).toBe(1)
        for (const { file } of [h1, h2]) expect(Fs.statSync(file).size).toBeGreaterThan(10_000)
      } finally {
        await browser.close()
      }
    },
    120_000
  )
})

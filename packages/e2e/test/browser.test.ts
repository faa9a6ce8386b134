/**
 * Headless Chromium against the demo server: the browser's own `EventSource` and `fetch` +
 * `ReadableStream`, no library in the page.
 */
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Browser from "../src/Browser.js"
import * as Demo from "../src/Demo.js"
import * as TestServer from "../src/TestServer.js"
import { htmlServer, sleep, waitFor } from "../src/util.js"

interface Received {
  readonly type: string
  readonly id: string
  readonly data: string
}
interface Recording {
  readonly events: Array<Received>
  readonly errors: Array<{ readonly t: number; readonly state: number; readonly lastId: string }>
  readonly opens: Array<number>
  readonly withCredentials: boolean
  readonly state: number
}

/** In the page: open an EventSource and record what it sees (`window.rec`). */
const openEventSource = (url: string, withCredentials = false) => `(() => {
  const rec = window.rec = { events: [], errors: [], opens: [] }
  const es = window.es = new EventSource(${JSON.stringify(url)}, { withCredentials: ${withCredentials} })
  const push = (e) => rec.events.push({ type: e.type, id: e.lastEventId, data: e.data })
  for (const type of ["tick", "quote", "reset", "message"]) es.addEventListener(type, push)
  es.onopen = () => rec.opens.push(performance.now())
  es.onerror = () => rec.errors.push({
    t: performance.now(),
    state: es.readyState,
    lastId: rec.events.length > 0 ? rec.events[rec.events.length - 1].id : ""
  })
})()`

const recording = (page: Page): Promise<Recording> =>
  page.evaluate("({ ...window.rec, withCredentials: window.es.withCredentials, state: window.es.readyState })") as Promise<
    Recording
  >

/** A same-origin blank page on the server's origin (fulfilled by the browser, the server never sees it). */
const blankPage = async (page: Page, origin: string) => {
  await page.route(origin + "/blank", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>blank</title><body></body>" }))
  await page.goto(origin + "/blank")
}

const withPage = async <A>(browser: Browser.Browser, f: (page: Page) => Promise<A>): Promise<A> => {
  const page = await browser.context.newPage()
  try {
    return await f(page)
  } finally {
    await page.close()
  }
}

const withServer = async <A, B>(
  server: Promise<TestServer.TestServer<A>>,
  f: (server: TestServer.TestServer<A>) => Promise<B>
): Promise<B> => {
  const s = await server
  try {
    return await f(s)
  } finally {
    await s.close()
  }
}

let browser: Browser.Browser

beforeAll(async () => {
  browser = await Browser.launch()
})

afterAll(async () => {
  await browser?.close()
})

describe("headless Chromium against the demo server", () => {
  it("the demo page: ticker over EventSource (tick and quote listeners), chat over fetch + ReadableStream, resume by query, screenshot", async () => {
    await withServer(TestServer.start(Demo.make({ tickEvery: "100 millis" })), (server) =>
      withPage(browser, async (page) => {
        await page.goto(server.url("/"))
        // the page's own EventSource, its "tick" and "quote" listeners
        await page.waitForFunction(
          "document.getElementById('status').textContent === 'open' && Number(document.getElementById('ticks').textContent) >= 6 && Number(document.getElementById('quotes').textContent) >= 1",
          undefined,
          { timeout: 10_000 }
        )

        // chat: record every change of the answers while they stream
        await page.evaluate(`(() => {
          window.snaps = { sse: [], ndjson: [] }
          const watch = (id, into) => new MutationObserver(() => into.push(document.getElementById(id).textContent))
            .observe(document.getElementById(id), { childList: true, characterData: true, subtree: true })
          watch("answerSse", window.snaps.sse)
          watch("answerNdjson", window.snaps.ndjson)
        })()`)
        await page.click("#sendSse")
        await page.click("#sendNdjson")
        await page.waitForFunction(
          "document.getElementById('answerSse').textContent.endsWith('✓') && document.getElementById('answerNdjson').textContent.endsWith('✓')",
          undefined,
          { timeout: 15_000 }
        )
        const snaps = await page.evaluate("window.snaps") as { sse: Array<string>; ndjson: Array<string> }
        const final = `You said 7 words: "What does streaming over HTTP look like?". Each token of this answer is written to the socket as soon as it is produced, so the page shows it before the answer is complete.  ✓`
        for (const seen of [snaps.sse, snaps.ndjson]) {
          expect(seen.at(-1)).toBe(final)
          // shown token by token: many intermediate states, each a prefix of the next
          const partial = seen.filter((text) => text !== "" && !text.endsWith("✓"))
          expect(partial.length).toBeGreaterThan(10)
          for (let i = 1; i < partial.length; i++) expect(partial[i]!.startsWith(partial[i - 1]!)).toBe(true)
        }

        // "Drop": a new EventSource resuming with ?lastEventId=
        const before = Number(await page.textContent("#ticks"))
        await page.click("#drop")
        await page.waitForFunction(`Number(document.getElementById('ticks').textContent) >= ${before + 5}`, undefined, {
          timeout: 10_000
        })
        const resumed = server.requests.filter((r) => r.url.startsWith("/events?lastEventId="))
        expect(resumed.length).toBe(1)

        const text = await page.innerText("body")
        expect(text).not.toContain("DUPLICATE")
        expect(text).toMatch(/tick #\d+ at /)
        expect(text).toMatch(/quote ACME \d+\.\d\d/)
        expect(text).toContain("— connected to /events?lastEventId=")
        expect(text).toContain(final)

        const file = Path.join(Browser.artifactsDir(), "demo-page.png")
        Fs.rmSync(file, { force: true })
        await page.screenshot({ path: file, fullPage: true })
        expect(Fs.statSync(file).size).toBeGreaterThan(10_000)
      })
    )
  })

  it("EventSource: every event exactly once, in order, across server-side drops; reconnects send Last-Event-ID", async () => {
    await withServer(TestServer.start(Demo.make({ tickEvery: "15 millis", retry: "150 millis", maxTicks: 200 })), (server) =>
      withPage(browser, async (page) => {
        await blankPage(page, server.origin)
        await page.evaluate(openEventSource("/events"))
        const drops = 4
        for (let i = 1; i <= drops; i++) {
          await waitFor(async () => (await recording(page)).events.length >= i * 40, { timeout: 10_000 })
          expect(server.dropConnections("/events")).toBe(1)
          await waitFor(async () => (await recording(page)).opens.length >= i + 1, { timeout: 10_000 })
        }
        const published = server.value.published
        await waitFor(async () => published.length === 240 && (await recording(page)).events.length >= 240, {
          timeout: 15_000,
          message: () => `published ${published.length}`
        })
        await sleep(100) // nothing more may arrive
        const rec = await recording(page)
        expect(rec.events).toEqual(published)
        expect(rec.opens.length).toBe(drops + 1)
        expect(rec.errors.map((e) => e.state)).toEqual(Array(drops).fill(0)) // CONNECTING: reconnecting
        // each reconnect carried the id of the last event received before the drop
        const eventRequests = server.requests.filter((r) => r.url === "/events")
        expect(eventRequests.length).toBe(drops + 1)
        expect(eventRequests[0]!.headers["last-event-id"]).toBeUndefined()
        expect(eventRequests.slice(1).map((r) => r.headers["last-event-id"])).toEqual(rec.errors.map((e) => e.lastId))
        expect(eventRequests.every((r) => r.headers["accept"] === "text/event-stream")).toBe(true)
      })
    )
  })

  it("EventSource honours the server's retry: hint", async () => {
    const reconnectDelay = (retry: number) =>
      withServer(TestServer.start(Demo.make({ tickEvery: "50 millis", retry: `${retry} millis` })), (server) =>
        withPage(browser, async (page) => {
          await blankPage(page, server.origin)
          await page.evaluate(openEventSource("/events"))
          await waitFor(async () => (await recording(page)).events.length >= 2)
          expect(server.dropConnections("/events")).toBe(1)
          await waitFor(async () => (await recording(page)).opens.length >= 2, { timeout: 10_000 })
          const rec = await recording(page)
          return rec.opens[1]! - rec.errors[0]!.t
        })
      )
    const short = await reconnectDelay(250)
    const long = await reconnectDelay(1500)
    // the browser waits at least the hinted time (timer slack tolerated) ...
    expect(short).toBeGreaterThanOrEqual(250 * 0.9)
    expect(long).toBeGreaterThanOrEqual(1500 * 0.9)
    // ... and not its own default (3 s) nor the other hint: the short wait is clearly shorter
    expect(short).toBeLessThan(1500 * 0.9)
  })

  it.each(["headers", "middleware"] as const)("a page on another origin reads /events with withCredentials, given the CORS headers (%s); without them it cannot", async (corsVia) => {
    const other = await htmlServer("<!doctype html><title>another origin</title><body>other</body>")
    try {
      await withServer(
        TestServer.start(
          Demo.make({ tickEvery: "20 millis", retry: "100 millis", maxTicks: 60, corsOrigin: other.origin, corsVia })
        ),
        (server) =>
          withPage(browser, async (page) => {
            await browser.context.addCookies([{ name: "session", value: "s3cret", domain: "127.0.0.1", path: "/" }])
            await page.goto(other.origin + "/")
            await page.evaluate(openEventSource(server.url("/events"), true))
            await waitFor(async () => (await recording(page)).events.length >= 20, { timeout: 10_000 })
            expect(server.dropConnections("/events")).toBe(1)
            const published = server.value.published
            await waitFor(async () => published.length === 72 && (await recording(page)).events.length >= 72, {
              timeout: 10_000
            })
            const rec = await recording(page)
            expect(rec.withCredentials).toBe(true)
            expect(rec.events).toEqual(published)
            const gets = server.requests.filter((r) => r.method === "GET" && r.url === "/events")
            expect(gets.length).toBe(2)
            for (const get of gets) {
              expect(get.headers["origin"]).toBe(other.origin)
              expect(get.headers["cookie"]).toBe("session=s3cret")
            }
            expect(gets[1]!.headers["last-event-id"]).toBe(rec.errors[0]!.lastId)
          })
      )
      // the same page against a server that sends no CORS headers: an error, closed, nothing read
      await withServer(TestServer.start(Demo.make({ tickEvery: "20 millis" })), (server) =>
        withPage(browser, async (page) => {
          await page.goto(other.origin + "/")
          await page.evaluate(openEventSource(server.url("/events"), true))
          await waitFor(async () => (await recording(page)).errors.length >= 1, { timeout: 10_000 })
          const rec = await recording(page)
          expect(rec.state).toBe(2) // CLOSED: no reconnect after a CORS failure
          expect(rec.events).toEqual([])
          expect(rec.opens).toEqual([])
        })
      )
    } finally {
      await browser.context.clearCookies()
      await other.close()
    }
  })

  it("fetch + ReadableStream: a POSTed chat's first token arrives well before the answer ends", async () => {
    await withServer(TestServer.start(Demo.make({ tickEvery: "1 second", tokenEvery: "50 millis" })), (server) =>
      withPage(browser, async (page) => {
        await blankPage(page, server.origin)
        const result = await page.evaluate(`(async () => {
          const t0 = performance.now()
          const response = await fetch("/chat", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ prompt: "stream me an answer" })
          })
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
          let text = "", firstToken = -1, tokensAtFirst = 0, done = -1, reads = 0
          for (;;) {
            const { value, done: end } = await reader.read()
            if (end) break
            reads++
            text += value
            const tokens = (text.match(/^event: token$/gm) || []).length
            if (firstToken < 0 && tokens > 0) { firstToken = performance.now() - t0; tokensAtFirst = tokens }
            if (done < 0 && /^event: done$/m.test(text)) done = performance.now() - t0
          }
          return { status: response.status, type: response.headers.get("content-type"), text, firstToken, tokensAtFirst, done, reads }
        })()`) as {
          status: number
          type: string
          text: string
          firstToken: number
          tokensAtFirst: number
          done: number
          reads: number
        }
        expect(result.status).toBe(200)
        expect(result.type).toBe("text/event-stream; charset=utf-8")
        const tokens = [...result.text.matchAll(/^event: token\ndata: (.*)$/gm)].map((m) => m[1]!)
        expect(tokens.length).toBeGreaterThan(25)
        expect(tokens.join("")).toMatch(/^You said 4 words: "stream me an answer"\. .* complete\.$/)
        // the first read held the first token (or very few), not the answer; the rest came over many reads
        expect(result.tokensAtFirst).toBeLessThanOrEqual(3)
        expect(result.reads).toBeGreaterThan(tokens.length / 2)
        // tokens are 50 ms apart on the server: the end comes at least ~(n-1) × 50 ms after the first
        expect(result.done - result.firstToken).toBeGreaterThan((tokens.length - 1) * 50 * 0.8)
      })
    )
  })
})

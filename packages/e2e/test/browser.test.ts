/**
 * Headless Chromium against the demo server: the browser's own `EventSource` and `fetch` +
 * `ReadableStream`, no library in the page.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
const openEventSource = (url: string, withCredentials = false) =>
  `(() => {
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
  page.evaluate(
    "({ ...window.rec, withCredentials: window.es.withCredentials, state: window.es.readyState })"
  ) as Promise<
    Recording
  >

/** A same-origin blank page on the server's origin (fulfilled by the browser, the server never sees it). */
const blankPage = async (page: Page, origin: string) => {
  await page.route(
    origin + "/blank",
    (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>blank</title><body></body>" })
  )
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
  it(
    "the demo page: live ticker with chart and state, drop and resume with 0 gaps and 0 duplicates, chat cancel and readable errors, screenshot",
    async () => {
      await withServer(
        TestServer.start(Demo.make({ tickEvery: "100 millis", retry: "1500 millis" })),
        (server) =>
          withPage(browser, async (page) => {
            // every response that is not a success (a missing favicon would be a 404 here)
            const failed: Array<string> = []
            page.on("response", (response) => {
              if (response.status() >= 400) failed.push(`${response.status()} ${new URL(response.url()).pathname}`)
            })
            const pageErrors: Array<string> = []
            page.on("pageerror", (error) => pageErrors.push(String(error)))
            await page.goto(server.url("/"))
            // the page's own EventSource, its "tick" and "quote" listeners
            await page.waitForFunction(
              "document.getElementById('status').textContent === 'open' && Number(document.getElementById('ticks').textContent) >= 6 && Number(document.getElementById('quotes').textContent) >= 1",
              undefined,
              { timeout: 10_000 }
            )
            // the favicon is inline: the browser asks the server for nothing else
            expect(await page.getAttribute("link[rel=icon]", "href")).toMatch(/^data:image\/svg\+xml,/)
            const favicon = await page.evaluate(
              "fetch('/favicon.ico').then((r) => r.status + ' ' + r.headers.get('content-type'))"
            )
            expect(favicon).toBe("200 image/svg+xml")

            // a bad body: a short readable message from the server's 400, no Schema tree, no raw JSON
            await page.click("#sendBad")
            await page.waitForFunction(
              "document.getElementById('stateSse').textContent === 'error' && document.getElementById('stateNdjson').textContent === 'error'",
              undefined,
              { timeout: 10_000 }
            )
            expect(await page.textContent("#answerSse")).toBe(
              `400 Bad Request: invalid request body: expected {"prompt": "..."}, a string of at most 2000 characters`
            )
            expect(await page.textContent("#answerNdjson")).toBe(
              "400 Bad Request: invalid request body: the body is not valid JSON"
            )

            // chat: record every change of the answers while they stream
            await page.evaluate(`(() => {
          window.snaps = { sse: [], ndjson: [] }
          const watch = (id, into) => new MutationObserver(() => window.snaps[into].push(document.getElementById(id).textContent))
            .observe(document.getElementById(id), { childList: true, characterData: true, subtree: true })
          watch("answerSse", "sse")
          watch("answerNdjson", "ndjson")
        })()`)
            const answerTo = (prompt: string) => {
              const words = prompt.split(" ")
              return `You said ${words.length} words: "${prompt}". Each token of this answer is written to the socket as soon as it is produced, so the page shows it before the answer is complete.`
            }
            const bothDone =
              "document.getElementById('stateSse').textContent === 'done ✓' && document.getElementById('stateNdjson').textContent === 'done ✓'"
            await page.click("#sendSse")
            await page.click("#sendNdjson")
            await page.waitForFunction(bothDone, undefined, { timeout: 15_000 })
            const snaps = await page.evaluate("window.snaps") as { sse: Array<string>; ndjson: Array<string> }
            const final = answerTo("What does streaming over HTTP look like?")
            for (const seen of [snaps.sse, snaps.ndjson]) {
              expect(seen.at(-1)).toBe(final)
              // shown token by token: many intermediate states, each a prefix of the next
              const partial = seen.filter((text) => text !== "")
              expect(partial.length).toBeGreaterThan(10)
              for (let i = 1; i < partial.length; i++) expect(partial[i]!.startsWith(partial[i - 1]!)).toBe(true)
            }

            // two sends in a row: the first answer is cancelled, only the second one is in each panel
            const first = "tell me a long story about rivers"
            const second = "no, a short one"
            await page.fill("#prompt", first)
            await page.click("#sendBoth")
            await page.waitForFunction(
              "document.getElementById('answerSse').textContent.length > 20 && document.getElementById('answerNdjson').textContent.length > 20",
              undefined,
              { timeout: 10_000 }
            )
            await page.fill("#prompt", second)
            // from the second click on, every state of each panel is a prefix of the second answer
            await page.evaluate("window.snaps = { sse: [], ndjson: [] }; document.getElementById('sendBoth').click()")
            await page.waitForFunction(bothDone, undefined, { timeout: 15_000 })
            await sleep(300) // the first answer, had it not been cancelled, would still be streaming
            const afterCancel = await page.evaluate("window.snaps") as { sse: Array<string>; ndjson: Array<string> }
            for (const seen of [afterCancel.sse, afterCancel.ndjson]) {
              expect(seen.length).toBeGreaterThan(10)
              for (const text of seen) expect(answerTo(second).startsWith(text)).toBe(true)
              expect(seen.at(-1)).toBe(answerTo(second))
            }
            expect(await page.textContent("#answerSse")).toBe(answerTo(second))
            expect(await page.textContent("#answerNdjson")).toBe(answerTo(second))
            expect(await page.textContent("#noteSse")).toBe("the previous answer was cancelled")
            expect(await page.textContent("#noteNdjson")).toBe("the previous answer was cancelled")

            // "Drop the connection": the server cuts /events, EventSource reconnects by itself with
            // Last-Event-ID; the page counts gaps and duplicates from the events' sequence numbers
            await page.evaluate(`(() => {
          window.states = []
          new MutationObserver(() => window.states.push(document.getElementById("status").textContent))
            .observe(document.getElementById("status"), { childList: true, characterData: true, subtree: true })
        })()`)
            const counter = async (id: string) => Number(await page.textContent(`#${id}`))
            for (let drop = 1; drop <= 2; drop++) {
              const before = await counter("received")
              await page.click("#drop")
              await page.waitForFunction(
                `document.getElementById('reconnects').textContent === '${drop}' && document.getElementById('status').textContent === 'open' && Number(document.getElementById('received').textContent) >= ${
                  before + 15
                }`,
                undefined,
                { timeout: 15_000 }
              )
            }
            expect(await page.evaluate("window.states")).toEqual(["reconnecting", "open", "reconnecting", "open"])
            const reconnects = server.requests.filter((r) => r.method === "GET" && r.url === "/events")
            expect(reconnects.length).toBe(3)
            expect(reconnects[1]!.headers["last-event-id"]).toMatch(/.+-\d+$/)
            expect(reconnects[2]!.headers["last-event-id"]).toMatch(/.+-\d+$/)

            // "Reopen": a new EventSource resuming with ?lastEventId=
            const beforeReopen = await counter("received")
            await page.click("#reopen")
            await page.waitForFunction(
              `Number(document.getElementById('received').textContent) >= ${beforeReopen + 10}`,
              undefined,
              {
                timeout: 10_000
              }
            )
            expect(server.requests.filter((r) => r.url.startsWith("/events?lastEventId=")).length).toBe(1)

            // nothing lost, nothing repeated: the page's own counters, and what it received equals what was published
            // (read in one go: events keep arriving)
            const shown = await page.evaluate(
              "Object.fromEntries(['received', 'gaps', 'dups', 'ticks', 'quotes', 'resets'].map((id) => [id, Number(document.getElementById(id).textContent)]))"
            ) as { received: number; gaps: number; dups: number; ticks: number; quotes: number; resets: number }
            expect(shown.gaps).toBe(0)
            expect(shown.dups).toBe(0)
            expect(shown.resets).toBe(0)
            expect(shown.received).toBeGreaterThan(40)
            expect(shown.received).toBeLessThanOrEqual(server.value.published.length)
            expect(shown.ticks + shown.quotes).toBe(shown.received)

            const text = await page.innerText("#log")
            expect(text).not.toContain("DUPLICATE")
            expect(text).not.toContain("GAP")
            expect(text).toMatch(/tick #\d+ at \d\d:\d\d:\d\d\.\d{3}/)
            expect(text).toMatch(/quote ACME \d+\.\d\d/)
            expect(text).toContain("the server cut 1 connection to /events")
            expect(text).toContain("connection lost; EventSource reconnects with Last-Event-ID")
            expect(text).toContain("connected to /events?lastEventId=")
            // the chart: bars of events per second, and a mark where the connection was lost and where it opened again
            expect(await page.locator("#chart rect.bar").count()).toBeGreaterThan(3)
            expect(await page.locator("#chart line.mark-drop").count()).toBe(2)
            expect(await page.locator("#chart line.mark-open").count()).toBe(3)

            // only the two bad bodies failed; no 404 (favicon), no script error
            expect(failed.sort()).toEqual(["400 /chat", "400 /chat.ndjson"])
            expect(pageErrors).toEqual([])

            await page.waitForTimeout(1100) // one more second in the chart
            const file = Path.join(Browser.artifactsDir(), "demo-page.png")
            Fs.rmSync(file, { force: true })
            await page.screenshot({ path: file, fullPage: true })
            expect(Fs.statSync(file).size).toBeGreaterThan(10_000)
            // the same page in a dark colour scheme, and on a phone-sized screen
            await page.emulateMedia({ colorScheme: "dark" })
            const dark = Path.join(Browser.artifactsDir(), "demo-page-dark.png")
            await page.screenshot({ path: dark, fullPage: true })
            await page.emulateMedia({ colorScheme: "light" })
            await page.setViewportSize({ width: 390, height: 844 })
            const narrow = Path.join(Browser.artifactsDir(), "demo-page-narrow.png")
            await page.screenshot({ path: narrow, fullPage: true })
            expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true)
          })
      )
    },
    90_000
  ) // many steps, each bounded; a loaded machine makes the sum long

  it("EventSource: every event exactly once, in order, across server-side drops; reconnects send Last-Event-ID", async () => {
    await withServer(
      TestServer.start(Demo.make({ tickEvery: "15 millis", retry: "150 millis", maxTicks: 200 })),
      (server) =>
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
      withServer(
        TestServer.start(Demo.make({ tickEvery: "50 millis", retry: `${retry} millis` })),
        (server) =>
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

  it.each(["headers", "middleware"] as const)(
    "a page on another origin reads /events with withCredentials, given the CORS headers (%s); without them it cannot",
    async (corsVia) => {
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
              // (all 72 may have arrived before the drop: wait for the reconnect too)
              await waitFor(async () => {
                const rec = await recording(page)
                return published.length === 72 && rec.events.length >= 72 && rec.opens.length >= 2
              }, { timeout: 10_000 })
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
        await withServer(
          TestServer.start(Demo.make({ tickEvery: "20 millis" })),
          (server) =>
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
    }
  )

  it("fetch + ReadableStream: a POSTed chat's first token arrives well before the answer ends", async () => {
    await withServer(
      TestServer.start(Demo.make({ tickEvery: "1 second", tokenEvery: "50 millis" })),
      (server) =>
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

/**
 * What real clients see of the hardened server: a stream failure under its own event type in
 * Chromium (a named listener gets it, `onerror` does not), and non-ASCII `Last-Event-ID`s from
 * Chromium's `EventSource` and from the `eventsource` package resuming on `SseResponse.resume`.
 */
import { HttpRouter, HttpServerRequest } from "@effect/platform"
import { Sse } from "@streamwire/codec"
import { SseResponse } from "@streamwire/server"
import { Effect, Option, Stream } from "effect"
import { EventSource } from "eventsource"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Browser from "../src/Browser.js"
import * as TestServer from "../src/TestServer.js"
import { waitFor } from "../src/util.js"

/** Ids beyond ASCII: Cyrillic, CJK, latin1-range, a non-BMP emoji, mixed. */
const ids = ["ид", "日本語", "é", "😀", "a😀b-ü-\u{10FFFF}"]

/**
 * `/echo?emit=<id>`: a first connection gets one event with that id and the end of the response
 * (EventSource reconnects, sending it back); a resumed one gets `got:<the id the server read>`.
 * `/failing`: one event, then the stream fails (default `onError`).
 */
const app = Effect.succeed(
  [
    HttpRouter.empty.pipe(
      HttpRouter.get(
        "/echo",
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const emit = new URL(request.url, "http://x").searchParams.get("emit") ?? ""
          return SseResponse.resume((after) =>
            Option.match(after, {
              onNone: () => Stream.make(Sse.unsafeEvent({ data: "first", id: emit })),
              onSome: (id) => Stream.make(Sse.unsafeEvent({ data: `got:${id}` }))
            }), { heartbeat: false, retry: "50 millis" })
        })
      ),
      HttpRouter.get(
        "/failing",
        SseResponse.make(Stream.concat(Stream.make(Sse.unsafeEvent({ data: "ok" })), Stream.fail("boom")), {
          heartbeat: false,
          retry: "60 seconds"
        })
      )
    ),
    undefined
  ] as const
)

let browser: Browser.Browser
let server: TestServer.TestServer<undefined>

beforeAll(async () => {
  server = await TestServer.start(app)
  browser = await Browser.launch()
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

const withPage = async <A>(f: (page: Page) => Promise<A>): Promise<A> => {
  const page = await browser.context.newPage()
  try {
    await page.route(
      server.origin + "/blank",
      (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>blank</title><body></body>" })
    )
    await page.goto(server.origin + "/blank")
    return await f(page)
  } finally {
    await page.close()
  }
}

describe("Chromium's EventSource", () => {
  it(
    "a stream failure arrives as a `stream-error` event at its named listener; onerror only sees the connection end",
    async () => {
      await withPage(async (page) => {
        await page.evaluate(`(() => {
        const rec = window.rec = { messages: [], streamErrors: [], errors: [] }
        const es = window.es = new EventSource("/failing")
        es.onmessage = (e) => rec.messages.push(e.data)
        es.addEventListener("stream-error", (e) => rec.streamErrors.push({ data: e.data, isMessage: e instanceof MessageEvent }))
        es.onerror = (e) => rec.errors.push({ isMessage: e instanceof MessageEvent, data: e.data ?? null, state: es.readyState })
      })()`)
        await waitFor(async () => ((await page.evaluate("window.rec.errors.length")) as number) >= 1, {
          timeout: 10_000
        })
        const rec = await page.evaluate("(() => { window.es.close(); return window.rec })()") as {
          messages: Array<string>
          streamErrors: Array<{ data: string; isMessage: boolean }>
          errors: Array<{ isMessage: boolean; data: unknown; state: number }>
        }
        expect(rec.messages).toEqual(["ok"])
        expect(rec.streamErrors).toEqual([{ data: "the stream failed", isMessage: true }])
        // onerror fires for the end of the connection only (a plain Event, EventSource reconnecting),
        // never with the server's message
        expect(rec.errors.length).toBeGreaterThanOrEqual(1)
        for (const e of rec.errors) expect(e).toEqual({ isMessage: false, data: null, state: 0 })
      })
    },
    30_000
  )

  it.each(ids)("a non-ASCII id (%s) is sent back as Last-Event-ID and read back as it was", async (id) => {
    await withPage(async (page) => {
      await page.evaluate(`(() => {
        const rec = window.rec = []
        const es = window.es = new EventSource(${JSON.stringify("/echo?emit=" + encodeURIComponent(id))})
        es.onmessage = (e) => rec.push({ data: e.data, id: e.lastEventId })
      })()`)
      await waitFor(async () => ((await page.evaluate("window.rec.length")) as number) >= 2, { timeout: 10_000 })
      const rec = await page.evaluate("(() => { window.es.close(); return window.rec.slice(0, 2) })()")
      expect(rec).toEqual([{ data: "first", id }, { data: `got:${id}`, id }])
    })
  }, 30_000)
})

describe("the eventsource package", () => {
  const resumeWith = async (id: string, fetch?: typeof globalThis.fetch) => {
    const es = new EventSource(server.url("/echo?emit=" + encodeURIComponent(id)), fetch ? { fetch } : {})
    const received: Array<{ data: string; id: string }> = []
    const errors: Array<string> = []
    es.onmessage = (e) => received.push({ data: e.data, id: e.lastEventId })
    es.onerror = (e) => errors.push(String((e as { message?: string }).message ?? e.type))
    try {
      await waitFor(() => received.length >= 2 || errors.length >= 3, { timeout: 10_000 })
    } finally {
      es.close()
    }
    // (the package starts each connection with an empty last event id, so only the data is compared)
    return { received: received.slice(0, 2).map((e) => e.data), errors }
  }

  it.each(ids.filter((id) => /^[\u0000-\u00ff]*$/.test(id)))(
    "an id within latin1 (%s), sent by the package as latin1 bytes, resumes",
    async (id) => {
      const { received } = await resumeWith(id)
      expect(received).toEqual(["first", `got:${id}`])
    }
  )

  it.each(ids)(
    "any id (%s) resumes when the package's fetch sends the id's UTF-8 bytes, as EventSource does",
    async (id) => {
      // the package hands the raw id to fetch's Headers, which refuse characters above U+00FF; the
      // `fetch` option is where a page's EventSource behaviour (UTF-8 bytes) is restored
      const utf8Fetch: typeof globalThis.fetch = (input, init) => {
        const headers = new Headers()
        for (const [k, v] of Object.entries((init?.headers ?? {}) as Record<string, string>)) {
          headers.set(k, k.toLowerCase() === "last-event-id" ? Buffer.from(v, "utf8").toString("latin1") : v)
        }
        return globalThis.fetch(input, { ...init, headers })
      }
      const { received } = await resumeWith(id, utf8Fetch)
      expect(received).toEqual(["first", `got:${id}`])
    }
  )
})

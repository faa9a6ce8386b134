/**
 * The `eventsource` npm package (the WHATWG EventSource for Node, on the global `fetch`) against
 * our server.
 */
import { EventSource } from "eventsource"
import { afterEach, describe, expect, it } from "vitest"
import * as LogServer from "../src/LogServer.js"
import * as TestServer from "../src/TestServer.js"
import { sleep, waitFor } from "../src/util.js"

interface Received {
  readonly type: string
  readonly id: string
  readonly data: string
}

const follow = (url: string, types: ReadonlyArray<string>) => {
  const es = new EventSource(url)
  const rec = { events: [] as Array<Received>, messages: [] as Array<Received>, opens: 0, errors: [] as Array<string> }
  const push = (into: Array<Received>) => (e: MessageEvent) =>
    into.push({ type: e.type, id: e.lastEventId, data: e.data })
  for (const type of types) es.addEventListener(type, push(rec.events))
  es.onmessage = push(rec.messages)
  es.onopen = () => rec.opens++
  es.onerror = () => rec.errors.push(rec.events.at(-1)?.id ?? "")
  return { es, rec }
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})
const serve = async (options: LogServer.Options) => {
  const server = await TestServer.start(LogServer.make(options))
  cleanups.push(() => server.close())
  return server
}

describe("the eventsource package against SseResponse.fromEventLog", () => {
  it("event types: typed events reach addEventListener, untyped ones onmessage; ids and multi-line data intact", async () => {
    const server = await serve({ retry: "100 millis" })
    const { es, rec } = follow(server.url("/events"), ["tick", "quote", "message"])
    cleanups.push(() => es.close())
    await waitFor(() => rec.opens === 1)
    const sent = await LogServer.append(server.value, [
      { data: "plain" },
      { type: "tick", data: "1" },
      { type: "quote", data: JSON.stringify({ symbol: "ACME", price: 1.5 }) },
      { type: "tick", data: "two\nlines\n\nand a blank one" },
      { data: "ünïcödé ✓ 🚀" },
      { type: "quote", data: "" }
    ])
    await waitFor(() => rec.events.length >= sent.length)
    expect(rec.events).toEqual(sent)
    // onmessage sees the untyped events only (they are "message" events)
    expect(rec.messages).toEqual(sent.filter((e) => e.type === "message"))
    expect(sent.filter((e) => e.type === "message").length).toBe(2)
    expect(rec.errors).toEqual([])
  })

  it("resume: after the server drops the connection, it reconnects with Last-Event-ID and gets every event exactly once, in order", async () => {
    const server = await serve({ retry: "50 millis" })
    const { es, rec } = follow(server.url("/events"), ["tick", "quote"])
    cleanups.push(() => es.close())
    await waitFor(() => rec.opens === 1)
    const sent: Array<Received> = []
    for (let round = 0; round < 5; round++) {
      sent.push(
        ...await LogServer.append(
          server.value,
          Array.from({ length: 50 }, (_, i) => ({
            type: i % 5 === 4 ? "quote" : "tick",
            data: `${round}-${i}`
          }))
        )
      )
      await waitFor(() => rec.events.length >= sent.length - 20) // some still in flight at the drop
      expect(server.dropConnections("/events")).toBe(1)
      // appended while it is away: replayed on resume
      sent.push(...await LogServer.append(server.value, [{ type: "tick", data: `${round}-gap` }]))
      await waitFor(() => rec.opens === round + 2)
    }
    await waitFor(() => rec.events.length >= sent.length)
    await sleep(50)
    expect(rec.events).toEqual(sent)
    expect(rec.errors.length).toBe(5)
    const gets = server.requests.filter((r) => r.url === "/events")
    expect(gets.length).toBe(6)
    expect(gets[0]!.headers["last-event-id"]).toBeUndefined()
    // each reconnect sent the id of the last event it had received
    expect(gets.slice(1).map((r) => r.headers["last-event-id"])).toEqual(rec.errors)
    expect(es.readyState).toBe(EventSource.OPEN)
  })

  it("a first connection resuming with ?lastEventId= (no header) gets what followed; an unknown id gets event: reset first", async () => {
    const server = await serve({ retry: "50 millis" })
    const sent = await LogServer.append(
      server.value,
      Array.from({ length: 10 }, (_, i) => ({ type: "tick", data: String(i) }))
    )
    const resumed = follow(server.url(`/events?lastEventId=${encodeURIComponent(sent[6]!.id)}`), ["tick"])
    cleanups.push(() => resumed.es.close())
    await waitFor(() => resumed.rec.events.length >= 3)
    await sleep(50)
    expect(resumed.rec.events).toEqual(sent.slice(7))

    const unknown = follow(server.url("/events?lastEventId=not-an-id"), ["tick", "reset"])
    cleanups.push(() => unknown.es.close())
    await waitFor(() => unknown.rec.events.length >= 11)
    expect(unknown.rec.events[0]!.type).toBe("reset")
    expect(JSON.parse(unknown.rec.events[0]!.data)).toEqual({
      lastEventId: "not-an-id",
      reason: "unknown",
      oldest: sent[0]!.id
    })
    expect(unknown.rec.events.slice(1)).toEqual(sent)
  })
})

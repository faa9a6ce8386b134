/**
 * Our SseClient against an SSE endpoint written with another library (better-sse on node:http):
 * its framing (`field:value` without a space, `retry:` in a block of its own), ids, event types and
 * `retry:` come through; the client resumes with `Last-Event-ID`.
 *
 * better-sse 0.16.1 writes a string with a newline as ONE `data:` field with a raw newline in it
 * (`data:n=3\nline two\n`), so the second line is, by the spec, a field named "line two" with no
 * value, which a conforming parser ignores: the event's data is `n=3`. The test pins that down.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { Reconnect, SseClient } from "@streamwire/client"
import { createSession } from "better-sse"
import { Chunk, Duration, Effect, type Layer, Stream } from "effect"
import { EventSource } from "eventsource"
import type * as Http from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import { plainServer, waitFor } from "../src/util.js"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

const types = ["tick", "quote", "message"] as const

/** Five events per connection, counting on from the client's Last-Event-ID, then the end of the body. */
const betterSseServer = async () => {
  const seen: Array<{ lastEventId: string | undefined; at: number }> = []
  const server = await plainServer(async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    seen.push({ lastEventId: req.headers["last-event-id"] as string | undefined, at: Date.now() })
    const session = await createSession(req, res, { retry: 250, keepAlive: null, serializer: (data) => String(data) })
    const start = Number(session.lastId || "0")
    for (let n = start + 1; n <= start + 5; n++) {
      const type = types[(n - 1) % 3]!
      session.push(type === "message" ? `n=${n}\nline two` : JSON.stringify({ n, type }), type, String(n))
    }
    setTimeout(() => res.end(), 20)
  })
  cleanups.push(() => server.close())
  return { url: server.origin + "/sse", seen }
}

describe("SseClient against a better-sse server", () => {
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
    ["FetchHttpClient", FetchHttpClient.layer]
  ]
  it.each(clients)(
    "%s: events, ids, types, a raw newline in data and the retry: hint come through; resumes with Last-Event-ID",
    async (_, layer) => {
      const { url, seen } = await betterSseServer()
      const elements = await Effect.runPromise(
        SseClient.connect(url, { reconnect: Reconnect.reconnectionTime }).pipe(
          Stream.takeUntil((e) => e._tag === "SseEvent" && e.lastEventId === "20"),
          Stream.runCollect,
          Effect.map(Chunk.toReadonlyArray),
          Effect.timeout("15 seconds"),
          Effect.provide(layer)
        )
      )
      const events = elements.filter(SseClient.isEvent)
      expect(events).toEqual(Array.from({ length: 20 }, (_, i) => ({
        _tag: "SseEvent",
        type: types[i % 3],
        data: types[i % 3] === "message" ? `n=${i + 1}` : JSON.stringify({ n: i + 1, type: types[i % 3] }),
        lastEventId: String(i + 1)
      })))
      // the server's retry: 250 is the reconnection time
      const retrying = elements.filter((e): e is SseClient.Retrying => e._tag === "Retrying")
      expect(retrying.length).toBe(3)
      expect(retrying.map((r) => Duration.toMillis(r.delay))).toEqual([250, 250, 250])
      expect(retrying.every((r) => r.cause._tag === "StreamEnded")).toBe(true)
      const connecting = elements.filter((e): e is SseClient.Connecting => e._tag === "Connecting")
      expect(connecting.map((c) => c.lastEventId)).toEqual(["", "5", "10", "15"])
      // what the server saw
      expect(seen.map((s) => s.lastEventId)).toEqual([undefined, "5", "10", "15"])
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(225)
    }
  )

  it("the eventsource package reads the same endpoint the same way (the raw newline included)", async () => {
    const { url, seen } = await betterSseServer()
    const es = new EventSource(url)
    cleanups.push(() => es.close())
    const received: Array<{ type: string; data: string; lastEventId: string }> = []
    for (const type of types) {
      es.addEventListener(
        type,
        (e: MessageEvent) => received.push({ type: e.type, data: e.data, lastEventId: e.lastEventId })
      )
    }
    await waitFor(() => received.length >= 10, { timeout: 10_000 })
    es.close()
    expect(received).toEqual(Array.from({ length: 10 }, (_, i) => ({
      type: types[i % 3],
      data: types[i % 3] === "message" ? `n=${i + 1}` : JSON.stringify({ n: i + 1, type: types[i % 3] }),
      lastEventId: String(i + 1)
    })))
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, "5"])
  })
})

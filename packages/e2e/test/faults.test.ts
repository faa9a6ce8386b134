/**
 * Real faults: our server (a MemoryEventLog behind SseResponse.fromEventLog), a client, and
 * between them a TCP proxy that splits every chunk at random byte boundaries, delays pieces and
 * cuts each connection after a random number of bytes (in the headers, mid-field, between events;
 * FIN or RST). 10,000 events, published while the client reads, must arrive exactly once, in order.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { SseClient } from "@streamwire/client"
import { Effect, Fiber, Layer, Stream } from "effect"
import { EventSource } from "eventsource"
import { afterEach, describe, expect, it } from "vitest"
import * as FaultProxy from "../src/FaultProxy.js"
import * as LogServer from "../src/LogServer.js"
import * as TestServer from "../src/TestServer.js"
import { sleep, waitFor } from "../src/util.js"

const TOTAL = 10_000

interface Received {
  readonly type: string
  readonly id: string
  readonly data: string
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

/** Server + proxy; `publish` appends the 10,000 events in small batches, as a live feed would. */
const setup = async (seed: number) => {
  const server = await TestServer.start(LogServer.make({ retry: "5 millis", maxEvents: 20_000 }))
  cleanups.push(() => server.close())
  const proxy = await FaultProxy.start({
    target: { host: "127.0.0.1", port: server.port },
    seed,
    cutAfter: { min: 2_000, max: 40_000 },
    earlyCutChance: 0.1,
    maxPiece: 700
  })
  cleanups.push(() => proxy.close())
  const sent: Array<Received> = []
  const publish = async () => {
    for (let i = 0; i < TOTAL; i += 100) {
      sent.push(
        ...await LogServer.append(
          server.value,
          Array.from({ length: 100 }, (_, k) => {
            const n = i + k
            // sizes vary; one in ten is multi-line; one in seven is typed
            const data = `${n}:${"x".repeat(n % 61)}${n % 10 === 3 ? "\nsecond line" : ""}`
            return n % 7 === 0 ? { type: "update", data } : { data }
          })
        )
      )
      await sleep(3)
    }
  }
  return { server, proxy, sent, publish }
}

const expectExactlyOnce = (received: ReadonlyArray<Received>, sent: ReadonlyArray<Received>) => {
  expect(received.length).toBe(TOTAL)
  // compare compactly first (a readable failure), then in full
  const firstBad = received.findIndex((e, i) => e.id !== sent[i]?.id)
  expect(firstBad).toBe(-1)
  expect(received).toEqual(sent)
}

const subscribers = (server: TestServer.TestServer<LogServer.Log>) => Effect.runPromise(server.value.subscriberCount)

describe("through a connection-cutting proxy", () => {
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
    ["NodeHttpClient.layer", NodeHttpClient.layer],
    ["FetchHttpClient", FetchHttpClient.layer]
  ]
  it.each(clients)("SseClient (%s): 10,000 events exactly once, in order, over dozens of cuts", async (_, layer) => {
    const { server, proxy, sent, publish } = await setup(20_241)
    const received: Array<Received> = []
    let opens = 0
    let retries = 0
    const fiber = Effect.runFork(
      SseClient.connect(proxy.url("/events")).pipe(
        Stream.runForEach((element) =>
          Effect.sync(() => {
            if (element._tag === "SseEvent") {
              received.push({ type: element.type, id: element.lastEventId, data: element.data })
            } else if (element._tag === "Open") {
              opens++
            } else if (element._tag === "Retrying") {
              retries++
            }
          })
        ),
        Effect.provide(layer)
      )
    )
    cleanups.push(() => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined))
    await publish()
    await waitFor(() => received.length >= TOTAL || fiber.unsafePoll() !== null, {
      timeout: 20_000,
      message: () => `received ${received.length}, cuts ${proxy.stats.cuts}`
    })
    expect(fiber.unsafePoll()).toBe(null) // still following: it never gave up
    await sleep(50)
    expectExactlyOnce(received, sent)
    expect(proxy.stats.cuts).toBeGreaterThanOrEqual(24)
    expect(proxy.stats.earlyCuts).toBeGreaterThan(0)
    expect(retries).toBeGreaterThanOrEqual(proxy.stats.cuts)
    expect(opens).toBeGreaterThan(proxy.stats.cuts - proxy.stats.earlyCuts)
    // every reconnect after the first event resumed with Last-Event-ID
    const gets = server.requests.filter((r) => r.url === "/events")
    expect(gets.slice(1).every((r) => typeof r.headers["last-event-id"] === "string")).toBe(true)
    // closing the stream closes the connection: no subscription left on the server
    await Effect.runPromise(Fiber.interrupt(fiber))
    await waitFor(async () => (await subscribers(server)) === 0, { timeout: 5_000 })
  })

  it("the eventsource package: 10,000 events exactly once, in order, over dozens of cuts", async () => {
    const { server, proxy, sent, publish } = await setup(7_919)
    const received: Array<Received> = []
    let opens = 0
    let errors = 0
    const es = new EventSource(proxy.url("/events"))
    cleanups.push(() => es.close())
    const push = (e: MessageEvent) => received.push({ type: e.type, id: e.lastEventId, data: e.data })
    es.addEventListener("message", push)
    es.addEventListener("update", push)
    es.onopen = () => opens++
    es.onerror = () => errors++
    await publish()
    await waitFor(() => received.length >= TOTAL || es.readyState === EventSource.CLOSED, {
      timeout: 20_000,
      message: () => `received ${received.length}, cuts ${proxy.stats.cuts}`
    })
    expect(es.readyState).not.toBe(EventSource.CLOSED)
    await sleep(50)
    expectExactlyOnce(received, sent)
    expect(proxy.stats.cuts).toBeGreaterThanOrEqual(24)
    expect(proxy.stats.earlyCuts).toBeGreaterThan(0)
    expect(errors).toBe(proxy.stats.cuts)
    expect(opens).toBeGreaterThan(proxy.stats.cuts - proxy.stats.earlyCuts)
    es.close()
    await waitFor(async () => (await subscribers(server)) === 0, { timeout: 5_000 })
  })
})

import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { NdjsonClient, SseClient } from "@streamwire/client"
import { Chunk, Effect, Stream } from "effect"
import { clients, nodeServer, sseHead } from "./utils.js"

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  stream.pipe(Stream.runCollect, Effect.map(Chunk.toArray), Effect.timeout("8 seconds"))

const credentials = {
  authorization: "Bearer secret-token",
  cookie: "session=secret",
  "proxy-authorization": "Basic c2VjcmV0",
  "x-app": "kept"
}

/** A server that answers every request with one SSE event, and records what it saw. */
const target = () =>
  nodeServer((_req, res) => {
    sseHead(res)
    res.end("data: arrived\n\n")
  })

/** A server that redirects every request to `location(n)` with `status`. */
const redirector = (status: number, location: (n: number) => string) =>
  nodeServer((_req, res, n) => {
    res.writeHead(status, { location: location(n) }).end()
  })

describe.each(clients)("redirects with %s", (_, layer) => {
  const test = (name: string, self: () => Effect.Effect<void, unknown, any>) =>
    it.live(name, () => Effect.scoped(self()).pipe(Effect.provide(layer)) as Effect.Effect<void, unknown>, 15_000)

  for (const status of [301, 302, 303, 307, 308]) {
    test(`a ${status} to another origin drops Authorization, Cookie and Proxy-Authorization, keeps other headers`, () =>
      Effect.gen(function*() {
        const other = yield* target()
        const from = yield* redirector(status, () => `${other.url}/events`)
        const request = HttpClientRequest.get(`${from.url}/start`).pipe(HttpClientRequest.setHeaders(credentials))
        const out = yield* collect(SseClient.events(request, { reconnect: false }))
        expect(out.map((e) => e.data)).toEqual(["arrived"])
        expect(from.requests[0]!.headers["authorization"]).toBe(credentials.authorization)
        const seen = other.requests[0]!.headers
        expect(other.requests[0]!.path).toBe("/events")
        expect(seen["authorization"]).toBeUndefined()
        expect(seen["cookie"]).toBeUndefined()
        expect(seen["proxy-authorization"]).toBeUndefined()
        expect(seen["x-app"]).toBe("kept")
        expect(seen["accept"]).toBe("text/event-stream")
      }))
  }

  test("a redirect on the same origin keeps the credentials", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((req, res) => {
        if (req.url === "/start") return res.writeHead(302, { location: "/events?x=1" }).end()
        sseHead(res)
        res.end("data: arrived\n\n")
      })
      const request = HttpClientRequest.get(`${server.url}/start`).pipe(HttpClientRequest.setHeaders(credentials))
      const out = yield* collect(SseClient.events(request, { reconnect: false }))
      expect(out.map((e) => e.data)).toEqual(["arrived"])
      expect(server.requests.map((r) => r.path)).toEqual(["/start", "/events?x=1"])
      const seen = server.requests[1]!.headers
      expect(seen["authorization"]).toBe(credentials.authorization)
      expect(seen["cookie"]).toBe(credentials.cookie)
      expect(seen["proxy-authorization"]).toBe(credentials["proxy-authorization"])
    }))

  test("a redirect back from another origin does not restore dropped credentials", () =>
    Effect.gen(function*() {
      let home = ""
      const other = yield* redirector(307, () => `${home}/events`)
      const server = yield* nodeServer((req, res) => {
        if (req.url === "/start") return res.writeHead(307, { location: `${other.url}/bounce` }).end()
        sseHead(res)
        res.end("data: arrived\n\n")
      })
      home = server.url
      const request = HttpClientRequest.get(`${server.url}/start`).pipe(HttpClientRequest.setHeaders(credentials))
      yield* collect(SseClient.events(request, { reconnect: false }))
      expect(server.requests.map((r) => r.path)).toEqual(["/start", "/events"])
      expect(server.requests[1]!.headers["authorization"]).toBeUndefined()
      expect(other.requests[0]!.headers["authorization"]).toBeUndefined()
    }))

  test("more redirects than maxRedirects fail with TooManyRedirects, no reconnect", () =>
    Effect.gen(function*() {
      const loop = yield* redirector(302, (n) => `/hop/${n + 1}`)
      const error = yield* Effect.flip(collect(SseClient.events(`${loop.url}/hop/0`, { maxRedirects: 3 })))
      expect(error._tag).toBe("TooManyRedirects")
      if (error._tag !== "TooManyRedirects") return
      expect(error.limit).toBe(3)
      expect(error.location).toBe(`${loop.url}/hop/4`)
      expect(error.message).toContain("more than 3 redirects")
      expect(loop.requests).toHaveLength(4)
    }))

  test("maxRedirects: 0 answers the 3xx itself (UnexpectedResponse)", () =>
    Effect.gen(function*() {
      const other = yield* target()
      const from = yield* redirector(302, () => other.url)
      const error = yield* Effect.flip(collect(SseClient.events(from.url, { maxRedirects: 0 })))
      expect(error).toMatchObject({ _tag: "UnexpectedResponse", status: 302 })
      expect(other.requests).toHaveLength(0)
    }))

  for (
    const [status, method, body] of [
      [301, "GET", ""],
      [302, "GET", ""],
      [303, "GET", ""],
      [307, "POST", "{\"prompt\":\"hi\"}"],
      [308, "POST", "{\"prompt\":\"hi\"}"]
    ] as const
  ) {
    test(`a POST redirected with ${status} arrives as ${method}${body === "" ? " without body" : " with its body"}`, () =>
      Effect.gen(function*() {
        const other = yield* target()
        const from = yield* redirector(status, () => `${other.url}/events`)
        const request = HttpClientRequest.post(`${from.url}/chat`).pipe(
          HttpClientRequest.bodyUnsafeJson({ prompt: "hi" })
        )
        const out = yield* collect(SseClient.events(request, { reconnect: false }))
        expect(out.map((e) => e.data)).toEqual(["arrived"])
        expect(from.requests[0]!.method).toBe("POST")
        const seen = other.requests[0]!
        expect(seen.method).toBe(method)
        expect(seen.body).toBe(body)
        expect(seen.headers["content-type"]).toBe(body === "" ? undefined : "application/json")
      }))
  }

  test("NdjsonClient drops credentials across origins too", () =>
    Effect.gen(function*() {
      const other = yield* nodeServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/x-ndjson" }).end("{\"a\":1}\n")
      })
      const from = yield* redirector(302, () => other.url)
      const request = HttpClientRequest.get(from.url).pipe(HttpClientRequest.setHeaders(credentials))
      const out = yield* collect(NdjsonClient.values(request))
      expect(out).toEqual([{ a: 1 }])
      expect(other.requests[0]!.headers["authorization"]).toBeUndefined()
      expect(other.requests[0]!.headers["cookie"]).toBeUndefined()
    }))
})

import { HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { NdjsonClient } from "@streamwire/client"
import type { CodecError } from "@streamwire/codec"
import { Chunk, Deferred, Effect, Schema, Stream } from "effect"
import { clients, nodeServer } from "./utils.js"

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  stream.pipe(Stream.runCollect, Effect.map(Chunk.toArray), Effect.timeout("8 seconds"))

const Row = Schema.Struct({ id: Schema.Number, name: Schema.String })

const ndjsonHead = { "content-type": "application/x-ndjson" }

describe.each(clients)("NdjsonClient with %s", (_, layer) => {
  const test = (name: string, self: () => Effect.Effect<void, unknown, any>) =>
    it.live(name, () => Effect.scoped(self()).pipe(Effect.provide(layer)) as Effect.Effect<void, unknown>, 60_000)

  test("typed values, Accept: application/x-ndjson, any chunking", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        res.writeHead(200, ndjsonHead)
        res.write("{\"id\":1,\"name\":\"a\"}\n{\"id\":2,")
        setTimeout(() => res.end("\"name\":\"b\"}\r\n\n{\"id\":3,\"name\":\"c\"}"), 10)
      })
      const rows = yield* collect(NdjsonClient.schema(server.url, Row))
      expect(rows).toEqual([{ id: 1, name: "a" }, { id: 2, name: "b" }, { id: 3, name: "c" }])
      expect(server.requests[0]!.headers["accept"]).toBe("application/x-ndjson")
      const values = yield* collect(NdjsonClient.values(server.url))
      expect(values).toHaveLength(3)
    }))

  test("POST with a body, data-last in pipe", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((req, res) => {
        res.writeHead(200, ndjsonHead)
        res.end(`{"id":1,"name":${JSON.stringify(req.method)}}\n`)
      })
      const rows = yield* collect(
        HttpClientRequest.post(server.url).pipe(
          HttpClientRequest.bodyUnsafeJson({ q: "x" }),
          NdjsonClient.schema(Row)
        )
      )
      expect(rows).toEqual([{ id: 1, name: "POST" }])
      expect(server.requests[0]!.body).toBe("{\"q\":\"x\"}")
    }))

  test("bad-line policy: fail with the line number (values before it delivered), or skip", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        res.writeHead(200, ndjsonHead)
        res.end("{\"id\":1,\"name\":\"a\"}\nnot json\n{\"id\":\"wrong\"}\n{\"id\":4,\"name\":\"d\"}\n")
      })
      const seen: Array<unknown> = []
      const error = yield* Effect.flip(
        NdjsonClient.schema(server.url, Row).pipe(
          Stream.runForEach((row) => Effect.sync(() => seen.push(row))),
          Effect.timeout("5 seconds")
        )
      )
      expect(seen).toEqual([{ id: 1, name: "a" }])
      expect(error).toMatchObject({ _tag: "InvalidLine", line: 2 })

      const reported: Array<number> = []
      const rows = yield* collect(
        NdjsonClient.schema(server.url, Row, {
          onBadLine: (e: CodecError.InvalidLine) => Effect.sync(() => reported.push(e.line))
        })
      )
      expect(rows).toEqual([{ id: 1, name: "a" }, { id: 4, name: "d" }])
      expect(reported).toEqual([2, 3])
    }))

  test("a line over maxLineLength fails with LineTooLong", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        res.writeHead(200, ndjsonHead)
        res.end(`"${"x".repeat(200)}"\n`)
      })
      const error = yield* Effect.flip(collect(NdjsonClient.values(server.url, { maxLineLength: 100 })))
      expect(error._tag).toBe("LineTooLong")
    }))

  test("a response cut mid-stream fails with ConnectionLost, after the values before the cut", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        res.writeHead(200, ndjsonHead)
        res.write("{\"id\":1,\"name\":\"a\"}\n{\"id\":2,\"na", () => setTimeout(() => res.socket?.destroy(), 10))
      })
      const seen: Array<unknown> = []
      const error = yield* Effect.flip(
        NdjsonClient.schema(server.url, Row).pipe(
          Stream.runForEach((row) => Effect.sync(() => seen.push(row))),
          Effect.timeout("5 seconds")
        )
      )
      expect(seen).toEqual([{ id: 1, name: "a" }])
      expect(error._tag).toBe("ConnectionLost")
      if (error._tag === "ConnectionLost") expect(error.cause._tag).toBe("ResponseError")
    }))

  test("a silent server fails with ConnectionLost(IdleTimeout) when an idle timeout is set", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        res.writeHead(200, ndjsonHead)
        res.write("{\"id\":1,\"name\":\"a\"}\n")
      })
      const error = yield* Effect.flip(collect(NdjsonClient.schema(server.url, Row, { idleTimeout: "100 millis" })))
      expect(error._tag).toBe("ConnectionLost")
      if (error._tag === "ConnectionLost") expect(error.cause._tag).toBe("IdleTimeout")
      yield* Deferred.await(server.requests[0]!.closed).pipe(Effect.timeout("3 seconds"))
    }))

  test("non-2xx fails with UnexpectedResponse; 204 is an empty stream", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((req, res) => {
        if (req.url === "/empty") return res.writeHead(204).end()
        res.writeHead(404, { "content-type": "application/json" }).end("{}")
      })
      const error = yield* Effect.flip(collect(NdjsonClient.values(server.url)))
      expect(error).toMatchObject({ _tag: "UnexpectedResponse", status: 404, contentType: "application/json" })
      expect(yield* collect(NdjsonClient.values(`${server.url}/empty`))).toEqual([])
    }))

  test("interrupting aborts the request", () =>
    Effect.gen(function*() {
      const server = yield* nodeServer((_req, res) => {
        res.writeHead(200, ndjsonHead)
        const timer = setInterval(() => res.write("{\"id\":1,\"name\":\"a\"}\n"), 10)
        res.on("close", () => clearInterval(timer))
      })
      const rows = yield* collect(NdjsonClient.schema(server.url, Row).pipe(Stream.take(3)))
      expect(rows).toHaveLength(3)
      yield* Deferred.await(server.requests[0]!.closed).pipe(Effect.timeout("3 seconds"))
    }))
})

import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { NdjsonResponse, RequestBody, SseResponse } from "@streamwire/server"
import { serve } from "@streamwire/server/testing"
import { Effect, Schema, Stream } from "effect"
import * as Http from "node:http"

const Prompt = Schema.Struct({ prompt: Schema.String })

const router = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/sse",
    SseResponse.fromJsonBody(Prompt, ({ prompt }) => Stream.make(Sse.unsafeEvent({ data: prompt })), {
      heartbeat: false
    })
  ),
  HttpRouter.post(
    "/sse-small",
    SseResponse.fromJsonBody(Prompt, ({ prompt }) => Stream.make(Sse.unsafeEvent({ data: prompt })), {
      heartbeat: false,
      maxBodyBytes: 100
    })
  ),
  HttpRouter.post(
    "/ndjson-small",
    NdjsonResponse.fromJsonBody(Prompt, ({ prompt }) => Stream.make({ prompt }), { maxBodyBytes: 100 })
  ),
  HttpRouter.post(
    "/upload",
    Effect.gen(function*() {
      const n = yield* RequestBody.stream({ maxBytes: 1000 }).pipe(Stream.runFold(0, (n, b) => n + b.length))
      return HttpServerResponse.text(`${n}`)
    })
  ),
  HttpRouter.post(
    "/bytes",
    Effect.map(RequestBody.bytes({ maxBytes: 1000 }), (b) => HttpServerResponse.text(`${b.length}`))
  )
)

interface Answer {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  /** Did the answer arrive before the client finished sending its body? */
  readonly beforeEnd: boolean
}

/**
 * Sends a request whose body is `chunks` (with `Content-Length: contentLength` when given, chunked
 * otherwise); when `hold`, the request is never ended (the server must answer without the rest).
 */
const send = (
  url: string,
  options: { contentLength?: number; chunks: ReadonlyArray<string | Uint8Array>; hold?: boolean }
) =>
  Effect.async<Answer, Error>((resume) => {
    let ended = false
    const headers: Record<string, string> = { "content-type": "application/json" }
    if (options.contentLength !== undefined) headers["content-length"] = String(options.contentLength)
    const req = Http.request(url, { method: "POST", headers, agent: false }, (res) => {
      const beforeEnd = !ended
      const parts: Array<Buffer> = []
      res.on("data", (c: Buffer) => parts.push(c))
      res.on("end", () => {
        req.destroy()
        resume(
          Effect.succeed({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString(),
            beforeEnd
          })
        )
      })
      res.on("error", (e) => resume(Effect.fail(e)))
    })
    req.on("error", (e) => resume(Effect.fail(e)))
    for (const c of options.chunks) req.write(c)
    if (!options.hold) {
      req.end()
      ended = true
    }
    return Effect.sync(() => req.destroy())
  }).pipe(Effect.timeout("10 seconds"))

const big = (n: number) => new Uint8Array(n).fill(0x20)

describe("request body limits", () => {
  it.scopedLive(
    "a Content-Length over the limit is answered 413 at once, before the body is sent",
    () =>
      Effect.gen(function*() {
        const url = yield* serve(router)
        const answer = yield* send(`${url}/sse`, {
          contentLength: 20 * 1024 * 1024,
          chunks: ["{\"prompt\":"],
          hold: true
        })
        expect(answer.status).toBe(413)
        expect(answer.beforeEnd).toBe(true)
        expect(answer.headers["connection"]).toBe("close")
        expect(JSON.parse(answer.body)).toEqual({
          error: "BodyTooLarge",
          limit: 1024 * 1024,
          message: "request body too large: 20971520 bytes, the limit is 1048576 bytes"
        })
      }),
    20_000
  )

  it.scopedLive(
    "a chunked body is counted: reading stops at the limit and 413 is answered while the client still sends",
    () =>
      Effect.gen(function*() {
        const url = yield* serve(router)
        const answer = yield* send(`${url}/sse-small`, { chunks: ["{\"prompt\":\"", big(300)], hold: true })
        expect(answer.status).toBe(413)
        expect(answer.beforeEnd).toBe(true)
        expect(JSON.parse(answer.body)).toMatchObject({ error: "BodyTooLarge", limit: 100 })
        const ndjson = yield* send(`${url}/ndjson-small`, { chunks: [big(101)], hold: true })
        expect(ndjson.status).toBe(413)
      }),
    20_000
  )

  it.scopedLive(
    "the default limit is 1 MiB: 1 MiB + 1 byte is refused, a body under it is read",
    () =>
      Effect.gen(function*() {
        const url = yield* serve(router)
        const over = yield* send(`${url}/sse`, { chunks: [big(1024 * 1024 + 1)] })
        expect(over.status).toBe(413)
        const padded = `{"prompt":"ok"}`.padEnd(1024 * 1024 - 10, " ")
        const under = yield* send(`${url}/sse`, { chunks: [padded] })
        expect(under.status).toBe(200)
        expect(under.body).toBe("data: ok\n\n")
      }),
    20_000
  )

  it.scopedLive(
    "a 900 KB body failing the Schema or not JSON gets a 400 that quotes a short excerpt only",
    () =>
      Effect.gen(function*() {
        const url = yield* serve(router)
        const huge = "x".repeat(900_000)
        const schema = yield* send(`${url}/sse`, { chunks: [JSON.stringify({ prompt: 1, other: huge })] })
        expect(schema.status).toBe(400)
        expect(schema.body.length).toBeLessThan(1000)
        expect(JSON.parse(schema.body)).toMatchObject({ error: "InvalidBody", reason: "schema" })
        const wrongType = yield* send(`${url}/sse`, { chunks: [JSON.stringify({ prompt: { nested: huge } })] })
        expect(wrongType.status).toBe(400)
        expect(wrongType.body.length).toBeLessThan(1000)
        const notJson = yield* send(`${url}/sse`, { chunks: [`{"prompt": "${huge}`] })
        expect(notJson.status).toBe(400)
        expect(notJson.body.length).toBeLessThan(1000)
        expect(JSON.parse(notJson.body)).toMatchObject({ error: "InvalidBody", reason: "json" })
      }),
    20_000
  )

  it.scopedLive("RequestBody.stream and RequestBody.bytes hold their limit", () =>
    Effect.gen(function*() {
      const url = yield* serve(router)
      expect((yield* send(`${url}/upload`, { chunks: [big(1000)] })).body).toBe("1000")
      expect((yield* send(`${url}/upload`, { contentLength: 1001, chunks: [big(1001)] })).status).toBe(413)
      expect((yield* send(`${url}/bytes`, { chunks: [big(1000)] })).body).toBe("1000")
      expect((yield* send(`${url}/bytes`, { chunks: [big(600), big(600)] })).status).toBe(413)
    }), 20_000)
})

import * as HttpRouter from "@effect/platform/HttpRouter"
import { describe, expect, it } from "@effect/vitest"
import { connect, eventually, serve } from "@streamwire/server/testing"
import { Deferred, Effect, Ref, Schema, Stream } from "effect"
import { NdjsonResponse, SseResponse } from "../src/index.js"

const Prompt = Schema.Struct({ prompt: Schema.String })

/** An LLM-like answer: one token at a time, the last one only after `release`. */
const tokens = (prompt: string, release: Deferred.Deferred<void>) =>
  Stream.fromIterable(prompt.split(" ")).pipe(
    Stream.concat(Stream.fromEffect(Effect.as(Deferred.await(release), "[done]")))
  )

const json = { "content-type": "application/json" }

describe("NdjsonResponse", () => {
  it.scopedLive("exact headers and bytes; values with a Schema", () =>
    Effect.gen(function*() {
      const Row = Schema.Struct({ at: Schema.DateFromString, n: Schema.Number })
      const url = yield* serve(
        HttpRouter.empty.pipe(
          HttpRouter.get(
            "/rows",
            NdjsonResponse.make(Stream.make({ a: 1 }, [2, "x"], "é"), { headers: { "x-extra": "1" } })
          ),
          HttpRouter.get("/typed", NdjsonResponse.schema(Stream.make({ at: new Date(0), n: 1 }), Row))
        )
      )
      const rows = yield* connect(`${url}/rows`)
      yield* Effect.promise(() => rows.waitForEnd())
      expect(rows.status).toBe(200)
      expect(rows.headers["content-type"]).toBe("application/x-ndjson")
      expect(rows.headers["cache-control"]).toBe("no-cache, no-transform")
      expect(rows.headers["x-accel-buffering"]).toBe("no")
      expect(rows.headers["x-extra"]).toBe("1")
      expect(rows.text).toBe("{\"a\":1}\n[2,\"x\"]\n\"é\"\n")
      const typed = yield* connect(`${url}/typed`)
      yield* Effect.promise(() => typed.waitForEnd())
      expect(typed.text).toBe("{\"at\":\"1970-01-01T00:00:00.000Z\",\"n\":1}\n")
    }))

  it.scopedLive("a failure closes the response, or writes a last value of your choice", () =>
    Effect.gen(function*() {
      const failing = Stream.concat(Stream.make({ ok: true }), Stream.fail("nope"))
      const url = yield* serve(
        HttpRouter.empty.pipe(
          HttpRouter.get("/close", NdjsonResponse.make(failing)),
          HttpRouter.get("/last", NdjsonResponse.make(failing, { onError: () => ({ error: "stream failed" }) }))
        )
      )
      const a = yield* connect(`${url}/close`)
      const b = yield* connect(`${url}/last`)
      yield* Effect.promise(() => a.waitForEnd())
      yield* Effect.promise(() => b.waitForEnd())
      expect(a.text).toBe("{\"ok\":true}\n")
      expect(b.text).toBe("{\"ok\":true}\n{\"error\":\"stream failed\"}\n")
    }))

  it.scopedLive("heartbeats are empty lines (skipped by NDJSON readers), only when asked", () =>
    Effect.gen(function*() {
      const url = yield* serve(
        HttpRouter.empty.pipe(HttpRouter.get("/idle", NdjsonResponse.make(Stream.never, { heartbeat: "20 millis" })))
      )
      const client = yield* connect(`${url}/idle`)
      yield* Effect.promise(() => client.waitFor((c) => c.text.length >= 2, 3000, "two heartbeats"))
      expect(client.text.startsWith("\n\n")).toBe(true)
    }))
})

describe("POST then stream (the chat pattern)", () => {
  const chatServer = Effect.gen(function*() {
    const release = yield* Deferred.make<void>()
    const finalized = yield* Ref.make(0)
    const answer = (prompt: string) =>
      tokens(prompt, release).pipe(Stream.ensuring(Ref.update(finalized, (n) => n + 1)))
    const url = yield* serve(
      HttpRouter.empty.pipe(
        HttpRouter.post(
          "/chat",
          SseResponse.fromJsonBody(
            Prompt,
            ({ prompt }) =>
              answer(prompt).pipe(
                Stream.map((t) => ({ _tag: "SseEvent" as const, type: "token", data: t, lastEventId: "" }))
              )
          )
        ),
        HttpRouter.post(
          "/chat.ndjson",
          NdjsonResponse.fromJsonBody(Prompt, ({ prompt }) => answer(prompt).pipe(Stream.map((token) => ({ token }))))
        )
      )
    )
    return { url, release, finalized }
  })

  it.scopedLive("bad bodies get a 400 with a clear message, never a stream", () =>
    Effect.gen(function*() {
      const { finalized, url } = yield* chatServer
      for (const path of ["/chat", "/chat.ndjson"]) {
        const cases: Array<[string, string, string]> = [
          ["not json {", "json", "the body is not valid JSON"],
          ["{\"prompt\": 42}", "schema", "prompt"],
          ["{}", "schema", "prompt"]
        ]
        for (const [body, reason, mentions] of cases) {
          const client = yield* connect(url + path, { method: "POST", headers: json, body })
          yield* Effect.promise(() => client.waitForEnd())
          expect(client.status).toBe(400)
          expect(client.headers["content-type"]).toBe("application/json")
          const payload = JSON.parse(client.text)
          expect(payload).toMatchObject({ error: "InvalidBody", reason })
          expect(payload.message).toContain(mentions)
        }
      }
      expect(yield* Ref.get(finalized)).toBe(0) // no answer stream was ever started
    }))

  it.scopedLive("a good body streams tokens that arrive before the stream ends (SSE and NDJSON)", () =>
    Effect.gen(function*() {
      const { finalized, release, url } = yield* chatServer
      const sse = yield* connect(`${url}/chat`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ prompt: "hello streaming world" })
      })
      const nd = yield* connect(`${url}/chat.ndjson`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ prompt: "hello streaming world" })
      })
      expect(sse.status).toBe(200)
      expect(sse.headers["content-type"]).toBe("text/event-stream; charset=utf-8")
      expect(nd.headers["content-type"]).toBe("application/x-ndjson")
      // the three tokens arrive while the answer is still open
      yield* Effect.promise(() => sse.waitForEvents(3))
      yield* Effect.promise(() => nd.waitFor((c) => c.text.split("\n").length >= 4, 3000, "three lines"))
      expect(sse.ended).toBe(false)
      expect(nd.ended).toBe(false)
      expect(sse.events().map((e) => `${e.type}:${e.data}`)).toEqual(["token:hello", "token:streaming", "token:world"])
      expect(nd.text).toBe("{\"token\":\"hello\"}\n{\"token\":\"streaming\"}\n{\"token\":\"world\"}\n")
      yield* Deferred.succeed(release, undefined)
      yield* Effect.promise(() => sse.waitForEnd())
      yield* Effect.promise(() => nd.waitForEnd())
      expect(sse.events().map((e) => e.data)).toEqual(["hello", "streaming", "world", "[done]"])
      expect(nd.text.endsWith("{\"token\":\"[done]\"}\n")).toBe(true)
      yield* eventually(Ref.get(finalized), (n) => n === 2)
    }))

  it.scopedLive("a client that aborts mid-answer stops the answer (its finalizer runs)", () =>
    Effect.gen(function*() {
      const { finalized, url } = yield* chatServer
      const client = yield* connect(`${url}/chat.ndjson`, {
        method: "POST",
        headers: json,
        body: "{\"prompt\":\"a b\"}"
      })
      yield* Effect.promise(() => client.waitFor((c) => c.text.split("\n").length >= 3, 3000, "two lines"))
      client.close()
      yield* eventually(Ref.get(finalized), (n) => n === 1)
    }))
})

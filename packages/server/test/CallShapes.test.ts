import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { connect, serve } from "@streamwire/server/testing"
import { Effect, Schema, Stream } from "effect"
import { EventLog, MemoryEventLog, NdjsonResponse, SseResponse } from "../src/index.js"

type Assert<T extends true> = T
type Eq<A, B> = [A] extends [B] ? [B] extends [A] ? true : false : false
type Requires<T> = T extends Effect.Effect<any, any, infer R> ? R : never

// (a function never called: only its types are checked)
export const typeChecks = (log: EventLog.EventLog) => {
  const fromTag = SseResponse.fromEventLog(EventLog.EventLog, { heartbeat: "15 seconds" })
  const fromValue = SseResponse.fromEventLog(log)
  const piped = Stream.make(Sse.unsafeEvent({ data: "x" })).pipe(SseResponse.make)
  const checks: [
    Assert<Eq<Requires<typeof fromTag>, HttpServerRequest.HttpServerRequest | EventLog.EventLog>>,
    Assert<Eq<Requires<typeof fromValue>, HttpServerRequest.HttpServerRequest>>,
    Assert<Eq<typeof piped, Effect.Effect<HttpServerResponse.HttpServerResponse>>>
  ] = [true, true, true]
  return checks
}

const ev = (data: string) => Sse.unsafeEvent({ data })
const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))

describe("one call shape for responses", () => {
  it.scopedLive(
    "SseResponse.make / schema / schemas and NdjsonResponse.make / schema, in pipe and data-first",
    () =>
      Effect.gen(function*() {
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get("/bare", Stream.make(ev("a")).pipe(SseResponse.make)),
            HttpRouter.get("/curried", Stream.make(ev("a")).pipe(SseResponse.make({ retry: "1 second" }))),
            HttpRouter.get("/first", SseResponse.make(Stream.make(ev("a")), { retry: "1 second" })),
            HttpRouter.get("/schema", Stream.make({ n: 1 }).pipe(SseResponse.schema(Tick, { type: "tick" }))),
            HttpRouter.get("/schema-first", SseResponse.schema(Stream.make({ n: 1 }), Tick, { type: "tick" })),
            HttpRouter.get(
              "/schemas",
              Stream.make({ type: "tick" as const, data: { n: 2 }, id: "7" }).pipe(SseResponse.schemas({ tick: Tick }))
            ),
            HttpRouter.get("/nd", Stream.make({ a: 1 }).pipe(NdjsonResponse.make)),
            HttpRouter.get(
              "/nd-schema",
              Stream.make({ n: 1 }).pipe(NdjsonResponse.schema(Schema.Struct({ n: Schema.Number })))
            )
          )
        )
        const body = (path: string) =>
          Effect.gen(function*() {
            const c = yield* connect(`${url}${path}`)
            yield* Effect.promise(() => c.waitForEnd())
            return c.text
          })
        expect(yield* body("/bare")).toBe("data: a\n\n")
        expect(yield* body("/curried")).toBe("retry: 1000\ndata: a\n\n")
        expect(yield* body("/first")).toBe("retry: 1000\ndata: a\n\n")
        expect(yield* body("/schema")).toBe("event: tick\ndata: {\"n\":1}\n\n")
        expect(yield* body("/schema-first")).toBe("event: tick\ndata: {\"n\":1}\n\n")
        expect(yield* body("/schemas")).toBe("id: 7\nevent: tick\ndata: {\"n\":2}\n\n")
        expect(yield* body("/nd")).toBe("{\"a\":1}\n")
        expect(yield* body("/nd-schema")).toBe("{\"n\":1}\n")
      }),
    30_000
  )

  it.scopedLive(
    "SseResponse.fromEventLog with the tag reads the service; with a log uses it",
    () =>
      Effect.gen(function*() {
        const service = yield* MemoryEventLog.make()
        const given = yield* MemoryEventLog.make()
        yield* service.append({ data: "from the service" })
        yield* given.append({ data: "from the given log" })
        const url = yield* serve(
          HttpRouter.empty.pipe(
            HttpRouter.get(
              "/tag",
              SseResponse.fromEventLog(EventLog.EventLog, { initial: "retained", heartbeat: false })
            ),
            HttpRouter.get("/log", SseResponse.fromEventLog(given, { initial: "retained", heartbeat: false }))
          ).pipe(Effect.provideService(EventLog.EventLog, service))
        )
        const tag = yield* connect(`${url}/tag`)
        const log = yield* connect(`${url}/log`)
        yield* Effect.promise(() => tag.waitForEvents(1))
        yield* Effect.promise(() => log.waitForEvents(1))
        expect(tag.events().map((e) => e.data)).toEqual(["from the service"])
        expect(log.events().map((e) => e.data)).toEqual(["from the given log"])
      }),
    30_000
  )
})

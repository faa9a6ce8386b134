/**
 * Fuzzing the server's request handling over raw TCP (so any byte can be sent): random and malformed
 * `Last-Event-ID` headers and `lastEventId` query values (huge, binary, CR/LF, invalid UTF-8
 * percent-escapes), malformed and oversized JSON bodies, bodies cut mid-way, and clients that go
 * away at every stage of a response. Each request gets its documented status (or none, when the
 * client left first); after each, every stream finalizer has run, no log subscription, fiber or
 * timer is left, and the process is still up.
 */
import { HttpRouter } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { type EventLog, MemoryEventLog, NdjsonResponse, SseResponse } from "@streamwire/server"
import { eventually, serve } from "@streamwire/server/testing"
import { Effect, FastCheck as fc, Option, Schema, Stream, Supervisor } from "effect"
import * as Net from "node:net"
import { realSleep } from "./utils.js"

// ---------------------------------------------------------------------------------------------
// the server under test

const Prompt = Schema.Struct({ prompt: Schema.String })

/** Open user streams (incremented when a stream starts, decremented by its finalizer). */
let open = 0
const counted = <A>(stream: Stream.Stream<A>) =>
  Stream.acquireRelease(Effect.sync(() => open++), () => Effect.sync(() => open--)).pipe(
    Stream.flatMap(() => stream)
  )

const events = (from: number, n: number) =>
  Stream.range(from, from + n - 1).pipe(Stream.map((i) => Sse.unsafeEvent({ data: `event ${i}`, id: String(i) })))

const app = (log: EventLog.EventLog) =>
  HttpRouter.empty.pipe(
    // a live log: the in-memory log's push path, and its Stream path (drop-oldest)
    HttpRouter.get(
      "/log",
      SseResponse.fromEventLog(log, { heartbeat: "20 millis", retry: "1 second", initial: "retained" })
    ),
    HttpRouter.get(
      "/log-stream",
      SseResponse.fromEventLog(log, { heartbeat: "20 millis", onSlowClient: "drop-oldest", initial: "retained" })
    ),
    // resume with a factory: numeric ids go on, others start over; three events then stay open
    HttpRouter.get(
      "/resume",
      SseResponse.resume((after) => {
        const n = Option.match(after, { onNone: () => 0, onSome: (id) => /^\d{1,6}$/.test(id) ? Number(id) + 1 : 0 })
        if (n > 1000) return SseResponse.noContent
        return counted(Stream.concat(events(n, 3), Stream.never))
      }, { heartbeat: "20 millis" })
    ),
    HttpRouter.post(
      "/chat",
      SseResponse.fromJsonBody(Prompt, ({ prompt }) => counted(events(prompt.length, 3)), {
        heartbeat: "20 millis",
        maxBodyBytes: 4096
      })
    ),
    HttpRouter.post(
      "/chat.ndjson",
      NdjsonResponse.fromJsonBody(Prompt, ({ prompt }) => counted(Stream.make({ prompt }, { prompt })), {
        maxBodyBytes: 4096
      })
    )
  )

// ---------------------------------------------------------------------------------------------
// raw requests

type Stage = "after-send" | "after-head" | "after-first-event" | "mid-body" | "read-then-close"

interface Case {
  readonly method: "GET" | "POST"
  readonly path: string
  /** The raw query string after `?`, or none. */
  readonly query: string | undefined
  /** The raw `Last-Event-ID` header value as bytes (latin1 string), or none. */
  readonly lastEventId: string | undefined
  readonly body: Body | undefined
  readonly stage: Stage
}

interface Body {
  readonly text: string
  /** Declared `Content-Length` (may exceed what is sent: a body cut mid-way), or chunked when undefined. */
  readonly contentLength: number | undefined
  /** Send only this many bytes, then stop (the rest never comes). */
  readonly cutAt: number | undefined
}

interface Outcome {
  readonly status: number | undefined
  readonly text: string
}

const requestBytes = (c: Case): Buffer => {
  const target = c.query === undefined ? c.path : `${c.path}?${c.query}`
  // the request line as UTF-8 (raw non-ASCII bytes, which Node refuses), the header value as given bytes
  const head: Array<Buffer> = [Buffer.from(`${c.method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, "utf8")]
  if (c.lastEventId !== undefined) head.push(Buffer.from(`Last-Event-ID: ${c.lastEventId}\r\n`, "latin1"))
  if (c.body === undefined) return Buffer.concat([...head, Buffer.from("\r\n")])
  const body = Buffer.from(c.body.text, "utf8")
  head.push(Buffer.from("Content-Type: application/json\r\n"))
  if (c.body.contentLength !== undefined) {
    head.push(Buffer.from(`Content-Length: ${c.body.contentLength}\r\n\r\n`))
    const sent = c.body.cutAt === undefined ? body : body.subarray(0, c.body.cutAt)
    return Buffer.concat([...head, sent])
  }
  head.push(Buffer.from("Transfer-Encoding: chunked\r\n\r\n"))
  if (c.body.cutAt !== undefined) {
    const part = body.subarray(0, c.body.cutAt)
    return Buffer.concat([...head, Buffer.from(`${body.length.toString(16)}\r\n`), part])
  }
  return Buffer.concat([...head, Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")])
}

/** Sends the case on a fresh socket, goes away at the case's stage, resolves when the socket closed. */
const run = (port: number, c: Case): Promise<Outcome> =>
  new Promise((resolve) => {
    const socket = Net.connect(port, "127.0.0.1")
    let text = ""
    let done = false
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      resolve({ status: m ? Number(m[1]) : undefined, text })
    }
    // a stream that never ends is read for a while after its first bytes, then left
    const timer = setTimeout(finish, 5000)
    let lingering = false
    socket.on("error", finish)
    socket.on("close", finish)
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1")
      const head = text.indexOf("\r\n\r\n")
      if (c.stage === "after-head" && head >= 0) finish()
      if (c.stage === "after-first-event" && head >= 0 && text.indexOf("\n\n", head + 4) >= 0) finish()
      if (c.stage === "read-then-close" && head >= 0 && !lingering) {
        lingering = true
        setTimeout(finish, 60)
      }
    })
    socket.write(requestBytes(c), () => {
      if (c.stage === "after-send" || c.stage === "mid-body") finish()
    })
  })

// ---------------------------------------------------------------------------------------------
// generators

const latin1Bytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString("latin1"))
const utf8AsLatin1 = fc.fullUnicodeString({ maxLength: 32 }).map((s) => Buffer.from(s, "utf8").toString("latin1"))

const lastEventIdHeader = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("1", "999", "1001", "not-a-number", "", " ", "\t"),
  utf8AsLatin1, // what EventSource sends
  latin1Bytes, // anything, NUL, CR, LF and invalid UTF-8 included
  fc.string({ maxLength: 20 }).map((s) => `${s}\r\nX-Injected: 1`),
  fc.integer({ min: 10_000, max: 100_000 }).map((n) => "9".repeat(n)) // huge
)

const percentEscape = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, "0")}`),
  fc.constantFrom("%", "%z", "%zz", "%E0%80", "%C3", "%F0%9F%98", "%ED%A0%80", "%FF%FE", "+", "&", "=", "%00")
)
const queryValue = fc.oneof(
  fc.array(fc.oneof(percentEscape, fc.constantFrom("a", "1", "9", "é", "ид")), { maxLength: 12 }).map((parts) =>
    parts.join("")
  ),
  fc.integer({ min: 1000, max: 6000 }).map((n) => "%41".repeat(n))
)
const query = fc.oneof(
  fc.constant(undefined),
  queryValue.map((v) => `lastEventId=${v}`),
  queryValue.map((v) => `x=1&lastEventId=${v}&lastEventId=2`)
)

const jsonText = fc.oneof(
  fc.string({ maxLength: 30 }).map((prompt) => JSON.stringify({ prompt })),
  fc.constantFrom("", "{", "{\"prompt\":", "null", "[]", "{\"prompt\":1}", "{\"prompt\":\"a\"}garbage", "\u00ff\u00fe"),
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.integer({ min: 4097, max: 20_000 }).map((n) => JSON.stringify({ prompt: "x".repeat(n) })) // over the limit
)

const body = jsonText.chain((text) => {
  const length = Buffer.byteLength(text, "utf8")
  return fc.record({
    text: fc.constant(text),
    contentLength: fc.oneof(fc.constant(length), fc.constant(undefined)),
    cutAt: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: Math.max(0, length - 1) }))
  }).map((b) => b.cutAt !== undefined && length === 0 ? { ...b, cutAt: undefined } : b)
})

const stage = fc.constantFrom<Stage>("after-send", "after-head", "after-first-event", "read-then-close")

const getCase: fc.Arbitrary<Case> = fc.record({
  method: fc.constant("GET" as const),
  path: fc.constantFrom("/log", "/log-stream", "/resume"),
  query,
  lastEventId: lastEventIdHeader,
  body: fc.constant(undefined),
  stage
})

const postCase: fc.Arbitrary<Case> = fc.record({
  method: fc.constant("POST" as const),
  path: fc.constantFrom("/chat", "/chat.ndjson"),
  query: fc.constant(undefined),
  lastEventId: fc.constant(undefined),
  body,
  stage
}).map((c) => c.body?.cutAt !== undefined ? { ...c, stage: "mid-body" as const } : c)

// ---------------------------------------------------------------------------------------------
// what each answer may be

/** Request line and headers over Node's limit (16 KiB in all): it answers 431 itself. */
const headSize = (c: Case) => (c.lastEventId?.length ?? 0) + (c.query?.length ?? 0)
/** Bytes Node's HTTP parser refuses in a header value (it answers 400 itself). */
const badHeader = (c: Case) => c.lastEventId !== undefined && /[\x00-\x08\x0a-\x1f\x7f]/.test(c.lastEventId)

const allowed = (c: Case): ReadonlyArray<number> => {
  if (headSize(c) > 16_500) return [431, 400]
  if (headSize(c) > 15_000) return [200, 204, 431, 400]
  if (badHeader(c)) return [400, 200]
  // raw bytes outside visible ASCII in the request line: Node's parser answers 400 itself
  if (c.query !== undefined && /[^\x21-\x7e]/.test(c.query)) return [400]
  if (c.method === "GET") return c.path === "/resume" ? [200, 204] : [200]
  const b = c.body!
  if (Buffer.byteLength(b.text) > 4096 && b.contentLength !== undefined) return [413]
  if (Buffer.byteLength(b.text) > 4096) return [413]
  try {
    const v = JSON.parse(b.text)
    return typeof v === "object" && v !== null && typeof v.prompt === "string" ? [200] : [400]
  } catch {
    return [400]
  }
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length

describe("fuzzing the server's request handling", () => {
  it.live(
    "every request gets its documented status; nothing is left running after it; the process stays up",
    () =>
      Effect.gen(function*() {
        const supervisor = yield* Supervisor.track
        const log = yield* MemoryEventLog.make({ maxEvents: 100 })
        for (let i = 0; i < 5; i++) yield* log.append({ data: `retained ${i}` })
        const url = yield* serve(app(log)).pipe(Effect.supervised(supervisor))
        const port = Number(new URL(url).port)
        const fibers = Effect.map(supervisor.value, (fs) => fs.length)
        yield* realSleep(100) // the server's own fibers start
        const baseFibers = yield* fibers
        const baseTimers = timers()
        let crashed: unknown = undefined
        const onCrash = (e: unknown) => (crashed = e)
        process.on("uncaughtException", onCrash)
        yield* Effect.addFinalizer(() => Effect.sync(() => process.off("uncaughtException", onCrash)))

        const cases = fc.sample(fc.oneof(getCase, postCase), { numRuns: 120, seed: 20261202 })
        const answered = new Map<string, number>()
        for (const c of cases) {
          const outcome = yield* Effect.promise(() => run(port, c))
          const what = JSON.stringify({
            ...c,
            lastEventId: c.lastEventId?.slice(0, 80),
            query: c.query?.slice(0, 80),
            body: c.body && { ...c.body, text: c.body.text.slice(0, 80) }
          })
          if (outcome.status !== undefined) {
            expect(allowed(c), `${what} answered ${outcome.status}: ${outcome.text.slice(0, 300)}`).toContain(
              outcome.status
            )
            answered.set(String(outcome.status), (answered.get(String(outcome.status)) ?? 0) + 1)
            if (outcome.status === 400 || outcome.status === 413) expect(outcome.text.length).toBeLessThan(2000)
          } else {
            // no answer: only when the client left before the server could answer
            expect(["after-send", "mid-body"], `${what}: no answer`).toContain(c.stage)
          }
          // after each request: every stream finalizer ran, no subscription, fiber or timer left
          yield* eventually(Effect.sync(() => open), (n) => n === 0, 5000, `user streams closed after ${what}`)
          yield* eventually(log.subscriberCount, (n) => n === 0, 5000, `subscriptions gone after ${what}`)
          yield* eventually(fibers, (n) => n <= baseFibers, 5000, `fibers back to ${baseFibers} after ${what}`)
        }
        yield* eventually(Effect.sync(timers), (n) => n <= baseTimers, 5000, `timers back to ${baseTimers}`)
        expect(crashed).toBeUndefined()
        // the server still answers
        const last = yield* Effect.promise(() =>
          run(port, {
            method: "GET",
            path: "/resume",
            query: undefined,
            lastEventId: "5",
            body: undefined,
            stage: "after-first-event"
          })
        )
        expect(last.status).toBe(200)
        expect(last.text).toContain("data: event 6")
        // the generators reached the interesting answers
        for (const status of ["200", "400", "413"]) {
          expect(answered.get(status) ?? 0, `answers ${status}: ${JSON.stringify([...answered])}`).toBeGreaterThan(0)
        }
      }).pipe(Effect.scoped),
    120_000
  )
})

import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Sse } from "@streamwire/codec"
import { Chunk, Effect, Stream } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** Serves the app on 127.0.0.1, a free port, for the scope; gives the base URL. */
export const serve = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    yield* server.serve(app)
    const address = server.address
    if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
    return `http://127.0.0.1:${address.port}`
  }) as Effect.Effect<string, never, Scope.Scope | Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>>

const agent = new Http.Agent({ keepAlive: false, maxSockets: Infinity })

export interface OpenOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Do not read the response at all (a stalled client). */
  readonly paused?: boolean
  /** Keep only this many characters of each event's data, and not the raw text (for big streams). */
  readonly truncateData?: number
}

/**
 * A raw HTTP client on node:http that keeps every byte received (and the SSE messages in it,
 * parsed incrementally), and can pause, resume and abort.
 */
export class RawClient {
  text = ""
  bytes = 0
  ended = false
  error: Error | undefined
  private readonly received: Array<Sse.SseMessage> = []
  private waiters = new Set<() => void>()
  private decoder = new TextDecoder()
  private lineBuffer = ""
  private data: Array<string> | undefined
  private type = ""
  private id = ""
  constructor(readonly req: Http.ClientRequest, readonly res: Http.IncomingMessage, readonly options: OpenOptions) {
    res.on("data", (chunk: Buffer) => {
      this.bytes += chunk.length
      const text = this.decoder.decode(chunk, { stream: true })
      if (options.truncateData === undefined) this.text += text
      this.feed(text)
      this.notify()
    })
    res.on("end", () => {
      this.ended = true
      this.notify()
    })
    res.on("error", (e) => {
      this.error = e
      this.ended = true
      this.notify()
    })
    res.on("close", () => {
      this.ended = true
      this.notify()
    })
  }

  static open(url: string, options: OpenOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const req = Http.request(url, { method: options.method ?? "GET", headers: options.headers, agent }, (res) => {
        if (options.paused) res.pause()
        resolve(new RawClient(req, res, options))
      })
      req.on("error", reject)
      if (options.body !== undefined) req.write(options.body)
      req.end()
    })
  }

  /** The SSE field rules, for the LF-only output of our server. */
  private feed(text: string) {
    this.lineBuffer += text
    let start = 0
    let nl: number
    while ((nl = this.lineBuffer.indexOf("\n", start)) >= 0) {
      this.line(this.lineBuffer.slice(start, nl))
      start = nl + 1
    }
    this.lineBuffer = this.lineBuffer.slice(start)
  }

  private line(line: string) {
    if (line === "") {
      if (this.data !== undefined) {
        const data = this.data.join("\n")
        this.received.push({
          _tag: "SseEvent",
          type: this.type || "message",
          data: this.options.truncateData === undefined ? data : copy(data.slice(0, this.options.truncateData)),
          lastEventId: this.id
        })
      }
      this.data = undefined
      this.type = ""
      return
    }
    if (line.startsWith(":")) {
      this.received.push(Sse.comment(line.slice(line.startsWith(": ") ? 2 : 1)))
      return
    }
    const colon = line.indexOf(":")
    const name = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? "" : line.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (name === "data") (this.data ??= []).push(value)
    else if (name === "event") this.type = copy(value)
    else if (name === "id") this.id = copy(value)
    else if (name === "retry") this.received.push(Sse.retry(Number(value)))
  }

  get status() {
    return this.res.statusCode
  }

  get headers() {
    return this.res.headers
  }

  private notify() {
    for (const w of this.waiters) w()
  }

  /** Resolves once `predicate` holds on this client, rejects after `ms`. */
  waitFor(predicate: (client: this) => boolean, ms = 3000, what = "condition"): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate(this)) return resolve()
      const check = () => {
        if (predicate(this)) {
          cleanup()
          resolve()
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(
          new Error(
            `timed out after ${ms} ms waiting for ${what}; ${this.events().length} events, ended: ${this.ended}, last text: ${
              JSON.stringify(this.text.slice(-300))
            }`
          )
        )
      }, ms)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
    })
  }

  /** The events received so far (complete ones only). */
  events(): Array<Sse.SseEvent> {
    return this.received.filter(Sse.isEvent)
  }

  /** Everything received so far, comments and retry hints included. */
  messages(): ReadonlyArray<Sse.SseMessage> {
    return this.received
  }

  get eventCount() {
    let n = 0
    for (const m of this.received) if (m._tag === "SseEvent") n++
    return n
  }

  waitForEvents(n: number, ms = 3000) {
    return this.waitFor((c) => c.eventCount >= n, ms, `${n} events`)
  }

  waitForEnd(ms = 3000) {
    return this.waitFor((c) => c.ended, ms, "the end of the response")
  }

  close() {
    this.req.destroy()
    this.res.destroy()
  }
}

/** A flat copy of a string: a slice of a big received chunk would keep the whole chunk alive. */
const copy = (s: string) => Buffer.from(s, "utf8").toString("utf8")

export const decode = (text: string): Array<Sse.SseMessage> =>
  Chunk.toArray(
    Effect.runSync(
      Stream.make(text).pipe(Sse.decodeText({ include: ["comment", "retry"] }), Stream.runCollect)
    )
  )

/** Waits for real time, whatever clock the test runs with. */
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Polls `check` (real time) until it holds, or fails after `ms`. */
export const eventually = <A>(check: Effect.Effect<A>, ok: (a: A) => boolean, ms = 3000, what = "condition") =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    while (true) {
      const a = yield* check
      if (ok(a)) return a
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out waiting for ${what}; last value ${JSON.stringify(a)}`)
      yield* realSleep(10)
    }
  })

export const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Lets Node run one turn of its event loop (I/O callbacks included). */
export const ioTurn = Effect.promise(() => new Promise<void>((r) => setImmediate(r)))

/** Opens a client for the scope: it is destroyed when the scope closes, whatever happened. */
export const connect = (url: string, options?: OpenOptions) =>
  Effect.acquireRelease(Effect.promise(() => RawClient.open(url, options)), (c) => Effect.sync(() => c.close()))

/** Heap in use after a full garbage collection (test-only: exposes V8's gc through a flag). */
export const heapAfterGc = (): number => {
  v8.setFlagsFromString("--expose-gc")
  const gc = vm.runInNewContext("gc") as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

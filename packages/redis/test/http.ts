/** Small HTTP helpers for the multi-instance tests: serve an app, read an SSE response raw. */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Sse } from "@streamwire/codec"
import { Chunk, Effect, type Scope, Stream } from "effect"
import * as Http from "node:http"

/** Serves the app on 127.0.0.1, a free port, for the scope; gives the base URL. */
export const serve = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    yield* server.serve(app)
    const address = server.address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    return `http://127.0.0.1:${address.port}`
  }) as Effect.Effect<string, never, Scope.Scope | Exclude<R, HttpServerRequest.HttpServerRequest | Scope.Scope>>

const agent = new Http.Agent({ keepAlive: false })

const decode = (text: string): Array<Sse.SseEvent> =>
  Chunk.toArray(Effect.runSync(Stream.make(text).pipe(Sse.decodeText, Stream.runCollect)))

/** An SSE response read with node:http: keeps the text, decodes complete events, can be cut off. */
export class SseReader {
  text = ""
  ended = false
  private waiters = new Set<() => void>()
  private readonly decoder = new TextDecoder()
  private constructor(readonly req: Http.ClientRequest, readonly res: Http.IncomingMessage) {
    res.on("data", (chunk: Buffer) => {
      this.text += this.decoder.decode(chunk, { stream: true })
      this.notify()
    })
    const end = () => {
      this.ended = true
      this.notify()
    }
    res.on("end", end)
    res.on("close", end)
    res.on("error", end)
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const req = Http.get(url, { headers: { accept: "text/event-stream", ...headers }, agent }, (res) => resolve(new SseReader(req, res)))
      req.on("error", reject)
    })
  }

  events(): Array<Sse.SseEvent> {
    return decode(this.text)
  }

  private notify() {
    for (const w of this.waiters) w()
  }

  /** Resolves once `n` events arrived; rejects after `ms`. */
  waitForEvents(n: number, ms = 5000): Promise<Array<Sse.SseEvent>> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const events = this.events()
        if (events.length >= n) {
          cleanup()
          resolve(events)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${n} events; got: ${JSON.stringify(this.text.slice(-400))}`))
      }, ms)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  close() {
    this.req.destroy()
    this.res.destroy()
  }
}

/** Opens a reader for the scope (closed with it). */
export const open = (url: string, headers?: Record<string, string>) =>
  Effect.acquireRelease(Effect.promise(() => SseReader.open(url, headers)), (r) => Effect.sync(() => r.close()))

export const post = (url: string) =>
  Effect.promise(() => fetch(url, { method: "POST" }).then(async (r) => ({ status: r.status, text: await r.text() })))

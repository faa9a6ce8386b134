/**
 * A raw HTTP client on `node:http` for tests: keeps every byte received, parses the SSE messages
 * in it incrementally (the WHATWG rules: CR, LF and CRLF line ends, comments, `retry`, ids without
 * NUL), and can pause, resume and abort.
 *
 * @internal
 */
import { Sse } from "@streamwire/codec"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

export interface OpenOptions {
  readonly method?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | undefined
  readonly paused?: boolean | undefined
  readonly truncateData?: number | undefined
}

const agent = new Http.Agent({ keepAlive: false, maxSockets: Infinity })

const isDigits = /^[0-9]+$/

/** A flat copy of a string: a slice of a big received chunk would keep the whole chunk alive. */
const copy = (s: string) => Buffer.from(s, "utf8").toString("utf8")

export class RawClient {
  text = ""
  bytes = 0
  ended = false
  error: Error | undefined = undefined
  private readonly received: Array<Sse.SseMessage> = []
  private readonly waiters = new Set<() => void>()
  private readonly decoder = new TextDecoder()
  /** The start of a line whose end has not arrived yet. */
  private partial = ""
  /** The previous chunk ended with CR: a LF first in the next one ends no line. */
  private afterCR = false
  private data: Array<string> | undefined = undefined
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
    const end = () => {
      this.ended = true
      this.notify()
    }
    res.on("end", end)
    res.on("close", end)
    res.on("error", (e) => {
      this.error = e
      end()
    })
  }

  get status(): number | undefined {
    return this.res.statusCode
  }

  get headers(): Http.IncomingHttpHeaders {
    return this.res.headers
  }

  get eventCount(): number {
    let n = 0
    for (const m of this.received) if (m._tag === "SseEvent") n++
    return n
  }

  events(): Array<Sse.SseEvent> {
    return this.received.filter(Sse.isEvent)
  }

  messages(): ReadonlyArray<Sse.SseMessage> {
    return this.received
  }

  waitFor(predicate: (client: RawClient) => boolean, ms = 5000, what = "condition"): Promise<void> {
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
            `timed out after ${ms} ms waiting for ${what}; ${this.eventCount} events, ended: ${this.ended}, ` +
              `last text: ${JSON.stringify(this.text.slice(-300))}`
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

  waitForEvents(n: number, ms = 5000): Promise<Array<Sse.SseEvent>> {
    return this.waitFor((c) => c.eventCount >= n, ms, `${n} events`).then(() => this.events())
  }

  waitForEnd(ms = 5000): Promise<void> {
    return this.waitFor((c) => c.ended, ms, "the end of the response")
  }

  close(): void {
    this.req.destroy()
    this.res.destroy()
  }

  private notify() {
    for (const w of this.waiters) w()
  }

  private feed(text: string) {
    let start = 0
    if (this.afterCR && text.startsWith("\n")) start = 1
    this.afterCR = false
    let cr = -2 // position of the next CR at or after `start`, -1 when there is none
    while (start < text.length) {
      if (cr !== -1 && cr < start) cr = text.indexOf("\r", start)
      const lf = text.indexOf("\n", start)
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
      if (end < 0) break
      this.line(this.partial + text.slice(start, end))
      this.partial = ""
      start = end + 1
      if (end === cr) {
        if (start === text.length) this.afterCR = true
        else if (text.startsWith("\n", start)) start++
      }
    }
    this.partial += text.slice(start)
  }

  private line(line: string) {
    if (line === "") {
      if (this.data !== undefined) {
        const data = this.data.join("\n")
        const truncate = this.options.truncateData
        this.received.push({
          _tag: "SseEvent",
          type: this.type || "message",
          data: truncate === undefined ? data : copy(data.slice(0, truncate)),
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
    switch (name) {
      case "data":
        ;(this.data ??= []).push(value)
        break
      case "event":
        this.type = copy(value)
        break
      case "id":
        if (!value.includes("\0")) this.id = copy(value)
        break
      case "retry":
        if (isDigits.test(value)) this.received.push(Sse.retry(Number(value)))
        break
    }
  }
}

export const open = (url: string, options: OpenOptions = {}): Promise<RawClient> =>
  new Promise((resolve, reject) => {
    const req = Http.request(url, { method: options.method ?? "GET", headers: options.headers, agent }, (res) => {
      if (options.paused) res.pause()
      resolve(new RawClient(req, res, options))
    })
    req.on("error", reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })

export const connect = (url: string, options?: OpenOptions): Effect.Effect<RawClient, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => open(url, options)), (c) => Effect.sync(() => c.close()))

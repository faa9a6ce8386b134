/**
 * The Node fast path: on `NodeHttpServer`, a streamed response of ours writes straight to the Node
 * response instead of through the platform's body loop.
 *
 * The platform writes the status and headers (middleware headers included; they are sent at once,
 * see `sendHeadersAtWriteHead`) and starts running the body `Stream`; the first step of our body
 * hands the Node response of the request (what `NodeHttpServerRequest.toServerResponse` gives) to a
 * connection object. From then on the connection writes with `res.write` (several connections'
 * writes of one turn of the event loop are made in one microtask, each connection's buffer in one
 * write), stops writing when `write` says the socket is full and goes on at `'drain'`, and
 * releases everything at `'close'`. A push source (the in-memory log, `async`) does not even
 * have a body `Stream`: its response is raw (see `raw`), attached when the platform ends it, and
 * the request's fiber is done at once: the connection costs no fiber. A `Stream` source is pulled by
 * the request's fiber itself until it ends or the connection closes: one fiber, the one the
 * platform already has (forking one for it, or running it with `Stream.run*`, which forks, costs
 * more per connection).
 *
 * The platform ends the response when the body stream ends: that `end()` call is swallowed (an own
 * `end` property on the response, set back to Node's by the call for a push source — not deleted:
 * deleting a property added before Node's own turns the response into a dictionary-mode object,
 * ≈ 3 KiB more per connection — removed by our own end for a `Stream` source; a cut response keeps
 * it).
 *
 * Only the surface `http.ServerResponse` and `http2.Http2ServerResponse` share is used: `write`,
 * `end`, the `'drain'` and `'close'` events (the platform's `writeHead` has run before), so an
 * HTTP/2 server plugs in by handing its `Http2ServerResponse` to `serve`.
 *
 * On every other platform (a web handler, Bun's server, a test running the body), the body is the
 * pull-based `Stream` of `connection.ts`: the same connection class, the same bytes.
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import * as connection from "./connection.js"
import { http2StreamOf, resetStream } from "./http2Stream.js"

/**
 * What the fast path needs of a Node response: the surface `http.ServerResponse` and
 * `http2.Http2ServerResponse` share.
 *
 * @internal
 */
export interface NodeResponse {
  write(chunk: Uint8Array): boolean
  end(): unknown
  on(event: "drain" | "close", listener: () => void): unknown
  readonly writableEnded: boolean
  readonly headersSent?: boolean | undefined
  readonly destroyed?: boolean | undefined
}

/**
 * The Node response of a request served by `NodeHttpServer`, as
 * `NodeHttpServerRequest.toServerResponse` finds it (read here so this package does not load
 * `@effect/platform-node` and its Node-only modules); undefined on any other platform.
 *
 * @internal
 */
export const nodeResponseOf = (request: HttpServerRequest.HttpServerRequest): NodeResponse | undefined => {
  const field = (request as unknown as { readonly response?: unknown }).response
  const res = typeof field === "function" ? (field as () => unknown)() : field
  if (typeof res !== "object" || res === null) return undefined
  const r = res as Partial<NodeResponse>
  return typeof r.write === "function" && typeof r.end === "function" && typeof r.on === "function"
    ? res as NodeResponse
    : undefined
}

// the writes of a turn: each connection that has something to write is flushed once, in a microtask
const dirty: Array<NodeConnection<unknown>> = []
let scheduled = false
const flushAll = () => {
  scheduled = false
  for (let i = 0; i < dirty.length; i++) {
    const c = dirty[i]!
    c.queued = false
    c.flush()
  }
  dirty.length = 0
}

/**
 * Two listeners `NodeHttpServer` leaves on the response hold what the connection no longer needs:
 * the `'close'` listener that interrupts the request's fiber (ours is done once the response is
 * handed over: interrupting it would do nothing) holds the finished fiber, its context and span;
 * the `'drain'` listener of the platform's body loop (which has ended) holds, through its closure's
 * context, the `HttpServerResponse` and its body. Together ≈ 10 KiB a connection for its lifetime:
 * they are removed. They are recognised by their bodies; every other listener stays.
 *
 * @internal
 */
export const releasePlatformListeners = (res: NodeResponse): void => {
  const emitter = res as unknown as {
    listeners?: (event: string) => Array<(...args: Array<unknown>) => void>
    removeListener?: (event: string, listener: (...args: Array<unknown>) => void) => void
  }
  if (typeof emitter.listeners !== "function" || typeof emitter.removeListener !== "function") return
  for (const listener of emitter.listeners("close")) {
    if (sourceIncludes(listener, "unsafeInterruptAsFork", "writableEnded")) emitter.removeListener("close", listener)
  }
  for (const listener of emitter.listeners("drain")) {
    if (sourceIncludes(listener, "unsafeOpen")) emitter.removeListener("drain", listener)
  }
}

const sourceIncludes = (f: Function, ...parts: Array<string>): boolean => {
  const source = Function.prototype.toString.call(f)
  return source.length < 200 && parts.every((p) => source.includes(p))
}

// one pair of listeners for every response: the connection is found on the response
// (a property added to a Node response would turn it into a dictionary-mode object: ≈ 1 KiB more)
const connections = new WeakMap<object, NodeConnection<unknown>>()
function onDrain(this: object) {
  connections.get(this)?.drained()
}
function onClose(this: object) {
  const c = connections.get(this)
  if (c !== undefined) {
    connections.delete(this)
    c.close()
  }
}

/**
 * Cuts the connection once what was written has left (the body is never ended cleanly). On HTTP/2
 * the response's own stream is reset instead: the socket is the session's, shared with other streams.
 */
const cutResponse = (res: NodeResponse): void => {
  const h2 = http2StreamOf(res)
  if (h2 !== undefined) return resetStream(h2)
  const socket = (res as { socket?: unknown }).socket as
    | { destroyed?: boolean; write?: (b: Uint8Array, cb: () => void) => unknown; destroy?: () => void }
    | null
    | undefined
  if (socket && typeof socket.write === "function" && typeof socket.destroy === "function") {
    if (socket.destroyed === true) return
    // an empty write's callback runs once everything written before it has been handed over
    socket.write(new Uint8Array(0), () => socket.destroy!())
    return
  }
  const destroy = (res as { destroy?: () => void }).destroy
  if (typeof destroy === "function") destroy.call(res)
}

const hasOwnEnd = (res: NodeResponse) => Object.prototype.hasOwnProperty.call(res, "end")

/** @internal */
export class NodeConnection<A> extends connection.Connection<A> {
  queued = false
  /** `write` returned false: wait for `'drain'`. */
  private blocked = false

  constructor(config: connection.Config<A>, readonly res: NodeResponse) {
    super(config)
  }

  protected wake(): void {
    if (this.queued || this.blocked) return
    this.queued = true
    dirty.push(this as NodeConnection<unknown>)
    if (!scheduled) {
      scheduled = true
      queueMicrotask(flushAll)
    }
  }

  protected flushNow(): boolean {
    if (this.blocked || this.closed) return false
    this.flush()
    return true
  }

  protected writerReady(): boolean {
    return !this.blocked
  }

  protected abort(): void {
    // the policy "disconnect": what is buffered goes out (the client may read it), then the end
    this.blocked = false
    this.flush()
  }

  /** Writes what is buffered (unless the socket is full), and ends when the connection is ending. */
  flush(): void {
    if (this.closed || this.blocked) return
    const { bytes } = this.takeBatch()
    if (bytes.length > 0 && !this.res.write(bytes)) this.blocked = true
    if (this.encodeFailure !== undefined) {
      const cause = this.encodeFailure
      this.encodeFailure = undefined
      // outside any fiber: the failure is logged by the default runtime
      Effect.runFork(this.config.onFailure(cause)).addObserver((exit) => {
        if (exit._tag === "Success" && exit.value !== undefined && exit.value.length > 0) this.res.write(exit.value)
        this.finish()
      })
      return
    }
    if (this.ending) this.finish()
  }

  drained(): void {
    this.blocked = false
    this.roomMade()
    if (this.buffered > 0 || this.heartbeatDue || this.state === 1) this.flush()
  }

  /** Ends the response (our own end, not the platform's), or cuts it, and releases everything. */
  private finish(): void {
    this.close()
    // a cut response keeps the platform's `end` swallowed: nothing may end its body cleanly
    if (this.config.cut?.() === true) return cutResponse(this.res)
    if (hasOwnEnd(this.res)) delete (this.res as { end?: unknown }).end
    if (!this.res.writableEnded) this.res.end()
  }

  /**
   * Takes over the response: first bytes, listeners, source, heartbeats. A push source is
   * attached and the request's fiber is done; a `Stream` source is run by the request's fiber
   * itself, in place (no fiber of its own): the returned effect ends when the source does, or is
   * interrupted when the connection closes (the client went away, or the connection ended it).
   */
  open<E>(source: connection.Source<A, E>): Effect.Effect<void> {
    const res = this.res
    if (res.destroyed === true) {
      this.close()
      return Effect.void
    }
    const first = this.firstBytes()
    if (Cause.isCause(first)) {
      return Effect.map(this.config.onFailure(first), (last) => {
        if (last !== undefined && last.length > 0) res.write(last)
        this.finish()
      })
    }
    // the first write sends the status and headers at once
    if (!res.write(first)) this.blocked = true
    connections.set(res, this as NodeConnection<unknown>)
    res.on("drain", onDrain)
    res.on("close", onClose)
    // the heartbeat's `Schedule` fiber (a custom schedule) outlives the request's fiber: it ends with the connection
    const fork = (effect: Effect.Effect<void>) => Effect.forkDaemon(effect)
    if (!connection.isStream(source)) {
      releasePlatformListeners(res)
      return this.start(source, fork)
    }
    return Effect.zipRight(
      this.startHeartbeat(fork),
      Effect.withFiberRuntime<void>((fiber) => {
        if (this.closed) return Effect.void
        this.running = fiber
        return Effect.onInterrupt(this.runSource(source), () => Effect.sync(() => this.close()))
      })
    )
  }
}

/**
 * Swallows the platform's `end` call (it ends the response when the body stream ends: the
 * connection ends it itself, once what is buffered is written). For a push source the body ends
 * at once: the first call is the platform's, and it sets Node's `end` back (a `delete` would turn
 * the response into a dictionary-mode object); for a `Stream` source it stays until the
 * connection ends.
 */
const swallowEnd = (res: NodeResponse, once: boolean): void => {
  const target = res as { end: () => unknown }
  const original = target.end
  target.end = once
    ? function swallow() {
      target.end = original
      return res
    }
    : function swallow() {
      return res
    }
}

/**
 * The response body on `NodeHttpServer`'s response `res`: the Node fast path (the stream hands the
 * response to a connection made by `config`: it ends at once for a push source, with the source
 * for a `Stream`), when the platform is writing `res` (its status and headers are set, it has not
 * ended); `portable` otherwise.
 *
 * @internal
 */
export const body = <A, E>(
  res: NodeResponse,
  source: connection.Source<A, E>,
  config: () => connection.Config<A>,
  portable: Stream.Stream<Uint8Array>
): Stream.Stream<Uint8Array> => {
  sendHeadersAtWriteHead(res)
  return Stream.suspend(() => {
    if (res.writableEnded || res.headersSent !== true) return portable
    return Stream.fromChannel(Channel.fromEffect(Effect.suspend(() => {
      swallowEnd(res, !connection.isStream(source))
      return new NodeConnection(config(), res).open(source)
    })))
  })
}

/**
 * What a response made by {@link raw} carries as its body (`HttpServerResponse.raw`): the platform
 * writes the status and headers, then hands it to `res.end(body, done)`, where the connection
 * starts instead.
 *
 * @internal
 */
export class RawBody {
  readonly _tag = "StreamwireRawBody"
}

/**
 * The Node fast path for a push source, with no body `Stream` at all: the response's body is a
 * {@link RawBody}; the platform writes the status and headers (middleware headers included; sent
 * with the connection's first write) and calls `res.end(body, done)`, which an own `end`
 * property catches (set back to Node's by the call): the connection is opened there (in a fiber
 * of `runtime`, the handler's: its logger, its context) and `done` lets the request's fiber finish
 * at once. The platform's body
 * loop for a streamed response (a `Stream.runForEachChunk` per request, with its channel, scope
 * and fibers) is never run: it costs about as much again as the platform's own handling of a
 * request (bench/requests.ts). Any other call of `end` (a `HEAD` request, a response replaced by
 * middleware) goes through to Node's.
 *
 * @internal
 */
export const raw = <A>(
  res: NodeResponse,
  source: connection.PushSource<A>,
  config: () => connection.Config<A>,
  runtime: Runtime.Runtime<never>
): RawBody => {
  // no `sendHeadersAtWriteHead` here: the platform calls `end` right after `writeHead`, and the
  // connection's first write (in `open`, run synchronously by `runFork`) sends the headers
  const body = new RawBody()
  const target = res as unknown as { end: (...args: Array<unknown>) => unknown }
  const original = target.end
  target.end = function end(...args: Array<unknown>) {
    target.end = original
    if (args[0] !== body) return original.apply(res, args)
    const done = args[1]
    // interruptible: the platform handles a request uninterruptibly, and `runtime` is the handler's
    // (a custom `Schedule` heartbeat's fiber, forked from this one, is interrupted at the end)
    if (!res.writableEnded) {
      Runtime.runFork(runtime)(Effect.interruptible(new NodeConnection(config(), res).open(source)))
    }
    if (typeof done === "function") done()
    // `NodeHttpServer` adds its `'close'` listener (which holds the request's fiber, done now, with
    // its context: ≈ 2.8 KiB per idle connection) once the handler's synchronous run has returned,
    // after this call: it is released in a microtask, when it is there
    queueMicrotask(() => releasePlatformListeners(res))
    return res
  }
  return body
}

const empty = new Uint8Array(0)

/**
 * Sends the status and headers as soon as the platform sets them (`writeHead`), rather than when
 * the body's first step runs: the platform runs a body `Stream` in a fiber of its own, started
 * through the Effect scheduler, so on a busy server the client would wait behind every fiber
 * queued there before its `EventSource` opens. The headers are the platform's (middleware
 * included): `writeHead` is called through, then an empty write sends them. The own property goes
 * with the call.
 */
const sendHeadersAtWriteHead = (res: NodeResponse): void => {
  const target = res as unknown as { writeHead?: (...args: Array<unknown>) => unknown }
  if (typeof target.writeHead !== "function" || Object.prototype.hasOwnProperty.call(res, "writeHead")) return
  target.writeHead = function writeHead(...args: Array<unknown>) {
    delete target.writeHead
    const result = target.writeHead!.apply(res, args)
    if (!res.writableEnded) res.write(empty)
    return result
  }
}

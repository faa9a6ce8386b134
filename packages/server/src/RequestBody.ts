/**
 * Decoding a JSON request body with a Schema, for the POST-then-stream pattern: the body is read
 * and checked in full *before* any response starts, so a bad body is a plain `400` with a message
 * that says what is wrong, never a half-open stream.
 *
 * Every body is read under a byte limit (`maxBytes`, default {@link defaultMaxBytes}, 1 MiB): a
 * `Content-Length` above it is refused before reading anything, and a body without one is counted
 * as it arrives and reading stops at the limit (nothing past it is buffered); either way the answer
 * is a `413` with a short JSON message ({@link BodyTooLarge}). Error messages quote at most a short
 * excerpt of the body, never the whole of it.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Respondable from "@effect/platform/HttpServerRespondable"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * The request body could not be used: not JSON, not what the Schema describes, or unreadable.
 * It is `Respondable`: returned as a handler's error it becomes a `400` JSON response
 * `{ "error": "InvalidBody", "message": ... }`.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 *
 * const error = new RequestBody.InvalidBody({ reason: "schema", detail: "is missing: prompt" })
 * error.message // "invalid request body: is missing: prompt"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBody extends Data.TaggedError("InvalidBody")<{
  /** `"json"`: not valid JSON; `"schema"`: valid JSON the Schema refused; `"read"`: the body could not be read. */
  readonly reason: "json" | "schema" | "read"
  readonly detail: string
}> implements Respondable.Respondable {
  override get message(): string {
    return `invalid request body: ${this.detail}`
  }
  [Respondable.symbol]() {
    return Effect.succeed(toResponse(this))
  }
}

/**
 * The request body is larger than the limit (`maxBytes`). It is `Respondable`: returned as a
 * handler's error it becomes a `413` JSON response `{ "error": "BodyTooLarge", "limit": ..., "message": ... }`
 * with `Connection: close` (the rest of the body is not read).
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 *
 * const error = new RequestBody.BodyTooLarge({ limit: 1024, size: 4096 })
 * error.message // "request body too large: 4096 bytes, the limit is 1024 bytes"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{
  /** The limit in bytes. */
  readonly limit: number
  /** The size announced by `Content-Length`, when it was known; else undefined (counted past the limit). */
  readonly size?: number | undefined
}> implements Respondable.Respondable {
  override get message(): string {
    return this.size === undefined
      ? `request body too large: more than ${this.limit} bytes, the limit`
      : `request body too large: ${this.size} bytes, the limit is ${this.limit} bytes`
  }
  [Respondable.symbol]() {
    return Effect.succeed(toResponse(this))
  }
}

/**
 * The default byte limit of every request body read here: 1 MiB.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 *
 * RequestBody.defaultMaxBytes // 1048576
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBytes: number = 1024 * 1024

/**
 * Options of every body read.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The most bytes read from the body (default {@link defaultMaxBytes}, 1 MiB); more answers `413`. */
  readonly maxBytes?: number | undefined
}

/**
 * The response for a body error: `400` for an {@link InvalidBody}, `413` (and `Connection: close`)
 * for a {@link BodyTooLarge}.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 *
 * RequestBody.toResponse(new RequestBody.InvalidBody({ reason: "json", detail: "not JSON" })) // status 400
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toResponse = (error: InvalidBody | BodyTooLarge): HttpServerResponse.HttpServerResponse =>
  error._tag === "BodyTooLarge"
    ? jsonResponse({ error: "BodyTooLarge", limit: error.limit, message: error.message }, 413, {
      "cache-control": "no-store",
      "connection": "close"
    })
    : jsonResponse({ error: "InvalidBody", reason: error.reason, message: error.message }, 400, {
      "cache-control": "no-store"
    })

const textEncoder = new TextEncoder()

/**
 * A small JSON response with a `Content-Length`, as a one-chunk stream body. (Not a `Uint8Array`
 * body: `@effect/platform-node` 0.108 answers those with `end(body, callback)` and waits for the
 * callback, which never comes when the client is gone by then, and then never interrupts the
 * handler's fiber: one fiber leaked per such request. A bad body is exactly the request a client
 * may drop.)
 */
const jsonResponse = (value: unknown, status: number, headers: Record<string, string>) => {
  const bytes = textEncoder.encode(JSON.stringify(value))
  return HttpServerResponse.stream(Stream.make(bytes), {
    status,
    contentType: "application/json",
    contentLength: bytes.length,
    headers
  })
}

/** The longest excerpt of the body (or of a message about it) an error quotes. */
const EXCERPT = 200

/** At most `max` characters of `text`, with an ellipsis when cut. */
const excerpt = (text: string, max = EXCERPT): string => text.length <= max ? text : `${text.slice(0, max)}…`

/** The smallest part of a Node `Readable` this module uses (the request's `source` on Node). */
interface NodeReadable {
  on(event: string, listener: (...args: Array<any>) => void): unknown
  off(event: string, listener: (...args: Array<any>) => void): unknown
  pause(): unknown
  resume(): unknown
  readonly readableEnded?: boolean
  readonly destroyed?: boolean
}

const isNodeReadable = (u: unknown): u is NodeReadable =>
  typeof u === "object" && u !== null && typeof (u as NodeReadable).on === "function" &&
  typeof (u as NodeReadable).pause === "function" && typeof (u as NodeReadable).off === "function" &&
  "readableEnded" in u

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

const announced = (request: HttpServerRequest.HttpServerRequest): number | undefined => {
  const value = request.headers["content-length"]
  if (value === undefined || !/^\d+$/.test(value)) return undefined
  return Number(value)
}

/**
 * A Node request body read under the limit: listeners on the `IncomingMessage`, paused (not
 * destroyed) at the limit, so the socket stays open for the `413` (sent with `Connection: close`).
 * The platform's `request.stream` destroys the message when its reader stops, which closes the
 * socket before any answer can be written.
 */
const readNode = (source: NodeReadable, limit: number) =>
  Effect.async<Uint8Array, BodyTooLarge | InvalidBody>((resume) => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    const cleanup = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.off("aborted", onError)
      source.off("close", onClose)
    }
    const onData = (chunk: Uint8Array) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        source.pause()
        return resume(Effect.fail(new BodyTooLarge({ limit })))
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(concat(chunks, size)))
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(new InvalidBody({ reason: "read", detail: "the body could not be read" })))
    }
    // closed (the client went away) before the end: the body will never be complete
    const onClose = () => {
      if (!source.readableEnded) onError()
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    source.on("aborted", onError)
    source.on("close", onClose)
    if (source.readableEnded) onEnd()
    else if (source.destroyed) onError()
    return Effect.sync(() => {
      cleanup()
      source.pause()
    })
  })

/**
 * The request body as a stream of bytes, under the byte limit: a `Content-Length` above it fails at
 * once, else the bytes are counted and the stream fails with {@link BodyTooLarge} before passing on
 * the chunk that goes past it. For bodies read as a stream (NDJSON uploads:
 * `RequestBody.stream().pipe(Ndjson.decodeSchema(Row))`).
 *
 * Note: on Node, the platform's request stream destroys the request (and its socket) when reading
 * stops early, so a `413` answered after a stream failed mid-way may not reach the client; only the
 * `Content-Length` check answers reliably. {@link bytes} and {@link json} do not have this problem.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 * import { Ndjson } from "@streamwire/codec"
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect, Schema, Stream } from "effect"
 *
 * const Row = Schema.Struct({ id: Schema.Number })
 * const upload = Effect.gen(function*() {
 *   const count = yield* RequestBody.stream({ maxBytes: 64 * 1024 * 1024 }).pipe(
 *     Ndjson.decodeSchema(Row),
 *     Stream.runCount
 *   )
 *   return HttpServerResponse.text(`${count} rows`)
 * })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const stream = (
  options?: Options
): Stream.Stream<Uint8Array, BodyTooLarge | InvalidBody, HttpServerRequest.HttpServerRequest> =>
  Stream.unwrap(Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const limit = options?.maxBytes ?? defaultMaxBytes
    const size = announced(request)
    if (size !== undefined && size > limit) return Stream.fail(new BodyTooLarge({ limit, size }))
    let seen = 0
    return request.stream.pipe(
      Stream.mapError(() => new InvalidBody({ reason: "read", detail: "the body could not be read" })),
      Stream.mapChunksEffect((chunk) => {
        for (const bytes of chunk) seen += bytes.length
        return seen > limit ? Effect.fail(new BodyTooLarge({ limit })) : Effect.succeed(chunk)
      })
    )
  }))

/**
 * The whole request body, read under the byte limit (see {@link stream}; on Node, the request is
 * paused at the limit rather than destroyed, so the `413` reaches the client).
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const handler = Effect.map(RequestBody.bytes({ maxBytes: 4096 }), (body) => HttpServerResponse.text(`${body.length} bytes`))
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const bytes = (
  options?: Options
): Effect.Effect<Uint8Array, BodyTooLarge | InvalidBody, HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const limit = options?.maxBytes ?? defaultMaxBytes
    const size = announced(request)
    if (size !== undefined && size > limit) return Effect.fail(new BodyTooLarge({ limit, size }))
    if (isNodeReadable(request.source)) return readNode(request.source, limit)
    const chunks: Array<Uint8Array> = []
    let seen = 0
    return stream(options).pipe(
      // the chunk's work is done as it arrives and the returned Effect captures nothing: an
      // `Effect.sync` capturing the chunk is the slow drain (see the codec README, "Which drains are fast")
      Stream.runForEachChunk((chunk) => {
        for (const b of chunk) {
          chunks.push(b)
          seen += b.length
        }
        return Effect.void
      }),
      Effect.map(() => concat(chunks, seen)),
      Effect.provideService(HttpServerRequest.HttpServerRequest, request)
    )
  })

const utf8 = new TextDecoder()

/**
 * Reads the request body as JSON (under the byte limit, see {@link Options}) and decodes it with the
 * Schema. A body that is not JSON or fails the Schema is an {@link InvalidBody} whose message quotes
 * at most a short excerpt; a body over the limit is a {@link BodyTooLarge}.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 * import { HttpServerResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 *
 * const Prompt = Schema.Struct({ prompt: Schema.String })
 * const handler = Effect.gen(function*() {
 *   const { prompt } = yield* RequestBody.json(Prompt)
 *   return HttpServerResponse.text(prompt.toUpperCase())
 * }) // a bad body fails with InvalidBody, which responds 400 by itself
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const json = <A, I, R>(
  schema: Schema.Schema<A, I, R>,
  options?: Options
): Effect.Effect<A, InvalidBody | BodyTooLarge, HttpServerRequest.HttpServerRequest | R> => {
  const decode = Schema.decodeUnknown(schema, { errors: "all" })
  return Effect.flatMap(bytes(options), (body) => {
    const text = utf8.decode(body)
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      // (not the parser's message: it quotes the input)
      return Effect.fail(new InvalidBody({ reason: "json", detail: "the body is not valid JSON" }))
    }
    return Effect.mapError(
      decode(value),
      (e) => new InvalidBody({ reason: "schema", detail: excerpt(ParseResult.TreeFormatter.formatErrorSync(e), 500) })
    )
  })
}

/**
 * Decodes the JSON body with the Schema, then answers with `respond(body)`; a bad body is answered
 * with a 400, one over the byte limit with a 413 (see {@link toResponse}), and `respond` never
 * runs — never a half-open stream.
 *
 * @example
 * ```ts
 * import { RequestBody } from "@streamwire/server"
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 *
 * const Prompt = Schema.Struct({ prompt: Schema.String })
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.post("/upper", RequestBody.withJson(Prompt, ({ prompt }) => Effect.succeed(HttpServerResponse.text(prompt.toUpperCase()))))
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const withJson = <A, I, RS, E, R>(
  schema: Schema.Schema<A, I, RS>,
  respond: (body: A) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  options?: Options
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, HttpServerRequest.HttpServerRequest | RS | R> =>
  Effect.matchEffect(json(schema, options), {
    onFailure: (error) => Effect.succeed(toResponse(error)),
    onSuccess: respond
  })

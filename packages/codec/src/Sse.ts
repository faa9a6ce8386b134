/**
 * Server-Sent Events: the event model, a decoder that follows the WHATWG HTML parsing rules to the
 * letter across any chunking, an encoder whose output decodes back to the same events, and typed
 * payloads through `effect/Schema`.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { EventTooLarge, LineTooLong } from "./CodecError.js"
import type { InvalidEventData, InvalidField } from "./CodecError.js"
import * as internal from "./internal/sse.js"
import * as sseSchema from "./internal/sseSchema.js"
import { isStreamArg, transduce } from "./internal/transduce.js"

export {
  /** @since 0.1.0 */
  EventTooLarge,
  /** @since 0.1.0 */
  InvalidEventData,
  /** @since 0.1.0 */
  InvalidField,
  /** @since 0.1.0 */
  LineTooLong,
  /** @since 0.1.0 */
  MalformedUtf8
} from "./CodecError.js"

/**
 * The media type of an SSE stream.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType = "text/event-stream"

// ---------------------------------------------------------------------------------------------
// model

/**
 * A dispatched event, as the browser's `MessageEvent` sees it: its `type` (`"message"` unless an
 * `event:` field said otherwise), its `data` (the `data:` lines joined with LF) and the stream's
 * last event id at the time of dispatch (it persists across events until an `id:` changes it).
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * const e: Sse.SseEvent = Sse.unsafeEvent({ type: "tick", data: "1", id: "42" })
 * // { _tag: "SseEvent", type: "tick", data: "1", lastEventId: "42" }
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface SseEvent {
  readonly _tag: "SseEvent"
  readonly type: string
  readonly data: string
  readonly lastEventId: string
}

/**
 * A `retry:` field: the server's reconnection time hint, in milliseconds. Surfaced when asked
 * (`include: ["retry"]`). Digits only, read as base ten however large: values past 2^53 lose
 * precision and astronomically long ones read as `Infinity`.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * const r: Sse.Retry = Sse.retry("2 seconds") // { _tag: "Retry", millis: 2000 }
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Retry {
  readonly _tag: "Retry"
  readonly millis: number
}

/**
 * A comment line (`: text`), which the spec ignores; surfaced when asked (`include: ["comment"]`),
 * e.g. to see heartbeats. One leading space after the colon is removed.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * const heartbeat: Sse.Comment = Sse.comment("ping") // written as ": ping\n"
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Comment {
  readonly _tag: "Comment"
  readonly text: string
}

/**
 * The stream's last event id changed at a dispatch that produced no event (a block with an `id:`
 * but no `data:`). Surfaced when asked (`include: ["id"]`), so a client that resumes can track the
 * id exactly as `EventSource` does.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * // "id: 7\n\n" decoded with { include: ["id"] } gives { _tag: "LastEventId", id: "7" }
 * const m: Sse.LastEventId = { _tag: "LastEventId", id: "7" }
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface LastEventId {
  readonly _tag: "LastEventId"
  readonly id: string
}

/**
 * Anything an SSE stream carries.
 *
 * @since 0.1.0
 * @category model
 */
export type SseMessage = SseEvent | Retry | Comment | LastEventId

/**
 * What a decoder may surface besides events.
 *
 * @since 0.1.0
 * @category model
 */
export type Include = "retry" | "comment" | "id"

/**
 * The messages that `include` adds to the output type.
 *
 * @since 0.1.0
 * @category model
 */
export type Included<I extends Include> = [I] extends [never] ? never
  : { readonly retry: Retry; readonly comment: Comment; readonly id: LastEventId }[I]

/**
 * The fields of an event to build. `type` defaults to `"message"`, `id` to `""` (no id).
 *
 * @since 0.1.0
 * @category constructors
 */
export interface EventInput {
  readonly data: string
  readonly type?: string | undefined
  readonly id?: string | undefined
}

/**
 * Builds an event, refusing a `type` with CR or LF and an `id` with CR, LF or NUL (they would
 * inject fields when written). An `Either` is an `Effect`, so this reads well in `Stream.mapEffect`.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Either } from "effect"
 *
 * Sse.event({ data: "hello", type: "greeting", id: "1" }) // Either.right(SseEvent)
 * Either.isLeft(Sse.event({ data: "x", type: "a\nb" }))   // true: InvalidField { field: "event" }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const event = (input: EventInput): Either.Either<SseEvent, InvalidField> => {
  const type = input.type === undefined || input.type === "" ? "message" : input.type
  const id = input.id ?? ""
  const error = internal.checkType(type) ?? internal.checkId(id)
  return error
    ? Either.left(error)
    : Either.right({ _tag: "SseEvent", type, data: input.data, lastEventId: id })
}

/**
 * Like {@link event}, for values known to be valid: throws `InvalidField` otherwise.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * const e = Sse.unsafeEvent({ data: "hello", id: "1" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeEvent = (input: EventInput): SseEvent => Either.getOrThrowWith(event(input), (e) => e)

/**
 * A reconnection-time hint for clients.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * Sse.retry("3 seconds") // written as "retry: 3000\n"
 * Sse.retry(500)         // a number is milliseconds
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const retry = (duration: Duration.DurationInput): Retry => ({
  _tag: "Retry",
  millis: Math.floor(Duration.toMillis(Duration.decode(duration)))
})

/**
 * A comment; multi-line text becomes several comment lines.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * Sse.comment("keep-alive") // written as ": keep-alive\n"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const comment = (text = ""): Comment => ({ _tag: "Comment", text })

/**
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const events = Stream.make(Sse.comment(), Sse.unsafeEvent({ data: "x" })).pipe(Stream.filter(Sse.isEvent))
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isEvent = (m: SseMessage): m is SseEvent => m._tag === "SseEvent"

// ---------------------------------------------------------------------------------------------
// decoding

/**
 * Options of every SSE decoder.
 *
 * @since 0.1.0
 * @category decoding
 */
export interface ParseOptions<I extends Include = never> {
  /** Surface `Retry`, `Comment` and/or `LastEventId` messages besides events. Default: events only. */
  readonly include?: ReadonlyArray<I> | undefined
  /** Longest line accepted, in UTF-16 code units (default 1 MiB). Not used by `parse`, which gets lines. */
  readonly maxLineLength?: number | undefined
  /** Largest event data accepted, in UTF-16 code units (default 8 MiB). */
  readonly maxEventSize?: number | undefined
  /**
   * Give every value (`data`, `type`, ids, comments) a string of its own instead of a view into the
   * text of the read it came from. Off by default: a view is ~10 ns, a copy ~90 ns, and a consumer
   * that handles each event and lets it go pays nothing for views. Turn it on when events are KEPT
   * long after their read (a cache, every 100th event of a long stream): with views, each kept event
   * keeps its whole read alive (keeping every 100th event of a 256 MiB stream retained 261 MiB; with
   * `copyValues` 6.3 MiB). The same holds for a multi-line `data`: without `copyValues` it is a
   * tree of views of the read it ends in (the part from earlier reads is copied when each read ends,
   * so it never pins more than that one read; V8 flattens the tree when the value is first read), or
   * one flat string when it is shorter than 1/16 of that read or the read text is over 16 Ki
   * characters; with `copyValues` it is always a string of its own.
   */
  readonly copyValues?: boolean | undefined
}

/**
 * The `include` of some options: what `Sse.decode(options)` and the other decoders add to their
 * output (`never` for no options).
 *
 * @example
 * ```ts
 * import type { Sse } from "@streamwire/codec"
 *
 * type I = Sse.IncludeOf<{ readonly include: readonly ["retry"] }> // "retry"
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export type IncludeOf<O> = O extends { readonly include?: ReadonlyArray<infer I> | undefined } ?
  I extends Include ? I : never
  : never

/**
 * The errors of the text and byte decoders.
 *
 * @since 0.1.0
 * @category decoding
 */
export type DecodeError = EventTooLarge | LineTooLong

/**
 * Lines → events: the WHATWG "interpret the line" and "dispatch" steps. Each incoming string is
 * one complete line. With `Lines.split` upstream, pass `{ trailing: "drop" }` to it so that an
 * unterminated last line is not interpreted (the spec's rule; it only matters for surfaced
 * `retry`/`comment`, since an event is dispatched by an empty line anyway).
 *
 * Like every codec transformer, it takes its options in any of the `pipe` shapes:
 * `Sse.parse`, `Sse.parse()`, `Sse.parse(options)`, or data-first `Sse.parse(lines, options)`.
 *
 * @example
 * ```ts
 * import { Lines, Sse, Utf8 } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const events = Stream.make(new TextEncoder().encode("data: hi\n\n")).pipe(
 *   Utf8.decode,
 *   Lines.split({ trailing: "drop" }),
 *   Sse.parse
 * ) // Stream<SseEvent>
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse: <
  const A extends Stream.Stream<string, any, any> | ParseOptions<Include> | undefined = undefined,
  const I extends Include = never
>(
  selfOrOptions?: A,
  options?: ParseOptions<I>
) => [A] extends [Stream.Stream<string, infer E, infer R>] ? Stream.Stream<SseEvent | Included<I>, E | EventTooLarge, R>
  : <E, R>(
    self: Stream.Stream<string, E, R>
  ) => Stream.Stream<SseEvent | Included<IncludeOf<A>>, E | EventTooLarge, R> = dual(
    isStreamArg,
    (self: Stream.Stream<string, unknown, unknown>, options?: ParseOptions<Include>) =>
      transduce(() => new internal.LineParser(internal.config(options)))(self)
  )

/**
 * Text → events, for text that is already decoded (a fetch text stream, `Utf8.decode`). The text is
 * taken as it is: removing the BOM belongs to UTF-8 decoding (`Utf8.decode` does it, and so does
 * `TextDecoder`), so `Utf8.decode` then `Sse.decodeText` is exactly `Sse.decode`. Options as for
 * {@link decode}.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make("data: a\n", "\ndata: b\n\n").pipe(Sse.decodeText) // two events
 * Stream.make("retry: 10\n: hi\n").pipe(Sse.decodeText({ include: ["retry", "comment"] }))
 * // Stream<SseEvent | Retry | Comment>
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeText: <
  const A extends Stream.Stream<string, any, any> | ParseOptions<Include> | undefined = undefined,
  const I extends Include = never
>(
  selfOrOptions?: A,
  options?: ParseOptions<I>
) => [A] extends [Stream.Stream<string, infer E, infer R>] ? Stream.Stream<SseEvent | Included<I>, E | DecodeError, R>
  : <E, R>(self: Stream.Stream<string, E, R>) => Stream.Stream<SseEvent | Included<IncludeOf<A>>, E | DecodeError, R> =
    dual(
      isStreamArg,
      (self: Stream.Stream<string, unknown, unknown>, options?: ParseOptions<Include>) =>
        transduce(() => new internal.TextDecoderMachine(internal.config(options)))(self)
    )

/**
 * Bytes → events in one pass over each read: UTF-8 (one BOM stripped, invalid bytes as U+FFFD),
 * line splitting and the WHATWG field rules fused. The fast path; use it on HTTP bodies.
 *
 * Options: limits (`maxLineLength`, `maxEventSize`), and `include` to surface `Retry`, `Comment`
 * and `LastEventId` messages besides events. `Sse.decode`, `Sse.decode()`, `Sse.decode(options)`
 * and data-first `Sse.decode(body, options)` are the same transformer.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Effect, Stream } from "effect"
 *
 * const bytes = new TextEncoder().encode("event: tick\nid: 1\ndata: 42\n\n")
 * const program = Stream.make(bytes).pipe(Sse.decode, Stream.runCollect)
 * // [{ _tag: "SseEvent", type: "tick", data: "42", lastEventId: "1" }]
 *
 * const body = Stream.make(new TextEncoder().encode("retry: 500\n: ping\ndata: x\n\n"))
 * body.pipe(Sse.decode({ include: ["retry", "comment"], maxEventSize: 64 * 1024 }))
 * // Stream<SseEvent | Retry | Comment>
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: <
  const A extends Stream.Stream<Uint8Array, any, any> | ParseOptions<Include> | undefined = undefined,
  const I extends Include = never
>(
  selfOrOptions?: A,
  options?: ParseOptions<I>
) => [A] extends [Stream.Stream<Uint8Array, infer E, infer R>] ?
  Stream.Stream<SseEvent | Included<I>, E | DecodeError, R>
  : <E, R>(
    self: Stream.Stream<Uint8Array, E, R>
  ) => Stream.Stream<SseEvent | Included<IncludeOf<A>>, E | DecodeError, R> = dual(
    isStreamArg,
    (self: Stream.Stream<Uint8Array, unknown, unknown>, options?: ParseOptions<Include>) =>
      transduce(() => new internal.ByteDecoderMachine(internal.config(options)))(self)
  )

// ---------------------------------------------------------------------------------------------
// encoding

/**
 * Messages → SSE text, one string per input chunk. Multi-line data becomes several `data:` lines
 * (CR, LF and CRLF all split), empty data is still written (so it dispatches), an `id:` line is
 * written whenever an event's `lastEventId` differs from the one before. A type with CR/LF, an id
 * with CR/LF/NUL or a bad retry fails the stream with `InvalidField` before any of that message
 * is written.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * Stream.make(Sse.retry(1000), Sse.unsafeEvent({ data: "a\nb", id: "1" })).pipe(Sse.render)
 * // "retry: 1000\nid: 1\ndata: a\ndata: b\n\n"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const render = <E, R>(self: Stream.Stream<SseMessage, E, R>): Stream.Stream<string, E | InvalidField, R> =>
  transduce(() => new internal.Renderer())(self)

const encoder = new TextEncoder()

/**
 * Messages → UTF-8 bytes: {@link render} then one `TextEncoder` call per chunk.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Stream } from "effect"
 *
 * const body = Stream.make(Sse.unsafeEvent({ data: "hello" })).pipe(Sse.encode) // Stream<Uint8Array>
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = <E, R>(self: Stream.Stream<SseMessage, E, R>): Stream.Stream<Uint8Array, E | InvalidField, R> =>
  render(self).pipe(Stream.mapChunks(Chunk.map((s) => encoder.encode(s))))

/**
 * Renders one message to text (no state: an event's id is written when non-empty).
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * Sse.renderMessage(Sse.unsafeEvent({ data: "x", id: "9" })) // Either.right("id: 9\ndata: x\n\n")
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const renderMessage = (message: SseMessage): Either.Either<string, InvalidField> => renderer().render(message)

/**
 * The encoder's rules for one stream, one message at a time — the building block for a server
 * that writes its own batches: `render` gives the text of a message (an `id:` line only when the
 * event's `lastEventId` differs from the stream's), or the `InvalidField` that keeps it from being
 * written. `lastEventId` is the id the client holds after what was rendered. Bytes written
 * elsewhere that set the id (e.g. shared by several connections) are accounted for by rendering a
 * `LastEventId` message and dropping its text.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * const r = Sse.renderer()
 * r.render(Sse.unsafeEvent({ data: "a", id: "1" })) // Either.right("id: 1\ndata: a\n\n")
 * r.render(Sse.unsafeEvent({ data: "b", id: "1" })) // Either.right("data: b\n\n")
 * r.lastEventId // "1"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export interface Renderer {
  render(message: SseMessage): Either.Either<string, InvalidField>
  readonly lastEventId: string
}

/**
 * A fresh {@link Renderer} (the client holds no id yet).
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 *
 * const text = Sse.renderer().render(Sse.retry("1 second")) // Either.right("retry: 1000\n")
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const renderer = (): Renderer => {
  const r = new internal.Renderer()
  return {
    render: (message) => {
      const text = r.render(message)
      return typeof text === "string" ? Either.right(text) : Either.left(text)
    },
    get lastEventId() {
      return r.lastEventId
    }
  }
}

// ---------------------------------------------------------------------------------------------
// typed payloads

/**
 * An event whose data has been decoded.
 *
 * @since 0.1.0
 * @category schema
 */
export interface TypedEvent<T extends string, A> {
  readonly type: T
  readonly data: A
  readonly lastEventId: string
}

/**
 * Decodes each event's data with a Schema from string (use `Schema.parseJson(...)` for JSON
 * payloads). A failure ends the stream with `InvalidEventData`, naming the event type and id.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Schema, Stream } from "effect"
 *
 * const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))
 * Stream.make(new TextEncoder().encode('data: {"n":1}\n\n')).pipe(Sse.decode, Sse.decodeSchema(Tick))
 * // Stream<{ readonly n: number }>
 * ```
 *
 * @since 0.1.0
 * @category schema
 */
export const decodeSchema: {
  <A, I extends string>(
    schema: Schema.Schema<A, I, never>
  ): <E, R>(self: Stream.Stream<SseEvent, E, R>) => Stream.Stream<A, E | InvalidEventData, R>
  <E, R, A, I extends string>(
    self: Stream.Stream<SseEvent, E, R>,
    schema: Schema.Schema<A, I, never>
  ): Stream.Stream<A, E | InvalidEventData, R>
} = sseSchema.decodeSchema

/**
 * One Schema (from the data string) per event type.
 *
 * @since 0.1.0
 * @category schema
 */
export type EventSchemas = { readonly [type: string]: Schema.Schema<any, string, never> }

/**
 * The union of typed events a map of schemas describes.
 *
 * @since 0.1.0
 * @category schema
 */
export type EventsOf<S extends EventSchemas> = {
  [K in keyof S & string]: TypedEvent<K, Schema.Schema.Type<S[K]>>
}[keyof S & string]

/**
 * Options of {@link decodeSchemas}.
 *
 * @since 0.1.0
 * @category schema
 */
export interface DecodeSchemasOptions {
  /** An event whose type has no schema: ignored (as `EventSource` ignores types nobody listens to, the default) or a failure. */
  readonly onUnknownType?: "ignore" | "fail" | undefined
}

/**
 * Decodes several event types, each with its own Schema, into a union discriminated by `type`.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Schema, Stream } from "effect"
 *
 * const User = Schema.parseJson(Schema.Struct({ name: Schema.String }))
 * const Message = Schema.parseJson(Schema.Struct({ from: Schema.String, text: Schema.String }))
 *
 * const events = (body: Stream.Stream<Uint8Array>) =>
 *   body.pipe(Sse.decode, Sse.decodeSchemas({ userconnect: User, usermessage: Message }))
 * // Stream<TypedEvent<"userconnect", { name: string }> | TypedEvent<"usermessage", { from: string; text: string }>>
 * ```
 *
 * @since 0.1.0
 * @category schema
 */
export const decodeSchemas: {
  <S extends EventSchemas>(
    schemas: S,
    options?: DecodeSchemasOptions
  ): <E, R>(self: Stream.Stream<SseEvent, E, R>) => Stream.Stream<EventsOf<S>, E | InvalidEventData, R>
  <E, R, S extends EventSchemas>(
    self: Stream.Stream<SseEvent, E, R>,
    schemas: S,
    options?: DecodeSchemasOptions
  ): Stream.Stream<EventsOf<S>, E | InvalidEventData, R>
} = sseSchema.decodeSchemas

/**
 * A typed event to write: the data, the type and an optional id.
 *
 * @since 0.1.0
 * @category schema
 */
export type OutgoingOf<S extends EventSchemas> = {
  [K in keyof S & string]: {
    readonly type: K
    readonly data: Schema.Schema.Type<S[K]>
    readonly id?: string | undefined
  }
}[keyof S & string]

/**
 * Encodes values with a Schema to string and wraps each in an event (`type` optional).
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Schema, Stream } from "effect"
 *
 * const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))
 * Stream.make({ n: 1 }, { n: 2 }).pipe(Sse.encodeSchema(Tick), Sse.encode) // data: {"n":1} ...
 * ```
 *
 * @since 0.1.0
 * @category schema
 */
export const encodeSchema: {
  <A, I extends string>(
    schema: Schema.Schema<A, I, never>,
    options?: { readonly type?: string | undefined }
  ): <E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<SseEvent, E | InvalidEventData | InvalidField, R>
  <E, R, A, I extends string>(
    self: Stream.Stream<A, E, R>,
    schema: Schema.Schema<A, I, never>,
    options?: { readonly type?: string | undefined }
  ): Stream.Stream<SseEvent, E | InvalidEventData | InvalidField, R>
} = sseSchema.encodeSchema

/**
 * Encodes typed events, each type with its own Schema, into events ready for `encode`.
 *
 * @example
 * ```ts
 * import { Sse } from "@streamwire/codec"
 * import { Schema, Stream } from "effect"
 *
 * const schemas = { tick: Schema.parseJson(Schema.Struct({ n: Schema.Number })) }
 * Stream.make({ type: "tick" as const, data: { n: 1 }, id: "1" }).pipe(Sse.encodeSchemas(schemas), Sse.encode)
 * ```
 *
 * @since 0.1.0
 * @category schema
 */
export const encodeSchemas: {
  <S extends EventSchemas>(
    schemas: S
  ): <E, R>(self: Stream.Stream<OutgoingOf<S>, E, R>) => Stream.Stream<SseEvent, E | InvalidEventData | InvalidField, R>
  <E, R, S extends EventSchemas>(
    self: Stream.Stream<OutgoingOf<S>, E, R>,
    schemas: S
  ): Stream.Stream<SseEvent, E | InvalidEventData | InvalidField, R>
} = sseSchema.encodeSchemas

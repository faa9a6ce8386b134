/**
 * The Schema side of `Sse`: event data decoded and encoded with `effect/Schema`, one schema or one
 * per event type. Each helper maps every element of a chunk through one function that may skip it
 * or fail the stream.
 *
 * @internal
 */
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { excerptOf, InvalidEventData, type InvalidField } from "../CodecError.js"
import type * as Sse from "../Sse.js"
import { checkId, checkType } from "./sse.js"
import { isStreamArg, transduce } from "./transduce.js"

/** Maps each element, skipping it on `undefined` and failing the stream on a `Left`. */
const mapEither =
  <A, B, X>(f: (a: A) => Either.Either<B, X> | undefined) =>
  <E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<B, E | X, R> =>
    transduce<A, B, X>(() => ({
      push(input, out) {
        for (let i = 0; i < input.length; i++) {
          const r = f(input[i]!)
          if (r === undefined) continue
          if (Either.isLeft(r)) return r.left
          out.push(r.right)
        }
        return undefined
      },
      end: () => undefined
    }))(self)

const invalidData = (e: Sse.SseEvent, cause: unknown) =>
  new InvalidEventData({ type: e.type, lastEventId: e.lastEventId, excerpt: excerptOf(e.data), cause })

const noSchema = (type: string) => `no schema for event type "${type}"`

/** @internal */
export const decodeSchema: typeof Sse.decodeSchema = dual(
  2,
  <E, R, A>(self: Stream.Stream<Sse.SseEvent, E, R>, schema: Schema.Schema<A, string, never>) => {
    const decode = Schema.decodeEither(schema)
    return mapEither((e: Sse.SseEvent) => Either.mapLeft(decode(e.data), (cause) => invalidData(e, cause)))(self)
  }
)

/** @internal */
export const decodeSchemas: typeof Sse.decodeSchemas = dual(
  isStreamArg,
  <E, R>(
    self: Stream.Stream<Sse.SseEvent, E, R>,
    schemas: Sse.EventSchemas,
    options?: Sse.DecodeSchemasOptions
  ): Stream.Stream<Sse.TypedEvent<string, unknown>, E | InvalidEventData, R> => {
    const decoders = new Map<string, (u: string) => Either.Either<unknown, unknown>>()
    for (const type of Object.keys(schemas)) decoders.set(type, Schema.decodeEither(schemas[type]!))
    const fail = options?.onUnknownType === "fail"
    return mapEither(
      (e: Sse.SseEvent): Either.Either<Sse.TypedEvent<string, unknown>, InvalidEventData> | undefined => {
        const decode = decoders.get(e.type)
        if (decode === undefined) return fail ? Either.left(invalidData(e, noSchema(e.type))) : undefined
        return Either.match(decode(e.data), {
          onLeft: (cause) => Either.left(invalidData(e, cause)),
          onRight: (data) => Either.right({ type: e.type, data, lastEventId: e.lastEventId })
        })
      }
    )(self)
  }
)

/** @internal */
export const encodeSchema: typeof Sse.encodeSchema = dual(
  isStreamArg,
  <E, R, A>(
    self: Stream.Stream<A, E, R>,
    schema: Schema.Schema<A, string, never>,
    options?: { readonly type?: string | undefined }
  ): Stream.Stream<Sse.SseEvent, E | InvalidEventData | InvalidField, R> => {
    const encode = Schema.encodeEither(schema)
    const type = options?.type ?? "message"
    const bad = checkType(type)
    if (bad) return Stream.fail(bad)
    return mapEither((a: A) =>
      Either.match(encode(a), {
        onLeft: (cause) => Either.left(new InvalidEventData({ type, lastEventId: "", excerpt: "", cause })),
        onRight: (data): Either.Either<Sse.SseEvent, InvalidEventData> =>
          Either.right({ _tag: "SseEvent", type, data, lastEventId: "" })
      })
    )(self)
  }
)

/** An event of a checked type and id (as `Sse.event` builds it). */
const checkedEvent = (type: string, data: string, id: string): Either.Either<Sse.SseEvent, InvalidField> => {
  const t = type === "" ? "message" : type
  const error = checkType(t) ?? checkId(id)
  return error ? Either.left(error) : Either.right({ _tag: "SseEvent", type: t, data, lastEventId: id })
}

/** @internal */
export const encodeSchemas: typeof Sse.encodeSchemas = dual(
  2,
  <E, R>(
    self: Stream.Stream<Sse.OutgoingOf<Sse.EventSchemas>, E, R>,
    schemas: Sse.EventSchemas
  ): Stream.Stream<Sse.SseEvent, E | InvalidEventData | InvalidField, R> => {
    const encoders = new Map<string, (a: unknown) => Either.Either<string, unknown>>()
    for (const type of Object.keys(schemas)) encoders.set(type, Schema.encodeEither(schemas[type]!))
    return mapEither(
      (o: Sse.OutgoingOf<Sse.EventSchemas>): Either.Either<Sse.SseEvent, InvalidEventData | InvalidField> => {
        const encode = encoders.get(o.type)
        const id = o.id ?? ""
        if (encode === undefined) {
          return Either.left(
            new InvalidEventData({ type: o.type, lastEventId: id, excerpt: "", cause: noSchema(o.type) })
          )
        }
        return Either.match(encode(o.data), {
          onLeft: (cause) => Either.left(new InvalidEventData({ type: o.type, lastEventId: id, excerpt: "", cause })),
          onRight: (data) => checkedEvent(o.type, data, id)
        })
      }
    )(self)
  }
)

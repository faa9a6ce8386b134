import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import * as Testing from "@streamwire/codec/testing"
import { Effect, FastCheck as fc, Stream } from "effect"
import { collect } from "./utils.js"

/** Encodes, joins the bytes, cuts them at `at`, decodes. */
const roundTrip = <const I extends Sse.Include = never>(
  messages: ReadonlyArray<Sse.SseMessage>,
  at: ReadonlyArray<number>,
  options: Sse.ParseOptions<I> = {}
) =>
  Effect.gen(function*() {
    const encoded = yield* collect(Stream.fromIterable(messages).pipe(Sse.encode))
    expect(encoded.error).toBeUndefined()
    const bytes = new Uint8Array(encoded.out.flatMap((b) => Array.from(b)))
    const decoded = yield* collect(Testing.toStream(Testing.cutAt(bytes, at)).pipe(Sse.decode(options)))
    expect(decoded.error).toBeUndefined()
    return decoded.out
  })

const normalized = (e: Sse.SseEvent): Sse.SseEvent => ({ ...e, data: Testing.normalizeData(e.data) })

describe("Sse round trip", () => {
  it.effect.prop(
    "decode(encode(events)) is the events, with CR and CRLF in data as LF",
    [fc.array(Testing.sseEvent, { maxLength: 20 }), fc.array(fc.nat(4000), { maxLength: 10 })],
    ([events, at]) =>
      Effect.gen(function*() {
        expect(yield* roundTrip(events, at)).toEqual(events.map(normalized))
      })
  )

  it.effect.prop(
    "events, retries and comments come back in order (include retry and comment)",
    [
      fc.array(fc.oneof({ arbitrary: Testing.sseEvent, weight: 3 }, Testing.retry, Testing.comment), { maxLength: 20 }),
      fc.array(fc.nat(4000), { maxLength: 10 })
    ],
    ([messages, at]) =>
      Effect.gen(function*() {
        const expected = messages.map((m) => (m._tag === "SseEvent" ? normalized(m) : m))
        expect(yield* roundTrip(messages, at, { include: ["retry", "comment"] })).toEqual(expected)
      })
  )

  it.effect.prop(
    "events built with Sse.event from arbitrary type, id and data round-trip, or are refused at construction",
    [fc.array(
      fc.record({
        data: Testing.eventData,
        type: fc.string({ unit: Testing.char({ lineBreaks: true }), maxLength: 6 }),
        id: fc.string({ unit: Testing.char({ lineBreaks: true }), maxLength: 6 })
      }),
      { maxLength: 10 }
    )],
    ([inputs]) =>
      Effect.gen(function*() {
        const built = inputs.map(Sse.event)
        for (const [i, r] of built.entries()) {
          const { id, type } = inputs[i]!
          const bad = /[\r\n]/.test(type) || /[\r\n\0]/.test(id)
          expect(r._tag === "Left").toBe(bad)
        }
        const events = built.flatMap((r) => (r._tag === "Right" ? [r.right] : []))
        expect(yield* roundTrip(events, [])).toEqual(events.map(normalized))
      })
  )
})

import { HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { SseResponse } from "@streamwire/server"
import { FastCheck as fc, Option } from "effect"

/** A request whose header value is the given bytes, one character per byte (as Node hands it over). */
const withHeader = (bytes: Uint8Array, url = "http://x/events") =>
  HttpServerRequest.fromWeb(new Request(url, { headers: { "last-event-id": Buffer.from(bytes).toString("latin1") } }))

const utf8 = (s: string) => new TextEncoder().encode(s)

describe("SseResponse.lastEventIdOf", () => {
  it("reads the header's bytes as UTF-8: any id without CR, LF or NUL (nor spaces at either end) comes back as sent", () => {
    fc.assert(
      fc.property(
        fc.fullUnicodeString({ minLength: 1, maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s) && s.trim() === s // (HTTP trims spaces at either end of a header value)
        ),
        (id) => {
          expect(SseResponse.lastEventIdOf(withHeader(utf8(id)))).toEqual(Option.some(id))
        }
      ),
      { numRuns: 500 }
    )
    expect(SseResponse.lastEventIdOf(withHeader(utf8("ид")))).toEqual(Option.some("ид"))
    expect(SseResponse.lastEventIdOf(withHeader(utf8("😀")))).toEqual(Option.some("😀"))
  })

  it("bytes that are not UTF-8 are taken one character per byte (latin1)", () => {
    expect(SseResponse.lastEventIdOf(withHeader(new Uint8Array([0xe9])))).toEqual(Option.some("é"))
    expect(SseResponse.lastEventIdOf(withHeader(new Uint8Array([0x61, 0xff, 0xfe])))).toEqual(
      Option.some("a\u00ff\u00fe")
    )
    expect(SseResponse.lastEventIdOf(withHeader(new Uint8Array([0xed, 0xa0, 0x80])))).toEqual(
      Option.some("\u00ed\u00a0\u0080")
    )
  })

  it("the query parameter decodes as URLSearchParams does; invalid escapes never throw", () => {
    const query = (q: string) =>
      SseResponse.lastEventIdOf(HttpServerRequest.fromWeb(new Request(`http://x/events?${q}`)))
    expect(query("lastEventId=%D0%B8%D0%B4")).toEqual(Option.some("ид"))
    expect(query("lastEventId=a+b")).toEqual(Option.some("a b"))
    expect(query("lastEventId=%zz%")).toEqual(Option.some("%zz%"))
    expect(query("lastEventId=%FF")).toEqual(Option.some("\uFFFD"))
    expect(query("lastEventId=")).toEqual(Option.none())
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom("%", "%F", "%FF", "%C3", "%E0%80", "%ED%A0%80", "%00", "+", "&", "="),
            fc.string({ maxLength: 3 })
          )
        ),
        (parts) => {
          const result = query(`lastEventId=${encodeURI(parts.join(""))}`)
          expect(Option.isOption(result)).toBe(true)
        }
      ),
      { numRuns: 300 }
    )
  })
})

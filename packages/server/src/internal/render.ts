/**
 * SSE messages to bytes for one connection, with the codec's rendering rules (`Sse.renderMessage`)
 * and the one piece of state they have: an `id:` line is written only when an event's id differs
 * from the previous one.
 *
 * Events of the in-memory log followed by several connections are rendered and encoded once: the
 * bytes are kept on the log's entry (they go when the log drops it) and every connection writes
 * the same `Uint8Array`.
 *
 * @internal
 */
import { Sse } from "@streamwire/codec"
import * as Either from "effect/Either"
import type { Out } from "./connection.js"
import type { Entry } from "./memoryLog.js"

const encoder = new TextEncoder()


/** @internal */
export class SseEncoder {
  /** The last id written on this connection. */
  private id = ""
  /** `share`: whether events are shared by several connections now (worth keeping their bytes); undefined when they never are. */
  constructor(private readonly share: (() => boolean) | undefined) {}

  /**
   * Encodes an event of the in-memory log: its bytes are made once (what a fresh renderer writes,
   * the same on every connection) and kept on the log's entry while several connections follow
   * the log; for one, the text is encoded with the rest of the batch.
   */
  encodeEntry(entry: Entry, out: Out): Sse.InvalidField | undefined {
    const id = entry.event.lastEventId
    // log ids are never empty: the shared bytes (with their id line) fit after any other id
    if (id === this.id || id === "") return this.encode(entry.event, out)
    if (entry.bytes === undefined) {
      if (this.share === undefined || !this.share()) return this.encode(entry.event, out)
      const r = Sse.renderMessage(entry.event)
      if (Either.isLeft(r)) return r.left
      entry.bytes = encoder.encode(r.right)
    }
    out.bytes(entry.bytes)
    this.id = id
    return undefined
  }

  /** Encodes one message into `out`; returns `InvalidField` if it cannot be written. */
  encode(m: Sse.SseMessage, out: Out): Sse.InvalidField | undefined {
    switch (m._tag) {
      case "SseEvent": {
        const id = m.lastEventId
        if (id !== this.id ? id !== "" : id === "") {
          // what a fresh renderer writes: the same bytes on every connection
          const r = Sse.renderMessage(m)
          if (Either.isLeft(r)) return r.left
          out.text(r.right)
          this.id = id
          return undefined
        }
        if (id === "") {
          // back to no id after one: an empty id line resets the client's
          const r = Sse.renderMessage(m)
          if (Either.isLeft(r)) return r.left
          out.text("id:\n" + r.right)
          this.id = ""
          return undefined
        }
        // the same id again: no id line
        const r = Sse.renderMessage({ ...m, lastEventId: "" })
        if (Either.isLeft(r)) return r.left
        out.text(r.right)
        return undefined
      }
      case "LastEventId": {
        if (m.id === this.id) return undefined
        if (m.id === "") {
          out.text("id:\n\n")
        } else {
          const r = Sse.renderMessage(m)
          if (Either.isLeft(r)) return r.left
          out.text(r.right)
        }
        this.id = m.id
        return undefined
      }
      default: {
        const r = Sse.renderMessage(m)
        if (Either.isLeft(r)) return r.left
        out.text(r.right)
        return undefined
      }
    }
  }
}

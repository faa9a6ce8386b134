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
import type { Entry } from "./attach.js"
import type { Out } from "./connection.js"

const encoder = new TextEncoder()

/** @internal */
export class SseEncoder {
  /** The codec's rendering rules and the one piece of state they have: the id the client holds. */
  private readonly renderer = Sse.renderer()
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
    if (id === this.renderer.lastEventId || id === "") return this.encode(entry.event, out)
    if (entry.bytes === undefined) {
      if (this.share === undefined || !this.share()) return this.encode(entry.event, out)
      const r = Sse.renderMessage(entry.event)
      if (Either.isLeft(r)) return r.left
      entry.bytes = encoder.encode(r.right)
    }
    out.bytes(entry.bytes)
    // the shared bytes carried `id:`: the client holds it now (rendering a `LastEventId` message
    // is how the renderer is told; its own text is not written)
    this.renderer.render({ _tag: "LastEventId", id })
    return undefined
  }

  /** Encodes one message into `out`; returns `InvalidField` if it cannot be written. */
  encode(m: Sse.SseMessage, out: Out): Sse.InvalidField | undefined {
    const r = this.renderer.render(m)
    if (Either.isLeft(r)) return r.left
    if (r.right.length > 0) out.text(r.right)
    return undefined
  }
}

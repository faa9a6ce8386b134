/** @internal */
import { MalformedUtf8 } from "../CodecError.js"

/**
 * Reads of this size or less stay on V8's fast string paths; larger reads are decoded in slices.
 *
 * @internal
 */
export const SLICE = 32 * 1024

/** @internal */
export interface Utf8Options {
  readonly bom?: "strip" | "keep" | undefined
  readonly onMalformed?: "replace" | "fail" | undefined
}

/**
 * Streaming UTF-8 decoder. A character split across chunks is decoded whole; one BOM at the very
 * start is stripped unless asked to keep it; invalid sequences become U+FFFD or, with
 * `onMalformed: "fail"`, a `MalformedUtf8` carrying the byte offset. A sequence truncated by the
 * end of the stream becomes U+FFFD (or the error): never dropped silently.
 *
 * @internal
 */
export class Utf8Decoder {
  private readonly decoder: TextDecoder
  private readonly fatal: boolean
  /** Bytes consumed before the current chunk. */
  private consumed = 0
  /** The last bytes of the previous chunk that start an unfinished sequence (fatal mode only). */
  private tail: Uint8Array = new Uint8Array(0)

  constructor(options?: Utf8Options) {
    this.fatal = options?.onMalformed === "fail"
    this.decoder = new TextDecoder("utf-8", { fatal: this.fatal, ignoreBOM: options?.bom === "keep" })
  }

  /** Decodes one read; returns the text, or the error in fatal mode. */
  decode(bytes: Uint8Array): string | MalformedUtf8 {
    if (!this.fatal) {
      this.consumed += bytes.length
      return this.decoder.decode(bytes, { stream: true })
    }
    try {
      const text = this.decoder.decode(bytes, { stream: true })
      this.tail = unfinishedTail(this.tail, bytes)
      this.consumed += bytes.length
      return text
    } catch {
      const joined = concat(this.tail, bytes)
      const at = firstInvalid(joined)
      return new MalformedUtf8({ offset: this.consumed - this.tail.length + at, truncated: false })
    }
  }

  /** Flushes the decoder at end of stream. */
  end(): string | MalformedUtf8 {
    if (!this.fatal) return this.decoder.decode()
    try {
      return this.decoder.decode()
    } catch {
      return new MalformedUtf8({ offset: this.consumed - this.tail.length, truncated: true })
    }
  }
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** Length of a sequence by its lead byte; 0 for a byte that cannot lead. */
const seqLength = (b: number): number => b < 0x80 ? 1 : b < 0xc2 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 0

/** The trailing bytes of `prev ++ bytes` that begin a sequence not yet complete. */
const unfinishedTail = (prev: Uint8Array, bytes: Uint8Array): Uint8Array => {
  const all = bytes.length >= 3 ? bytes : concat(prev, bytes)
  const n = all.length
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = all[n - back]!
    if (b >= 0x80 && b < 0xc0) continue // continuation byte: keep looking for the lead
    const len = seqLength(b)
    return len > back ? all.slice(n - back) : new Uint8Array(0)
  }
  return new Uint8Array(0)
}

/**
 * Index of the first byte of the first invalid sequence (WHATWG decoder rules), or `bytes.length`
 * when the bytes end inside a sequence.
 */
export const firstInvalid = (bytes: Uint8Array): number => {
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    const len = seqLength(b)
    if (len === 0) return i
    let lo = 0x80, hi = 0xbf
    if (b === 0xe0) lo = 0xa0
    else if (b === 0xed) hi = 0x9f
    else if (b === 0xf0) lo = 0x90
    else if (b === 0xf4) hi = 0x8f
    for (let k = 1; k < len; k++) {
      if (i + k >= n) return i
      const c = bytes[i + k]!
      if (c < lo || c > hi) return i
      lo = 0x80
      hi = 0xbf
    }
    i += len
  }
  return n
}

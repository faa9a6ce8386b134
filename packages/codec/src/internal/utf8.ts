/** @internal */
import { MalformedUtf8 } from "../CodecError.js"
import type { Transducer } from "./transduce.js"

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
  private readonly decoder: InstanceType<typeof TextDecoder> | undefined
  private readonly fatal: boolean
  private readonly keepBom: boolean
  /** Bytes consumed before the current chunk. */
  private consumed = 0
  /** The last bytes of the previous chunk that start an unfinished sequence (fatal mode only). */
  private tail: Uint8Array = new Uint8Array(0)
  /** Fast path: the bytes of an unfinished sequence carried to the next chunk. */
  private pending: Uint8Array | undefined = undefined
  private started = false
  /**
   * Set by `decode` (replacement mode) when the text it returned is `ascii`, one character per
   * byte, so a part of the text can be copied straight from the bytes.
   */
  ascii: Uint8Array | undefined = undefined

  constructor(options?: Utf8Options) {
    this.fatal = options?.onMalformed === "fail"
    this.keepBom = options?.bom === "keep"
    this.decoder = this.fatal ? new TextDecoder("utf-8", { fatal: true, ignoreBOM: this.keepBom }) : undefined
  }

  /** Decodes one read; returns the text, or the error in fatal mode. */
  decode(bytes: Uint8Array): string | MalformedUtf8 {
    if (this.decoder === undefined) return this.bom(this.decodeFast(bytes))
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
    if (this.decoder === undefined) {
      const rest = this.pending
      this.pending = undefined
      return rest === undefined ? "" : this.bom(decodeLast(rest))
    }
    if (!this.fatal) return this.decoder.decode()
    try {
      return this.decoder.decode()
    } catch {
      return new MalformedUtf8({ offset: this.consumed - this.tail.length, truncated: true })
    }
  }

  /** Removes one U+FEFF at the very start of the stream (unless asked to keep it). */
  private bom(text: string): string {
    if (this.started || text.length === 0) return text
    this.started = true
    return !this.keepBom && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  }

  /**
   * Replacement-mode decoding. A sequence cut by the end of a read is carried over and completed
   * with the first bytes of the next one, so the body of each read is whole UTF-8 and is decoded in
   * one call: on Node, an all-ASCII body (the common case for SSE and JSON) is read with
   * `Buffer#latin1Slice`, about 5× faster than `TextDecoder`; anything else goes to `TextDecoder`.
   */
  private decodeFast(bytes: Uint8Array): string {
    let start = 0
    let head = ""
    const pending = this.pending
    if (pending !== undefined) {
      const need = seqLength(pending[0]!) - pending.length
      let take = 0
      while (take < need && take < bytes.length && continues(pending[0]!, pending.length + take, bytes[take]!)) take++
      if (take < need && take === bytes.length) {
        this.pending = concat(pending, bytes)
        return ""
      }
      // complete, or broken by a byte that cannot continue it: either way decodable now
      const piece = concat(pending, bytes.subarray(0, take))
      head = decodeLast(piece)
      this.pending = undefined
      start = take
    }
    let end = bytes.length
    const tail = incompleteTail(bytes, start, end)
    if (tail > 0) {
      this.pending = bytes.slice(end - tail)
      end -= tail
    }
    // Sequences left unfinished just before the carried one are broken by its lead byte: decode
    // them apart (flushed), so the body ends cleanly and the fast streaming decode keeps no state.
    let clean = end
    for (let broken = incompleteTail(bytes, start, clean); broken > 0; broken = incompleteTail(bytes, start, clean)) {
      clean -= broken
    }
    this.ascii = undefined
    if (start >= end) return head
    if (
      head.length === 0 && start === 0 && clean === bytes.length && nodeBuffer !== undefined &&
      nodeBuffer.isAscii(bytes)
    ) {
      this.ascii = bytes
      return latin1Slice.call(bytes, 0, bytes.length)
    }
    let text = start < clean ? decodeWhole(bytes, start, clean) : ""
    if (clean < end) text += decodeLast(bytes.subarray(clean, end))
    return head.length === 0 ? text : head + text
  }
}

interface NodeBufferModule {
  readonly isAscii: (input: ArrayBufferView) => boolean
  readonly Buffer: {
    readonly prototype: { readonly latin1Slice: (this: Uint8Array, start: number, end: number) => string }
  }
}

/** `node:buffer` where the runtime has it (Node ≥ 20.16), without a static import. */
const nodeBuffer: NodeBufferModule | undefined = (() => {
  try {
    const proc = (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process
    const m = proc?.getBuiltinModule?.("node:buffer") as Partial<NodeBufferModule> | undefined
    return typeof m?.isAscii === "function" && typeof m.Buffer?.prototype?.latin1Slice === "function"
      ? m as NodeBufferModule
      : undefined
  } catch {
    return undefined
  }
})()

/**
 * `Buffer#latin1Slice` (Node): bytes `[start, end)` as a new flat one-byte string. For ASCII
 * bytes, the same text as `TextDecoder` gives, about 5× faster.
 *
 * @internal
 */
export const latin1Slice: (this: Uint8Array, start: number, end: number) => string = nodeBuffer === undefined
  ? function(this: Uint8Array, start: number, end: number) {
    return wholeDecoder.decode(this.subarray(start, end))
  }
  : nodeBuffer.Buffer.prototype.latin1Slice

/**
 * Decodes bytes that hold no unfinished sequence at their end (U+FEFF kept). The streaming mode is
 * used although nothing is carried over: on Node 20 it is twice as fast as a one-shot `decode`,
 * and bytes that do not end inside a sequence leave no state behind in the decoder.
 */
const wholeDecoder = new TextDecoder("utf-8", { ignoreBOM: true })
const STREAM = { stream: true } as const
const decodeWhole = nodeBuffer === undefined
  ? (bytes: Uint8Array, start: number, end: number): string =>
    wholeDecoder.decode(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), STREAM)
  : (bytes: Uint8Array, start: number, end: number): string => {
    const body = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)
    return nodeBuffer.isAscii(body)
      ? nodeBuffer.Buffer.prototype.latin1Slice.call(body, 0, body.length)
      : wholeDecoder.decode(body, STREAM)
  }

/** Decodes bytes that may end inside a sequence (a carried piece, the end of the stream): flushed. */
const lastDecoder = new TextDecoder("utf-8", { ignoreBOM: true })
const decodeLast = (bytes: Uint8Array): string => lastDecoder.decode(bytes)

/** Can byte `b` stand at position `index` (1-based continuation) of a sequence led by `lead`? */
const continues = (lead: number, index: number, b: number): boolean => {
  if (index === 1) {
    if (lead === 0xe0) return b >= 0xa0 && b <= 0xbf
    if (lead === 0xed) return b >= 0x80 && b <= 0x9f
    if (lead === 0xf0) return b >= 0x90 && b <= 0xbf
    if (lead === 0xf4) return b >= 0x80 && b <= 0x8f
  }
  return b >= 0x80 && b <= 0xbf
}

/** How many bytes at the end of `bytes[start, end)` are a valid but unfinished sequence. */
const incompleteTail = (bytes: Uint8Array, start: number, end: number): number => {
  for (let at = end - 1; at >= start && at >= end - 3; at--) {
    const b = bytes[at]!
    if (b >= 0x80 && b <= 0xbf) continue
    const len = seqLength(b)
    if (len <= 1 || end - at >= len) return 0
    for (let k = at + 1; k < end; k++) if (!continues(b, k - at, bytes[k]!)) return 0
    return end - at
  }
  return 0
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

/**
 * `Utf8.decode`'s state machine: one decoder over the stream, reads over {@link SLICE} decoded in slices.
 *
 * @internal
 */
export const decoder = (options: Utf8Options): Transducer<Uint8Array, string, MalformedUtf8> => {
  const decoder = new Utf8Decoder(options)
  return {
    push(input, out) {
      for (let i = 0; i < input.length; i++) {
        const bytes = input[i]!
        for (let at = 0; at < bytes.length; at += SLICE) {
          const text = decoder.decode(bytes.length <= SLICE ? bytes : bytes.subarray(at, at + SLICE))
          if (typeof text !== "string") return text
          if (text.length > 0) out.push(text)
        }
      }
      return undefined
    },
    end(out) {
      const text = decoder.end()
      if (typeof text !== "string") return text
      if (text.length > 0) out.push(text)
      return undefined
    }
  }
}

/**
 * Reads taken in pieces for a machine that bounds the values built per output chunk (the bridge's
 * `more`/`resume`): a read over {@link PIECE} bytes is cut into near-equal pieces of at most
 * `PIECE`, one output chunk each; smaller reads are taken together up to `PIECE` bytes. With whole
 * 64 KiB reads (~470 values a chunk), a drain that holds each chunk in an Effect ran at a tenth to
 * a third of the eager drain (codec README, "Which drains are fast, and why").
 *
 * @internal
 */
export class Pieces {
  static readonly PIECE = 16 * 1024
  /** The reads being taken: the next byte is `input[index][at]`. */
  private input: ReadonlyArray<Uint8Array> = NO_INPUT
  private index = 0
  private at = 0
  private done = 0
  /** A new input (a chunk of reads). */
  start(input: ReadonlyArray<Uint8Array>): void {
    this.input = input
    this.index = 0
    this.at = 0
  }
  /** A new output chunk: up to `PIECE` bytes more. */
  begin(): void {
    this.done = 0
  }
  /** The next piece, or undefined when this output chunk is full or the input done. */
  next(): Uint8Array | undefined {
    const input = this.input
    while (this.index < input.length) {
      const bytes = input[this.index]!
      const at = this.at
      const size = bytes.length <= PIECE ? bytes.length : Math.ceil(bytes.length / Math.ceil(bytes.length / PIECE))
      const end = Math.min(bytes.length, at + size)
      if (this.done > 0 && this.done + (end - at) > PIECE) return undefined
      if (end === bytes.length) {
        this.index++
        this.at = 0
      } else {
        this.at = end
      }
      if (end === at) continue
      this.done += end - at
      return at === 0 && end === bytes.length ? bytes : bytes.subarray(at, end)
    }
    this.input = NO_INPUT
    return undefined
  }
  /** Whether input is left for another output chunk. */
  more(): boolean {
    return this.index < this.input.length
  }
  /** Drops the rest of the input (after a failure). */
  clear(): void {
    this.input = NO_INPUT
  }
}

const PIECE = Pieces.PIECE
const NO_INPUT: ReadonlyArray<Uint8Array> = []

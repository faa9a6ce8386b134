/** @internal */
import { EventTooLarge, InvalidField, LineTooLong, type MalformedUtf8 } from "../CodecError.js"
import type * as Sse from "../Sse.js"
import type { LineSink } from "./lines.js"
import { Output, type Transducer } from "./transduce.js"
import { latin1Slice, Pieces, Utf8Decoder } from "./utf8.js"

/** @internal */
export const DEFAULT_MAX_LINE = 1024 * 1024
/** @internal */
export const DEFAULT_MAX_EVENT = 8 * 1024 * 1024

/** @internal */
export interface ParserConfig {
  readonly retry: boolean
  readonly comment: boolean
  readonly id: boolean
  readonly maxLineLength: number
  readonly maxEventSize: number
  /**
   * Give every decoded value its own string instead of a view of the read it came from (see
   * `own`): costs a copy per value, so that an event kept after its read retains only itself.
   */
  readonly copyValues: boolean
}

/** @internal */
export const config = (options: Sse.ParseOptions<Sse.Include> | undefined): ParserConfig => {
  const include: ReadonlyArray<Sse.Include> = options?.include ?? []
  return {
    retry: include.includes("retry"),
    comment: include.includes("comment"),
    id: include.includes("id"),
    maxLineLength: options?.maxLineLength ?? DEFAULT_MAX_LINE,
    maxEventSize: options?.maxEventSize ?? DEFAULT_MAX_EVENT,
    copyValues: options?.copyValues ?? false
  }
}

/**
 * A copy of `s` that holds no reference to the text it was cut from. V8 represents a `slice` of 13
 * or more characters as a view of its parent, and a joined multi-line value as a tree of such
 * views: an event that outlived its read would keep the whole decoded read alive. Reading a
 * character of a concatenation makes V8 copy it into one flat string; shorter slices are copies
 * already.
 *
 * @internal
 */
export const own = (s: string): string => {
  if (s.length < 13) return s
  const copy = s.slice(0, 1) + s.slice(1)
  copy.charCodeAt(0)
  return copy
}

/** `s` as one flat string: reading a character of a concatenation makes V8 copy it into one. */
const flat = (s: string): string => {
  s.charCodeAt(0)
  return s
}

/**
 * The decoder's messages are plain objects (`Object.prototype`, the same own properties in the
 * same order as the literals in `Sse.ts`), built by constructor calls rather than object
 * literals: V8 attaches an allocation site to every literal and may decide, for a whole process,
 * to allocate all of a site's objects in the old generation — which is what made a deferred drain
 * 10–15× slower (see `chunkOf` in `transduce.ts`). A `new` expression has no such site.
 */
function SseEventObject(this: Mutable<Sse.SseEvent>, type: string, data: string, lastEventId: string) {
  this._tag = "SseEvent"
  this.type = type
  this.data = data
  this.lastEventId = lastEventId
}
function RetryObject(this: Mutable<Sse.Retry>, millis: number) {
  this._tag = "Retry"
  this.millis = millis
}
function CommentObject(this: Mutable<Sse.Comment>, text: string) {
  this._tag = "Comment"
  this.text = text
}
function LastEventIdObject(this: Mutable<Sse.LastEventId>, id: string) {
  this._tag = "LastEventId"
  this.id = id
}
SseEventObject.prototype = Object.prototype
RetryObject.prototype = Object.prototype
CommentObject.prototype = Object.prototype
LastEventIdObject.prototype = Object.prototype
type Mutable<A> = { -readonly [K in keyof A]: A[K] }
const newEvent = SseEventObject as unknown as new(type: string, data: string, lastEventId: string) => Sse.SseEvent
const newRetry = RetryObject as unknown as new(millis: number) => Sse.Retry
const newComment = CommentObject as unknown as new(text: string) => Sse.Comment
const newLastEventId = LastEventIdObject as unknown as new(id: string) => Sse.LastEventId

/**
 * The longest text whose multi-line values are handed out as views of it. Views of longer text
 * (64 KiB reads, when they were decoded in 32 KiB slices) made a deferred drain of large events
 * 2–6× slower than flat copies (the 64 KiB deferred-drain trap of the codec README); at 16 KiB
 * they are faster than copies in every drain. `ByteDecoderMachine` parses in pieces of at most
 * 16 KiB ({@link Pieces}), so this bounds `decodeText` given long strings.
 */
const VIEW_TEXT = 16 * 1024

const COLON = 58
const SPACE = 32
const LF = 10

/** Does the line at `pos` (of at least 5 characters) start with `data:`? */
const isDataPrefix = (text: string, pos: number): boolean =>
  text.charCodeAt(pos) === 100 && text.charCodeAt(pos + 4) === COLON && text.charCodeAt(pos + 1) === 97 &&
  text.charCodeAt(pos + 2) === 116 && text.charCodeAt(pos + 3) === 97

/** Does the line at `pos` (of at least 3 characters) start with `id:`? */
const isIdPrefix = (text: string, pos: number): boolean =>
  text.charCodeAt(pos) === 105 && text.charCodeAt(pos + 1) === 100 && text.charCodeAt(pos + 2) === COLON

/** Where the value of a field whose colon is at `colon` starts (one space after the colon skipped). */
const valueStart = (text: string, colon: number, end: number): number =>
  colon + 1 < end && text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1

/**
 * The WHATWG "interpret the line" and "dispatch the event" steps, over one line at a time. Fields
 * are recognised by length and char codes; only the value is sliced out of the line.
 *
 * @internal
 */
export class SseParser implements LineSink<EventTooLarge> {
  out: Output<Sse.SseMessage> = new Output()
  private lineNumber = 0
  private type = ""
  /** The data of the event being built, as far as it came from the current read. */
  private data = ""
  private hasData = false
  /**
   * The data that came from earlier reads, copied into strings of its own (see `settle`), or
   * `undefined`; the event's data is `settled + data`.
   */
  private settled: string | undefined = undefined
  private settledLength = 0
  /**
   * A multi-line value shorter than this is flattened at dispatch rather than handed out as views
   * of the read: 1/16 of the text being fed (so that a kept value pins at most 16 times its own
   * length); always for text longer than `VIEW_TEXT` (`beginText`).
   */
  private viewLimit = Infinity
  /** `data` was joined from several lines (a tree of views of the read). */
  private joined = false
  /** `data` is a fresh string already (copied from the bytes). */
  private owned = false
  /** `data` ends with the LF that separates it from the next value (see `appendWithLF`). */
  private dataLF = false
  /**
   * Set by the byte decoder while `feed` runs over text that is these ASCII bytes, one character
   * per byte: values are then copied straight from the bytes.
   */
  src: Uint8Array | undefined = undefined
  private lastEventId = ""
  private reportedId = ""

  constructor(readonly config: ParserConfig) {}

  /**
   * One terminated line, `[start, end)` of `text`: blank, `data:` and `id:` lines (nearly all of a
   * stream) handled here, the rest by `lineAt`.
   */
  line(text: string, start: number, end: number): EventTooLarge | undefined {
    const n = end - start
    if (n === 0) {
      this.lineNumber++
      this.dispatch()
      return undefined
    }
    if (n >= 5 && isDataPrefix(text, start)) {
      this.lineNumber++
      const from = valueStart(text, start + 4, end)
      const src = this.src
      return src === undefined
        ? this.appendData(text.slice(from, end), false)
        : this.appendData(latin1Slice.call(src, from, end), true)
    }
    if (n >= 3 && isIdPrefix(text, start)) {
      this.lineNumber++
      this.setId(text.slice(valueStart(text, start + 2, end), end))
      return undefined
    }
    return this.lineAt(text, start, end)
  }

  /** A partial line carried to the next piece of text (`feed` only). */
  private carry = ""
  /** The last piece ended with CR: an LF at the start of the next one ends nothing. */
  private skipLF = false
  /** Characters fed before the current piece. */
  private consumed = 0

  /**
   * The fused path: splits `text` into lines and interprets them in one loop (no per-line call
   * for the common `data:` line, a dedicated loop for text without CR). An unterminated last line
   * is carried over, bounded by `maxLineLength`, and never interpreted at end of stream.
   */
  feed(text: string): EventTooLarge | LineTooLong | undefined {
    const len = text.length
    if (len === 0) return undefined
    this.beginText(len)
    let pos = 0
    if (this.skipLF) {
      this.skipLF = false
      if (text.charCodeAt(0) === LF) pos = 1
    }
    const max = this.config.maxLineLength
    if (this.carry.length > 0) {
      const lf = text.indexOf("\n", pos)
      const cr = text.indexOf("\r", pos)
      const eol = lf === -1 ? cr : cr === -1 ? lf : lf < cr ? lf : cr
      if (eol === -1) {
        const size = this.carry.length + len - pos
        if (size > max) return this.tooLong(size, this.consumed - this.carry.length)
        this.carry += pos === 0 ? text : text.slice(pos)
        this.consumed += len
        return undefined
      }
      const line = this.carry + text.slice(pos, eol)
      if (line.length > max) return this.tooLong(line.length, this.consumed - this.carry.length)
      this.carry = ""
      pos = this.next(text, eol)
      // the joined line is not `src`'s bytes: its values are sliced from it
      const src = this.src
      this.src = undefined
      const error = this.line(line, 0, line.length)
      this.src = src
      if (error !== undefined) return error
    }
    let error: EventTooLarge | LineTooLong | undefined
    if (text.indexOf("\r", pos) === -1) {
      // LF only: the common case, with `data:`, `id:` and blank lines handled inline (as in `line`)
      const src = this.src
      let lf = text.indexOf("\n", pos)
      while (lf !== -1) {
        const n = lf - pos
        if (n === 0) {
          this.lineNumber++
          this.dispatch()
        } else {
          if (n > max) return this.tooLong(n, this.consumed + pos)
          if (n >= 5 && isDataPrefix(text, pos)) {
            this.lineNumber++
            const from = text.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5 // the LF ends a bare `data:`
            if (text.charCodeAt(lf + 1) === 100) { // `d`: perhaps more `data:` lines
              error = this.dataLines(text, from, lf)
              if (error !== undefined) return error
              lf = this.runEnd
            } else {
              error = src === undefined || this.hasData
                ? this.appendData(text.slice(from, lf), false)
                : this.appendData(latin1Slice.call(src, from, lf), true)
              if (error !== undefined) return error
            }
          } else if (n >= 3 && isIdPrefix(text, pos)) {
            this.lineNumber++
            this.setId(text.slice(text.charCodeAt(pos + 3) === SPACE ? pos + 4 : pos + 3, lf))
          } else {
            error = this.lineAt(text, pos, lf)
            if (error !== undefined) return error
          }
        }
        pos = lf + 1
        lf = text.indexOf("\n", pos)
      }
    } else {
      let nextLF = text.indexOf("\n", pos)
      let nextCR = text.indexOf("\r", pos)
      while (true) {
        if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf("\n", pos)
        if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf("\r", pos)
        const eol = nextCR === -1 || (nextLF !== -1 && nextLF < nextCR) ? nextLF : nextCR
        if (eol === -1) break
        if (eol - pos > max) return this.tooLong(eol - pos, this.consumed + pos)
        const from = pos
        pos = this.next(text, eol)
        error = this.line(text, from, eol)
        if (error !== undefined) return error
        if (pos >= len) break
      }
    }
    if (pos < len) {
      if (len - pos > max) return this.tooLong(len - pos, this.consumed + pos)
      this.carry = text.slice(pos)
    }
    this.consumed += len
    this.settle()
    return undefined
  }

  /** A text of `length` characters is coming: the view rule for its multi-line values. */
  beginText(length: number): void {
    this.viewLimit = length > VIEW_TEXT ? Infinity : length >> 4
  }

  /**
   * At the end of a read, the data of an event still being built is copied out of the read (a
   * tree of views flattened, a single view copied), so that an event never pins more than the read
   * it ends in — as any single-line value does — however many reads it spans. Each part is copied
   * once: the settled parts are joined, never copied again.
   */
  settle(): void {
    if (this.data.length === 0) return
    const piece = this.joined ? flat(this.data) : this.owned ? this.data : own(this.data)
    this.settled = this.settled === undefined ? piece : this.settled + piece
    this.settledLength = this.settled.length
    this.data = ""
    this.joined = false
    this.owned = false
  }

  /** Position after the line ending at `eol` (CR, LF or CRLF; a CR at the very end defers). */
  private next(text: string, eol: number): number {
    if (text.charCodeAt(eol) === LF) return eol + 1
    if (eol + 1 < text.length) return text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1
    this.skipLF = true
    return eol + 1
  }

  private tooLong(size: number, offset: number): LineTooLong {
    return new LineTooLong({ limit: this.config.maxLineLength, size, line: this.lineNumber + 1, offset })
  }

  /** Where the last run of `data:` lines taken by `dataLines` ended (the LF of its last line). */
  private runEnd = 0

  /**
   * A run of consecutive `data:` lines in LF-only text, starting with the one (already counted)
   * whose value is `[from, lf)`: each value that another `data:` line follows is cut together with
   * its LF, so a multi-line value is a tree of one piece per line instead of two (value, then
   * separator), which halves the nodes that dispatch flattens. Sets `runEnd`.
   */
  private dataLines(text: string, from: number, lf: number): EventTooLarge | LineTooLong | undefined {
    const max = this.config.maxLineLength
    const maxEvent = this.config.maxEventSize
    let pos = lf + 1
    let next = text.indexOf("\n", pos)
    while (next - pos >= 5 && isDataPrefix(text, pos)) { // (false when `next` is -1)
      // the data as it would stand after the held line
      const size = (this.hasData ? this.settledLength + this.data.length + (this.dataLF ? 0 : 1) : 0) + lf - from
      if (size > maxEvent) return new EventTooLarge({ limit: maxEvent, size, line: this.lineNumber })
      if (next - pos > max) return this.tooLong(next - pos, this.consumed + pos)
      const valueLF = text.slice(from, lf + 1)
      this.data = !this.hasData ? valueLF : this.dataLF ? this.data + valueLF : this.data + "\n" + valueLF
      this.hasData = true
      this.joined = true
      this.dataLF = true
      this.lineNumber++
      from = text.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5
      lf = next
      pos = lf + 1
      next = text.indexOf("\n", pos)
    }
    this.runEnd = lf
    return this.appendData(text.slice(from, lf), false)
  }

  private appendData(value: string, owned: boolean): EventTooLarge | undefined {
    if (this.hasData) {
      this.joined = true
      this.data = this.dataLF ? this.data + value : this.data + "\n" + value
      this.dataLF = false
    } else {
      this.data = value
      this.owned = owned
      this.hasData = true
    }
    const size = this.settledLength + this.data.length
    return size > this.config.maxEventSize
      ? new EventTooLarge({ limit: this.config.maxEventSize, size, line: this.lineNumber })
      : undefined
  }

  lineAt(text: string, start: number, end: number): EventTooLarge | undefined {
    this.lineNumber++
    if (start === end) {
      this.dispatch()
      return undefined
    }
    let colon = start
    while (colon < end && text.charCodeAt(colon) !== COLON) colon++
    if (colon === start) {
      if (this.config.comment) {
        const value = text.slice(valueStart(text, start, end), end)
        this.out.push(new newComment(this.config.copyValues ? own(value) : value))
      }
      return undefined
    }
    const from = colon < end ? valueStart(text, colon, end) : end
    const c0 = text.charCodeAt(start)
    switch (colon - start) {
      case 4: // data
        if (
          c0 === 100 && text.charCodeAt(start + 1) === 97 && text.charCodeAt(start + 2) === 116 &&
          text.charCodeAt(start + 3) === 97
        ) {
          return this.appendData(text.slice(from, end), false)
        }
        return undefined
      case 5:
        if (
          c0 === 101 && text.charCodeAt(start + 1) === 118 && text.charCodeAt(start + 2) === 101 &&
          text.charCodeAt(start + 3) === 110 && text.charCodeAt(start + 4) === 116
        ) { // event
          const value = text.slice(from, end)
          this.type = this.config.copyValues ? own(value) : value
        } else if (
          c0 === 114 && text.charCodeAt(start + 1) === 101 && text.charCodeAt(start + 2) === 116 &&
          text.charCodeAt(start + 3) === 114 && text.charCodeAt(start + 4) === 121
        ) { // retry
          if (from === end) return undefined
          for (let i = from; i < end; i++) {
            const c = text.charCodeAt(i)
            if (c < 48 || c > 57) return undefined
          }
          if (this.config.retry) this.out.push(new newRetry(Number(text.slice(from, end))))
        }
        return undefined
      case 2: // id
        if (c0 === 105 && text.charCodeAt(start + 1) === 100) this.setId(text.slice(from, end))
        return undefined
      default:
        return undefined
    }
  }

  /** An `id:` value: ignored if it contains U+0000. */
  private setId(value: string): void {
    if (value.indexOf("\0") === -1) this.lastEventId = this.config.copyValues ? own(value) : value
  }

  private dispatch(): void {
    if (!this.hasData) {
      this.type = ""
      if (this.config.id && this.lastEventId !== this.reportedId) {
        this.reportedId = this.lastEventId
        this.out.push(new newLastEventId(this.lastEventId))
      }
      return
    }
    this.reportedId = this.lastEventId
    // The part of the current read: a single value is a view of it (unless copies are asked for); a
    // multi-line one is a tree of views of it (V8 flattens it when it is first read) if it is at
    // least `viewLimit` long, else it is copied (flattened) now.
    const settled = this.settled
    const part = !this.joined
      ? this.owned || !this.config.copyValues ? this.data : own(this.data)
      : this.config.copyValues || this.data.length < this.viewLimit
      ? flat(this.data)
      : this.data
    const data = settled === undefined ? part : this.data.length === 0 ? settled : settled + part
    this.out.push(new newEvent(this.type === "" ? "message" : this.type, data, this.lastEventId))
    this.type = ""
    this.data = ""
    this.hasData = false
    this.settled = undefined
    this.settledLength = 0
    this.joined = false
    this.owned = false
    this.dataLF = false
  }
}

/**
 * Lines → messages. Every line handed in is taken as a complete (terminated) line; line length is
 * the business of whoever split the lines (`Lines.split` bounds it).
 *
 * @internal
 */
export class LineParser implements Transducer<string, Sse.SseMessage, EventTooLarge> {
  private readonly parser: SseParser
  constructor(config: ParserConfig) {
    this.parser = new SseParser(config)
  }
  push(lines: ReadonlyArray<string>, out: Output<Sse.SseMessage>) {
    const parser = this.parser
    parser.out = out
    // the lines of one chunk are (usually) views of one read's text: the same rule for multi-line
    // values as `feed`, with the chunk's length for the text's
    let length = 0
    for (let i = 0; i < lines.length; i++) length += lines[i]!.length + 1
    parser.beginText(length)
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      const error = parser.line(line, 0, line.length)
      if (error !== undefined) return error
    }
    parser.settle()
    return undefined
  }
  end() {
    return undefined
  }
}

/**
 * Text (or bytes) → messages in one pass: the fused path. An unterminated last line is not a line
 * (WHATWG rule), so it is never interpreted.
 *
 * @internal
 */
export class TextDecoderMachine implements Transducer<string, Sse.SseMessage, EventTooLarge | LineTooLong> {
  private readonly parser: SseParser
  constructor(config: ParserConfig) {
    this.parser = new SseParser(config)
  }
  push(texts: ReadonlyArray<string>, out: Output<Sse.SseMessage>) {
    this.parser.out = out
    for (let i = 0; i < texts.length; i++) {
      const error = this.parser.feed(texts[i]!)
      if (error !== undefined) return error
    }
    return undefined
  }
  end() {
    return undefined
  }
}

/** @internal */
export class ByteDecoderMachine
  implements Transducer<Uint8Array, Sse.SseMessage, EventTooLarge | LineTooLong | MalformedUtf8>
{
  private readonly parser: SseParser
  private readonly utf8 = new Utf8Decoder()
  private readonly copyValues: boolean
  private readonly pieces = new Pieces()
  constructor(config: ParserConfig) {
    this.parser = new SseParser(config)
    this.copyValues = config.copyValues
  }
  push(input: ReadonlyArray<Uint8Array>, out: Output<Sse.SseMessage>) {
    this.pieces.start(input)
    return this.resume(out)
  }
  /** Decodes and parses reads (or pieces of one) until about 16 KiB are done ({@link Pieces}). */
  resume(out: Output<Sse.SseMessage>) {
    const parser = this.parser
    parser.out = out
    const utf8 = this.utf8
    const pieces = this.pieces
    pieces.begin()
    let piece: Uint8Array | undefined
    while ((piece = pieces.next()) !== undefined) {
      const text = utf8.decode(piece) as string
      if (this.copyValues) parser.src = utf8.ascii
      const error = parser.feed(text)
      parser.src = undefined
      if (error !== undefined) {
        pieces.clear()
        return error
      }
    }
    return undefined
  }
  more() {
    return this.pieces.more()
  }
  end(out: Output<Sse.SseMessage>) {
    this.parser.out = out
    return this.parser.feed(this.utf8.end() as string)
  }
}

// ---------------------------------------------------------------------------------------------
// encoding

const hasLineBreak = (s: string): boolean => s.indexOf("\n") !== -1 || s.indexOf("\r") !== -1

/** @internal */
export const checkType = (type: string): InvalidField | undefined =>
  hasLineBreak(type) ? new InvalidField({ field: "event", value: type, reason: "contains CR or LF" }) : undefined

/** @internal */
export const checkId = (id: string): InvalidField | undefined =>
  hasLineBreak(id)
    ? new InvalidField({ field: "id", value: id, reason: "contains CR or LF" })
    : id.indexOf("\0") !== -1
    ? new InvalidField({ field: "id", value: id, reason: "contains NUL" })
    : undefined

/** @internal */
export const checkRetry = (millis: number): InvalidField | undefined =>
  Number.isSafeInteger(millis) && millis >= 0
    ? undefined
    : new InvalidField({ field: "retry", value: millis, reason: "must be a non-negative safe integer of milliseconds" })

const LINE_BREAK = /\r\n|\r|\n/

const fieldLines = (prefix: string, value: string): string => {
  if (!hasLineBreak(value)) return prefix + value + "\n"
  const lines = value.split(LINE_BREAK)
  let s = ""
  for (let i = 0; i < lines.length; i++) s += prefix + lines[i] + "\n"
  return s
}

/**
 * Writes messages as SSE text. Stateful only in the id it last wrote: an event's `id:` line is
 * written when its `lastEventId` differs from the previous one, so `decode(encode(events))`
 * gives back the same `lastEventId`s.
 *
 * @internal
 */
export class Renderer implements Transducer<Sse.SseMessage, string, InvalidField> {
  lastEventId = ""
  push(messages: ReadonlyArray<Sse.SseMessage>, out: Output<string>) {
    let s = ""
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!
      const r = this.render(m)
      if (typeof r !== "string") {
        if (s.length > 0) out.push(s)
        return r
      }
      s += r
    }
    if (s.length > 0) out.push(s)
    return undefined
  }
  end() {
    return undefined
  }
  render(m: Sse.SseMessage): string | InvalidField {
    switch (m._tag) {
      case "SseEvent": {
        let s = ""
        if (m.lastEventId !== this.lastEventId) {
          const error = checkId(m.lastEventId)
          if (error) return error
          s = m.lastEventId === "" ? "id:\n" : "id: " + m.lastEventId + "\n"
          this.lastEventId = m.lastEventId
        }
        if (m.type !== "message" && m.type !== "") {
          const error = checkType(m.type)
          if (error) return error
          s += "event: " + m.type + "\n"
        }
        return s + fieldLines("data: ", m.data) + "\n"
      }
      case "Retry": {
        const error = checkRetry(m.millis)
        return error ?? "retry: " + m.millis + "\n"
      }
      case "Comment":
        return m.text === "" ? ":\n" : fieldLines(": ", m.text)
      case "LastEventId": {
        if (m.id === this.lastEventId) return ""
        const error = checkId(m.id)
        if (error) return error
        this.lastEventId = m.id
        return m.id === "" ? "id:\n\n" : "id: " + m.id + "\n\n"
      }
    }
  }
}

/** @internal */
import { LineTooLong } from "../CodecError.js"
import { Output, type Transducer } from "./transduce.js"

/**
 * Receives each complete line as a range of a string, so consumers can look at a line without
 * copying it. Returns an error to stop the scan.
 *
 * @internal
 */
export interface LineSink<E> {
  line(text: string, start: number, end: number): E | undefined
}

const LF = 10

/**
 * Splits text into lines ending in LF, CRLF or CR, across any chunking: a CR at the end of one
 * piece followed by LF at the start of the next is one line ending. Each piece of text is scanned
 * once with `indexOf`; a line that spans pieces is carried as a string (V8 joins the pieces
 * lazily) and bounded by `maxLineLength`.
 *
 * @internal
 */
export class LineScanner {
  /** Lines completed so far. */
  lines = 0
  /** Character offset where the line being handed to the sink starts. */
  lineStart = 0
  /** Characters consumed before the current piece. */
  private consumed = 0
  private carry = ""
  private skipLF = false

  constructor(readonly maxLineLength: number) {}

  /** Scans one piece of text, handing each complete line to `sink`. */
  push<E>(text: string, sink: LineSink<E>): E | LineTooLong | undefined {
    const len = text.length
    if (len === 0) return undefined
    let pos = 0
    if (this.skipLF) {
      this.skipLF = false
      if (text.charCodeAt(0) === LF) pos = 1
    }
    const max = this.maxLineLength
    if (text.indexOf("\r", pos) === -1) {
      // LF only: the common case, one indexOf per line
      let lf = text.indexOf("\n", pos)
      if (this.carry.length > 0 && lf !== -1) {
        const line = this.carry + text.slice(pos, lf)
        if (line.length > max) return this.tooLong(line.length, this.consumed - this.carry.length)
        this.lineStart = this.consumed - this.carry.length
        this.carry = ""
        const error = sink.line(line, 0, line.length)
        this.lines++
        pos = lf + 1
        if (error !== undefined) {
          this.consumed += pos
          return error
        }
        lf = text.indexOf("\n", pos)
      }
      while (lf !== -1) {
        if (lf - pos > max) return this.tooLong(lf - pos, this.consumed + pos)
        this.lineStart = this.consumed + pos
        const error = sink.line(text, pos, lf)
        this.lines++
        pos = lf + 1
        if (error !== undefined) {
          this.consumed += pos
          return error
        }
        lf = text.indexOf("\n", pos)
      }
      return this.rest(text, pos)
    }
    let nextLF = text.indexOf("\n", pos)
    let nextCR = text.indexOf("\r", pos)
    while (true) {
      if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf("\n", pos)
      if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf("\r", pos)
      let eol: number
      let next: number
      if (nextCR < 0 || (nextLF !== -1 && nextLF < nextCR)) {
        if (nextLF === -1) break
        eol = nextLF
        next = eol + 1
      } else {
        eol = nextCR
        if (eol + 1 < len) {
          next = text.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1
        } else {
          next = len
          this.skipLF = true
        }
      }
      let error: E | LineTooLong | undefined
      if (this.carry.length > 0) {
        const line = this.carry + text.slice(pos, eol)
        if (line.length > max) return this.tooLong(line.length, this.consumed - this.carry.length)
        this.lineStart = this.consumed - this.carry.length
        this.carry = ""
        error = sink.line(line, 0, line.length)
      } else {
        if (eol - pos > max) return this.tooLong(eol - pos, this.consumed + pos)
        this.lineStart = this.consumed + pos
        error = sink.line(text, pos, eol)
      }
      this.lines++
      pos = next
      if (error !== undefined) {
        this.consumed += pos
        return error
      }
    }
    return this.rest(text, pos)
  }

  /** Carries `text` from `pos` (an unterminated line) to the next piece. */
  private rest(text: string, pos: number): LineTooLong | undefined {
    const len = text.length
    if (pos < len) {
      const size = this.carry.length + len - pos
      if (size > this.maxLineLength) return this.tooLong(size, this.consumed + pos - this.carry.length)
      this.carry = this.carry.length === 0 ? text.slice(pos) : this.carry + text.slice(pos)
    }
    this.consumed += len
    return undefined
  }

  /** The unterminated last line, if any (consumed by this call). */
  takeRest(): string | undefined {
    if (this.carry.length === 0) return undefined
    const rest = this.carry
    this.lineStart = this.consumed - rest.length
    this.carry = ""
    this.lines++
    return rest
  }

  /** Character offset of the start of the next line. */
  get offset(): number {
    return this.consumed - this.carry.length
  }

  private tooLong(size: number, offset: number): LineTooLong {
    return new LineTooLong({ limit: this.maxLineLength, size, line: this.lines + 1, offset })
  }
}

/**
 * `Lines.split`'s state machine: a {@link LineScanner} whose lines go to the output chunk.
 *
 * @internal
 */
export const splitter = (
  maxLineLength: number,
  keepTrailing: boolean
): Transducer<string, string, LineTooLong> => {
  const scanner = new LineScanner(maxLineLength)
  let out: Output<string> = new Output()
  const sink = {
    line(text: string, start: number, end: number) {
      out.push(start === 0 && end === text.length ? text : text.slice(start, end))
      return undefined
    }
  }
  return {
    push(input, into) {
      out = into
      for (let i = 0; i < input.length; i++) {
        const error = scanner.push(input[i]!, sink)
        if (error !== undefined) return error
      }
      return undefined
    },
    end(into) {
      const rest = scanner.takeRest()
      if (rest !== undefined && keepTrailing) into.push(rest)
      return undefined
    }
  }
}

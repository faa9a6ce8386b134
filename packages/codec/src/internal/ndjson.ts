/** @internal */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { excerptOf, InvalidLine, type LineTooLong, type MalformedUtf8, UnencodableValue } from "../CodecError.js"
import { LineScanner, type LineSink } from "./lines.js"
import { Output, type Transducer } from "./transduce.js"
import { Pieces, Utf8Decoder } from "./utf8.js"

/** @internal */
export const DEFAULT_MAX_LINE = 16 * 1024 * 1024

/** @internal */
export type OnBadLine = "fail" | "skip" | ((error: InvalidLine) => Effect.Effect<void>)

/** @internal */
export interface Config<A> {
  readonly maxLineLength: number
  readonly onBadLine: OnBadLine
  readonly validate: ((u: unknown) => Either.Either<A, unknown>) | undefined
}

const isJsonWhitespace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13

const logBadLine = (error: InvalidLine) => Effect.logWarning(error.message)

/**
 * One JSON text per line; blank lines skipped; bad lines fail or are skipped and reported.
 *
 * @internal
 */
export class NdjsonParser<A> {
  out: Output<A> = new Output()
  bad: Array<InvalidLine> = []
  line = 0
  lineStart = 0
  private readonly fail: boolean
  private readonly report: ((error: InvalidLine) => Effect.Effect<void>) | undefined

  constructor(readonly config: Config<A>) {
    this.fail = config.onBadLine === "fail"
    this.report = config.onBadLine === "fail"
      ? undefined
      : config.onBadLine === "skip"
      ? logBadLine
      : config.onBadLine
  }

  /** Called with `line` and `lineStart` already set. */
  lineAt(text: string, start: number, end: number): InvalidLine | undefined {
    if (start === end) return undefined
    if (isJsonWhitespace(text.charCodeAt(start))) {
      let i = start + 1
      while (i < end && isJsonWhitespace(text.charCodeAt(i))) i++
      if (i === end) return undefined
    }
    const source = start === 0 && end === text.length ? text : text.slice(start, end)
    let value: unknown
    try {
      value = JSON.parse(source)
    } catch (cause) {
      return this.badLine("json", source, cause)
    }
    const validate = this.config.validate
    if (validate === undefined) {
      this.out.push(value as A)
      return undefined
    }
    const result = validate(value)
    if (Either.isLeft(result)) return this.badLine("schema", source, result.left)
    this.out.push(result.right)
    return undefined
  }

  private badLine(reason: "json" | "schema", source: string, cause: unknown): InvalidLine | undefined {
    const error = new InvalidLine({
      reason,
      line: this.line,
      offset: this.lineStart,
      excerpt: excerptOf(source),
      cause
    })
    if (this.fail) return error
    this.bad.push(error)
    return undefined
  }

  drain(): Effect.Effect<void> | undefined {
    if (this.bad.length === 0 || this.report === undefined) return undefined
    const bad = this.bad
    this.bad = []
    return Effect.forEach(bad, this.report, { discard: true })
  }
}

/** Bridges the scanner (which counts lines and offsets) to the parser. */
class ScannedSink<A> implements LineSink<InvalidLine> {
  constructor(readonly parser: NdjsonParser<A>, readonly scanner: LineScanner) {}
  line(text: string, start: number, end: number) {
    const parser = this.parser
    parser.line = this.scanner.lines + 1
    parser.lineStart = this.scanner.lineStart
    return parser.lineAt(text, start, end)
  }
}

/** @internal */
export class TextMachine<A> implements Transducer<string, A, InvalidLine | LineTooLong | MalformedUtf8> {
  protected readonly parser: NdjsonParser<A>
  protected readonly scanner: LineScanner
  protected readonly sink: ScannedSink<A>
  constructor(config: Config<A>) {
    this.parser = new NdjsonParser(config)
    this.scanner = new LineScanner(config.maxLineLength)
    this.sink = new ScannedSink(this.parser, this.scanner)
  }
  /** Scans one piece of text into the output set by `push` or `setOut`. */
  scan(text: string): InvalidLine | LineTooLong | undefined {
    return this.scanner.push(text, this.sink)
  }
  setOut(out: Output<A>): void {
    this.parser.out = out
  }
  push(input: ReadonlyArray<string>, out: Output<A>): InvalidLine | LineTooLong | MalformedUtf8 | undefined {
    this.parser.out = out
    for (let i = 0; i < input.length; i++) {
      const error = this.scan(input[i]!)
      if (error !== undefined) return error
    }
    return undefined
  }
  end(out: Output<A>): InvalidLine | LineTooLong | MalformedUtf8 | undefined {
    this.parser.out = out
    const rest = this.scanner.takeRest()
    if (rest === undefined) return undefined
    this.parser.line = this.scanner.lines
    this.parser.lineStart = this.scanner.lineStart
    return this.parser.lineAt(rest, 0, rest.length)
  }
  drain() {
    return this.parser.drain()
  }
}

/** @internal */
export class ByteMachine<A> implements Transducer<Uint8Array, A, InvalidLine | LineTooLong | MalformedUtf8> {
  private readonly inner: TextMachine<A>
  private readonly utf8 = new Utf8Decoder()
  private readonly pieces = new Pieces()
  constructor(config: Config<A>) {
    this.inner = new TextMachine(config)
  }
  push(input: ReadonlyArray<Uint8Array>, out: Output<A>) {
    this.pieces.start(input)
    return this.resume(out)
  }
  /** Decodes and scans reads (or pieces of one) until about 16 KiB are done ({@link Pieces}). */
  resume(out: Output<A>) {
    // each piece decoded and scanned in turn: no array of the read's texts
    this.inner.setOut(out)
    const pieces = this.pieces
    pieces.begin()
    let piece: Uint8Array | undefined
    while ((piece = pieces.next()) !== undefined) {
      const error = this.inner.scan(this.utf8.decode(piece) as string)
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
  end(out: Output<A>) {
    const error = this.inner.push([this.utf8.end() as string], out)
    return error ?? this.inner.end(out)
  }
  drain() {
    return this.inner.drain()
  }
}

/**
 * Lines already split → values (each string one line).
 *
 * @internal
 */
export class LineMachine<A> implements Transducer<string, A, InvalidLine> {
  private readonly parser: NdjsonParser<A>
  constructor(config: Config<A>) {
    this.parser = new NdjsonParser(config)
  }
  push(lines: ReadonlyArray<string>, out: Output<A>) {
    const parser = this.parser
    parser.out = out
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!
      parser.line++
      const error = parser.lineAt(line, 0, line.length)
      parser.lineStart += line.length + 1
      if (error !== undefined) return error
    }
    return undefined
  }
  end() {
    return undefined
  }
  drain() {
    return this.parser.drain()
  }
}

/** @internal */
export class Renderer<A> implements Transducer<A, string, UnencodableValue> {
  private index = 0
  constructor(private readonly encode: ((a: A) => Either.Either<unknown, unknown>) | undefined) {}
  push(values: ReadonlyArray<A>, out: Output<string>) {
    let s = ""
    for (let i = 0; i < values.length; i++, this.index++) {
      let value: unknown = values[i]
      if (this.encode !== undefined) {
        const r = this.encode(value as A)
        if (Either.isLeft(r)) return this.fail(s, out, r.left)
        value = r.right
      }
      let json: string | undefined
      try {
        json = JSON.stringify(value)
      } catch (cause) {
        return this.fail(s, out, cause)
      }
      if (json === undefined) return this.fail(s, out, `JSON.stringify gives no text for ${typeof value}`)
      s += json + "\n"
    }
    if (s.length > 0) out.push(s)
    return undefined
  }
  end() {
    return undefined
  }
  private fail(s: string, out: Output<string>, cause: unknown) {
    if (s.length > 0) out.push(s)
    return new UnencodableValue({ index: this.index, cause })
  }
}

/**
 * Codec benchmark: `npm run bench` (this file: `npm run tsx -- bench/codec.ts [--quick]`).
 *
 * Corpora are generated (seeded) and fed as 16 KiB and 64 KiB reads cut at arbitrary bytes. Ours
 * run as real Effect Streams, one `Chunk` per read, drained per chunk; peers run as their users
 * run them. Prints MB/s and ratios; checks every implementation found the same number of items.
 */
import { Sse as ExperimentalSse } from "@effect/experimental"
import * as PlatformNdjson from "@effect/platform/Ndjson"
import { Lines, Ndjson, Sse, Utf8 } from "@streamwire/codec"
import { Chunk, Effect, Option, Stream } from "effect"
import { encode as esEncode } from "eventsource-encoder"
import { createParser, type EventSourceMessage } from "eventsource-parser"
import { execFileSync } from "node:child_process"
import { loadavg } from "node:os"
import { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"
import split2 from "split2"
import { ByteDecoderMachine, config } from "../packages/codec/src/internal/sse.js"
import { Output } from "../packages/codec/src/internal/transduce.js"

const quick = process.argv.includes("--quick")
/**
 * `--only=sse,ndjson,encode,drains,paired,retain,linear,memory`: run only these parts (all by
 * default).
 */
const onlyArg = process.argv.find((a) => a.startsWith("--only="))
const only = (part: string) => onlyArg === undefined || onlyArg.slice(7).split(",").includes(part)
/** `--groups=0,2`: only these decoding corpora (0–2 SSE, 3 NDJSON). */
const groupsArg = process.argv.find((a) => a.startsWith("--groups="))
const onlyGroup = (g: number) => groupsArg === undefined || groupsArg.slice(9).split(",").map(Number).includes(g)
/** `--impls=0,1,4`: only these implementations of each decoding group (their index in the group). */
const implsArg = process.argv.find((a) => a.startsWith("--impls="))
const onlyImpl = (i: number) => implsArg === undefined || implsArg.slice(8).split(",").map(Number).includes(i)
/** `--repeat=3`: each case in 3 fresh processes; the median is shown, with the range of the runs. */
const repeatArg = process.argv.find((a) => a.startsWith("--repeat="))
const repeat = repeatArg === undefined ? 1 : Math.max(1, Number(repeatArg.slice(9)))
/** `--node-flags=--no-allocation-site-pretenuring,…`: V8/Node flags for the case processes. */
const nodeFlagsArg = process.argv.find((a) => a.startsWith("--node-flags="))
const nodeFlags = nodeFlagsArg === undefined ? [] : nodeFlagsArg.slice(13).split(",").filter((f) => f !== "")
const MiB = 1024 * 1024
const SIZE = (quick ? 2 : 8) * MiB

// ------------------------------------------------------------------------------------------------
// corpora

let seed = 42
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const asciiWords = [
  "the",
  "quick",
  "brown",
  "fox",
  "jumps",
  "over",
  "lazy",
  "dog",
  "streams",
  "effect",
  "data",
  "token"
]
const mixedWords = [
  "the",
  "quick",
  "brown",
  "fox",
  "jumps",
  "över",
  "lazy",
  "dög",
  "→",
  "streams",
  "🎉",
  "effect",
  "data"
]
let words = mixedWords
const word = () => words[Math.floor(rand() * words.length)]!
const sentence = (n: number) => Array.from({ length: n }, word).join(" ")

const build = (size: number, next: (i: number) => string): { text: string; items: number } => {
  const parts: Array<string> = []
  let length = 0
  let i = 0
  while (length < size) {
    const s = next(i++)
    parts.push(s)
    length += s.length
  }
  return { text: parts.join(""), items: i }
}

const llm = (size: number, vocabulary = mixedWords) => {
  words = vocabulary
  const corpus = build(size, (i) => `id: ${i}\ndata: {"choices":[{"delta":{"content":"${word()} "}}],"index":${i}}\n\n`)
  words = mixedWords
  return corpus
}

const large = (size: number) =>
  build(size, (i) => {
    const lines = 20 + Math.floor(rand() * 60)
    let s = i % 3 === 0 ? `event: report\nid: ${i}\n` : `id: ${i}\n`
    for (let l = 0; l < lines; l++) s += `data: ${sentence(6 + Math.floor(rand() * 14))}\n`
    return s + "\n"
  })

const ndjson = (size: number) =>
  build(size, (i) =>
    JSON.stringify({
      id: i,
      name: sentence(3),
      tags: [word(), word()],
      score: Math.round(rand() * 1e6) / 100,
      active: rand() > 0.5,
      nested: { at: "2026-11-24T12:00:00Z", n: i * 7 }
    }) + "\n")

const encoder = new TextEncoder()
const reads = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size))
  return out
}

// ------------------------------------------------------------------------------------------------
// implementations: each returns the number of items it decoded

type Impl = (chunks: ReadonlyArray<Uint8Array>) => Promise<number>

/**
 * How a consumer drains the decoded stream.
 *
 * - "eager": `Stream.runFold`, the work done as each element arrives (the issue's eager drain);
 * - "chunk": `Stream.runForEachChunk((c) => { …work on c…; return Effect.void })`, the work done as
 *   each chunk arrives, nothing captured;
 * - "deferred": `Stream.runForEachChunk((c) => Effect.sync(() => …read c…))`, a closure that
 *   captures the chunk and runs a moment later — what `runForEach(f)` and most application code
 *   look like; with Effect 3.22 on Node 20 it trips V8's allocation-site pretenuring (see the README);
 * - "pull": the same `Effect.sync` per chunk, run by a fiber that pulls the chunks itself
 *   (`Stream.toPull`) instead of inside the stream's sink.
 */
type Drain = "eager" | "chunk" | "deferred" | "pull"
const drain = <A, E>(stream: Stream.Stream<A, E>, how: Drain): Promise<number> => {
  if (how === "eager") return Effect.runPromise(Stream.runFold(stream, 0, (n) => n + 1))
  let n = 0
  if (how === "chunk") {
    return Effect.runPromise(Stream.runForEachChunk(stream, (c) => {
      n += c.length
      return Effect.void
    })).then(() => n)
  }
  if (how === "pull") {
    return Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const pull = yield* Stream.toPull(stream)
      while (true) {
        const c = yield* Effect.option(pull)
        if (Option.isNone(c)) return n
        yield* Effect.sync(() => (n += c.value.length))
      }
    })))
  }
  return Effect.runPromise(Stream.runForEachChunk(stream, (c) => Effect.sync(() => (n += c.length)))).then(() => n)
}
const countStream = <A, E>(stream: Stream.Stream<A, E>) => drain(stream, "deferred")
/**
 * The reads as a body delivers them: one `Chunk` per read, made when it is pulled. (Wrapping every
 * read in a `Chunk` up front, as `Stream.fromChunks(...reads.map(Chunk.of))` does, keeps hundreds of
 * `Chunk.of` backings alive for the whole run, which makes V8 pretenure that object literal of
 * Effect's for the rest of the process — a cost a real body never has.)
 */
const fromReads = (chunks: ReadonlyArray<Uint8Array>) =>
  Stream.unfoldChunk(
    0,
    (i: number) => i < chunks.length ? Option.some([Chunk.of(chunks[i]!), i + 1] as const) : Option.none()
  )

const oursSse = (how: Drain): Impl => (chunks) => drain(fromReads(chunks).pipe(Sse.decode), how)
const oursSseCopy = (how: Drain): Impl => (chunks) =>
  drain(fromReads(chunks).pipe(Sse.decode({ copyValues: true })), how)
const oursSseText = (how: Drain): Impl => (chunks) =>
  drain(fromReads(chunks).pipe(Stream.decodeText(), Sse.decodeText), how)
const oursSseTextUtf8 = (how: Drain): Impl => (chunks) =>
  drain(fromReads(chunks).pipe(Utf8.decode, Sse.decodeText), how)
const oursSseStaged = (how: Drain): Impl => (chunks) =>
  drain(fromReads(chunks).pipe(Utf8.decode, Lines.split({ trailing: "drop" }), Sse.parse()), how)

/** Diagnostic: the same decoder driven by a plain loop, without an Effect Stream around it. */
const oursSseNoStream: Impl = async (chunks) => {
  const machine = new ByteDecoderMachine(config(undefined))
  const out = new Output<Sse.SseMessage>()
  let n = 0
  for (const c of chunks) {
    machine.push([c], out)
    while (machine.more()) machine.resume(out) // a read over 16 KiB is parsed in pieces
    n += out.take().length
  }
  return n
}

/**
 * Diagnostic: `runFold` over the events `Sse.decode` gives for these reads, decoded beforehand
 * (one `Chunk` per read): what the eager drain costs by itself, per element.
 */
const decodedReads = new WeakMap<ReadonlyArray<Uint8Array>, ReadonlyArray<Chunk.Chunk<Sse.SseMessage>>>()
const foldAlone: Impl = (chunks) => {
  let events = decodedReads.get(chunks)
  if (events === undefined) {
    const machine = new ByteDecoderMachine(config(undefined))
    const out = new Output<Sse.SseMessage>()
    events = chunks.map((c) => {
      machine.push([c], out)
      while (machine.more()) machine.resume(out)
      return Chunk.unsafeFromArray(out.take())
    })
    decodedReads.set(chunks, events)
  }
  return drain(Stream.fromChunks(...events), "eager")
}

/** eventsource-parser inside a Stream, as an Effect user would wrap it: `decodeText` → `mapChunks(feed)`. */
const eventsourceParserStream = (how: Drain): Impl => (chunks) => {
  let out: Array<EventSourceMessage> = []
  const parser = createParser({ onEvent: (e) => void out.push(e) })
  return drain(
    fromReads(chunks).pipe(
      Stream.decodeText(),
      Stream.mapChunks((texts) => {
        out = []
        for (const t of texts) parser.feed(t)
        return Chunk.unsafeFromArray(out)
      })
    ),
    how
  )
}

const eventsourceParser: Impl = async (chunks) => {
  let n = 0
  const parser = createParser({ onEvent: () => void n++ })
  const decoder = new TextDecoder()
  for (const c of chunks) parser.feed(decoder.decode(c, { stream: true }))
  parser.feed(decoder.decode())
  return n
}

const experimentalSse: Impl = (chunks) =>
  drain(fromReads(chunks).pipe(Stream.decodeText(), Stream.pipeThroughChannel(ExperimentalSse.makeChannel())), "eager")

const newlineBaseline: Impl = async (chunks) => {
  let n = 0
  const decoder = new TextDecoder()
  for (const c of chunks) {
    const text = decoder.decode(c, { stream: true })
    let at = text.indexOf("\n")
    while (at !== -1) {
      n++
      at = text.indexOf("\n", at + 1)
    }
  }
  return n
}

const oursNdjson = (how: Drain): Impl => (chunks) => drain(fromReads(chunks).pipe(Ndjson.decode), how)

const platformNdjson: Impl = (chunks) =>
  drain(fromReads(chunks).pipe(Stream.pipeThroughChannel(PlatformNdjson.unpack({ ignoreEmptyLines: true }))), "eager")

const split2Ndjson: Impl = async (chunks) => {
  let n = 0
  await pipeline(
    Readable.from(chunks),
    split2(JSON.parse),
    new Writable({
      objectMode: true,
      write(_value, _enc, done) {
        n++
        done()
      }
    })
  )
  return n
}

const handNdjson: Impl = async (chunks) => {
  let n = 0
  const decoder = new TextDecoder()
  let rest = ""
  for (const c of chunks) {
    const text = rest + decoder.decode(c, { stream: true })
    let start = 0
    let at = text.indexOf("\n")
    while (at !== -1) {
      if (at > start) {
        JSON.parse(text.slice(start, at))
        n++
      }
      start = at + 1
      at = text.indexOf("\n", start)
    }
    rest = text.slice(start)
  }
  if (rest.length > 0) {
    JSON.parse(rest)
    n++
  }
  return n
}

// ------------------------------------------------------------------------------------------------
// encoding: each returns the number of bytes written; input is fed in chunks of 64 items

type EncodeImpl<A> = (chunks: ReadonlyArray<ReadonlyArray<A>>) => Promise<number>
const sumBytes = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Effect.runPromise(
    Stream.runFold(
      Stream.mapChunks(stream, (c) => Chunk.of(c)),
      0,
      (n, c) => n + Chunk.reduce(c, 0, (m, b) => m + b.length)
    )
  )
const fromItems = <A>(chunks: ReadonlyArray<ReadonlyArray<A>>) =>
  Stream.fromChunks(...chunks.map((c) => Chunk.unsafeFromArray(c as Array<A>)))

const oursSseEncode: EncodeImpl<Sse.SseEvent> = (chunks) => sumBytes(fromItems(chunks).pipe(Sse.encode))
const eventsourceEncoder: EncodeImpl<Sse.SseEvent> = async (chunks) => {
  let n = 0
  for (const c of chunks) for (const e of c) n += encoder.encode(esEncode({ id: e.lastEventId, data: e.data })).length
  return n
}
const oursNdjsonEncode: EncodeImpl<unknown> = (chunks) => sumBytes(fromItems(chunks).pipe(Ndjson.encode))
const stringifyEncode: EncodeImpl<unknown> = async (chunks) => {
  let n = 0
  for (const c of chunks) for (const v of c) n += encoder.encode(JSON.stringify(v) + "\n").length
  return n
}

const sseMessages = (): Array<Array<Sse.SseEvent>> => {
  const chunks: Array<Array<Sse.SseEvent>> = []
  words = asciiWords
  for (let i = 0, size = 0; size < SIZE; i += 64) {
    const c: Array<Sse.SseEvent> = []
    for (let k = i; k < i + 64; k++) {
      const data = `{"choices":[{"delta":{"content":"${word()} "}}],"index":${k}}`
      size += data.length + 20
      c.push(Sse.unsafeEvent({ data, id: String(k) }))
    }
    chunks.push(c)
  }
  return chunks
}
const ndjsonValues = (): Array<Array<unknown>> => {
  const lines = ndjson(SIZE).text.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l))
  const chunks: Array<Array<unknown>> = []
  for (let i = 0; i < lines.length; i += 64) chunks.push(lines.slice(i, i + 64))
  return chunks
}
const encodeGroups = [
  {
    title: "Encoding SSE events (LLM tokens, id on every event), 64 events a chunk, MB/s of output",
    input: sseMessages,
    impls: [["streamwire Sse.encode", oursSseEncode], [
      "eventsource-encoder + TextEncoder per event",
      eventsourceEncoder
    ]]
  },
  {
    title: "Encoding NDJSON records, 64 records a chunk, MB/s of output",
    input: ndjsonValues,
    impls: [["streamwire Ndjson.encode", oursNdjsonEncode], [
      "JSON.stringify + TextEncoder per record",
      stringifyEncode
    ]]
  }
] as const

// ------------------------------------------------------------------------------------------------
// timing

/**
 * CPU time of this process (user + system, GC threads included): the machine is shared, and CPU
 * time moves far less than wall time when other work runs beside the benchmark.
 */
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const time = async <I>(impl: (chunks: I) => Promise<number>, chunks: I, bytes: number, budgetMs: number) => {
  // warm up (JIT) for half the budget, then time runs for the budget and take the median
  let items = 0
  const warm = cpuMs()
  do items = await impl(chunks)
  while (cpuMs() - warm < budgetMs / 2)
  const runs: Array<number> = []
  const start = cpuMs()
  while (cpuMs() - start < budgetMs || runs.length < 5) {
    const t0 = cpuMs()
    await impl(chunks)
    runs.push(cpuMs() - t0)
  }
  runs.sort((a, b) => a - b)
  const median = runs[Math.floor(runs.length / 2)]!
  return { items, ms: median, mbps: bytes / MiB / (median / 1000) }
}

const budgetArg = process.argv.find((a) => a.startsWith("--budget="))
/** CPU milliseconds per case (half warm-up); `--budget=N` to change it. */
const budget = budgetArg !== undefined ? Number(budgetArg.slice(9)) : quick ? 300 : 1500
const fmt = (n: number) => n.toFixed(1).padStart(8)

// ------------------------------------------------------------------------------------------------
// cases: each runs in a fresh process, so no implementation inherits another's heap or JIT state

interface Group {
  readonly title: string
  readonly corpus: () => string
  readonly impls: ReadonlyArray<readonly [string, Impl]>
}

const sseImpls = [
  ["streamwire Sse.decode, eager drain", oursSse("eager")],
  ["streamwire Sse.decode, deferred drain", oursSse("deferred")],
  ["streamwire Sse.decode, eager per-chunk drain", oursSse("chunk")],
  ["streamwire Sse.decode, deferred drain through Stream.toPull", oursSse("pull")],
  ["streamwire Sse.decode({ copyValues: true }), eager drain", oursSseCopy("eager")],
  ["streamwire Sse.decode({ copyValues: true }), deferred drain", oursSseCopy("deferred")],
  ["streamwire Sse.decodeText (after Stream.decodeText), eager drain", oursSseText("eager")],
  ["streamwire Sse.decodeText (after Utf8.decode), eager drain", oursSseTextUtf8("eager")],
  ["streamwire staged Utf8.decode → Lines.split → Sse.parse, eager drain", oursSseStaged("eager")],
  ["(diagnostic) the same decoder without a Stream", oursSseNoStream],
  ["(diagnostic) runFold alone, over the events decoded beforehand", foldAlone],
  ["eventsource-parser + TextDecoder, plain loop", eventsourceParser],
  ["eventsource-parser in a Stream (decodeText → mapChunks), eager drain", eventsourceParserStream("eager")],
  ["eventsource-parser in a Stream (decodeText → mapChunks), deferred drain", eventsourceParserStream("deferred")],
  ...(quick ? [] : [["@effect/experimental Sse.makeChannel, eager drain", experimentalSse] as const]),
  ["baseline: TextDecoder + count LF", newlineBaseline]
] as const

const groups: ReadonlyArray<Group> = [
  {
    title: "SSE: LLM token stream, ASCII (small JSON events)",
    corpus: () => llm(SIZE, asciiWords).text,
    impls: sseImpls
  },
  {
    title: "SSE: LLM token stream, multilingual (non-ASCII in every read)",
    corpus: () => llm(SIZE).text,
    impls: sseImpls
  },
  { title: "SSE: large multi-line events", corpus: () => large(SIZE).text, impls: sseImpls },
  {
    title: "NDJSON records",
    corpus: () => ndjson(SIZE).text,
    impls: [
      ["streamwire Ndjson.decode, eager drain", oursNdjson("eager")],
      ["streamwire Ndjson.decode, deferred drain", oursNdjson("deferred")],
      ["streamwire Ndjson.decode, eager per-chunk drain", oursNdjson("chunk")],
      ["streamwire Ndjson.decode, deferred drain through Stream.toPull", oursNdjson("pull")],
      ["@effect/platform Ndjson.unpack, eager drain", platformNdjson],
      ["split2 + JSON.parse", split2Ndjson],
      ["hand-written TextDecoder + indexOf + JSON.parse", handNdjson]
    ]
  }
]
const readSizes = [16 * 1024, 64 * 1024]

/**
 * Several implementations of one group timed in turns inside one process (after a warm-up of
 * each): one pass of each, then the next round, so that load on a shared machine falls on all of
 * them alike. Their ratios are steadier than those of separate processes; the price is that they
 * share the JIT (our transformers' common bridge sees several machines) and the heap.
 */
const paired = async (g: number, r: number, indices: ReadonlyArray<number>) => {
  const group = groups[g]!
  const bytes = encoder.encode(group.corpus())
  const input = reads(bytes, readSizes[r]!)
  const impls = indices.map((i) => group.impls[i]!)
  const items: Array<number> = []
  for (const [, impl] of impls) items.push(await impl(input))
  const warm = cpuMs()
  while (cpuMs() - warm < budget / 2) for (const [, impl] of impls) await impl(input)
  const runs: Array<Array<number>> = impls.map(() => [])
  const start = cpuMs()
  while (cpuMs() - start < budget * impls.length || runs[0]!.length < 7) {
    for (const [k, [, impl]] of impls.entries()) {
      const t0 = cpuMs()
      await impl(input)
      runs[k]!.push(cpuMs() - t0)
    }
  }
  return impls.map(([name], k) => {
    const sorted = [...runs[k]!].sort((a, b) => a - b)
    const ms = sorted[Math.floor(sorted.length / 2)]!
    return { name, items: items[k], ms, mbps: bytes.length / MiB / (ms / 1000), rounds: sorted.length }
  })
}

const runCase = async (spec: string) => {
  const [kind, ...args] = spec.split(":")
  if (kind === "impl") {
    const [g, r, i] = args.map(Number) as [number, number, number]
    const group = groups[g]!
    const [name, impl] = group.impls[i]!
    const bytes = encoder.encode(group.corpus())
    // a slow peer is timed on a prefix (cut after a line end; a partial last event is discarded by all)
    const slow = name.includes("experimental") || name.includes("@effect/platform")
    const input = reads(slow ? bytes.subarray(0, bytes.lastIndexOf(10, bytes.length >> 2) + 1) : bytes, readSizes[r]!)
    const size = input.reduce((n, c) => n + c.length, 0)
    const result = await time(impl, input, size, budget)
    return { ...result, name: slow ? `${name} (¼ prefix)` : name }
  }
  if (kind === "paired") return paired(Number(args[0]), Number(args[1]), args[2]!.split(",").map(Number))
  if (kind === "encode") {
    const group = encodeGroups[Number(args[0])]!
    const [name, impl] = group.impls[Number(args[1])]!
    const input = group.input() as Array<Array<any>>
    const bytes = await (impl as EncodeImpl<any>)(input)
    return { ...(await time(impl as EncodeImpl<any>, input, bytes, budget)), name }
  }
  if (kind === "drain") {
    // no codec: 512 chunks of 217 fresh plain objects (the shape of the LLM corpus' reads), each
    // holding two slices of a 16 KiB string, made as they are pulled
    const text = "x".repeat(16 * 1024)
    const make = () => {
      const out: Array<{ _tag: string; data: string; id: string }> = []
      for (let k = 0; k < 217; k++) {
        out.push({ _tag: "E", data: text.slice(k * 50, k * 50 + 40), id: text.slice(k, k + 20) })
      }
      return Chunk.unsafeFromArray(out)
    }
    const source = () =>
      Stream.unfoldChunk(0, (i: number) => i < 512 ? Option.some([make(), i + 1] as const) : Option.none())
    const result = await time(() => drain(source(), args[0] as Drain), undefined, 512 * 16 * 1024, budget)
    return { ...result, usPerChunk: (result.ms * 1000) / 512 }
  }
  if (kind === "retain") return retain(Number(args[0]) * MiB, args[1]!)
  if (kind === "linear") {
    const size = Number(args[0])
    const input = reads(encoder.encode(llm(size, asciiWords).text), 16 * 1024)
    return time(oursSse("eager"), input, size, budget)
  }
  if (kind === "longline") {
    const input = reads(encoder.encode("data: " + "x".repeat(SIZE) + "\n\n"), 16 * 1024)
    const limits = { maxLineLength: 2 * SIZE, maxEventSize: 2 * SIZE }
    return time((chunks) => countStream(fromReads(chunks).pipe(Sse.decode(limits))), input, SIZE, budget)
  }
  // memory: what stays reachable while decoding a stream generated on the fly (never held whole):
  // a full GC every 256 reads, the largest heap after it
  const gc = (globalThis as { gc?: () => void }).gc!
  const total = Number(args[0]) * MiB
  const piece = encoder.encode(llm(16 * 1024, asciiWords).text.slice(0, 16 * 1024))
  const block = piece.subarray(0, piece.lastIndexOf(10) + 1) // whole lines
  const n = Math.floor(total / block.length)
  gc()
  const base = process.memoryUsage().heapUsed
  let peak = base
  let i = 0
  let lastGc = 0
  const items = await countStream(
    Stream.repeatEffectChunkOption(
      Effect.suspend(() => i++ < n ? Effect.succeed(Chunk.of(block)) : Effect.fail(Option.none()))
    ).pipe(
      Sse.decode,
      Stream.tap(() =>
        Effect.sync(() => {
          if (i - lastGc < 256) return
          lastGc = i
          gc()
          peak = Math.max(peak, process.memoryUsage().heapUsed)
        })
      )
    )
  )
  return { items, retainedMiB: (peak - base) / MiB }
}

/**
 * A consumer that keeps every 100th event of a stream generated on the fly (ASCII LLM tokens,
 * 16 KiB reads): the heap after a full GC at the end, above the heap before, against the size of
 * the kept events' own strings; and the CPU time of the whole run. `how`: `view` (`Sse.decode`),
 * `copy` (`Sse.decode({ copyValues: true })`) or `eventsource-parser` (its plain loop, for scale).
 */
const retain = async (total: number, how: string) => {
  const gc = (globalThis as { gc?: () => void }).gc!
  const text = llm(64 * 1024, asciiWords).text
  const blocks: Array<Uint8Array> = []
  for (let at = 0; at + 16 * 1024 <= text.length; at += 16 * 1024) {
    blocks.push(encoder.encode(text.slice(at, at + 16 * 1024)))
  }
  const n = Math.floor(total / (16 * 1024))
  gc()
  const base = process.memoryUsage().heapUsed
  const kept: Array<{ readonly data: string; readonly id: string }> = []
  let i = 0
  let seen = 0
  const t0 = cpuMs()
  if (how === "eventsource-parser") {
    const parser = createParser({
      onEvent: (e) => {
        if (seen++ % 100 === 0) kept.push({ data: e.data, id: e.id ?? "" })
      }
    })
    const decoder = new TextDecoder()
    while (i < n) parser.feed(decoder.decode(blocks[i++ % blocks.length]!, { stream: true }))
  } else {
    await Effect.runPromise(
      Stream.runForEachChunk(
        Stream.repeatEffectChunkOption(
          Effect.suspend(() =>
            i < n ? Effect.succeed(Chunk.of(blocks[i++ % blocks.length]!)) : Effect.fail(Option.none())
          )
        ).pipe(how === "copy" ? Sse.decode({ copyValues: true }) : Sse.decode),
        (c) => {
          for (const e of c) if (seen++ % 100 === 0) kept.push({ data: e.data, id: e.lastEventId })
          return Effect.void
        }
      )
    )
  }
  const ms = cpuMs() - t0
  gc()
  const retained = process.memoryUsage().heapUsed - base
  let own = 0
  for (const e of kept) own += e.data.length + e.id.length + 64
  return { events: seen, kept: kept.length, retainedMiB: retained / MiB, ownMiB: own / MiB, ms }
}

const child = (spec: string): any => {
  const gc = spec.startsWith("memory") || spec.startsWith("retain") ? ["--expose-gc"] : []
  const args = [
    ...gc,
    ...nodeFlags,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    "--case",
    spec,
    ...process.argv.filter((a) => a === "--quick" || a.startsWith("--budget="))
  ]
  const out = execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 })
  return JSON.parse(out.trim().split("\n").pop()!)
}

/** The run with the median MB/s of a case's runs, and their range. */
const summarize = (results: Array<any>): any => {
  const runs = [...results].sort((a, b) => a.mbps - b.mbps)
  const mid = runs[Math.floor(runs.length / 2)]
  return {
    ...mid,
    runs,
    range: repeat === 1 ? "" : ` (${runs[0].mbps.toFixed(0)}–${runs[runs.length - 1].mbps.toFixed(0)})`
  }
}

/**
 * Cases to compare with each other, each in `repeat` fresh processes taken in turns (A B C, A B C,
 * …) rather than one case after another: on a shared machine the load drifts over minutes, and
 * taking turns spreads the drift over all the cases instead of charging it to some.
 */
const timedInTurns = (specs: ReadonlyArray<string>): Array<any> => {
  const results: Array<Array<any>> = specs.map(() => [])
  for (let k = 0; k < repeat; k++) specs.forEach((spec, i) => results[i]!.push(child(spec)))
  return results.map(summarize)
}

const main = () => {
  console.log(
    `node ${process.version}, ${quick ? "quick" : "full"} run, corpora of ${SIZE / MiB} MiB, ` +
      `NODE_OPTIONS=${process.env["NODE_OPTIONS"] ?? ""}, each case in a fresh process, median of runs, ` +
      `MB per second of the process's CPU time (process.cpuUsage); load average ${
        loadavg().map((x) => x.toFixed(1)).join(" ")
      }`
  )
  groups.forEach((group, g) => {
    if (!only(group.title.startsWith("SSE") ? "sse" : "ndjson") || !onlyGroup(g)) return
    console.log(`\n${group.title}`)
    console.log(`| read | implementation | MB/s | streamwire ÷ it | items |`)
    console.log(`|---|---|---:|---:|---:|`)
    readSizes.forEach((readSize, r) => {
      const rows = timedInTurns(group.impls.flatMap((_, i) => onlyImpl(i) ? [`impl:${g}:${r}:${i}`] : []))
      for (const row of rows) {
        console.log(
          `| ${readSize / 1024} KiB | ${row.name} | ${fmt(row.mbps)}${row.range} | ${
            (rows[0].mbps / row.mbps).toFixed(2)
          }× | ${row.items} |`
        )
      }
    })
  })

  encodeGroups.forEach((group, g) => {
    if (!only("encode")) return
    console.log(`\n${group.title}`)
    console.log(`| implementation | MB/s | streamwire ÷ it |`)
    console.log(`|---|---:|---:|`)
    const rows = timedInTurns(group.impls.map((_, i) => `encode:${g}:${i}`))
    for (const row of rows) {
      console.log(`| ${row.name} | ${fmt(row.mbps)}${row.range} | ${(rows[0].mbps / row.mbps).toFixed(2)}× |`)
    }
  })

  if (only("drains")) {
    console.log(`\nDrains without any codec: 512 chunks of 217 plain objects each, µs of CPU per chunk`)
    console.log(`| drain | µs per chunk |\n|---|---:|`)
    const hows = ["eager", "chunk", "deferred", "pull"] as const
    const results = timedInTurns(hows.map((how) => `drain:${how}`))
    for (const [i, how] of hows.entries()) {
      const r = results[i]
      const us = r.runs.map((x: any) => x.usPerChunk.toFixed(1))
      console.log(`| ${how} | ${r.usPerChunk.toFixed(1)}${repeat === 1 ? "" : ` (${us.reverse().join(", ")})`} |`)
    }
  }

  if (only("paired")) {
    // (group, implementations): ours beside the peer each target is measured against
    const sets: ReadonlyArray<readonly [number, ReadonlyArray<number>]> = [
      [0, [11, 0, 1, 4, 5, 6, 7, 8]],
      [1, [11, 0, 1, 4, 5, 6, 7, 8]],
      [2, [11, 0, 1, 6, 7, 8]],
      [3, [6, 0, 1]]
    ]
    for (const [g, all] of sets) {
      if (!onlyGroup(g)) continue
      const indices = implsArg === undefined ? all : all.filter(onlyImpl)
      console.log(`\n${groups[g]!.title}: in turns inside one process (median of ${repeat} processes)`)
      console.log(`| read | implementation | MB/s | ÷ the first |\n|---|---|---:|---:|`)
      readSizes.forEach((readSize, r) => {
        const processes = Array.from({ length: repeat }, () => child(`paired:${g}:${r}:${indices.join(",")}`))
        const rows = indices.map((_, k) => summarize(processes.map((p) => p[k])))
        for (const row of rows) {
          console.log(
            `| ${readSize / 1024} KiB | ${row.name} | ${fmt(row.mbps)}${row.range} | ${
              (row.mbps / rows[0].mbps).toFixed(2)
            }× |`
          )
        }
      })
    }
  }

  const total = quick ? 64 : 256
  if (only("retain")) {
    console.log(
      `\nA consumer keeping every 100th event of a ${total} MiB stream (16 KiB reads): heap retained at the end`
    )
    console.log(
      `| decoder | events | kept | retained | the kept events' own strings | CPU ms of the run |\n|---|---:|---:|---:|---:|---:|`
    )
    const names = {
      view: "Sse.decode",
      copy: "Sse.decode({ copyValues: true })",
      "eventsource-parser": "eventsource-parser, plain loop"
    }
    for (const [how, name] of Object.entries(names)) {
      const r = child(`retain:${total}:${how}`)
      console.log(
        `| ${name} | ${r.events} | ${r.kept} | ${r.retainedMiB.toFixed(1)} MiB | ${r.ownMiB.toFixed(1)} MiB | ${
          r.ms.toFixed(0)
        } |`
      )
    }
  }

  if (only("linear")) {
    console.log(`\nLinearity (Sse.decode, ASCII LLM corpus, 16 KiB reads)`)
    const a = child(`linear:${SIZE / 4}`)
    const b = child(`linear:${SIZE}`)
    console.log(
      `| input | ms |\n|---|---:|\n| ${SIZE / 4 / MiB} MiB | ${a.ms.toFixed(1)} |\n| ${SIZE / MiB} MiB | ${
        b.ms.toFixed(1)
      } |`
    )
    console.log(`time for 4× the input: ${(b.ms / a.ms).toFixed(2)}× (target ≤ 4.4×)`)
    const l = child("longline")
    console.log(`one ${SIZE / MiB} MiB data line in 16 KiB reads: ${l.mbps.toFixed(1)} MB/s`)
  }

  if (only("memory")) {
    console.log(`\nMemory while decoding a stream generated on the fly (Sse.decode, 16 KiB reads): the largest heap`)
    console.log(`after a full GC (every 256 reads), above the heap before the stream`)
    console.log(`| stream | events | retained |\n|---|---:|---:|`)
    for (const total of quick ? [32, 128] : [64, 512]) {
      const m = child(`memory:${total}`)
      console.log(`| ${total} MiB | ${m.items} | ${m.retainedMiB.toFixed(2)} MiB |`)
    }
  }
}

const caseIndex = process.argv.indexOf("--case")
if (caseIndex === -1) main()
else runCase(process.argv[caseIndex + 1]!).then((r) => console.log(JSON.stringify(r)))

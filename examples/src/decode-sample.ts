/**
 * Decodes a sample SSE byte stream, cut into awkward chunks, and prints each event.
 *
 *   npm run tsx -- examples/src/decode-sample.ts
 */
import { Sse } from "@streamwire/codec"
import { Console, Effect, Schema, Stream } from "effect"

const sample = [
  "\uFEFF: a sample stream, as a server would send it\n",
  "retry: 2000\n\n",
  "id: 1\nevent: tick\ndata: {\"n\":1}\n\n",
  "id: 2\r\nevent: tick\r\ndata: {\"n\":2}\r\n\r\n",
  "id: 3\rdata: a message\rdata: over two lines\r\r",
  "data: emoji split across reads: 🎉\n\n"
].join("")

// Cut the bytes every 7 bytes: characters and CRLFs land across reads, as on a real socket.
const bytes = new TextEncoder().encode(sample)
const reads = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7))

const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))

export const program = Effect.gen(function*() {
  const lines: Array<string> = []
  yield* Stream.fromIterable(reads).pipe(
    Sse.decode({ include: ["retry"] }),
    Stream.map((m) =>
      m._tag === "Retry" ? `retry ${m.millis} ms` : `${m.type} #${m.lastEventId}: ${JSON.stringify(m.data)}`
    ),
    Stream.runForEach((line) => Effect.zipRight(Effect.sync(() => lines.push(line)), Console.log(line)))
  )
  const ticks = yield* Stream.fromIterable(reads).pipe(
    Sse.decode,
    Stream.filter((e) => e.type === "tick"),
    Sse.decodeSchema(Tick),
    Stream.runCollect
  )
  yield* Console.log("typed ticks:", Array.from(ticks))
  return { lines, ticks: Array.from(ticks) }
})

if (import.meta.url === `file://${process.argv[1]}`) Effect.runPromise(program)

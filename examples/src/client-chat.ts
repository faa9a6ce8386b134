/**
 * POSTs a prompt to the demo server's `/chat` and prints the tokens as they arrive (the LLM chat
 * pattern that `EventSource` cannot do: a POST with a JSON body, answered with an event stream).
 * With `--ndjson`, asks `/chat.ndjson` instead and reads the answer as NDJSON.
 *
 *   npm start                                                      # in another terminal
 *   npm run tsx -- examples/src/client-chat.ts "tell me a story" [--ndjson] [base url]
 */
import { type HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { NdjsonClient, SseClient } from "@streamwire/client"
import { Console, Effect, Stream } from "effect"

const args = process.argv.slice(2)
const ndjson = args.includes("--ndjson")
const [prompt = "stream me a few tokens please", base = "http://127.0.0.1:8080"] = args.filter((a) => a !== "--ndjson")

const write = (text: string) => Effect.sync(() => process.stdout.write(text))

/** An NDJSON token as the server may send it: a string, or an object with a `token`/`text` field. */
const tokenOf = (value: unknown): string => {
  if (typeof value === "string") return value
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>
    if (v["done"] === true) return "" // the end-of-answer marker
    if (typeof v["token"] === "string") return v["token"]
    if (typeof v["text"] === "string") return v["text"]
  }
  return JSON.stringify(value)
}

const request = (path: string) =>
  HttpClientRequest.post(`${base}${path}`).pipe(HttpClientRequest.bodyUnsafeJson({ prompt }))

// POST is not retried by default: the end of the response body is the end of the answer.
const tokens: Stream.Stream<
  string,
  NdjsonClient.NdjsonClientError | SseClient.SseClientError,
  HttpClient.HttpClient
> = ndjson
  ? NdjsonClient.values(request("/chat.ndjson")).pipe(Stream.map(tokenOf))
  : SseClient.events(request("/chat")).pipe(
    Stream.takeWhile((event) => event.type !== "done"),
    Stream.map((event) => event.data) // each token's data is its text, spacing included
  )

const program = Effect.gen(function*() {
  yield* Console.log(`> ${prompt}`)
  yield* tokens.pipe(Stream.runForEach(write))
  yield* write("\n")
}).pipe(Effect.provide(NodeHttpClient.layerUndici))

NodeRuntime.runMain(program)

/**
 * The client README's quick start: follows the demo's `/events` (start it with `npm start`), which
 * carries `tick` and `quote` events, each type decoded with its own Schema.
 *
 *   npm run tsx -- examples/src/client-quickstart.ts
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { SseClient } from "@streamwire/client"
import { Console, Effect, Schema, Stream } from "effect"

// one Schema per event type; events of other types are ignored, as EventSource ignores them
const schemas = {
  tick: Schema.parseJson(Schema.Struct({ n: Schema.Number })),
  quote: Schema.parseJson(Schema.Struct({ symbol: Schema.String, price: Schema.Number }))
}

export const follow = (url: string) =>
  SseClient.schemas(url, schemas).pipe(
    Stream.map((e) => e.type === "tick" ? `tick ${e.data.n}` : `${e.data.symbol} ${e.data.price}`)
  )

const program = follow("http://127.0.0.1:8080/events").pipe(
  Stream.runForEach(Console.log),
  Effect.provide(NodeHttpClient.layerUndici) // or FetchHttpClient.layer from @effect/platform
)

if (import.meta.url === `file://${process.argv[1]}`) NodeRuntime.runMain(program)

/**
 * Follows the demo server's `/events` with EventSource semantics, printing each event and each
 * reconnect. Restart the server while it runs: the client reconnects (backing off while the server
 * is down) and resumes from the last event id; the demo keeps its log on disk (or in Redis), so no
 * event is missed or repeated. (On a server with an in-memory log the restart would come as an
 * `event: reset`.) Ctrl-C closes the stream, which aborts the request.
 *
 *   npm start                                   # in another terminal: the demo server
 *   npm run tsx -- examples/src/client-events.ts [url] # default http://127.0.0.1:8080/events
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Reconnect, SseClient } from "@streamwire/client"
import { Console, Duration, Effect, Stream } from "effect"

const url = process.argv[2] ?? "http://127.0.0.1:8080/events"

const describe = (element: SseClient.Element): string => {
  switch (element._tag) {
    case "SseEvent":
      return `event #${element.lastEventId || "-"} ${element.type}: ${element.data}`
    case "Connecting":
      return `· connecting to ${url}${element.lastEventId === "" ? "" : ` (Last-Event-ID: ${element.lastEventId})`}`
    case "Open":
      return `· open (${element.status} ${element.headers["content-type"] ?? ""})`
    case "Retrying":
      return `· reconnect #${element.attempt} in ${Duration.toMillis(element.delay)} ms`
    case "Closed":
      return `· closed (${element.reason._tag})${
        element.reason._tag === "NoContent" ? "" : `: ${element.reason.message}`
      }`
  }
}

export const program = SseClient.connect(url, {
  // back off while the server is down, but never wait more than 5 s (nor less than its retry:)
  reconnect: Reconnect.backoff({ cap: "5 seconds" }),
  // the demo server sends a heartbeat every 15 s; if even those stop — or a server that is shutting
  // down accepts the connection but never answers — treat the connection as dropped
  idleTimeout: "20 seconds"
}).pipe(
  Stream.runForEach((element) => Console.log(describe(element))),
  Effect.provide(NodeHttpClient.layerUndici)
)

NodeRuntime.runMain(program)

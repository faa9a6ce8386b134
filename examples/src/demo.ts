/**
 * The streamwire demo server.
 *
 *   npm start                 # http://localhost:8080/
 *   PORT=3000 npm start
 *
 * Routes:
 *   GET  /             a page using the browser's own EventSource and fetch + ReadableStream
 *   GET  /events       a ticker backed by an EventLog: resumable (Last-Event-ID or ?lastEventId=)
 *   POST /chat         {"prompt": "..."} answered token by token as Server-Sent Events
 *   POST /chat.ndjson  the same answer as NDJSON
 *   GET  /shared/events the same ticker, followed by the page with SharedSse: one connection for all tabs
 *   GET  /connections  how many /events and /shared/events connections the server holds
 *
 * Try it with curl too:
 *   curl -N localhost:8080/events
 *   curl -N -H 'Last-Event-ID: <an id you saw>' localhost:8080/events
 *   curl -N localhost:8080/chat -d '{"prompt":"hello there"}' -H 'content-type: application/json'
 *
 * The ticker log is a FileEventLog in .streamwire-data/demo-events/ (created on first start;
 * STREAMWIRE_DATA_DIR=… to move it): restart the server and every client resumes where it was.
 * With STREAMWIRE_REDIS_URL=redis://127.0.0.1:6379 the log lives in Redis instead (several demo
 * instances then serve one resumable stream).
 *
 * With STREAMWIRE_HTTPS=1 it serves HTTPS, HTTP/2 and HTTP/1.1 on the same port
 * (https://localhost:8080/), with a self-signed certificate made at start into .certs/ (git-ignored;
 * needs the openssl command). Every stream of a page then shares one connection.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import { RedisEventLog } from "@streamwire/redis"
import { FileEventLog } from "@streamwire/server"
import * as Http2Server from "@streamwire/server/Http2Server"
import { Console, Effect, Layer } from "effect"
import { createServer } from "node:http"
import * as Path from "node:path"
import * as BrowserBundle from "./browser-bundle.js"
import * as DemoApp from "./demo-app.js"

const port = Number(process.env["PORT"] ?? 8080)
const https = process.env["STREAMWIRE_HTTPS"] === "1"
const dataDir = Path.resolve(process.env["STREAMWIRE_DATA_DIR"] ?? ".streamwire-data", "demo-events")

// On shutdown the platform removes the request handler, then waits for every connection to close.
// A client reconnecting over a kept-alive socket in that window would wait for an answer that never
// comes, and hold the shutdown open with it: end every connection as soon as the server closes.
const createNodeServer = () => {
  const server = createServer()
  const close = server.close.bind(server)
  server.close = ((callback?: (error?: Error) => void) => {
    close(callback)
    server.closeAllConnections()
    return server
  }) as typeof server.close
  return server
}

// HTTP/2 (and HTTP/1.1) over TLS; Http2Server's own close ends the open connections
const Https = Layer.unwrapEffect(
  Effect.map(
    Http2Server.devCertificate({ dir: new URL("../../.certs", import.meta.url).pathname }),
    ({ cert, certPath, key, spki }) =>
      Http2Server.layer(() => Http2Server.createServer({ key, cert }), { port }).pipe(
        Layer.tap(() => Console.log(`self-signed certificate: ${certPath} (SPKI sha256 ${spki})`))
      )
  )
)

// the "shared across tabs" panel's script, bundled with esbuild at start (the panel says it is
// unavailable if that fails)
const sharedScript = Effect.tryPromise(() => BrowserBundle.sharedPanel()).pipe(
  Effect.tapError((e) => Console.warn(`the shared-tabs panel is unavailable: ${e.cause}`)),
  Effect.orElseSucceed(() => undefined)
)

// the routes, the page, the ticker and the fake language model: ./demo-app.ts
const App = Layer.scopedDiscard(
  sharedScript.pipe(
    Effect.flatMap((script) => DemoApp.make({ sharedScript: script })),
    Effect.flatMap(HttpServer.serveEffect())
  )
)

const Main = App.pipe(
  // STREAMWIRE_REDIS_URL set: the log lives in a Redis stream, shared by every demo instance;
  // otherwise in files on this machine, so the history survives a restart
  Layer.provide(
    RedisEventLog.layerFromEnv(FileEventLog.layer({ directory: dataDir, maxEvents: 500, maxAge: "10 minutes" }), {
      key: "streamwire:demo",
      retention: { maxLength: 500 }
    })
  ),
  Layer.provide(https ? Https : NodeHttpServer.layer(createNodeServer, { port })),
  Layer.tap(() =>
    Console.log(
      `streamwire demo listening on ${
        https ? "https" : "http"
      }://localhost:${port}/ (events kept in ${dataDir} unless STREAMWIRE_REDIS_URL is set)`
    )
  )
)

NodeRuntime.runMain(Layer.launch(Main))

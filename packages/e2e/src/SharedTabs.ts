/**
 * The server side of the tab-sharing tests: `SharedTabsPage.ts` bundled for the browser with
 * esbuild (examples/src/browser-bundle.ts: a temporary directory, removed at once; nothing is
 * written to the repository),
 * and an app serving that script, an HTML page that loads it, and two resumable streams
 * (`/events/a`, `/events/b`, each on its own in-memory log the test appends to).
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { type EventLog, MemoryEventLog, SseResponse } from "@streamwire/server"
import { Effect } from "effect"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as BrowserBundle from "../../../examples/src/browser-bundle.js"

const here = Path.dirname(fileURLToPath(import.meta.url))

/** `SharedTabsPage.ts` and everything it imports (effect, the client, the codec) as one classic script. */
export const bundle = (): Promise<string> => BrowserBundle.bundle(Path.join(here, "SharedTabsPage.ts"))

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>shared tab</title><script src="/shared.js"></script></head>
<body>shared tab</body></html>`

export interface Logs {
  readonly a: EventLog.EventLog
  readonly b: EventLog.EventLog
}

export const make = (script: string) =>
  Effect.gen(function*() {
    const a = yield* MemoryEventLog.make({ maxEvents: 10_000 })
    const b = yield* MemoryEventLog.make({ maxEvents: 10_000 })
    const router = HttpRouter.empty.pipe(
      HttpRouter.get("/", HttpServerResponse.html(page)),
      HttpRouter.get("/shared.js", HttpServerResponse.text(script, { contentType: "text/javascript; charset=utf-8" })),
      HttpRouter.get("/events/a", SseResponse.fromEventLog(a, { initial: "retained" })),
      HttpRouter.get("/events/b", SseResponse.fromEventLog(b, { initial: "retained" }))
    )
    return [router, { a, b } satisfies Logs] as const
  })

/** Appends `n` events (data `${prefix} ${i}`) and returns them as a tab should see them. */
export const append = (log: EventLog.EventLog, prefix: string, from: number, n: number) =>
  Effect.runPromise(
    Effect.forEach(Array.from({ length: n }, (_, i) => from + i), (i) =>
      log.append({ type: "tick", data: `${prefix} ${i}` }))
  ).then((appended) =>
    appended.map((e) => ({ id: e.lastEventId, data: e.data }))
  )

/**
 * The browser side of the tab-sharing tests: a page script (bundled with esbuild at test time, see
 * `SharedTabs.ts`) that follows a stream with `SharedSse` over `FetchHttpClient` and records what
 * this tab saw in `window.shared.rec`. The test drives it with `window.shared.start(url)`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { SharedSse } from "@streamwire/client/browser"
import { Effect, Fiber, Stream } from "effect"

export interface Recording {
  /** Every event: its id and data, and when it arrived (`Date.now()`). */
  readonly events: Array<{ readonly id: string; readonly data: string; readonly at: number }>
  /** Every role this tab took, and when. */
  readonly roles: Array<
    { readonly role: string; readonly tab: string; readonly leader: string | null; readonly at: number }
  >
  /** How the stream ended, if it did. */
  end: string | null
  /** The Page Lifecycle events this page saw (`freeze`, `resume`), and when. */
  readonly lifecycle: Array<{ readonly type: string; readonly at: number }>
}

const rec: Recording = { events: [], roles: [], end: null, lifecycle: [] }
for (const type of ["freeze", "resume"]) {
  document.addEventListener(type, () => rec.lifecycle.push({ type, at: Date.now() }))
}
let fiber: Fiber.RuntimeFiber<void, never> | undefined

const start = (url: string, options: { readonly shared?: boolean } = {}) => {
  fiber = SharedSse.connect(url, {
    retry: "200 millis",
    ...(options.shared === false ? { platform: false } : {})
  }).pipe(
    Stream.runForEach((e) =>
      Effect.sync(() => {
        if (e._tag === "Role") rec.roles.push({ role: e.role, tab: e.tab, leader: e.leader ?? null, at: Date.now() })
        else rec.events.push({ id: e.lastEventId, data: e.data, at: Date.now() })
      })
    ),
    Effect.provide(FetchHttpClient.layer),
    Effect.match({
      onFailure: (e) => {
        rec.end = `${e._tag}: ${e.message}`
      },
      onSuccess: () => {
        rec.end = "ended"
      }
    }),
    Effect.runFork
  )
}

const stop =
  () => (fiber === undefined ? Promise.resolve() : Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined))
;(globalThis as unknown as { shared: unknown }).shared = { start, stop, rec }

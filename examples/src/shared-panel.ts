/**
 * The demo page's "shared across tabs" panel, in the browser (bundled by `browser-bundle.ts`,
 * served at `/shared.js`): follows `/shared/events` with `SharedSse`, so however many tabs of the
 * demo are open the server holds one connection for them, and shows this tab's role, the events
 * it received and the connections the server holds (`GET /connections`).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { SharedSse } from "@streamwire/client/browser"
import { Effect, Stream } from "effect"

const $ = (id: string) => document.getElementById(id)!

let received = 0
let lastTick = 0
let gaps = 0
let dups = 0

const show = (role: SharedSse.Role) => {
  const el = $("sharedRole")
  el.textContent = role.role
  el.className = `pill ${role.role === "leader" ? "state-open" : role.role === "follower" ? "state-connecting" : ""}`
  $("sharedTab").textContent = role.tab
  $("sharedLeader").textContent = role.leader ?? "?"
}

const onEvent = (e: { readonly type: string; readonly data: string; readonly lastEventId: string }) => {
  received++
  if (e.type === "tick") {
    try {
      const n = (JSON.parse(e.data) as { n?: unknown }).n
      if (typeof n === "number") {
        if (lastTick > 0 && n > lastTick + 1) gaps += n - lastTick - 1
        if (lastTick > 0 && n <= lastTick) dups++
        lastTick = n
      }
    } catch {
      // not a tick of this demo
    }
  }
  $("sharedReceived").textContent = String(received)
  $("sharedLastId").textContent = e.lastEventId || "none"
  $("sharedGaps").textContent = String(gaps)
  $("sharedDups").textContent = String(dups)
}

SharedSse.connect("/shared/events", { retry: "1 second" }).pipe(
  Stream.runForEach((e) => Effect.sync(() => (e._tag === "Role" ? show(e) : onEvent(e)))),
  Effect.provide(FetchHttpClient.layer),
  Effect.catchAll((e) => Effect.sync(() => ($("sharedRole").textContent = `failed: ${e._tag}`))),
  Effect.runFork
)

const poll = async () => {
  try {
    const c = await (await fetch("/connections")).json() as { events: number; shared: number }
    $("connEvents").textContent = String(c.events)
    $("connShared").textContent = String(c.shared)
  } catch {
    // the server is away: try again
  }
}
void poll()
setInterval(poll, 1000)

$("openTab").addEventListener("click", () => window.open("/", "_blank"))

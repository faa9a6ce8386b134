/**
 * One tab's side of a shared SSE stream. Every tab opens the channel and queues for the lock
 * named after the stream; the tab holding the lock runs `SseClient.connect` and posts each event
 * (with its key, see `relay.ts`) on the channel; every tab, the leader included, delivers an event
 * unless its key was already delivered. The lock is held by a promise the tab resolves when it
 * stops leading: when the stream is interrupted, or at the Page Lifecycle `freeze` or `pagehide`
 * (then the tab queues again at `resume` or `pageshow`); the browser releases it anyway when the tab
 * goes away.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { Sse } from "@streamwire/codec"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import type * as SharedSse from "../SharedSse.js"
import { LeaderFailed, RelayOverflow } from "../SharedSse.js"
import * as SseClient from "../SseClient.js"
import { Delivered, KeyTracker, type Message, readMessage } from "./relay.js"

const DEFAULT_NAMESPACE = "streamwire-sse"
const DEFAULT_DEDUPE_WINDOW = 1000
const DEFAULT_BUFFER_SIZE = 10_000

/** @internal */
export const browserPlatform = (): SharedSse.Platform | undefined => {
  const g = globalThis as {
    readonly navigator?: { readonly locks?: SharedSse.Locks }
    readonly BroadcastChannel?: new(name: string) => SharedSse.Channel
    readonly document?: EventTarget
    readonly location?: { readonly href: string }
    readonly addEventListener?: unknown
  }
  const locks = g.navigator?.locks
  const Channel = g.BroadcastChannel
  if (locks === undefined || typeof locks.request !== "function" || typeof Channel !== "function") return undefined
  return {
    locks,
    channel: (name) => new Channel(name),
    document: g.document,
    window: typeof g.addEventListener === "function" ? (globalThis as unknown as EventTarget) : undefined,
    baseUrl: g.location?.href
  }
}

const resolveUrl = (url: string | URL, base: string | undefined): string => {
  try {
    return new URL(url, base).href
  } catch {
    return String(url) // SseClient fails with the request error
  }
}

const clientOptions = <R>(options: SharedSse.Options<R> | undefined): SseClient.Options<R> => {
  if (options === undefined) return {}
  const { bufferSize: _b, dedupeWindow: _d, namespace: _n, platform: _p, ...rest } = options
  return rest
}

const randomId = (): string => Math.random().toString(36).slice(2, 10)

/** @internal */
export const connect = <R = never>(
  url: string | URL,
  options?: SharedSse.Options<R>
): Stream.Stream<SharedSse.Element, SharedSse.SharedSseError, HttpClient.HttpClient | R> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const platform = options?.platform === false ? undefined : options?.platform ?? browserPlatform()
    const tab = randomId()
    if (platform === undefined) {
      const standalone: SharedSse.Role = { _tag: "Role", role: "standalone", tab, leader: undefined }
      return Stream.concat(
        Stream.succeed<SharedSse.Element>(standalone),
        SseClient.events(
          resolveUrl(url, (globalThis as { location?: { href: string } }).location?.href),
          clientOptions(options)
        )
      )
    }
    const href = resolveUrl(url, platform.baseUrl)
    const name = `${options?.namespace ?? DEFAULT_NAMESPACE}:${href}`
    const limit = options?.bufferSize ?? DEFAULT_BUFFER_SIZE
    const delivered = new Delivered(options?.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW, options?.lastEventId ?? "")
    const out = yield* Mailbox.make<SharedSse.Element, SharedSse.SharedSseError>()
    const runtime = yield* Effect.runtime<HttpClient.HttpClient | R>()

    const emit = (element: SharedSse.Element) => {
      if (Option.getOrElse(out.unsafeSize(), () => 0) >= limit) {
        out.unsafeDone(Exit.fail(new RelayOverflow({ url: href, limit })))
      } else {
        out.unsafeOffer(element)
      }
    }
    const deliver = (type: string, data: string, lastEventId: string, key: string | null) => {
      if (delivered.accept(key, lastEventId)) emit({ _tag: "SseEvent", type, data, lastEventId } satisfies Sse.SseEvent)
    }

    // the tab's state
    let leading = false
    let leader: string | undefined = undefined
    let closed = false
    let frozen = false
    let release: (() => void) | undefined = undefined
    let fiber: Fiber.RuntimeFiber<void, never> | undefined = undefined
    let abort = new AbortController()

    const role = () => emit({ _tag: "Role", role: leading ? "leader" : "follower", tab, leader })

    const channel = yield* Effect.acquireRelease(
      Effect.sync(() => platform.channel(name)),
      (c) => Effect.sync(() => c.close())
    )
    const post = (message: Message) => {
      try {
        channel.postMessage(message)
      } catch {
        // closed while the tab goes away: nobody left to tell
      }
    }

    channel.addEventListener("message", (event) => {
      if (closed) return
      const m = readMessage(event.data)
      if (m === undefined) return
      switch (m.t) {
        case "event":
          deliver(m.type, m.data, m.id, m.key)
          break
        case "lead":
          if (!leading && leader !== m.tab) {
            leader = m.tab
            role()
          }
          break
        case "who":
          if (leading) post({ t: "lead", tab, from: delivered.last })
          break
        case "end":
          if (!leading) out.unsafeDone(Exit.void)
          break
        case "fail":
          if (!leading) {
            out.unsafeDone(Exit.fail(new LeaderFailed({ url: href, error: m.error, detail: m.message })))
          }
          break
      }
    })

    // The leader's work: one SseClient session from the last id this tab delivered, every event
    // posted to the other tabs and delivered here unless this tab already has it.
    const lead = Effect.gen(function*() {
      const keys = new KeyTracker(delivered.last)
      yield* SseClient.connect(href, { ...clientOptions(options), lastEventId: delivered.last }).pipe(
        // each chunk's work is done as it arrives; an `Effect.sync` capturing the chunk is the slow
        // drain (the codec README, "Which drains are fast")
        Stream.runForEachChunk((chunk) => {
          for (const element of chunk) {
            if (element._tag === "SseEvent") {
              const key = keys.next(element.lastEventId)
              post({
                t: "event",
                tab,
                type: element.type,
                data: element.data,
                id: element.lastEventId,
                key
              })
              deliver(element.type, element.data, element.lastEventId, key)
            } else if (element._tag === "Connecting") {
              keys.connecting(element.lastEventId)
            }
          }
          return Effect.void
        })
      )
      post({ t: "end", tab })
      yield* out.end
    }).pipe(
      Effect.catchAll((error) =>
        Effect.zipRight(
          Effect.sync(() => post({ t: "fail", tab, error: error._tag, message: error.message })),
          out.fail(error)
        )
      ),
      Effect.asVoid
    )

    const granted = (): Promise<void> => {
      if (closed || frozen) return Promise.resolve()
      return new Promise<void>((resolve) => {
        release = resolve
        leading = true
        leader = tab
        role()
        post({ t: "lead", tab, from: delivered.last })
        fiber = Runtime.runFork(runtime)(lead)
      })
    }

    const queue = () => {
      abort = new AbortController()
      platform.locks.request(name, { signal: abort.signal }, granted).catch(() => {
        // aborted: the tab stopped waiting
      })
    }

    /** Stop leading now: the lock first (another tab takes over at once), then the connection. */
    const resign = () => {
      const r = release
      const f = fiber
      release = undefined
      fiber = undefined
      if (leading) {
        leading = false
        leader = undefined
      }
      r?.()
      return f
    }

    // `freeze` (document) and `pagehide` (window: the tab closes, navigates or enters the
    // back/forward cache): stop leading at once rather than when the browser tears the page down
    const onFreeze = () => {
      if (frozen || closed) return
      frozen = true
      abort.abort()
      const f = resign()
      if (f !== undefined) {
        f.unsafeInterruptAsFork(f.id())
        role()
      }
    }
    // `resume` (document), `pageshow` (window: back from the back/forward cache)
    const onResume = () => {
      if (!frozen || closed) return
      frozen = false
      queue()
      post({ t: "who", tab })
    }

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        abort.abort()
        platform.document?.removeEventListener("freeze", onFreeze)
        platform.document?.removeEventListener("resume", onResume)
        platform.window?.removeEventListener("pagehide", onFreeze)
        platform.window?.removeEventListener("pageshow", onResume)
        const f = fiber
        fiber = undefined
        // the connection goes first (nothing more is posted), then the lock
        return Effect.ensuring(
          f === undefined ? Effect.void : Fiber.interrupt(f),
          Effect.sync(() => resign())
        )
      })
    )

    platform.document?.addEventListener("freeze", onFreeze)
    platform.document?.addEventListener("resume", onResume)
    platform.window?.addEventListener("pagehide", onFreeze)
    platform.window?.addEventListener("pageshow", onResume)
    role()
    post({ t: "who", tab })
    queue()

    return Mailbox.toStream(out)
  }))

/**
 * One SSE connection for all the tabs of a site. Each tab gets a `Stream` of the events, but only
 * one tab — the leader, elected with the Web Locks API — holds the connection (an `SseClient`
 * over the tab's `HttpClient`, `FetchHttpClient.layer` in a browser) and relays every event to the
 * other tabs over a `BroadcastChannel`. Over HTTP/1.1 a browser holds at most six connections per
 * origin; ten tabs following one stream would otherwise take all six and leave four waiting.
 *
 * The stream's key is its absolute URL: tabs following the same URL share one connection, tabs
 * following two URLs hold two. When the leader tab closes, navigates away, crashes or freezes
 * (it resigns at the `pagehide` and `freeze` events; else the browser releases its lock when the
 * page goes away), the tab that has waited longest takes over: it connects with `Last-Event-ID`
 * set to the id of the last event it received, and every tab drops the events it already had (by
 * id: see {@link Options.dedupeWindow}), so each event arrives once, in order, in every surviving
 * tab.
 *
 * Where the Web Locks API or `BroadcastChannel` is missing (browsers before 2022, pages that are
 * not a secure context: Web Locks needs https or localhost), each tab follows the stream over its
 * own connection, as `SseClient.events` does, and says so with the role `"standalone"`.
 *
 * Closing is interrupting the stream: a leader releases its lock (another tab takes over), a
 * follower leaves the queue.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { Sse } from "@streamwire/codec"
import * as Data from "effect/Data"
import * as Stream from "effect/Stream"
import * as internal from "./internal/sharedSse.js"
import type * as SseClient from "./SseClient.js"

/**
 * The Web Locks API as this module uses it (`navigator.locks` fits).
 *
 * @example
 * ```ts
 * import type { SharedSse } from "@streamwire/client/browser"
 *
 * const locks: SharedSse.Locks = navigator.locks
 * ```
 *
 * @since 0.1.0
 * @category platform
 */
export interface Locks {
  request(
    name: string,
    options: { readonly signal: AbortSignal },
    callback: (lock: unknown) => Promise<void>
  ): Promise<unknown>
}

/**
 * A broadcast channel as this module uses it (`new BroadcastChannel(name)` fits).
 *
 * @example
 * ```ts
 * import type { SharedSse } from "@streamwire/client/browser"
 *
 * const open = (name: string): SharedSse.Channel => new BroadcastChannel(name)
 * ```
 *
 * @since 0.1.0
 * @category platform
 */
export interface Channel {
  postMessage(message: unknown): void
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void
  close(): void
}

/**
 * What the tabs share: the locks that elect the leader, the channels that carry the events, and
 * optionally where the page's lifecycle events fire (`freeze`/`resume` on `document`,
 * `pagehide`/`pageshow` on `window`) and the URL that relative stream URLs resolve against
 * (`location.href`).
 *
 * @example
 * ```ts
 * import { SharedSse } from "@streamwire/client/browser"
 *
 * const platform: SharedSse.Platform = {
 *   locks: navigator.locks,
 *   channel: (name) => new BroadcastChannel(name),
 *   document,
 *   window,
 *   baseUrl: location.href
 * }
 * SharedSse.events("/events", { platform })
 * ```
 *
 * @since 0.1.0
 * @category platform
 */
export interface Platform {
  readonly locks: Locks
  readonly channel: (name: string) => Channel
  /** Where `freeze` and `resume` fire: a leader resigns at `freeze`, queues again at `resume`. */
  readonly document?: EventTarget | undefined
  /** Where `pagehide` and `pageshow` fire: the same, when the tab closes, navigates or enters the back/forward cache. */
  readonly window?: EventTarget | undefined
  readonly baseUrl?: string | undefined
}

/**
 * The browser's own platform (`navigator.locks`, `BroadcastChannel`, `document`, `window`, `location`), or
 * `undefined` where the Web Locks API or `BroadcastChannel` is missing.
 *
 * @example
 * ```ts
 * import { SharedSse } from "@streamwire/client/browser"
 *
 * const shared = SharedSse.browserPlatform() !== undefined // false: one connection per tab
 * ```
 *
 * @since 0.1.0
 * @category platform
 */
export const browserPlatform: () => Platform | undefined = internal.browserPlatform

/**
 * `SseClient`'s options (the reconnect schedule, idle timeout, ... of the leader's connection), and
 * how the tabs share it.
 *
 * @example
 * ```ts
 * import { SharedSse } from "@streamwire/client/browser"
 *
 * const options: SharedSse.Options = { retry: "1 second", dedupeWindow: 2000 }
 * SharedSse.events("/events", options)
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<R = never> extends SseClient.Options<R> {
  /**
   * Where the tabs meet: default {@link browserPlatform}; `false` (or no Web Locks in this
   * browser): this tab holds its own connection.
   */
  readonly platform?: Platform | false | undefined
  /**
   * The prefix of the lock and channel names (the stream's absolute URL follows). Default
   * `"streamwire-sse"`; two pages that must not share a stream use two prefixes.
   */
  readonly namespace?: string | undefined
  /**
   * How many of its last events (with an id) a tab remembers to drop repeats after a takeover
   * (default 1000). The new leader replays the events it had not yet received when the old one
   * went away: a few, unless tabs fall far behind.
   */
  readonly dedupeWindow?: number | undefined
  /**
   * Events a tab may hold for a consumer that does not keep up (default 10,000). Past it the
   * stream fails with {@link RelayOverflow} (a tab cannot slow the other tabs down).
   */
  readonly bufferSize?: number | undefined
}

/**
 * What this tab does: holds the connection (`"leader"`), receives the leader's events
 * (`"follower"`, with the leader's tab id once known), or holds its own connection because the
 * browser cannot share one (`"standalone"`). Emitted at the start and at every change.
 *
 * @example
 * ```ts
 * import type { SharedSse } from "@streamwire/client/browser"
 *
 * const label = (r: SharedSse.Role) => r.role === "follower" ? `following tab ${r.leader ?? "?"}` : r.role
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface Role {
  readonly _tag: "Role"
  readonly role: "leader" | "follower" | "standalone"
  /** This tab's id (random, for this stream). */
  readonly tab: string
  /** The leading tab's id, when known. */
  readonly leader: string | undefined
}

/**
 * What {@link connect} emits: the events and this tab's role changes, in order.
 *
 * @example
 * ```ts
 * import type { SharedSse } from "@streamwire/client/browser"
 *
 * const describe = (e: SharedSse.Element) => e._tag === "Role" ? e.role : e.data
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export type Element = Sse.SseEvent | Role

/**
 * The leader's stream failed for good (a response that is not an event stream, the reconnect
 * schedule gave up, ...): the followers fail with this, naming the leader's error.
 *
 * @example
 * ```ts
 * import { SharedSse } from "@streamwire/client/browser"
 * import { Effect, Stream } from "effect"
 *
 * SharedSse.events("/events").pipe(
 *   Stream.runDrain,
 *   Effect.catchTag("LeaderFailed", (e) => Effect.logError(`${e.error}: ${e.message}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaderFailed extends Data.TaggedError("LeaderFailed")<{
  readonly url: string
  /** The leader's error tag, e.g. `"UnexpectedResponse"`. */
  readonly error: string
  /** The leader's error message. */
  readonly detail: string
}> {
  override get message(): string {
    return `${this.url}: the leading tab's stream failed with ${this.error}: ${this.detail}`
  }
}

/**
 * More than `bufferSize` events waited for this tab's consumer.
 *
 * @example
 * ```ts
 * import { SharedSse } from "@streamwire/client/browser"
 * import { Effect, Stream } from "effect"
 *
 * SharedSse.events("/events", { bufferSize: 50_000 }).pipe(
 *   Stream.runDrain,
 *   Effect.catchTag("RelayOverflow", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RelayOverflow extends Data.TaggedError("RelayOverflow")<{
  readonly url: string
  readonly limit: number
}> {
  override get message(): string {
    return `${this.url}: more than ${this.limit} events waited for this tab's consumer (option bufferSize)`
  }
}

/**
 * How a shared stream fails: as `SseClient` does in the leading tab, with {@link LeaderFailed} in
 * the others, or {@link RelayOverflow}.
 *
 * @example
 * ```ts
 * import type { SharedSse } from "@streamwire/client/browser"
 *
 * const describe = (e: SharedSse.SharedSseError) => `${e._tag}: ${e.message}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type SharedSseError = SseClient.SseClientError | LeaderFailed | RelayOverflow

/**
 * The events of `url` and this tab's role, one connection for all the tabs following `url`. Needs
 * an `HttpClient` (used by whichever tab leads): `FetchHttpClient.layer` in a browser.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { SharedSse } from "@streamwire/client/browser"
 * import { Effect, Stream } from "effect"
 *
 * const program = SharedSse.connect("/events").pipe(
 *   Stream.runForEach((e) =>
 *     Effect.sync(() => {
 *       if (e._tag === "Role") document.title = e.role === "leader" ? "leading" : "following"
 *       else console.log(e.lastEventId, e.data)
 *     })
 *   ),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * Effect.runFork(program)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect: <R = never>(
  url: string | URL,
  options?: Options<R>
) => Stream.Stream<Element, SharedSseError, HttpClient.HttpClient | R> = internal.connect

/**
 * The events of `url` only (see {@link connect}).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { SharedSse } from "@streamwire/client/browser"
 * import { Effect, Stream } from "effect"
 *
 * const fiber = SharedSse.events("/events").pipe(
 *   Stream.runForEach((e) => Effect.sync(() => console.log(e.type, e.data))),
 *   Effect.provide(FetchHttpClient.layer),
 *   Effect.runFork
 * )
 * // later: Fiber.interrupt(fiber) closes it (a leader hands over to another tab)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const events = <R = never>(
  url: string | URL,
  options?: Options<R>
): Stream.Stream<Sse.SseEvent, SharedSseError, HttpClient.HttpClient | R> =>
  Stream.filter(internal.connect(url, options), (e): e is Sse.SseEvent => e._tag === "SseEvent")

/**
 * Reconnect policies for `SseClient`: plain `effect/Schedule`s whose input is a
 * {@link ReconnectInput} — the attempt number, the server's `retry:` hint, the reconnection time
 * and why the connection dropped. Any Schedule works (`Schedule.exponential`, `Schedule.recurs`,
 * `Schedule.jittered`, ...); the helpers here read the server's hint from the input.
 *
 * The client steps the schedule once per drop and waits the delay it decides; when the schedule
 * is done the stream fails with `ConnectionLost`. After a healthy connection (one that delivered
 * at least one event or id) the schedule starts again from its initial state.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import type * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { DropCause } from "./ClientError.js"

/**
 * What the client feeds the reconnect schedule at each drop.
 *
 * @example
 * ```ts
 * import type { Reconnect } from "@streamwire/client"
 * import { Schedule } from "effect"
 *
 * // reconnect only after transport errors and idle timeouts, not when the server ends the body
 * const onErrorsOnly = Schedule.whileInput((i: Reconnect.ReconnectInput) => i.cause._tag !== "StreamEnded")
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export interface ReconnectInput {
  /** The reconnect about to be attempted: 1 after the first drop, counting since the last healthy connection. */
  readonly attempt: number
  /** The latest `retry:` the server sent (on any connection of this stream), if any. */
  readonly serverRetry: Option.Option<Duration.Duration>
  /** The EventSource reconnection time: the latest `retry:`, else the client's default (3 s). */
  readonly reconnectionTime: Duration.Duration
  /** Why the connection went away. */
  readonly cause: DropCause
  /** The id the next request sends as `Last-Event-ID` (`""`: none). */
  readonly lastEventId: string
}

/**
 * A reconnect policy: any Schedule that accepts {@link ReconnectInput} (most Schedules accept
 * `unknown` input, so they fit too).
 *
 * @example
 * ```ts
 * import { Reconnect } from "@streamwire/client"
 * import { Schedule } from "effect"
 *
 * const policy: Reconnect.Policy = Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(5)))
 * ```
 *
 * @since 0.1.0
 * @category model
 */
export type Policy<R = never> = Schedule.Schedule<unknown, ReconnectInput, R>

/**
 * Plain EventSource behaviour: wait the reconnection time (the server's latest `retry:`, else the
 * default) before every reconnect, forever. Outputs the delay.
 *
 * @example
 * ```ts
 * import { Reconnect, SseClient } from "@streamwire/client"
 *
 * SseClient.events("http://127.0.0.1:8080/events", { reconnect: Reconnect.reconnectionTime })
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const reconnectionTime: Schedule.Schedule<Duration.Duration, ReconnectInput> = Schedule.identity<
  ReconnectInput
>().pipe(
  Schedule.map((input) => input.reconnectionTime),
  Schedule.addDelay((delay) => delay)
)

/**
 * Waits the server's latest `retry:` (zero when it sent none), forever. Intersect it with another
 * schedule to make that schedule never reconnect sooner than the server asked; see
 * {@link atLeastServerRetry}.
 *
 * @example
 * ```ts
 * import { Reconnect } from "@streamwire/client"
 * import { Schedule } from "effect"
 *
 * // at most 5 reconnects, each after max(1 s, server retry)
 * const policy = Schedule.spaced("1 second").pipe(Schedule.intersect(Reconnect.serverRetry), Schedule.intersect(Schedule.recurs(5)))
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const serverRetry: Schedule.Schedule<Duration.Duration, ReconnectInput> = Schedule.identity<
  ReconnectInput
>().pipe(
  Schedule.map((input) => input.serverRetry._tag === "Some" ? input.serverRetry.value : Duration.zero),
  Schedule.addDelay((delay) => delay)
)

/**
 * Makes a schedule never reconnect sooner than the server's latest `retry:` (when it sent one):
 * each delay becomes the larger of the schedule's and the server's. Keeps the schedule's output.
 * A plain generic function, so it reads well bare in `pipe`.
 *
 * @example
 * ```ts
 * import { Reconnect, SseClient } from "@streamwire/client"
 * import { Schedule } from "effect"
 *
 * // exponential from 500 ms, jittered, at most 10 attempts, never sooner than the server's retry
 * const reconnect = Schedule.exponential("500 millis").pipe(
 *   Schedule.jittered,
 *   Schedule.intersect(Schedule.recurs(10)),
 *   Reconnect.atLeastServerRetry
 * )
 * SseClient.events("http://127.0.0.1:8080/events", { reconnect })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const atLeastServerRetry = <Out, In, R>(
  self: Schedule.Schedule<Out, In, R>
): Schedule.Schedule<Out, In & ReconnectInput, R> => Schedule.zipLeft(self, serverRetry)

/**
 * Options of {@link backoff}.
 *
 * @example
 * ```ts
 * import { Reconnect } from "@streamwire/client"
 *
 * const options: Reconnect.BackoffOptions = { factor: 2, cap: "10 seconds", jitter: true, maxAttempts: 8 }
 * const policy = Reconnect.backoff(options)
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export interface BackoffOptions {
  /** Growth factor per consecutive failure (default 2). */
  readonly factor?: number | undefined
  /** The longest delay (default 30 s); a server `retry:` above it still wins. */
  readonly cap?: Duration.DurationInput | undefined
  /** Randomise each delay by ×0.8–1.2 before the cap and the floor (default `true`). */
  readonly jitter?: boolean | undefined
  /** Give up after this many consecutive reconnects (default: never). */
  readonly maxAttempts?: number | undefined
}

/**
 * Backoff from the reconnection time: the n-th consecutive reconnect waits
 * `reconnectionTime × factor^(n-1)`, jittered, at most `cap`, and never less than the server's
 * `retry:`. A healthy connection resets n to 1, so a server that drops now and then is
 * reconnected to after exactly its reconnection time (±jitter), as EventSource would.
 *
 * @example
 * ```ts
 * import { Reconnect, SseClient } from "@streamwire/client"
 *
 * SseClient.events("http://127.0.0.1:8080/events", {
 *   reconnect: Reconnect.backoff({ factor: 3, cap: "1 minute", maxAttempts: 20 })
 * })
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const backoff = (options?: BackoffOptions): Schedule.Schedule<Duration.Duration, ReconnectInput> => {
  const factor = options?.factor ?? 2
  const cap = Duration.decode(options?.cap ?? "30 seconds")
  const grow = Schedule.identity<ReconnectInput>().pipe(
    Schedule.addDelay((input) =>
      Duration.millis(
        Math.min(Duration.toMillis(cap), Duration.toMillis(input.reconnectionTime) * factor ** (input.attempt - 1))
      )
    )
  )
  const jittered = options?.jitter === false ? grow : Schedule.jittered(grow)
  const capped = Schedule.modifyDelay(jittered, (_, delay) => Duration.min(delay, cap))
  const floored = atLeastServerRetry(capped)
  const bounded = options?.maxAttempts === undefined
    ? floored
    : Schedule.zipLeft(floored, Schedule.recurs(options.maxAttempts))
  return Schedule.delays(bounded)
}

/**
 * The default policy of `SseClient` for GET requests: {@link backoff} with factor 2, jitter, a
 * 30 s cap and no limit on attempts — a stream that is meant to stay open keeps trying.
 *
 * @example
 * ```ts
 * import { Reconnect, SseClient } from "@streamwire/client"
 * import { Schedule } from "effect"
 *
 * // the default, but give up after 10 consecutive failures
 * SseClient.events("http://127.0.0.1:8080/events", {
 *   reconnect: Reconnect.defaultSchedule.pipe(Schedule.intersect(Schedule.recurs(10)))
 * })
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule: Schedule.Schedule<Duration.Duration, ReconnectInput> = backoff()

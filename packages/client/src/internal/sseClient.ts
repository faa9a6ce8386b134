/**
 * The EventSource connection loop over `HttpClient`.
 *
 * One run of the stream owns one mutable `Session` (last event id, reconnection time, schedule
 * state). Each connection is a scoped sub-stream: when it ends — body ended, transport error, idle
 * timeout, or the consumer stopped — its scope closes and the request is aborted. Between
 * connections the reconnect schedule is stepped by hand (not with `Schedule.driver`, which sleeps
 * before saying how long) so that the `Retrying` lifecycle element, carrying the delay, is emitted
 * before the wait.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Sse } from "@streamwire/codec"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as Stream from "effect/Stream"
import {
  ConnectionLost,
  type DropCause,
  IdleTimeout,
  StreamEnded,
  type TooManyRedirects,
  UnexpectedResponse
} from "../ClientError.js"
import type { ReconnectInput } from "../Reconnect.js"
import { defaultSchedule } from "../Reconnect.js"
import type * as SseClient from "../SseClient.js"
import {
  describe,
  isTransport,
  mediaType,
  removeHeader,
  type RequestInput,
  scopedClient,
  toRequest,
  utf8HeaderValue
} from "./request.js"

type Element = SseClient.Element
type Failure = SseClient.SseClientError

const DEFAULT_RECONNECTION_TIME = 3000

class Session {
  lastEventId: string
  reconnectionTime: number
  serverRetry: Option.Option<Duration.Duration> = Option.none()
  /** Consecutive reconnects since the last healthy connection. */
  attempt = 0
  scheduleState: unknown
  /** Did the current connection deliver an event or an id? */
  healthy = false
  /** Should the loop run another connection? (set after the reconnect delay) */
  again = true
  /** How the current connection ended, set by the connection's stream. */
  outcome: DropCause | "NoContent" | undefined = undefined

  constructor(lastEventId: string, reconnectionTime: number, scheduleState: unknown) {
    this.lastEventId = lastEventId
    this.reconnectionTime = reconnectionTime
    this.scheduleState = scheduleState
  }
}

/** Ids a header cannot carry: control characters, or whitespace HTTP would trim. */
const unfitForHeader = /[\x00-\x08\x0a-\x1f\x7f]|^[ \t]|[ \t]$/

const DEFAULT_CONNECT_TIMEOUT = "30 seconds"

const isEventStream = (contentType: string) => mediaType(contentType) === Sse.contentType

/** @internal */
export const connect = <R = never>(
  input: RequestInput,
  options?: SseClient.Options<R>
): Stream.Stream<Element, Failure, HttpClient.HttpClient | R> =>
  Stream.unwrap(Effect.gen(function*() {
    const client = yield* scopedClient(options?.maxRedirects)
    const original = toRequest(input)
    const where = describe(original)
    const base = removeHeader(original, "last-event-id").pipe(
      HttpClientRequest.setHeaders({ accept: Sse.contentType, "cache-control": "no-store" })
    )
    const schedule: Schedule.Schedule<unknown, ReconnectInput, R> | undefined = options?.reconnect === false
      ? undefined
      : options?.reconnect ?? (original.method === "GET" ? defaultSchedule : undefined)
    const idle = options?.idleTimeout === undefined ? undefined : Duration.decode(options.idleTimeout)
    const decode = Sse.decode({
      include: ["retry", "id"],
      maxLineLength: options?.maxLineLength,
      maxEventSize: options?.maxEventSize
    })
    const idleTimeout = () => new IdleTimeout({ ...where, timeout: idle! })
    const connect = options?.connectTimeout === false
      ? undefined
      : Duration.decode(options?.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)
    const headersTimeout = idle === undefined ? connect : connect === undefined ? idle : Duration.min(idle, connect)
    const ended = new StreamEnded(where)

    const s = new Session(
      options?.lastEventId ?? Option.getOrElse(Headers.get(original.headers, "last-event-id"), () => ""),
      options?.retry === undefined ? DEFAULT_RECONNECTION_TIME : Duration.toMillis(Duration.decode(options.retry)),
      schedule?.initial
    )

    const markHealthy = () => {
      if (!s.healthy) {
        s.healthy = true
        s.attempt = 0
        if (schedule) s.scheduleState = schedule.initial
      }
    }

    // Tracks retry and ids exactly as EventSource does and passes only events on.
    const track = (chunk: Chunk.Chunk<Sse.SseEvent | Sse.Retry | Sse.LastEventId>): Chunk.Chunk<Element> => {
      const out: Array<Element> = []
      for (const m of chunk) {
        switch (m._tag) {
          case "SseEvent":
            s.lastEventId = m.lastEventId
            markHealthy()
            out.push(m)
            break
          case "LastEventId":
            s.lastEventId = m.id
            markHealthy()
            break
          case "Retry":
            if (Number.isFinite(m.millis)) {
              s.reconnectionTime = m.millis
              s.serverRetry = Option.some(Duration.millis(m.millis))
            }
            break
        }
      }
      return Chunk.unsafeFromArray(out)
    }

    const dropped = (cause: DropCause) =>
      Effect.sync(() => {
        s.outcome = cause
      })

    // the id as `Last-Event-ID` (its UTF-8 bytes, as EventSource sends it); an id no header can carry
    // (control characters, or spaces and tabs at either end, which HTTP trims) as the `lastEventId`
    // query parameter instead, which `@streamwire/server` reads too
    const request = () =>
      s.lastEventId === ""
        ? base
        : unfitForHeader.test(s.lastEventId)
        ? HttpClientRequest.setUrlParam(base, "lastEventId", s.lastEventId)
        : HttpClientRequest.setHeader(base, "last-event-id", utf8HeaderValue(s.lastEventId))

    const execute = (req: HttpClientRequest.HttpClientRequest) =>
      headersTimeout === undefined ? client.execute(req) : client.execute(req).pipe(
        Effect.timeoutFail({
          duration: headersTimeout,
          onTimeout: () => new IdleTimeout({ ...where, timeout: headersTimeout })
        })
      )

    const opened = (response: HttpClientResponse.HttpClientResponse): Stream.Stream<Element, Failure> => {
      const bytes = idle === undefined
        ? response.stream
        : Stream.timeoutFailCause(response.stream, () => Cause.fail(idleTimeout()), idle)
      const open: SseClient.Open = {
        _tag: "Open",
        status: response.status,
        headers: response.headers,
        url: response.request.url
      }
      return Stream.concat(
        Stream.make(open),
        bytes.pipe(
          decode,
          Stream.mapChunks(track),
          Stream.concat(Stream.execute(dropped(ended))),
          Stream.catchAll((error): Stream.Stream<never, Failure> =>
            error._tag === "ResponseError" || error._tag === "IdleTimeout"
              ? Stream.execute(dropped(error))
              : Stream.fail(error)
          )
        )
      )
    }

    // One connection: request, check the response, read the body. Ends (never fails) on a drop,
    // leaving the reason in `s.outcome`; fails on a fatal response or decode error.
    const connection = (): Stream.Stream<Element, Failure> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        s.healthy = false
        s.outcome = undefined
        const result = yield* Effect.either(execute(request()))
        if (result._tag === "Left") {
          const error = result.left
          if (error._tag === "IdleTimeout" || isTransport(error)) {
            yield* dropped(error)
            return Stream.empty
          }
          return Stream.fail(error as HttpClientError.RequestError | TooManyRedirects)
        }
        const response = result.right
        const contentType = Option.getOrElse(Headers.get(response.headers, "content-type"), () => "")
        if (response.status === 204) {
          s.outcome = "NoContent"
          return Stream.empty
        }
        if (response.status !== 200 || !isEventStream(contentType)) {
          return Stream.fail(
            new UnexpectedResponse({
              method: where.method,
              url: response.request.url,
              status: response.status,
              contentType,
              expected: `200 ${Sse.contentType}`
            })
          )
        }
        return opened(response)
      }))

    const closed = (reason: SseClient.CloseReason): SseClient.Closed => ({ _tag: "Closed", reason })

    const lost = (cause: DropCause) =>
      new ConnectionLost({ ...where, attempts: Math.max(0, s.attempt - 1), lastEventId: s.lastEventId, cause })

    // After a connection: stop, fail, or wait and let the loop go again.
    const after = (): Stream.Stream<Element, Failure, R> => {
      const outcome = s.outcome
      if (outcome === undefined) return Stream.empty // unreachable: every connection sets it
      if (outcome === "NoContent") return Stream.make(closed({ _tag: "NoContent" }))
      if (schedule === undefined) {
        return outcome._tag === "StreamEnded"
          ? Stream.make(closed(outcome))
          : Stream.concat(
            Stream.make(closed(outcome)),
            Stream.fail(new ConnectionLost({ ...where, attempts: 0, lastEventId: s.lastEventId, cause: outcome }))
          )
      }
      return Stream.unwrap(Effect.gen(function*() {
        s.attempt += 1
        const input: ReconnectInput = {
          attempt: s.attempt,
          serverRetry: s.serverRetry,
          reconnectionTime: Duration.millis(s.reconnectionTime),
          cause: outcome,
          lastEventId: s.lastEventId
        }
        const now = yield* Clock.currentTimeMillis
        const [state, , decision] = yield* schedule.step(now, input, s.scheduleState)
        s.scheduleState = state
        if (ScheduleDecision.isDone(decision)) {
          return Stream.concat(Stream.make(closed(outcome)), Stream.fail(lost(outcome)))
        }
        const delay = Duration.millis(Math.max(0, Math.ceil(Intervals.start(decision.intervals) - now)))
        const retrying: SseClient.Retrying = { _tag: "Retrying", attempt: s.attempt, delay, cause: outcome }
        return Stream.concat(
          Stream.make(closed(outcome), retrying),
          Stream.execute(Effect.zipRight(
            Effect.sleep(delay),
            Effect.sync(() => {
              s.again = true
            })
          ))
        )
      }))
    }

    // One connection and what follows it (Closed, Retrying and the wait).
    const segment = (): Stream.Stream<Element, Failure, R> =>
      Stream.succeed<Element>({ _tag: "Connecting", attempt: s.attempt, lastEventId: s.lastEventId }).pipe(
        Stream.concat(connection()),
        Stream.concat(Stream.suspend(after))
      )

    // A flat loop of segments (no nesting that grows with the number of reconnects): the next
    // segment is pulled only after the previous one completed and asked for another.
    return Stream.repeatEffectOption(Effect.suspend(() => {
      if (!s.again) return Effect.fail(Option.none())
      s.again = false
      return Effect.succeed(segment())
    })).pipe(Stream.flatten())
  }))

/** @internal */
export const isLifecycle = (u: Element): u is SseClient.Lifecycle => u._tag !== "SseEvent"

/**
 * The server's metrics, as Effect `Metric`s (so any metrics exporter, OpenTelemetry's included,
 * reads them). Every metric carries a `route` tag (the router's path pattern when the response is
 * served by an `HttpRouter`, else the request path) and a `kind` tag (`sse`, `ndjson`).
 *
 * Connections update them synchronously (`unsafeUpdate`) with one label array per route, created
 * once: the metric's hook for those labels is looked up once, then cached by the array.
 *
 * @internal
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"
import * as MetricLabelModule from "effect/MetricLabel"
import * as Option from "effect/Option"

/** @internal */
export const connectionsOpen = Metric.gauge("streamwire_connections_open", {
  description: "Streamed responses (SSE, NDJSON) open now"
})
/** @internal */
export const connectionsTotal = Metric.counter("streamwire_connections_total", {
  description: "Streamed responses opened",
  incremental: true
})
/** @internal */
export const eventsWritten = Metric.counter("streamwire_events_written_total", {
  description: "Messages (events, comments, lines; not heartbeats) handed to the socket",
  incremental: true
})
/** @internal */
export const bytesWritten = Metric.counter("streamwire_bytes_written_total", {
  description: "Bytes of streamed response bodies handed to the socket",
  incremental: true
})
/** @internal */
export const heartbeats = Metric.counter("streamwire_heartbeats_total", {
  description: "Heartbeats written to idle connections",
  incremental: true
})
/** @internal */
export const slowClientsDropped = Metric.counter("streamwire_slow_clients_dropped_total", {
  description: "Connections ended because the client did not keep up (policy \"disconnect\")",
  incremental: true
})
/** @internal */
export const messagesDropped = Metric.counter("streamwire_messages_dropped_total", {
  description: "Messages dropped for a slow client (policy \"drop-oldest\")",
  incremental: true
})
/** @internal */
export const resumes = Metric.counter("streamwire_resumes_total", {
  description: "Responses that resumed after a Last-Event-ID (header or query)",
  incremental: true
})
/** @internal */
export const resets = Metric.counter("streamwire_resets_total", {
  description: "Resets written: the id a client resumed from was expired or unknown",
  incremental: true
})

/**
 * The metrics of one route: the shared label array and the open-connection count behind the
 * gauge.
 *
 * @internal
 */
export class RouteMetrics {
  open = 0
  constructor(readonly labels: ReadonlyArray<MetricLabel.MetricLabel>) {}

  opened(): void {
    this.open++
    connectionsOpen.unsafeUpdate(this.open, this.labels)
    connectionsTotal.unsafeUpdate(1, this.labels)
  }

  closed(): void {
    this.open--
    connectionsOpen.unsafeUpdate(this.open, this.labels)
  }

  written(messages: number, bytes: number): void {
    if (messages > 0) eventsWritten.unsafeUpdate(messages, this.labels)
    if (bytes > 0) bytesWritten.unsafeUpdate(bytes, this.labels)
  }

  heartbeat(bytes: number): void {
    heartbeats.unsafeUpdate(1, this.labels)
    bytesWritten.unsafeUpdate(bytes, this.labels)
  }

  slowClientDropped(): void {
    slowClientsDropped.unsafeUpdate(1, this.labels)
  }

  messagesDropped(n: number): void {
    messagesDropped.unsafeUpdate(n, this.labels)
  }

  resumed(): void {
    resumes.unsafeUpdate(1, this.labels)
  }

  reset(reason: string): void {
    resets.unsafeUpdate(1, this.labelsWith("reason", reason))
  }

  private readonly extra = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
  private labelsWith(key: string, value: string): ReadonlyArray<MetricLabel.MetricLabel> {
    const k = key + "\u0000" + value
    let labels = this.extra.get(k)
    if (labels === undefined) {
      labels = [...this.labels, MetricLabelModule.make(key, value)]
      this.extra.set(k, labels)
    }
    return labels
  }
}

const routes = new Map<string, RouteMetrics>()

/**
 * The metrics of a route and kind (one object per pair, kept: routes are few). Request paths that
 * did not come through a router are cut to 200 characters and at most 1,000 distinct ones are
 * tracked separately (the rest share the route `"other"`), so metrics stay bounded.
 *
 * @internal
 */
export const forRoute = (route: string, kind: "sse" | "ndjson"): RouteMetrics => {
  const key = kind + " " + route
  let m = routes.get(key)
  if (m === undefined) {
    if (routes.size >= 1000) return forRoute("other", kind)
    m = new RouteMetrics([MetricLabelModule.make("kind", kind), MetricLabelModule.make("route", route.slice(0, 200))])
    routes.set(key, m)
  }
  return m
}

/**
 * The route a response is served on, for the `route` tag: the router's path pattern when an
 * `HttpRouter` serves it, else the request's path, else `"unknown"`.
 *
 * @internal
 */
export const routeOf = (context: Context.Context<never>): string => {
  const route = Context.getOption(context, HttpRouter.RouteContext)
  if (Option.isSome(route)) return String(route.value.route.path)
  const request = Context.getOption(context, HttpServerRequest.HttpServerRequest)
  if (Option.isSome(request)) {
    const url = request.value.url
    const q = url.indexOf("?")
    return q < 0 ? url : url.slice(0, q)
  }
  return "unknown"
}

/** The metrics of the route of the current request. @internal */
export const current = (kind: "sse" | "ndjson"): Effect.Effect<RouteMetrics> =>
  Effect.contextWith((context: Context.Context<never>) => forRoute(routeOf(context), kind))

/**
 * The pure parts of sharing one SSE connection among tabs: the messages tabs exchange, the key
 * that identifies an event of the server's stream, and the per-tab de-duplication window.
 *
 * An event's key is `(lastEventId, ordinal)`: the ordinal counts the events since the id was set
 * (the event that sets an id is 0, the id-less events after it 1, 2, ...). A server that resumes
 * after `Last-Event-ID: X` replays the same events with the same keys, so a tab drops an event
 * whose key it has already delivered — the events a new leader replays that a tab had already
 * received from the old one. Events with an empty id have no key and are always delivered (a
 * stream without ids cannot be resumed, so it cannot be de-duplicated either).
 *
 * @internal
 */

/** A new leader: it connects with `Last-Event-ID: from` (`""`: none). */
export interface LeadMessage {
  readonly t: "lead"
  readonly tab: string
  readonly from: string
}

/** An event of the leader's connection, with its key (`null`: no id, never de-duplicated). */
export interface EventMessage {
  readonly t: "event"
  readonly tab: string
  readonly type: string
  readonly data: string
  readonly id: string
  readonly key: string | null
}

/** A tab asks who leads (the leader answers with a `lead`). */
export interface WhoMessage {
  readonly t: "who"
  readonly tab: string
}

/** The leader's stream ended cleanly (204, or the end of the body without reconnects). */
export interface EndMessage {
  readonly t: "end"
  readonly tab: string
}

/** The leader's stream failed for good (a fatal response, a decode error, the schedule gave up). */
export interface FailMessage {
  readonly t: "fail"
  readonly tab: string
  readonly error: string
  readonly message: string
}

export type Message = LeadMessage | EventMessage | WhoMessage | EndMessage | FailMessage

const isString = (u: unknown): u is string => typeof u === "string"

/**
 * Reads a message from the channel; anything else (another library's message on the same name, a
 * tab running another version) is `undefined` and ignored.
 */
export const readMessage = (u: unknown): Message | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const m = u as Record<string, unknown>
  if (!isString(m["tab"])) return undefined
  switch (m["t"]) {
    case "event":
      return isString(m["type"]) && isString(m["data"]) && isString(m["id"]) &&
          (m["key"] === null || isString(m["key"]))
        ? (m as unknown as EventMessage)
        : undefined
    case "lead":
      return isString(m["from"]) ? (m as unknown as LeadMessage) : undefined
    case "fail":
      return isString(m["error"]) && isString(m["message"]) ? (m as unknown as FailMessage) : undefined
    case "who":
    case "end":
      return m as unknown as Message
    default:
      return undefined
  }
}

/**
 * Computes the keys of one leader's events. Starts where the tab's delivered stream stands (the id
 * of its last event, set by that event: ordinal 0); each `Connecting` of the leader's client says
 * after which id the server replays.
 */
export class KeyTracker {
  private id: string
  private ordinal = 0

  constructor(lastEventId: string) {
    this.id = lastEventId
  }

  /** A connection is made with `Last-Event-ID: lastEventId`: the server replays after it. */
  connecting(lastEventId: string): void {
    // the same id as the last event's: that event set it (ordinal 0); another one: an id-only
    // block set it, and the next event carrying it is the first (ordinal 0)
    this.ordinal = lastEventId === this.id ? 0 : -1
    this.id = lastEventId
  }

  /** The key of the next event, whose `lastEventId` is given. */
  next(lastEventId: string): string | null {
    if (lastEventId === this.id) {
      this.ordinal++
    } else {
      this.id = lastEventId
      this.ordinal = 0
    }
    return lastEventId === "" ? null : `${this.ordinal}:${lastEventId}`
  }
}

/**
 * What one tab delivered: the id to resume from if it becomes the leader, and the keys of its last
 * `window` events (a ring), to drop the events a new leader replays.
 */
export class Delivered {
  /** The `lastEventId` of the last event delivered (`""`: none yet). */
  last: string
  private readonly seen = new Set<string>()
  private readonly ring: Array<string | undefined>
  private next = 0

  constructor(readonly window: number, last: string) {
    this.last = last
    this.ring = new Array(Math.max(1, window))
  }

  /** Should this event be delivered? Records it if so. */
  accept(key: string | null, lastEventId: string): boolean {
    if (key !== null) {
      if (this.seen.has(key)) return false
      const old = this.ring[this.next]
      if (old !== undefined) this.seen.delete(old)
      this.ring[this.next] = key
      this.next = (this.next + 1) % this.ring.length
      this.seen.add(key)
    }
    this.last = lastEventId
    return true
  }
}

/**
 * The leader/follower logic of `SharedSse` in Node, with the browser replaced by fakes: an
 * in-memory Web Locks manager (FIFO, abortable, released when a "tab" crashes) and an in-memory
 * BroadcastChannel (asynchronous, structured-cloned, never delivered to the sender). The server is
 * real (`platformServer`), and the tabs' HttpClient is `FetchHttpClient`, as in a browser. The
 * Chromium tests (packages/e2e) run the same module with the browser's own locks and channels.
 */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Reconnect } from "@streamwire/client"
import { SharedSse } from "@streamwire/client/browser"
import { Sse } from "@streamwire/codec"
import { Deferred, Effect, FastCheck as fc, Fiber, Stream } from "effect"
import { Delivered, KeyTracker } from "../src/internal/relay.js"
import { nodeServer, platformServer } from "./utils.js"

// ---------------------------------------------------------------------------------------------
// fakes

interface Entry {
  readonly tab: FakeTab
  readonly callback: (lock: unknown) => Promise<void>
  readonly resolve: (u: unknown) => void
  readonly reject: (e: unknown) => void
}

class LockState {
  holder: Entry | undefined = undefined
  readonly queue: Array<Entry> = []
}

class Bus {
  readonly locks = new Map<string, LockState>()
  readonly channels = new Set<FakeChannel>()

  tab(name: string): FakeTab {
    return new FakeTab(this, name)
  }

  lock(name: string): LockState {
    let s = this.locks.get(name)
    if (s === undefined) this.locks.set(name, s = new LockState())
    return s
  }

  grantNext(name: string) {
    const s = this.lock(name)
    if (s.holder !== undefined) return
    const entry = s.queue.shift()
    if (entry === undefined) return
    s.holder = entry
    setTimeout(() => {
      if (s.holder !== entry) return // the tab crashed in the meantime
      entry.callback({ name }).then(
        (v) => {
          if (s.holder === entry) {
            s.holder = undefined
            this.grantNext(name)
          }
          entry.resolve(v)
        },
        (e) => entry.reject(e)
      )
    }, 0)
  }

  holder(name: string): string | undefined {
    return this.locks.get(name)?.holder?.tab.name
  }
}

class FakeChannel implements SharedSse.Channel {
  readonly listeners: Array<(event: MessageEvent) => void> = []
  closed = false
  constructor(readonly bus: Bus, readonly tab: FakeTab, readonly name: string) {}
  postMessage(message: unknown) {
    if (this.closed) throw new Error("InvalidStateError: closed")
    const data = structuredClone(message)
    for (const other of this.bus.channels) {
      if (other === this || other.name !== this.name) continue
      setTimeout(() => {
        if (other.closed) return
        for (const l of other.listeners) l(new MessageEvent("message", { data }))
      }, other.tab.lag)
    }
  }
  addEventListener(_type: "message", listener: (event: MessageEvent) => void) {
    this.listeners.push(listener)
  }
  close() {
    this.closed = true
    this.bus.channels.delete(this)
  }
}

/** One tab's view of the browser: its locks, its channels, its document (freeze/resume). */
class FakeTab implements SharedSse.Platform {
  readonly document = new EventTarget()
  readonly window = new EventTarget()
  /** Delay before this tab sees a channel message (ms). */
  lag = 0
  constructor(readonly bus: Bus, readonly name: string) {}
  readonly locks: SharedSse.Locks = {
    request: (name, options, callback) =>
      new Promise((resolve, reject) => {
        const s = this.bus.lock(name)
        const entry: Entry = { tab: this, callback, resolve, reject }
        options.signal.addEventListener("abort", () => {
          const i = s.queue.indexOf(entry)
          if (i >= 0) {
            s.queue.splice(i, 1)
            reject(new Error("AbortError"))
          }
        })
        s.queue.push(entry)
        this.bus.grantNext(name)
      })
  }
  readonly channel = (name: string) => {
    const c = new FakeChannel(this.bus, this, name)
    this.bus.channels.add(c)
    return c
  }
  /** The tab is gone (closed, crashed): its locks are released, its channels stop. */
  crash() {
    for (const c of [...this.bus.channels]) if (c.tab === this) c.close()
    for (const [name, s] of this.bus.locks) {
      for (let i = s.queue.length - 1; i >= 0; i--) if (s.queue[i]!.tab === this) s.queue.splice(i, 1)
      if (s.holder?.tab === this) {
        s.holder = undefined
        this.bus.grantNext(name)
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// a server of numbered events: ids 1..total, after the request's Last-Event-ID, once `go` is done

interface Numbered {
  readonly url: string
  readonly go: Deferred.Deferred<void>
  /** The Last-Event-ID of every connection, in order ("" when none). */
  readonly connections: Array<string>
  /** Connections open now. */
  open: number
}

const numberedServer = (total: number, every = 2) =>
  Effect.gen(function*() {
    const go = yield* Deferred.make<void>()
    const state: Omit<Numbered, "url"> & { open: number } = { go, connections: [], open: 0 }
    const url = yield* platformServer((lastEventId) => {
      state.connections.push(lastEventId)
      state.open++
      const from = lastEventId === "" ? 1 : Number(lastEventId) + 1
      return Stream.fromEffect(Deferred.await(go)).pipe(
        Stream.drain,
        Stream.concat(
          Stream.range(from, total).pipe(
            Stream.map((n) => Sse.unsafeEvent({ data: `event ${n}`, id: String(n) }) as Sse.SseMessage),
            Stream.tap(() => Effect.sleep(`${every} millis`))
          )
        ),
        Stream.concat(Stream.never),
        Stream.ensuring(Effect.sync(() => state.open--))
      )
    })
    return Object.assign(state, { url }) as Numbered
  })

interface Tab {
  readonly platform: FakeTab
  readonly elements: Array<SharedSse.Element>
  readonly fiber: Fiber.RuntimeFiber<void, unknown>
}

const ids = (tab: Tab) => tab.elements.flatMap((e) => (e._tag === "SseEvent" ? [Number(e.lastEventId)] : []))
const roles = (tab: Tab) => tab.elements.flatMap((e) => (e._tag === "Role" ? [e.role] : []))
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const openTab = (bus: Bus, name: string, url: string, options: Partial<SharedSse.Options> = {}) =>
  Effect.gen(function*() {
    const platform = bus.tab(name)
    const elements: Array<SharedSse.Element> = []
    const fiber = yield* SharedSse.connect(url, {
      platform,
      namespace: "test",
      retry: "20 millis",
      reconnect: Reconnect.reconnectionTime,
      ...options
    }).pipe(
      Stream.runForEach((e) => Effect.sync(() => elements.push(e))),
      Effect.provide(FetchHttpClient.layer),
      Effect.forkScoped
    )
    return { platform, elements, fiber } satisfies Tab
  })

const waitUntil = (what: string, check: () => boolean, timeout = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeout
    while (!check()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting: ${what}`))
      yield* Effect.sleep("10 millis")
    }
  })

const test = (name: string, self: () => Effect.Effect<void, unknown, any>) =>
  it.live(name, () => Effect.scoped(self()) as Effect.Effect<void, unknown>, 30_000)

describe("SharedSse: tabs sharing one connection (fake locks and channels, real server)", () => {
  test("three tabs: one leader, one connection, every tab gets every event once, in order", () =>
    Effect.gen(function*() {
      const server = yield* numberedServer(60)
      const bus = new Bus()
      const tabs: Array<Tab> = []
      for (const name of ["a", "b", "c"]) tabs.push(yield* openTab(bus, name, server.url))
      yield* waitUntil(
        "one leader, two followers who know it",
        () =>
          tabs.filter((t) => roles(t).at(-1) === "leader").length === 1 &&
          tabs.every((t) => t.elements.some((e) => e._tag === "Role" && e.leader !== undefined))
      )
      yield* Deferred.succeed(server.go, undefined)
      yield* waitUntil("every tab has 60 events", () => tabs.every((t) => ids(t).length >= 60))
      yield* Effect.sleep("50 millis")
      for (const t of tabs) expect(ids(t)).toEqual(range(1, 60))
      expect(server.connections).toEqual([""])
      expect(server.open).toBe(1)
      const leader = tabs.find((t) => roles(t).at(-1) === "leader")!
      expect(bus.holder("test:" + server.url + "/")).toBe(leader.platform.name)
      // every follower names the leader's tab
      const leaderId = (leader.elements.find((e) => e._tag === "Role" && e.role === "leader") as SharedSse.Role).tab
      for (const t of tabs.filter((t) => t !== leader)) {
        expect((t.elements.filter((e) => e._tag === "Role").at(-1) as SharedSse.Role).leader).toBe(leaderId)
      }
    }))

  for (const how of ["interrupted", "crashed"] as const) {
    test(`the leader ${how}: the next tab resumes with Last-Event-ID, each surviving tab gets every event once, in order`, () =>
      Effect.gen(function*() {
        const server = yield* numberedServer(150)
        const bus = new Bus()
        const tabs: Array<Tab> = []
        for (const name of ["a", "b", "c", "d"]) tabs.push(yield* openTab(bus, name, server.url))
        yield* waitUntil("a leader", () => tabs.some((t) => roles(t).at(-1) === "leader"))
        const first = tabs.find((t) => roles(t).at(-1) === "leader")!
        // the followers see the channel late by different amounts; the next in the queue lags
        // most, so it takes over behind the others: its replay overlaps what they already have
        tabs.filter((t) => t !== first).forEach((t, i) => (t.platform.lag = [40, 0, 5][i]!))
        yield* Effect.sleep("50 millis")
        yield* Deferred.succeed(server.go, undefined)
        yield* waitUntil("40 events", () => ids(first).length >= 40)
        if (how === "crashed") first.platform.crash()
        yield* Fiber.interrupt(first.fiber)
        const lastOfFirst = ids(first).at(-1)!
        const survivors = tabs.filter((t) => t !== first)
        yield* waitUntil("a new leader", () => survivors.some((t) => roles(t).at(-1) === "leader"))
        yield* waitUntil("every surviving tab has 150 events", () => survivors.every((t) => ids(t).length >= 150))
        yield* Effect.sleep("100 millis")
        for (const t of survivors) expect(ids(t)).toEqual(range(1, 150))
        expect(server.connections.length).toBe(2)
        expect(server.connections[0]).toBe("")
        // the new leader resumed after an event it had (not from the start); after a crash, one
        // the old leader had passed: the others received the replayed events twice and dropped
        // them (an interrupted leader closes its connection before it releases the lock, so the
        // next one has usually caught up)
        expect(Number(server.connections[1])).toBeGreaterThanOrEqual(1)
        if (how === "crashed") expect(Number(server.connections[1])).toBeLessThan(lastOfFirst)
        else expect(Number(server.connections[1])).toBeLessThanOrEqual(lastOfFirst)
        expect(server.open).toBe(1)
        expect(survivors.filter((t) => roles(t).at(-1) === "leader").length).toBe(1)
      }))
  }

  test("tabs following two URLs hold two connections; each tab gets its own stream", () =>
    Effect.gen(function*() {
      const one = yield* numberedServer(20)
      const two = yield* numberedServer(30)
      const bus = new Bus()
      const tabs: Array<Tab> = []
      for (let i = 0; i < 6; i++) tabs.push(yield* openTab(bus, `t${i}`, i % 2 === 0 ? one.url : two.url))
      yield* waitUntil("two leaders", () => tabs.filter((t) => roles(t).at(-1) === "leader").length === 2)
      yield* Effect.sleep("50 millis")
      yield* Deferred.succeed(one.go, undefined)
      yield* Deferred.succeed(two.go, undefined)
      yield* waitUntil("all events", () => tabs.every((t, i) => ids(t).length >= (i % 2 === 0 ? 20 : 30)))
      yield* Effect.sleep("50 millis")
      tabs.forEach((t, i) => expect(ids(t)).toEqual(range(1, i % 2 === 0 ? 20 : 30)))
      expect([one.connections, two.connections]).toEqual([[""], [""]])
    }))

  for (const [leave, back, target] of [["freeze", "resume", "document"], ["pagehide", "pageshow", "window"]] as const) {
    test(`${leave} (${target}): the leader hands over at once, and queues again at ${back} (as a follower)`, () =>
      Effect.gen(function*() {
        const server = yield* numberedServer(80)
        const bus = new Bus()
        const a = yield* openTab(bus, "a", server.url)
        yield* waitUntil("a leads", () => roles(a).at(-1) === "leader")
        const b = yield* openTab(bus, "b", server.url)
        yield* Effect.sleep("50 millis")
        yield* Deferred.succeed(server.go, undefined)
        yield* waitUntil("20 events", () => ids(b).length >= 20)
        a.platform[target].dispatchEvent(new Event(leave))
        yield* waitUntil("b leads", () => roles(b).at(-1) === "leader")
        expect(roles(a).at(-1)).toBe("follower")
        a.platform[target].dispatchEvent(new Event(back))
        yield* waitUntil("all events in b and a", () => ids(b).length >= 80 && ids(a).length >= 80)
        yield* Effect.sleep("50 millis")
        expect(ids(a)).toEqual(range(1, 80))
        expect(ids(b)).toEqual(range(1, 80))
        expect(server.connections.length).toBe(2)
        expect(server.open).toBe(1)
        expect(bus.holder("test:" + server.url + "/")).toBe("b")
        expect(bus.lock("test:" + server.url + "/").queue.map((e) => e.tab.name)).toEqual(["a"])
      }))
  }

  test("the leader's stream fails for good: it fails with the client's error, the followers with LeaderFailed", () =>
    Effect.gen(function*() {
      // the 500 waits until b follows: else a may fail (and let go of the lock) before b joins
      let answer = () => {}
      const gate = new Promise<void>((resolve) => {
        answer = resolve
      })
      const server = yield* nodeServer((_req, res) => {
        void gate.then(() => res.writeHead(500, { "content-type": "text/plain" }).end("no"))
      })
      const bus = new Bus()
      const a = yield* openTab(bus, "a", server.url)
      yield* waitUntil("a leads", () => roles(a).length >= 1)
      const b = yield* openTab(bus, "b", server.url)
      yield* waitUntil("b follows", () => roles(b).length >= 1)
      answer()
      const [ea, eb] = yield* Effect.all([Fiber.await(a.fiber), Fiber.await(b.fiber)])
      expect(ea._tag === "Failure" && JSON.stringify(ea.cause)).toContain("UnexpectedResponse")
      expect(eb._tag === "Failure" && JSON.stringify(eb.cause)).toContain("LeaderFailed")
      expect(server.requests.length).toBe(1)
    }))

  test("without Web Locks (platform: false) each tab holds its own connection, role standalone", () =>
    Effect.gen(function*() {
      const server = yield* numberedServer(10)
      const bus = new Bus()
      const tabs = [
        yield* openTab(bus, "a", server.url, { platform: false }),
        yield* openTab(bus, "b", server.url, { platform: false })
      ]
      yield* waitUntil("two connections", () => server.connections.length === 2)
      yield* Deferred.succeed(server.go, undefined)
      yield* waitUntil("10 events each", () => tabs.every((t) => ids(t).length >= 10))
      for (const t of tabs) {
        expect(roles(t)).toEqual(["standalone"])
        expect(ids(t)).toEqual(range(1, 10))
      }
    }))

  test("messages that are not ours on the channel are ignored; only well-formed events are delivered", () =>
    Effect.gen(function*() {
      const bus = new Bus()
      const url = "http://127.0.0.1:9/never" // nothing listens: the leader retries, nobody cares here
      const tab = yield* openTab(bus, "a", url, { reconnect: Reconnect.reconnectionTime, retry: "1 second" })
      yield* waitUntil("the tab is there", () => roles(tab).length > 0)
      const other = bus.tab("junk").channel("test:" + url)
      for (
        const junk of [
          null,
          "text",
          42,
          [],
          { t: "event" },
          { t: "event", tab: "x", type: 1, data: "d", id: "1", key: "0:1" },
          { t: "event", tab: "x", type: "message", data: "d", id: "1", key: 5 },
          { t: "lead", tab: "x" },
          { t: "fail", tab: "x", error: 1 },
          { t: "unknown", tab: "x" },
          { t: "event", tab: "x", type: "message", data: "ok", id: "1", key: "0:1" }
        ]
      ) other.postMessage(junk)
      yield* waitUntil("the well-formed event", () => ids(tab).length === 1)
      yield* Effect.sleep("50 millis")
      expect(tab.elements.filter((e) => e._tag === "SseEvent")).toEqual([
        { _tag: "SseEvent", type: "message", data: "ok", lastEventId: "1" }
      ])
      other.close()
    }))

  test("a tab whose consumer falls more than bufferSize events behind fails with RelayOverflow; the others go on", () =>
    Effect.gen(function*() {
      const server = yield* numberedServer(100, 1)
      const bus = new Bus()
      const a = yield* openTab(bus, "a", server.url)
      yield* waitUntil("a leads", () => roles(a).at(-1) === "leader")
      const slow: Array<SharedSse.Element> = []
      const b = yield* SharedSse.connect(server.url, { platform: bus.tab("b"), namespace: "test", bufferSize: 5 }).pipe(
        Stream.runForEach((e) => Effect.zipRight(Effect.sleep("100 millis"), Effect.sync(() => slow.push(e)))),
        Effect.provide(FetchHttpClient.layer),
        Effect.forkScoped
      )
      yield* Effect.sleep("100 millis")
      yield* Deferred.succeed(server.go, undefined)
      const exit = yield* Fiber.await(b)
      expect(exit._tag === "Failure" && JSON.stringify(exit.cause)).toContain("RelayOverflow")
      yield* waitUntil("a has every event", () => ids(a).length >= 100)
      expect(ids(a)).toEqual(range(1, 100))
    }))

  test("interrupting every tab releases the lock, leaves the queue and closes the connection", () =>
    Effect.gen(function*() {
      const server = yield* numberedServer(10)
      const bus = new Bus()
      const a = yield* openTab(bus, "a", server.url)
      const b = yield* openTab(bus, "b", server.url)
      yield* waitUntil("a connection", () => server.open === 1)
      yield* Fiber.interrupt(b.fiber)
      yield* Fiber.interrupt(a.fiber)
      yield* waitUntil("no connection", () => server.open === 0)
      const lock = bus.lock("test:" + server.url + "/")
      expect(lock.holder).toBeUndefined()
      expect(lock.queue).toEqual([])
      expect(bus.channels.size).toBe(0)
    }))
})

// ---------------------------------------------------------------------------------------------
// the keys: a replay after any id gives the same keys as the original

describe("SharedSse keys and de-duplication", () => {
  it.prop(
    "a tab that delivered a prefix and receives a replay after an earlier id delivers exactly the rest",
    [fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.nat(), fc.nat()],
    ([hasId, a, b]) => {
      // the server's stream: event i sets id `i` when hasId[i], else keeps the last one
      let id = ""
      const stream = hasId.map((set, i) => (id = set ? String(i) : id))
      const delivered = Math.min(a % (stream.length + 1), stream.length) // the tab has events [0, delivered)
      // the new leader had events [0, resumeAt): it resumes after its last id (if any); the
      // server replays from the event after the one that set that id
      const resumeAt = b % (delivered + 1)
      const resumeId = resumeAt === 0 ? "" : stream[resumeAt - 1]!
      const replayFrom = resumeId === "" ? 0 : stream.indexOf(resumeId) + 1
      const tab = new Delivered(100, "")
      const original = new KeyTracker("")
      for (let i = 0; i < delivered; i++) expect(tab.accept(original.next(stream[i]!), stream[i]!)).toBe(true)
      const replay = new KeyTracker(resumeId)
      replay.connecting(resumeId)
      const out: Array<number> = []
      for (let i = replayFrom; i < stream.length; i++) {
        if (tab.accept(replay.next(stream[i]!), stream[i]!)) out.push(i)
      }
      // events without an id cannot be told apart: only ids make a resume exact
      const expected = range(delivered, stream.length - 1)
      const withoutId = range(replayFrom, delivered - 1).filter((i) => stream[i] === "")
      expect(out).toEqual([...withoutId, ...expected])
    }
  )

  it("the window forgets the oldest keys", () => {
    const tab = new Delivered(2, "")
    expect(["1", "2", "3"].map((k) => tab.accept(k, k))).toEqual([true, true, true])
    expect(tab.accept("3", "3")).toBe(false)
    expect(tab.accept("2", "2")).toBe(false)
    expect(tab.accept("1", "1")).toBe(true) // forgotten
    expect(tab.last).toBe("1")
  })

  it("an id set by an id-only block: the next event carrying it is its first", () => {
    const keys = new KeyTracker("5")
    keys.connecting("7") // an `id: 7` block without data came after event 5
    expect(keys.next("7")).toBe("0:7")
    expect(keys.next("7")).toBe("1:7")
    keys.connecting("7")
    expect(keys.next("7")).toBe("1:7")
  })
})

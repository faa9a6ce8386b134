import { afterAll, describe, expect, it, vi } from "@effect/vitest"
import { Chunk, Effect, Exit, FastCheck as fc, Fiber, Option, Scope, Stream, TestClock } from "effect"

import { dataOf, eventLogContract } from "@streamwire/server/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { type EventLog, FileEventLog } from "../src/index.js"
import { crc32Js } from "../src/internal/fileLog/crc32.js"

// fdatasync takes ~7 ms on this machine's disk, more when it is loaded: sequential appends with
// `sync: "always"` are slow by nature (the contract's racing test makes 300 of them)
vi.setConfig({ testTimeout: 30_000 })

const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-filelog-"))
afterAll(() => Fs.rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => Path.join(root, `log-${dirs++}`)

// the default layout, and one where a segment holds two or three records and the tail one event, so
// that replays go through the disk and across segments. Both sync on a period: the contract's racing
// test makes 300 appends one after the other, each waiting for its own fdatasync with "always" (7 ms
// each here, far more when the machine is loaded); "always" is the other tests' default below
eventLogContract(
  "FileEventLog",
  () => FileEventLog.layer({ directory: freshDir(), maxEvents: 5, sync: { every: "20 millis" } }),
  { retained: 5 }
)
eventLogContract(
  "FileEventLog (tiny segments, a tail of 1)",
  () =>
    FileEventLog.layer({
      directory: freshDir(),
      maxEvents: 5,
      segmentBytes: 100,
      tailEvents: 1,
      sync: { every: "5 millis" }
    }),
  { retained: 5 }
)

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => String(from + i))

const appendN = (log: EventLog.EventLog, from: number, to: number) =>
  Effect.forEach(range(from, to), (n) => log.append({ type: "n", data: n }))

const collect = (log: EventLog.EventLog, options: EventLog.SubscribeOptions, n: number) =>
  log.subscribe(options).pipe(
    Stream.take(n),
    Stream.runCollect,
    Effect.map(Chunk.toArray),
    Effect.timeout("10 seconds")
  )

/** Opens the log in `dir` for the duration of `f`, then closes it (as a process exit would). */
const withLog = <A, E>(
  options: FileEventLog.Options,
  f: (log: EventLog.EventLog) => Effect.Effect<A, E, Scope.Scope>
) => Effect.scoped(Effect.flatMap(FileEventLog.make(options), f))

const files = (dir: string) => Fs.readdirSync(dir).filter((n) => n.endsWith(".seg") || n.endsWith(".open")).sort()
const openSegment = (dir: string) => Path.join(dir, files(dir).find((n) => n.endsWith(".open"))!)
const segmentBytes = (dir: string) => files(dir).reduce((n, f) => n + Fs.statSync(Path.join(dir, f)).size, 0)

describe("FileEventLog", () => {
  it.live("a restarted log keeps its events and ids, and goes on numbering after them", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      const before = yield* withLog({ directory }, (log) => appendN(log, 1, 10))
      yield* withLog({ directory }, (log) =>
        Effect.gen(function*() {
          expect(yield* log.lastId).toEqual(Option.some(before[9]!.lastEventId))
          const fiber = yield* Effect.fork(collect(log, { after: before[2]!.lastEventId }, 9))
          const more = yield* appendN(log, 11, 12)
          expect(more[0]!.lastEventId).toBe(before[0]!.lastEventId.replace(/-1$/, "-11"))
          const got = yield* Fiber.join(fiber)
          expect(dataOf(got)).toEqual(range(4, 12))
          expect(got.map((e) => e._tag === "SseEvent" && e.lastEventId).slice(0, 7)).toEqual(
            before.slice(3).map((e) => e.lastEventId)
          )
        }))
    }))

  it.live("a torn last record (cut short, or with a bad checksum) is dropped at start-up, never served", () =>
    Effect.gen(function*() {
      for (const damage of ["cut", "flip", "garbage"] as const) {
        const directory = freshDir()
        const events = yield* withLog({ directory }, (log) => appendN(log, 1, 5))
        const path = openSegment(directory)
        const size = Fs.statSync(path).size
        if (damage === "cut") Fs.truncateSync(path, size - 3)
        if (damage === "flip") {
          const bytes = Fs.readFileSync(path)
          bytes[bytes.length - 1] ^= 0xff
          Fs.writeFileSync(path, bytes)
        }
        if (damage === "garbage") Fs.appendFileSync(path, Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]))
        yield* withLog({ directory }, (log) =>
          Effect.gen(function*() {
            const kept = damage === "garbage" ? 5 : 4
            expect(yield* log.lastId).toEqual(Option.some(events[kept - 1]!.lastEventId))
            const next = yield* log.append({ type: "n", data: "next" })
            expect(next.lastEventId).toBe(events[0]!.lastEventId.replace(/-1$/, `-${kept + 1}`))
            const got = yield* collect(log, { initial: "retained" }, kept + 1)
            expect(dataOf(got)).toEqual([...range(1, kept), "next"])
          }))
        expect(Fs.statSync(openSegment(directory)).size).toBeLessThan(size + 40)
      }
    }))

  it.live("retention by count across segments: disk stays bounded, old ids get an expired Reset", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      yield* withLog(
        { directory, maxEvents: 50, segmentBytes: 1024, tailEvents: 8, sync: { every: "20 millis" } },
        (log) =>
          Effect.gen(function*() {
            const events = yield* appendN(log, 1, 1000)
            const got = yield* collect(log, { after: events[0]!.lastEventId }, 51)
            expect(got[0]).toMatchObject({
              _tag: "Reset",
              reason: "expired",
              oldest: Option.some(events[950]!.lastEventId)
            })
            expect(dataOf(got.slice(1))).toEqual(range(951, 1000))
            // every segment on disk holds some of the newest 50 events, but the first
            expect(segmentBytes(directory)).toBeLessThan(50 * 40 + 2 * 1024)
          })
      )
    }))

  it.live("retention by bytes: the oldest segments go; the first kept event is the oldest", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      yield* withLog(
        { directory, maxBytes: 8192, segmentBytes: 1024, sync: { every: "20 millis" } },
        (log) =>
          Effect.gen(function*() {
            const events = yield* appendN(log, 1, 2000)
            expect(segmentBytes(directory)).toBeLessThanOrEqual(8192)
            const got = yield* collect(log, { after: events[0]!.lastEventId }, 1)
            expect(got[0]).toMatchObject({ _tag: "Reset", reason: "expired" })
            const oldest = Option.getOrThrow((got[0] as EventLog.Reset).oldest)
            const firstKept = events.findIndex((e) => e.lastEventId === oldest)
            expect(firstKept).toBeGreaterThan(1000)
            const all = yield* collect(log, { initial: "retained" }, 2000 - firstKept)
            expect(dataOf(all)).toEqual(range(firstKept + 1, 2000))
          })
      )
    }))

  it.scoped("retention by age (TestClock), also after a restart", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      const options = { directory, maxAge: "1 minute" as const, segmentBytes: 128, tailEvents: 1 }
      const scope = yield* Scope.make()
      const log = yield* Scope.extend(FileEventLog.make(options), scope)
      const a = yield* log.append({ data: "a" })
      yield* TestClock.adjust("40 seconds")
      yield* log.append({ data: "b" })
      yield* TestClock.adjust("30 seconds") // a is 70 s old, b 30 s
      expect(dataOf(yield* collect(log, { after: a.lastEventId }, 1))).toEqual(["b"])
      expect(dataOf(yield* collect(log, { initial: "retained" }, 1))).toEqual(["b"])
      yield* Scope.close(scope, Exit.void)
      const again = yield* FileEventLog.make(options)
      const old = yield* collect(again, { after: "x" + a.lastEventId.slice(1) }, 2)
      expect(old[0]).toMatchObject({ _tag: "Reset", reason: "unknown" })
      expect(dataOf(old.slice(1))).toEqual(["b"])
      yield* TestClock.adjust("1 minute") // all gone
      const fiber = yield* collect(again, { after: a.lastEventId }, 2).pipe(Effect.fork)
      while ((yield* again.subscriberCount) === 0) yield* Effect.yieldNow()
      yield* again.append({ data: "c" })
      const items = yield* Fiber.join(fiber)
      expect(items[0]).toMatchObject({ _tag: "Reset", reason: "expired", oldest: Option.none() })
      expect(dataOf(items.slice(1))).toEqual(["c"])
    }))

  it.live("a long replay from disk, across many segments, past a small tail, then live", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      yield* withLog({ directory, segmentBytes: 2048, tailEvents: 10, sync: { every: "20 millis" } }, (log) =>
        Effect.gen(function*() {
          const events = yield* appendN(log, 1, 3000)
          expect(files(directory).length).toBeGreaterThan(40)
          const fiber = yield* Effect.fork(collect(log, { after: events[4]!.lastEventId }, 3000 - 5 + 2))
          yield* appendN(log, 3001, 3002)
          expect(dataOf(yield* Fiber.join(fiber))).toEqual(range(6, 3002))
        }))
    }))

  it.live("start-up reads no sealed segment: a damaged old segment does not slow or stop it", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      yield* withLog({ directory, segmentBytes: 256, sync: { every: "20 millis" } }, (log) => appendN(log, 1, 200))
      const sealed = files(directory).filter((f) => f.endsWith(".seg"))
      expect(sealed.length).toBeGreaterThan(5)
      Fs.writeFileSync(Path.join(directory, sealed[0]!), Buffer.alloc(256, 0xab))
      yield* withLog({ directory, segmentBytes: 256 }, (log) =>
        Effect.gen(function*() {
          expect(Option.isSome(yield* log.lastId)).toBe(true)
          // reading it is an error of the subscription, not garbage
          const result = yield* Effect.either(collect(log, { initial: "retained" }, 3))
          expect(result._tag === "Left" && result.left._tag).toBe("EventLogError")
        }))
    }))

  it.live("one process per directory: a second open fails with OpenError (locked)", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      yield* withLog({ directory }, () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(Effect.scoped(FileEventLog.make({ directory })))
          expect(error).toMatchObject({ _tag: "FileEventLogOpenError", reason: "locked" })
        }))
      // released on close
      yield* withLog({ directory }, (log) => log.append({ data: "x" }))
      // a lock left by a process that is gone (killed) is taken over
      Fs.writeFileSync(Path.join(directory, "lock"), "999999999")
      yield* withLog({ directory }, (log) => log.append({ data: "y" }))
    }))

  it.live("appends racing: concurrent appenders, group commit, every id once and in order", () =>
    Effect.gen(function*() {
      const directory = freshDir()
      yield* withLog({ directory, segmentBytes: 4096 }, (log) =>
        Effect.gen(function*() {
          const follower = yield* Effect.fork(collect(log, {}, 800))
          while ((yield* log.subscriberCount) === 0) yield* Effect.yieldNow()
          const appended = yield* Effect.forEach(range(1, 800), (n) => log.append({ data: n }), { concurrency: 32 })
          const got = yield* Fiber.join(follower)
          expect(got.map((e) => e._tag === "SseEvent" && e.lastEventId)).toEqual(
            [...appended].sort((x, y) => Number(x.lastEventId.split("-")[1]) - Number(y.lastEventId.split("-")[1])).map(
              (e) => e.lastEventId
            )
          )
          expect(new Set(dataOf(got)).size).toBe(800)
        }))
    }))

  it("the JS CRC-32 is zlib's", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const zlib = (Zlib as { crc32?: (b: Uint8Array) => number }).crc32
        expect(crc32Js(bytes)).toBe(zlib === undefined ? crc32Js(bytes) : zlib(bytes) >>> 0)
      })
    )
    expect(crc32Js(Buffer.from("123456789"))).toBe(0xcbf43926)
  })

  it("OpenError says where", () => {
    const error = new FileEventLog.OpenError({ directory: "/d", reason: "format", detail: "bad" })
    expect(error.message).toBe("cannot open the event log in /d (format): bad")
  })
})

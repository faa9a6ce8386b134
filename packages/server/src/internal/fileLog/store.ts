/**
 * The files of a file log: a directory of segments, each an append-only file of records
 * (`record.ts`), plus `streamwire-log.json` (format and id epoch) and `lock` (the pid of the
 * process that has it open).
 *
 *   0000000000000001-0000000000004711-1764671234567-8388490.seg   sealed: first and last sequence
 *                                                                  number, last append time, bytes
 *   0000000000004712.open                                          the segment appended to
 *
 * Start-up reads the names (sealed segments are never read at start) and scans only the open
 * segment, which is bounded by `segmentBytes`: a torn record at its end is truncated away. Appends
 * are batched (group commit): what arrives while a write is in flight goes out in the next single
 * write (and `fdatasync`, with `sync: "always"`). A committed batch is handed to `onCommit` in
 * order; that is when appends are acknowledged.
 *
 * Plain promises, no Effect: `log.ts` wraps it.
 *
 * @internal
 */
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Path from "node:path"
import * as Rec from "./record.js"

/** @internal */
export interface Config {
  readonly directory: string
  readonly maxEvents: number
  readonly maxAgeMillis: number
  readonly maxBytes: number
  readonly segmentBytes: number
  /** `0`: fdatasync every batch before acknowledging it; else fdatasync every this many millis. */
  readonly syncEveryMillis: number
  /** How many of the newest records the start-up scan hands back (to fill the in-memory tail). */
  readonly tailEvents: number
}

/** @internal */
export interface Segment {
  readonly firstSeq: number
  /** `firstSeq - 1` while empty. */
  lastSeq: number
  lastAt: number
  /** Committed bytes. */
  size: number
  path: string
  sealed: boolean
}

/** @internal */
export class OpenFailure {
  constructor(readonly reason: "locked" | "format" | "io", readonly detail: string, readonly cause?: unknown) {}
}

/** @internal */
export class Gone extends Error {
  constructor(readonly seq: number) {
    super(`event ${seq} left the log while being read (the reader fell behind retention)`)
  }
}

interface Pending {
  readonly record: Record & { readonly bytes: Buffer }
  readonly done: (error: unknown) => void
}
type Record = Rec.Record

const META = "streamwire-log.json"
const LOCK = "lock"
const FORMAT = 1
const pad = (n: number) => String(n).padStart(16, "0")
const OPEN_RE = /^([0-9]{16})\.open$/
const SEALED_RE = /^([0-9]{16})-([0-9]{16})-([0-9]{1,16})-([0-9]{1,16})\.seg$/

const sealedName = (s: Segment) => `${pad(s.firstSeq)}-${pad(s.lastSeq)}-${Math.floor(s.lastAt)}-${s.size}.seg`

/** Directories open in this process (a pid lock does not see them). */
const openHere = new Set<string>()

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const fsyncDir = async (dir: string) => {
  const handle = await FsP.open(dir, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes synchronously: a write to the page cache takes microseconds, less than the round trip
 * through libuv's thread pool that an asynchronous one costs (the `fdatasync` stays asynchronous).
 */
const writeFully = (handle: FsP.FileHandle, buf: Buffer) => {
  let off = 0
  while (off < buf.length) off += Fs.writeSync(handle.fd, buf, off, buf.length - off)
}

/** @internal */
export class Store {
  readonly segments: Array<Segment>
  /** Sequence number of the newest committed record (0: none yet). */
  committed: number
  /** Sequence number the next append gets. */
  nextSeq: number
  totalBytes: number
  /** The oldest sequence number not expired by age, as far as known (only grows). */
  ageFloor = 0
  onCommit: (records: ReadonlyArray<Record>) => void = () => {}
  private handle: FsP.FileHandle
  private pending: Array<Pending> = []
  /** Sealed segments written since the last periodic sync (`sync: { every }`): synced, then closed, on the next one. */
  private unsynced: Array<FsP.FileHandle> = []
  private flushing: Promise<void> | undefined
  private dirty = false
  private syncDue = false
  private failure: unknown = undefined
  private closed = false
  private timer: ReturnType<typeof setInterval> | undefined

  private constructor(
    readonly config: Config,
    readonly epoch: string,
    segments: Array<Segment>,
    handle: FsP.FileHandle,
    /** The newest records of the open segment, oldest first (at most `tailEvents`). */
    readonly recent: ReadonlyArray<Record>,
    /** What start-up found and did, for the tests and the logs. */
    readonly recovery: {
      readonly truncatedBytes: number
      readonly scannedBytes: number
      readonly stop: Rec.Stop | undefined
    }
  ) {
    this.segments = segments
    this.handle = handle
    const active = segments[segments.length - 1]!
    this.committed = active.lastSeq
    this.nextSeq = active.lastSeq + 1
    this.totalBytes = segments.reduce((n, s) => n + s.size, 0)
    if (config.syncEveryMillis > 0) {
      this.timer = setInterval(() => {
        if (this.dirty) {
          this.syncDue = true
          this.kick()
        }
      }, config.syncEveryMillis)
      this.timer.unref()
    }
  }

  get active(): Segment {
    return this.segments[this.segments.length - 1]!
  }

  /** Sequence number of the oldest record still on disk (committed + 1 when there is none). */
  get physicalFirst(): number {
    return this.segments[0]!.firstSeq
  }

  static async open(config: Config, now: number): Promise<Store> {
    const dir = Path.resolve(config.directory)
    try {
      await FsP.mkdir(dir, { recursive: true })
    } catch (e) {
      throw new OpenFailure("io", `cannot create ${dir}`, e)
    }
    if (openHere.has(dir)) throw new OpenFailure("locked", `${dir} is already open in this process`)
    await lock(dir)
    openHere.add(dir)
    try {
      const epoch = await meta(dir)
      const names = await FsP.readdir(dir)
      const sealed: Array<Segment> = []
      const open: Array<number> = []
      for (const name of names) {
        let m = SEALED_RE.exec(name)
        if (m !== null) {
          sealed.push({
            firstSeq: Number(m[1]),
            lastSeq: Number(m[2]),
            lastAt: Number(m[3]),
            size: Number(m[4]),
            path: Path.join(dir, name),
            sealed: true
          })
        } else if ((m = OPEN_RE.exec(name)) !== null) {
          open.push(Number(m[1]))
        }
      }
      sealed.sort((a, b) => a.firstSeq - b.firstSeq)
      open.sort((a, b) => a - b)
      // normally one open segment, the newest; more only if a crash came between creating a new
      // segment and renaming the previous one: seal all but the newest
      let recovery = { truncatedBytes: 0, scannedBytes: 0, stop: undefined as Rec.Stop | undefined }
      let recent: Array<Record> = []
      let activeSeg: Segment | undefined
      for (let i = 0; i < open.length; i++) {
        const first = open[i]!
        const path = Path.join(dir, `${pad(first)}.open`)
        const last = sealed[sealed.length - 1]
        if (last !== undefined && first <= last.lastSeq) {
          // a stale file from before a crash that the sealed segments already cover
          await FsP.rm(path, { force: true })
          continue
        }
        const scanned = await scanOpen(path, first, config.tailEvents)
        recovery = {
          truncatedBytes: recovery.truncatedBytes + scanned.truncated,
          scannedBytes: recovery.scannedBytes + scanned.size,
          stop: scanned.stop ?? recovery.stop
        }
        const seg: Segment = {
          firstSeq: first,
          lastSeq: scanned.lastSeq,
          lastAt: scanned.lastAt,
          size: scanned.size,
          path,
          sealed: false
        }
        const isNewest = i === open.length - 1
        if (!isNewest) {
          if (seg.size === 0) {
            await FsP.rm(path, { force: true })
            continue
          }
          await sealSegment(seg)
          sealed.push(seg)
        } else {
          activeSeg = seg
          recent = scanned.recent
        }
      }
      const prev = sealed[sealed.length - 1]
      if (activeSeg !== undefined && prev !== undefined && activeSeg.firstSeq !== prev.lastSeq + 1) {
        throw new OpenFailure("format", `${activeSeg.path} does not continue ${prev.path}`)
      }
      if (activeSeg === undefined) {
        const first = prev === undefined ? 1 : prev.lastSeq + 1
        activeSeg = {
          firstSeq: first,
          lastSeq: first - 1,
          lastAt: prev?.lastAt ?? 0,
          size: 0,
          path: Path.join(dir, `${pad(first)}.open`),
          sealed: false
        }
      }
      const handle = await FsP.open(activeSeg.path, "a")
      await fsyncDir(dir)
      const store = new Store(config, epoch, [...sealed, activeSeg], handle, recent, recovery)
      await store.dropExpired(now)
      return store
    } catch (e) {
      openHere.delete(dir)
      await FsP.rm(Path.join(dir, LOCK), { force: true })
      throw e instanceof OpenFailure ? e : new OpenFailure("io", `cannot open the event log in ${dir}: ${String(e)}`, e)
    }
  }

  /** Queues a record; `done` is called once it is committed (or failed). Ids are assigned here, in call order. */
  append(at: number, type: string, data: string, done: (error: unknown) => void): Record | undefined {
    if (this.closed || this.failure !== undefined) {
      done(this.failure ?? new Error("the event log is closed"))
      return undefined
    }
    const seq = this.nextSeq++
    const record = { seq, at, type, data, bytes: Rec.encode(seq, at, type, data) }
    this.pending.push({ record, done })
    this.kick()
    return record
  }

  private kick() {
    if (this.flushing === undefined) {
      this.flushing = new Promise<void>((resolve) => queueMicrotask(() => this.flush().then(resolve, resolve)))
    }
  }

  private async flush() {
    try {
      while (this.pending.length > 0 || this.syncDue) {
        if (this.pending.length === 0) {
          this.syncDue = false
          await this.syncAll().catch((e) => (this.failure ??= e))
          continue
        }
        const batch = this.pending
        this.pending = []
        try {
          await this.write(batch)
        } catch (error) {
          // nothing of this batch or of those queued behind it is acknowledged; the file is cut
          // back to what was committed and the sequence numbers are issued again
          const failed = [...batch, ...this.pending]
          this.pending = []
          this.nextSeq = this.committed + 1
          await this.handle.truncate(this.active.size).catch((e) => (this.failure ??= e))
          for (const p of failed) p.done(error)
        }
      }
    } finally {
      this.flushing = undefined
    }
  }

  private async write(batch: ReadonlyArray<Pending>) {
    let bytes = 0
    for (const p of batch) bytes += p.record.bytes.length
    let active = this.active
    let rolled = false
    if (active.size > 0 && active.size + bytes > this.config.segmentBytes) {
      await this.roll()
      active = this.active
      rolled = true
    }
    const buf = batch.length === 1 ? batch[0]!.record.bytes : Buffer.concat(batch.map((p) => p.record.bytes), bytes)
    writeFully(this.handle, buf)
    if (this.config.syncEveryMillis === 0) await this.handle.datasync()
    else this.dirty = true
    const last = batch[batch.length - 1]!.record
    active.size += bytes
    active.lastSeq = last.seq
    active.lastAt = last.at
    this.totalBytes += bytes
    this.committed = last.seq
    this.onCommit(batch.map((p) => p.record))
    for (const p of batch) p.done(undefined)
    if (rolled) await this.dropExpired(last.at).catch(() => {})
  }

  private async syncAll() {
    this.dirty = false
    const sealed = this.unsynced
    this.unsynced = []
    for (const handle of sealed) {
      try {
        await handle.datasync()
      } finally {
        await handle.close().catch(() => {})
      }
    }
    await this.handle.datasync()
  }

  /** Seals the open segment (fsync, rename) and starts a new one. */
  private async roll() {
    const old = this.active
    if (this.dirty) {
      // synced on the next tick of the period, with the new segment, then closed
      this.unsynced.push(this.handle)
    } else {
      await this.handle.close()
    }
    await sealSegment(old)
    const first = old.lastSeq + 1
    const seg: Segment = {
      firstSeq: first,
      lastSeq: first - 1,
      lastAt: old.lastAt,
      size: 0,
      path: Path.join(Path.dirname(old.path), `${pad(first)}.open`),
      sealed: false
    }
    this.handle = await FsP.open(seg.path, "a")
    this.segments.push(seg)
    if (this.config.syncEveryMillis === 0) await fsyncDir(Path.dirname(seg.path))
  }

  /** Removes sealed segments that retention no longer needs, oldest first. */
  async dropExpired(now: number) {
    const { maxAgeMillis, maxBytes, maxEvents } = this.config
    while (this.segments.length > 1) {
      const s = this.segments[0]!
      const byCount = s.lastSeq <= this.committed - maxEvents
      const byAge = s.lastAt <= now - maxAgeMillis
      const byBytes = this.totalBytes > maxBytes
      if (!byCount && !byAge && !byBytes) break
      this.segments.shift()
      this.totalBytes -= s.size
      await FsP.rm(s.path, { force: true })
    }
  }

  /** The segment holding `seq`, if it is still on disk. */
  segmentOf(seq: number): Segment | undefined {
    const segs = this.segments
    let lo = 0
    let hi = segs.length - 1
    if (hi < 0 || seq < segs[0]!.firstSeq) return undefined
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (segs[mid]!.firstSeq <= seq) lo = mid
      else hi = mid - 1
    }
    const s = segs[lo]!
    return seq <= s.lastSeq ? s : undefined
  }

  /** Waits for queued appends, syncs, closes the file and releases the lock. */
  async close() {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) clearInterval(this.timer)
    while (this.flushing !== undefined) await this.flushing
    try {
      if (this.dirty) await this.syncAll()
    } finally {
      await this.handle.close().catch(() => {})
      const dir = Path.dirname(this.active.path)
      openHere.delete(dir)
      await FsP.rm(Path.join(dir, LOCK), { force: true })
    }
  }
}

/** Takes the directory's lock file, or fails if a live process holds it. */
const lock = async (dir: string) => {
  const path = Path.join(dir, LOCK)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await FsP.writeFile(path, String(process.pid), { flag: "wx" })
      return
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new OpenFailure("io", `cannot create ${path}`, e)
    }
    const pid = Number((await FsP.readFile(path, "utf8").catch(() => "")).trim())
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new OpenFailure("locked", `${dir} is in use by process ${pid} (remove ${path} if it is not)`)
    }
    // a lock left by a process that is gone (killed): take it over
    await FsP.rm(path, { force: true })
  }
  throw new OpenFailure("locked", `cannot take the lock ${path}`)
}

/** Reads (or creates) the directory's meta file: its format and the epoch of its ids. */
const meta = async (dir: string): Promise<string> => {
  const path = Path.join(dir, META)
  let text: string | undefined
  try {
    text = await FsP.readFile(path, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new OpenFailure("io", `cannot read ${path}`, e)
  }
  if (text !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      throw new OpenFailure("format", `${path} is not JSON`, e)
    }
    const m = parsed as { format?: unknown; epoch?: unknown }
    if (m.format !== FORMAT || typeof m.epoch !== "string" || !/^[0-9a-z]{1,32}$/.test(m.epoch)) {
      throw new OpenFailure("format", `${path}: unknown format (expected {"format":${FORMAT},"epoch":…})`)
    }
    return m.epoch
  }
  const epoch = Date.now().toString(36) + Math.floor(Math.random() * 36 * 36).toString(36).padStart(2, "0")
  const tmp = path + ".tmp"
  const handle = await FsP.open(tmp, "w")
  try {
    await handle.writeFile(JSON.stringify({ format: FORMAT, epoch }) + "\n")
    await handle.sync()
  } finally {
    await handle.close()
  }
  await FsP.rename(tmp, path)
  await fsyncDir(dir)
  return epoch
}

/** Scans an open segment, truncates a torn end, and keeps its newest `keep` records. */
const scanOpen = async (path: string, firstSeq: number, keep: number) => {
  const buf = await FsP.readFile(path)
  const recent: Array<Record> = []
  let expected = firstSeq
  let lastAt = 0
  let badSeq = false
  let validEnd = 0
  const result = Rec.parse(buf, 0, buf.length, (r, next) => {
    if (r.seq !== expected) {
      badSeq = true
      return false
    }
    expected++
    lastAt = r.at
    validEnd = next
    recent.push(r)
    if (recent.length > keep * 2) recent.splice(0, recent.length - keep)
  })
  // a record out of sequence ends the valid part as a bad checksum would
  const valid = badSeq ? validEnd : result.offset
  const stop = badSeq ? "format" : result.stop
  if (valid < buf.length) {
    Fs.truncateSync(path, valid)
    const handle = await FsP.open(path, "r+")
    await handle.datasync()
    await handle.close()
  }
  if (recent.length > keep) recent.splice(0, recent.length - keep)
  return { lastSeq: expected - 1, lastAt, size: valid, truncated: buf.length - valid, stop, recent }
}

const sealSegment = async (seg: Segment) => {
  const path = Path.join(Path.dirname(seg.path), sealedName(seg))
  await FsP.rename(seg.path, path)
  seg.path = path
  seg.sealed = true
}

/**
 * Reads committed records from `seq` on, a page at a time, across segments. Keeps the segment it
 * reads open (a segment removed meanwhile stays readable through it).
 *
 * @internal
 */
export class Cursor {
  private handle: FsP.FileHandle | undefined
  private segment: Segment | undefined
  private pos = 0
  private buf = Buffer.allocUnsafe(64 * 1024)
  constructor(readonly store: Store, public next: number) {}

  /** Up to `max` records from `next` on; empty when `next` is past the newest committed record. */
  async read(max: number): Promise<Array<Record>> {
    const out: Array<Record> = []
    while (out.length === 0 && this.next <= this.store.committed) {
      if (this.segment === undefined || this.next > this.segment.lastSeq && this.segment.sealed) {
        await this.openAt(this.next)
      }
      const seg = this.segment!
      const end = seg.size // committed bytes of the segment now
      if (this.pos >= end) {
        if (!seg.sealed) return out // the open segment: nothing committed beyond (yet)
        await this.openAt(this.next)
        continue
      }
      let want = Math.min(this.buf.length, end - this.pos)
      let { bytesRead } = await this.handle!.read(this.buf, 0, want, this.pos)
      let len = Rec.recordLength(this.buf, 0, bytesRead)
      if (len !== undefined && len > bytesRead && len <= end - this.pos) {
        // a record larger than the buffer
        this.buf = Buffer.allocUnsafe(len)
        want = len
        ;({ bytesRead } = await this.handle!.read(this.buf, 0, want, this.pos))
        len = undefined
      }
      const parsed = Rec.parse(this.buf, 0, bytesRead, (r) => {
        if (r.seq >= this.next) {
          out.push(r)
          this.next = r.seq + 1
        }
        return out.length < max
      })
      if (parsed.stop === "checksum" || parsed.stop === "format" || parsed.offset === 0) {
        throw new Error(`corrupt record in ${seg.path} at byte ${this.pos}`)
      }
      this.pos += parsed.offset
    }
    return out
  }

  private async openAt(seq: number) {
    await this.close()
    for (let attempt = 0; attempt < 3; attempt++) {
      const seg = this.store.segmentOf(seq)
      if (seg === undefined) throw new Gone(seq)
      try {
        this.handle = await FsP.open(seg.path, "r")
        this.segment = seg
        this.pos = 0
        return
      } catch (e) {
        // sealed (renamed) or removed between the look-up and the open: look again
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
      }
    }
    throw new Gone(seq)
  }

  async close() {
    const handle = this.handle
    this.handle = undefined
    this.segment = undefined
    if (handle !== undefined) await handle.close().catch(() => {})
  }
}

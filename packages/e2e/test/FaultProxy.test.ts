/** The fault proxy itself: bytes intact, split, cut where its seed says, reproducibly. */
import * as Crypto from "node:crypto"
import * as Net from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import * as FaultProxy from "../src/FaultProxy.js"
import * as Prng from "../src/Prng.js"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

/** A TCP server that sends `payload` to each connection and then ends it. */
const source = async (payload: Buffer) => {
  const sockets = new Set<Net.Socket>()
  const server = Net.createServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.on("error", () => {})
    socket.end(payload)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  cleanups.push(() =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  )
  return (server.address() as Net.AddressInfo).port
}

/** Reads a connection to its end: the chunks as received, and how it ended. */
const read = (port: number) =>
  new Promise<{ chunks: Array<Buffer>; ending: "end" | "error" }>((resolve) => {
    const chunks: Array<Buffer> = []
    const socket = Net.connect(port, "127.0.0.1")
    let ending: "end" | "error" = "end"
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("error", () => (ending = "error"))
    socket.on("close", () => resolve({ chunks, ending }))
  })

const start = async (options: Omit<FaultProxy.Options, "target"> & { port: number }) => {
  const proxy = await FaultProxy.start({ ...options, target: { host: "127.0.0.1", port: options.port } })
  cleanups.push(() => proxy.close())
  return proxy
}

describe("FaultProxy", () => {
  it("without cuts, delivers every byte in order, split into many pieces", async () => {
    const payload = Crypto.randomBytes(200_000)
    const port = await source(payload)
    const proxy = await start({ port, seed: 1, maxPiece: 512 })
    const { chunks, ending } = await read(proxy.port)
    expect(ending).toBe("end")
    expect(Buffer.concat(chunks).equals(payload)).toBe(true)
    expect(chunks.length).toBeGreaterThan(200) // ≈ 200,000 / 256 pieces, some coalesced on the way
    expect(proxy.stats.pieces).toBeGreaterThan(400)
    expect(proxy.stats.delays).toBeGreaterThan(0)
    expect(proxy.stats.cuts).toBe(0)
  })

  it("cuts each connection after the number of bytes its seed gives, with FIN or RST; the same seed cuts the same way", async () => {
    const payload = Crypto.randomBytes(100_000)
    const port = await source(payload)
    const run = async (seed: number) => {
      const proxy = await start({ port, seed, cutAfter: { min: 1000, max: 50_000 }, earlyCutChance: 0.3 })
      const results = []
      for (let i = 0; i < 12; i++) {
        const { chunks, ending } = await read(proxy.port)
        const got = Buffer.concat(chunks)
        expect(got.equals(payload.subarray(0, got.length))).toBe(true) // a prefix, never garbage
        results.push({ length: got.length, ending })
      }
      expect(proxy.stats.cuts).toBe(12)
      return { results, stats: { ...proxy.stats } }
    }
    const a = await run(42)
    const b = await run(42)
    const c = await run(43)
    expect(a.results.map((r) => r.length)).toEqual(b.results.map((r) => r.length))
    expect(a.results.map((r) => r.length)).not.toEqual(c.results.map((r) => r.length))
    // the lengths are the budgets drawn from the seed
    const lengths = a.results.map((r) => r.length)
    expect(lengths.every((n) => n <= 50_000)).toBe(true)
    expect(lengths.slice(1).some((n) => n <= 300)).toBe(true) // early cuts (not on the first connection)
    expect(lengths[0]!).toBeGreaterThanOrEqual(1000)
    expect(a.stats.resets).toBeGreaterThan(0)
    expect(a.stats.resets).toBeLessThan(12)
  })

  it("Prng: reproducible, in range", () => {
    const a = Prng.make(7)
    const b = Prng.make(7)
    const xs = Array.from({ length: 1000 }, () => a.int(3, 9))
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.int(3, 9)))
    expect(Math.min(...xs)).toBe(3)
    expect(Math.max(...xs)).toBe(9)
    expect(Prng.derive(1, 0)).not.toBe(Prng.derive(1, 1))
  })
})

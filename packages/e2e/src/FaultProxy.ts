/**
 * A TCP proxy that misbehaves on purpose, reproducibly from a seed: every chunk in either
 * direction is split at random byte boundaries and the pieces are written in separate turns of the
 * event loop, some of them after a random delay; each connection is cut (FIN or RST, at random)
 * after a random number of bytes from the server, anywhere: in the response headers, in the middle
 * of a field, between events. Plain `node:net`.
 */
import * as Net from "node:net"
import * as Prng from "./Prng.js"

export interface Options {
  /** Where to forward to. */
  readonly target: { readonly host: string; readonly port: number }
  readonly seed: number
  /**
   * Server-to-client bytes after which a connection is cut, drawn per connection, uniform in
   * `[min, max]`. Omitted: connections are never cut.
   */
  readonly cutAfter?: { readonly min: number; readonly max: number } | undefined
  /**
   * Probability that a connection's cut comes within its first 300 bytes (in the response headers,
   * before the `retry:` hint). Default 0.1. Never for the first connection, so a client learns the
   * server's `retry:` before its first drop (as it would in life: a first cut before any hint makes
   * an `EventSource` wait its 3 s default).
   */
  readonly earlyCutChance?: number | undefined
  /** Pieces are uniform in `[1, maxPiece]` bytes. Default 1024. */
  readonly maxPiece?: number | undefined
  /** Probability that a piece waits before it is written, and the longest wait (ms). Defaults 0.05, 4. */
  readonly delayChance?: number | undefined
  readonly maxDelayMs?: number | undefined
}

export interface Stats {
  connections: number
  cuts: number
  resets: number
  earlyCuts: number
  bytesDown: number
  bytesUp: number
  pieces: number
  delays: number
}

export interface FaultProxy {
  readonly port: number
  readonly url: (path: string) => string
  readonly stats: Readonly<Stats>
  /** Stop (or resume) cutting new and open connections. */
  readonly setCutting: (on: boolean) => void
  readonly close: () => Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

export const start = async (options: Options): Promise<FaultProxy> => {
  const stats: Stats = {
    connections: 0,
    cuts: 0,
    resets: 0,
    earlyCuts: 0,
    bytesDown: 0,
    bytesUp: 0,
    pieces: 0,
    delays: 0
  }
  const sockets = new Set<Net.Socket>()
  const maxPiece = options.maxPiece ?? 1024
  const delayChance = options.delayChance ?? 0.05
  const maxDelayMs = options.maxDelayMs ?? 4
  const earlyCutChance = options.earlyCutChance ?? 0.1
  let cutting = options.cutAfter !== undefined

  const server = Net.createServer((client) => {
    const index = stats.connections++
    const rng = Prng.make(Prng.derive(options.seed, index))
    const budget = options.cutAfter === undefined
      ? Infinity
      : rng.chance(earlyCutChance) && index > 0
      ? rng.int(0, 300)
      : rng.int(options.cutAfter.min, options.cutAfter.max)
    const early = budget <= 300
    const resetOnCut = rng.chance(0.5)
    const upstream = Net.connect(options.target.port, options.target.host)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    let closed = false
    let down = 0

    const closeBoth = () => {
      if (closed) return
      closed = true
      client.destroy()
      upstream.destroy()
    }
    const cut = () => {
      if (closed) return
      stats.cuts++
      if (early) stats.earlyCuts++
      if (resetOnCut) {
        stats.resets++
        client.resetAndDestroy()
      } else {
        client.destroy()
      }
      closed = true
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on("error", closeBoth)
      socket.on("close", () => sockets.delete(socket))
    }
    // the client went away: nothing more to deliver (the server's side is flushed, then closed, in pump)
    client.on("close", closeBoth)

    const relay = (src: Net.Socket, dst: Net.Socket, isDown: boolean) => {
      const queue: Array<Buffer> = []
      let pumping = false
      let ended = false
      src.on("data", (chunk: Buffer) => {
        queue.push(chunk)
        src.pause()
        void pump()
      })
      src.on("end", () => {
        ended = true
        void pump()
      })
      src.on("close", () => {
        ended = true
        void pump()
      })
      const write = (piece: Buffer) =>
        new Promise<void>((resolve) => {
          if (closed) return resolve()
          if (dst.write(piece)) return resolve()
          const done = () => {
            dst.off("drain", done)
            dst.off("close", done)
            resolve()
          }
          dst.on("drain", done)
          dst.on("close", done)
        })
      const pump = async () => {
        if (pumping) return
        pumping = true
        while (queue.length > 0 && !closed) {
          const chunk = queue.shift()!
          let offset = 0
          while (offset < chunk.length && !closed) {
            let size = Math.min(rng.int(1, maxPiece), chunk.length - offset)
            if (isDown && cutting && down + size >= budget) {
              size = Math.max(0, budget - down)
              if (size > 0) await write(chunk.subarray(offset, offset + size))
              down += size
              stats.bytesDown += size
              cut()
              break
            }
            if (rng.chance(delayChance)) {
              stats.delays++
              await sleep(rng.int(1, maxDelayMs))
            } else {
              await turn()
            }
            if (closed) break
            await write(chunk.subarray(offset, offset + size))
            stats.pieces++
            if (isDown) {
              down += size
              stats.bytesDown += size
            } else {
              stats.bytesUp += size
            }
            offset += size
          }
        }
        pumping = false
        if (closed) return
        if (ended) {
          if (src === upstream) closeAfterEnd(dst)
          else dst.end()
        } else {
          src.resume()
        }
      }
    }
    // the server ended its side: end the client's side once everything is written, then close
    const closeAfterEnd = (dst: Net.Socket) => {
      dst.end(() => closeBoth())
    }
    relay(client, upstream, false)
    relay(upstream, client, true)
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  const address = server.address() as Net.AddressInfo

  return {
    port: address.port,
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    stats,
    setCutting: (on) => {
      cutting = on && options.cutAfter !== undefined
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        sockets.clear()
        server.close(() => resolve())
      })
  }
}

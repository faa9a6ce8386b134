/**
 * Starts and stops a real `redis-server` on 127.0.0.1, a free port and a temp dir of its own: used
 * by the vitest globalSetup, by the restart test and by `bench/redis.ts`. Plain promises (no
 * Effect) so the globalSetup can use it too.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** `redis-server --version`, e.g. "Redis server v=7.0.15 ...". */
  readonly version: string
  /** Stops the process (SIGTERM, then SIGKILL after 3 s); the temp dir stays until `dispose`. */
  stop(): Promise<void>
  /** Starts it again on the same port and dir (after `stop`). */
  start(): Promise<void>
  /** Stops it and removes the temp dir. */
  dispose(): Promise<void>
}

export interface StartOptions {
  /** `--appendonly yes` so data survives a restart (default false). */
  readonly appendonly?: boolean
  readonly bin?: string
}

/** A port nobody listens on now: listen on 0, read the port, close. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Sends `PING` over a raw socket; resolves true on `+PONG`. */
const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    let reply = ""
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on("error", () => done(false))
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1")
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"))
    })
    socket.on("connect", () => socket.write("PING\r\n"))
  })

const waitUntil = async (check: () => Promise<boolean>, ms: number, what: string) => {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export const startRedis = async (options: StartOptions = {}): Promise<RedisServer> => {
  const bin = options.bin ?? process.env["REDIS_SERVER"] ?? "redis-server"
  const port = await freePort()
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-redis-"))
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let output = ""

  const start = async () => {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      options.appendonly ? "yes" : "no",
      "--protected-mode",
      "no",
      "--loglevel",
      "warning"
    ]
    const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] })
    child = proc
    proc.stdout?.on("data", (c: Buffer) => (output += c.toString()))
    proc.stderr?.on("data", (c: Buffer) => (output += c.toString()))
    exited = new Promise((resolve) => proc.once("exit", () => resolve()))
    let failed: Error | undefined
    proc.once("error", (e) => (failed = e))
    try {
      await waitUntil(
        async () => {
          if (failed) throw new Error(`cannot start ${bin}: ${failed.message}`)
          if (proc.exitCode !== null) throw new Error(`${bin} exited (${proc.exitCode}): ${output}`)
          return ping(port)
        },
        10_000,
        `${bin} on port ${port} to answer PING`
      )
    } catch (e) {
      proc.kill("SIGKILL")
      throw e
    }
  }

  const stop = async () => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill("SIGTERM")
    const timer = setTimeout(() => proc.kill("SIGKILL"), 3000)
    await exited
    clearTimeout(timer)
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    version: execFileSync(bin, ["--version"], { encoding: "utf8" }).trim(),
    stop,
    start,
    dispose: async () => {
      await stop()
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

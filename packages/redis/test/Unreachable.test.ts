/**
 * An unreachable or wrong Redis URL fails the layer within `connectTimeout`, with an error that
 * names the URL (password redacted) and the cause; the demo exits non-zero with that message.
 */
import { describe, expect, it } from "@effect/vitest"
import { RedisEventLog } from "@streamwire/redis"
import type { EventLog } from "@streamwire/server"
import { Effect, Exit, Layer, Logger, LogLevel } from "effect"
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"
import * as Path from "node:path"

const build = (options: Partial<RedisEventLog.Options>) =>
  Effect.gen(function*() {
    const started = Date.now()
    const exit = yield* Layer.build(RedisEventLog.layer({ key: "streamwire:unreachable", ...options })).pipe(
      Effect.scoped,
      Effect.exit
    )
    const elapsed = Date.now() - started
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause : undefined
    const failure = error === undefined ? undefined : (error as any).error as EventLog.EventLogError | undefined
    expect(failure?._tag).toBe("EventLogError")
    expect(failure?.cause).toBeInstanceOf(RedisEventLog.RedisUnreachable)
    return { error: failure!, unreachable: failure!.cause as RedisEventLog.RedisUnreachable, elapsed }
  }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))

/** A TCP server that accepts connections and never answers (not Redis). */
const silentServer = Effect.acquireRelease(
  Effect.async<Net.Server & { port: number }>((resume) => {
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer((s) => {
      sockets.add(s)
      s.on("close", () => sockets.delete(s))
    })
    server.listen(
      0,
      "127.0.0.1",
      () => resume(Effect.succeed(Object.assign(server, { port: (server.address() as Net.AddressInfo).port })))
    )
    ;(server as any).sockets = sockets
  }),
  (server) =>
    Effect.async<void>((resume) => {
      for (const s of (server as any).sockets as Set<Net.Socket>) s.destroy()
      server.close(() => resume(Effect.void))
    })
)

describe("an unreachable Redis", () => {
  it.live(
    "a closed port fails the layer within connectTimeout, naming the URL and the cause",
    () =>
      Effect.gen(function*() {
        const { elapsed, error, unreachable } = yield* build({ url: "redis://127.0.0.1:1", connectTimeout: "1 second" })
        expect(elapsed).toBeLessThan(5000)
        expect(unreachable.url).toBe("redis://127.0.0.1:1")
        expect(error.message).toContain("Redis at redis://127.0.0.1:1 did not answer within 1s")
        expect(error.message).toContain("ECONNREFUSED")
      }),
    15_000
  )

  it.live("the password is redacted", () =>
    Effect.gen(function*() {
      const { error } = yield* build({ url: "redis://user:hunter2@127.0.0.1:1/0", connectTimeout: "500 millis" })
      expect(error.message).toContain("redis://***@127.0.0.1:1/0")
      expect(error.message).not.toContain("hunter2")
    }), 15_000)

  it.live("a server that is not Redis (never answers) fails within connectTimeout too", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const { elapsed, error } = yield* build({ url: `redis://127.0.0.1:${server.port}`, connectTimeout: "1 second" })
      expect(elapsed).toBeLessThan(5000)
      expect(error.message).toContain(`Redis at redis://127.0.0.1:${server.port} did not answer within 1s`)
    }).pipe(Effect.scoped), 15_000)

  it.live("the default connectTimeout is a few seconds", () =>
    Effect.gen(function*() {
      const { elapsed, error } = yield* build({ url: "redis://127.0.0.1:1" })
      expect(elapsed).toBeGreaterThanOrEqual(4500)
      expect(elapsed).toBeLessThan(12_000)
      expect(error.message).toContain("within 5s")
    }), 30_000)

  it("the demo exits non-zero with that message", async () => {
    const root = Path.resolve(import.meta.dirname, "../../..")
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = ChildProcess.spawn(process.execPath, [
        "--conditions=@streamwire/source",
        "--import",
        "tsx",
        "examples/src/demo.ts"
      ], {
        cwd: root,
        env: { ...process.env, PORT: "0", STREAMWIRE_REDIS_URL: "redis://:s3cret@127.0.0.1:1" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (d) => (output += d))
      child.stderr.on("data", (d) => (output += d))
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
      child.on("exit", (code) => {
        clearTimeout(timer)
        resolve({ code, output })
      })
    })
    expect(result.code, result.output).not.toBe(0)
    expect(result.code, result.output).not.toBe(null)
    expect(result.output).toContain("Redis at redis://***@127.0.0.1:1 did not answer within 5s")
    expect(result.output).toContain("ECONNREFUSED")
    expect(result.output).not.toContain("s3cret")
    expect(result.output).not.toContain("listening")
  }, 70_000)
})

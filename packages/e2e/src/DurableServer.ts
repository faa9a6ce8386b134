/**
 * A server process on a `FileEventLog`, for tests that kill it: `GET /events` follows the log
 * (`retry: 200`, everything retained for a connection without an id), an appender adds an event
 * every few milliseconds and prints `acked <id>` on stdout once each append is acknowledged,
 * `POST /stop` stops the appender and answers with the last id.
 *
 *   node --conditions=@streamwire/source --import tsx packages/e2e/src/DurableServer.ts <directory> <port>
 *
 * `start(directory, port)` spawns it and resolves once it listens.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { FileEventLog, SseResponse } from "@streamwire/server"
import { Effect, Fiber, Option } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Http from "node:http"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const self = fileURLToPath(import.meta.url)
const repoRoot = Path.resolve(Path.dirname(self), "../../..")

export interface DurableServer {
  readonly process: ChildProcess
  /** Ids whose append was acknowledged, as printed. */
  readonly acked: Array<string>
  readonly exited: Promise<void>
  /** SIGKILL, and wait for the exit. */
  readonly kill: () => Promise<void>
}

export const start = (directory: string, port: number): Promise<DurableServer> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      "--conditions=@streamwire/source",
      "--import",
      "tsx",
      self,
      directory,
      String(port)
    ], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const acked: Array<string> = []
    let output = ""
    let buffered = ""
    let listening = false
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const server: DurableServer = {
      process: child,
      acked,
      exited,
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        await exited
      }
    }
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()))
    child.stdout!.on("data", (c: Buffer) => {
      buffered += c.toString()
      const lines = buffered.split("\n")
      buffered = lines.pop()!
      for (const line of lines) {
        if (line.startsWith("acked ")) acked.push(line.slice(6))
        else if (line.startsWith("listening") && !listening) {
          listening = true
          resolve(server)
        } else output += line + "\n"
      }
    })
    child.once("error", reject)
    child.once("exit", (code, signal) => {
      if (!listening) reject(new Error(`the durable server exited (${code ?? signal}) before listening: ${output}`))
    })
  })

/** Asks the server to stop appending; the last id it appended. */
export const stopAppending = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const req = Http.request({ host: "127.0.0.1", port, path: "/stop", method: "POST" }, (res) => {
      let body = ""
      res.on("data", (c: Buffer) => (body += c.toString()))
      res.on("end", () => resolve(body))
    })
    req.on("error", reject)
    req.end()
  })

/**
 * The log is opened and the handler attached before the socket listens: `NodeHttpServer.layer`
 * listens first and attaches the app's handler when it is served, and a request that arrives in
 * between is never answered (Chromium's `EventSource` then waits forever: it has no timeout).
 */
const main = (directory: string, port: number) => {
  let appending = true
  const program = Effect.gen(function*() {
    const log = yield* FileEventLog.make({ directory })
    let n = 0
    const appender = yield* Effect.forkScoped(Effect.gen(function*() {
      while (appending) {
        const event = yield* log.append({ type: "n", data: `${process.pid}:${n++}` })
        process.stdout.write(`acked ${event.lastEventId}\n`)
        yield* Effect.sleep("5 millis")
      }
    }))
    const router = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/events",
        SseResponse.fromEventLog(log, { retry: "200 millis", initial: "retained", heartbeat: "1 second" })
      ),
      HttpRouter.post(
        "/stop",
        Effect.gen(function*() {
          appending = false
          yield* Fiber.join(appender) // the append in flight, if any
          return HttpServerResponse.text(Option.getOrElse(yield* log.lastId, () => ""))
        })
      )
    )
    const handler = yield* NodeHttpServer.makeHandler(router)
    const http = Http.createServer(handler)
    yield* Effect.async<void, Error>((resume) => {
      http.once("error", (e) => resume(Effect.fail(e)))
      http.listen(port, "127.0.0.1", () => resume(Effect.void))
    })
    process.stdout.write("listening\n")
    return yield* Effect.never
  })
  NodeRuntime.runMain(Effect.scoped(program))
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === self) {
  main(process.argv[2]!, Number(process.argv[3]))
}

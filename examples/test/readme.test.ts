/**
 * The README examples, run: the client README's quick start against the demo's own app (whose
 * `/events` also carries `quote` events), the server README's ticker, and a check that each README
 * shows its example file (every code line of the README's block is in the file, in order).
 */
import { FetchHttpClient, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { SseClient } from "@streamwire/client"
import { MemoryEventLog } from "@streamwire/server"
import { Chunk, Effect, Layer, Stream } from "effect"
import * as Fs from "node:fs"
import { createServer } from "node:http"
import { follow } from "../src/client-quickstart.js"
import * as DemoApp from "../src/demo-app.js"
import { Server } from "../src/server-ticker.js"

const urlOf = (path: string) =>
  Effect.map(
    HttpServer.HttpServer,
    ({ address }) => `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}${path}`
  )

const Demo = Layer.scopedDiscard(Effect.flatMap(DemoApp.make({ tickEvery: "20 millis" }), HttpServer.serveEffect()))
  .pipe(
    Layer.provide(MemoryEventLog.layer({ maxEvents: 500 })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )

const read = (path: string) => Fs.readFileSync(new URL(path, import.meta.url), "utf8")

/** The code lines of the README's first ```ts block that contains `marker`. */
const block = (readme: string, marker: string): Array<string> => {
  const blocks = Array.from(read(readme).matchAll(/```ts\n([\s\S]*?)```/g), (m) => m[1]!)
  const found = blocks.find((b) => b.includes(marker))
  if (found === undefined) throw new Error(`${readme}: no ts block with ${marker}`)
  return found.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("//"))
}

// an example file runs itself only as the main module: `if (…) NodeRuntime.runMain(program)`
const mainGuard = /^if \(import\.meta\.url === `file:\/\/\$\{process\.argv\[1\]\}`\) /

/** Every line of `lines` appears in the file in this order (the file may add `export`, comments). */
const missingFrom = (file: string, lines: ReadonlyArray<string>): Array<string> => {
  const source = read(file).split("\n").map((l) =>
    l.trim().replace(mainGuard, "").replace(/^export /, "").replace(/\s*\/\/.*$/, "")
  )
  const missing: Array<string> = []
  let at = 0
  for (const line of lines.map((l) => l.replace(/^export /, "").replace(/\s*\/\/.*$/, ""))) {
    const i = source.indexOf(line, at)
    if (i < 0) missing.push(line)
    else at = i + 1
  }
  return missing
}

describe("README examples", () => {
  it.live("client README quick start: follows the demo's /events, quote events included", () =>
    Effect.gen(function*() {
      const url = yield* urlOf("/events")
      const lines = Chunk.toReadonlyArray(yield* follow(url).pipe(Stream.take(7), Stream.runCollect))
      expect(lines.filter((l) => /^tick \d+$/.test(l)).length).toBeGreaterThanOrEqual(5)
      expect(lines.some((l) => /^ACME \d+(\.\d+)?$/.test(l))).toBe(true)
    }).pipe(Effect.provide(Demo), Effect.provide(FetchHttpClient.layer), Effect.timeout("30 seconds")))

  it.live("server README ticker: every tick carries its own time", () =>
    Effect.gen(function*() {
      const url = yield* urlOf("/events")
      const ticks = Chunk.toReadonlyArray(yield* SseClient.events(url).pipe(Stream.take(3), Stream.runCollect))
      expect(ticks.map((e) => e.type)).toEqual(["tick", "tick", "tick"])
      for (const e of ticks) expect(Number.isNaN(Date.parse(e.data))).toBe(false)
      expect(new Set(ticks.map((e) => e.data)).size).toBe(3)
    }).pipe(
      Effect.provide(Server(0, "30 millis")),
      Effect.provide(FetchHttpClient.layer),
      Effect.timeout("30 seconds")
    ))

  it("each README shows its example file", () => {
    expect(missingFrom("../src/quickstart.ts", block("../../README.md", "SseClient.schema"))).toEqual([])
    expect(missingFrom("../src/client-quickstart.ts", block("../../packages/client/README.md", "SseClient.schemas")))
      .toEqual([])
    expect(missingFrom("../src/server-ticker.ts", block("../../packages/server/README.md", "Ticker"))).toEqual([])
  })
})

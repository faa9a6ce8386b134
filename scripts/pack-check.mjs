// The packages as a user gets them: build, `npm pack` every library package, install the tarballs
// into a scratch app in a temp dir outside the repository (with the pinned Effect packages from the
// registry), then typecheck a file importing every public module under a strict Node config with no
// DOM lib, run a plain `.mjs` server + client program with `node`, and look at `require()` and at
// what `npm publish --dry-run` would publish. Run by `npm run pack:check` and by `.ci/run`, which
// adds its checks to the test tally.
//
//   node scripts/pack-check.mjs [--keep]      # --keep: leave the scratch app for inspection
//
// Prints one line per check (`ok …` / `FAILED …`), a size table, and last `pack-check: N passed, M failed`;
// with STREAMWIRE_PACK_CHECK_JSON=file also writes { passed, failed, checks, packages } there.
import { execFileSync, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.resolve(new URL("..", import.meta.url).pathname)
const keep = process.argv.includes("--keep")
const packages = ["codec", "server", "client", "redis"]
const rootVersion = (name) =>
  JSON.parse(Fs.readFileSync(Path.join(root, "node_modules", name, "package.json"), "utf8")).version
const pinned = {
  "effect": "3.22.4",
  "@effect/platform": "0.97.2",
  "@effect/platform-node": "0.108.2",
  "typescript": "5.9.3",
  "@types/node": rootVersion("@types/node"),
  // the optional peers of @streamwire/server/testing, as the repository pins them
  "vitest": rootVersion("vitest"),
  "@effect/vitest": rootVersion("@effect/vitest")
}
// Entry points that load vitest: importing them outside a vitest run throws ("Vitest failed to
// access its internal state"), so the plain-node program only typechecks them, and a vitest run
// in the scratch app uses them (step 4b).
const vitestOnly = new Set(["@streamwire/server/testing"])

const checks = []
const check = (name, fn) => {
  const started = Date.now()
  try {
    const detail = fn()
    checks.push({ name, ok: true })
    console.log(`ok      ${name}${detail ? ` (${detail})` : ""} [${((Date.now() - started) / 1000).toFixed(1)} s]`)
    return true
  } catch (error) {
    checks.push({ name, ok: false, error: String(error?.message ?? error) })
    console.log(`FAILED  ${name}\n${String(error?.stack ?? error).replace(/^/gm, "        ")}`)
    return false
  }
}

const run = (cmd, args, options = {}) => {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${result.status ?? result.signal}\n${result.stdout}\n${result.stderr}`
    )
  }
  return result
}

/** npm prints notices before the JSON on some versions: take from the first `[` or `{`. */
const npmJson = (text) => JSON.parse(text.slice(text.search(/^[[{]/m)))

const forbidden = (file) =>
  /(^|\/)(test|tests|__tests__)\//.test(file) || /\.(test|spec)\.[cm]?[jt]s$/.test(file) ||
  /tsbuildinfo$/.test(file) || /(^|\/)(tsconfig[^/]*\.json|vitest\.config\.[cm]?ts)$/.test(file)

const scratch = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-pack-check-"))
const tarballs = Path.join(scratch, "tarballs")
const app = Path.join(scratch, "app")
Fs.mkdirSync(tarballs)
Fs.mkdirSync(app)
const report = {}

try {
  // 1. a clean build: stale files in dist/ (from a renamed module) would otherwise be shipped
  check("npm run build (clean)", () => {
    for (const p of packages) Fs.rmSync(Path.join(root, "packages", p, "dist"), { recursive: true, force: true })
    run("npm", ["run", "build"], { cwd: root })
  })

  // 2. npm pack and npm publish --dry-run of every library package
  for (const p of packages) {
    const dir = Path.join(root, "packages", p)
    const manifest = JSON.parse(Fs.readFileSync(Path.join(dir, "package.json"), "utf8"))
    check(`npm pack ${manifest.name}: dist, src, README.md, LICENSE and no tests`, () => {
      const [info] = npmJson(run("npm", ["pack", "--json", "--pack-destination", tarballs], { cwd: dir }).stdout)
      const files = info.files.map((f) => f.path)
      const bad = files.filter(forbidden)
      if (bad.length > 0) throw new Error(`would ship: ${bad.join(", ")}`)
      const entries = Object.entries(manifest.exports).filter(([key]) => key !== "./package.json")
      const needed = ["package.json", "README.md", "LICENSE"]
      for (const [, target] of entries) {
        needed.push(...[target.types, target.import, target["@streamwire/source"]].map((t) => t.replace(/^\.\//, "")))
        needed.push(target.types.replace(/^\.\//, "") + ".map", target.import.replace(/^\.\//, "") + ".map")
      }
      const absent = needed.filter((f) => !files.includes(f))
      if (absent.length > 0) throw new Error(`missing from the tarball: ${absent.join(", ")}`)
      report[manifest.name] = {
        tarball: info.filename,
        size: info.size,
        unpackedSize: info.unpackedSize,
        files: files.length
      }
      return `${info.filename}: ${(info.size / 1024).toFixed(1)} kB, ${
        (info.unpackedSize / 1024).toFixed(1)
      } kB unpacked, ${files.length} files`
    })
    check(`npm publish --dry-run ${manifest.name}: the same files, no tests`, () => {
      const out = run("npm", ["publish", "--dry-run", "--json"], { cwd: dir }).stdout
      const info = npmJson(out)
      const files = (info.files ?? info[manifest.name]?.files ?? []).map((f) => f.path)
      if (files.length === 0) throw new Error(`no file list in: ${out.slice(0, 500)}`)
      const bad = files.filter(forbidden)
      if (bad.length > 0) throw new Error(`would publish: ${bad.join(", ")}`)
      report[manifest.name].publish = files.sort()
      return `${files.length} files`
    })
  }

  // 3. a scratch app outside the repository: the tarballs and the pinned Effect packages
  const installed = check(
    `npm install the tarballs + ${
      Object.entries(pinned).filter(([n]) => n !== "typescript" && n !== "@types/node").map(([n, v]) => `${n} ${v}`)
        .join(", ")
    }`,
    () => {
      const tgz = Object.fromEntries(packages.map((p) => {
        const name = `@streamwire/${p}`
        return [name, `file:${Path.join(tarballs, report[name].tarball)}`]
      }))
      Fs.writeFileSync(
        Path.join(app, "package.json"),
        JSON.stringify(
          {
            name: "streamwire-pack-check-app",
            private: true,
            type: "module",
            dependencies: { ...tgz, ...pinned }
          },
          null,
          2
        )
      )
      run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: app })
      for (const p of packages) {
        const real = Fs.realpathSync(Path.join(app, "node_modules/@streamwire", p))
        if (real.startsWith(root)) throw new Error(`${p} resolves into the repository: ${real}`)
      }
      return app
    }
  )
  if (!installed) throw new Error("cannot go on without the app")

  // 4. typecheck every public module with a strict Node config: no DOM lib, skipLibCheck
  Fs.writeFileSync(
    Path.join(app, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "es2022",
          lib: ["es2023"],
          types: ["node"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: true,
          outDir: "out"
        },
        include: ["check.ts"]
      },
      null,
      2
    )
  )
  const publicModules = []
  for (const p of packages) {
    const manifest = JSON.parse(Fs.readFileSync(Path.join(root, "packages", p, "package.json"), "utf8"))
    for (const key of Object.keys(manifest.exports)) {
      if (key === "./package.json") continue
      publicModules.push(key === "." ? manifest.name : `${manifest.name}/${key.slice(2)}`)
    }
  }
  const ident = (m) => m.replace(/^@streamwire\//, "").replace(/[^A-Za-z0-9]/g, "_")
  const runnable = publicModules.filter((m) => !vitestOnly.has(m))
  Fs.writeFileSync(
    Path.join(app, "check.ts"),
    [
      "// every public module of the installed @streamwire packages (the vitest-only ones as types)",
      ...publicModules.map((m) => `import ${vitestOnly.has(m) ? "type " : ""}* as ${ident(m)} from "${m}"`),
      `import { Effect, Stream } from "effect"`,
      "",
      "// a typed use of each package, so an unresolved type (any) would not pass unnoticed",
      `const events: Stream.Stream<codec.Sse.SseEvent, codec.Sse.DecodeError> = Stream.make(new Uint8Array([100, 97, 116, 97, 58, 120, 10, 10])).pipe(codec_Sse.decode)`,
      `const response = server.SseResponse.make(Stream.empty)`,
      `const follow = client.SseClient.events("http://127.0.0.1:1/")`,
      `const layer = redis.RedisEventLog.layerFromEnv`,
      `const all = { ${runnable.map(ident).join(", ")} }`,
      ...[...vitestOnly].map((m) => `export type ${ident(m)}_eventLogContract = typeof ${ident(m)}.eventLogContract`),
      "",
      "const exported = Object.entries(all).map(([name, m]) => `${name}: ${Object.keys(m).length}`)",
      "const decoded = await Effect.runPromise(Stream.runCollect(events))",
      "console.log(JSON.stringify({ exported, decoded: Array.from(decoded, (e) => e.data), typed: [typeof response, typeof follow, typeof layer] }))",
      ""
    ].join("\n")
  )
  check(
    `tsc: a strict app (lib es2023, no DOM, types node, skipLibCheck) imports ${publicModules.length} public modules`,
    () => {
      const tsc = Path.join(app, "node_modules", ".bin", "tsc")
      // one run: typecheck, emit out/check.js, and list every file the compiler read
      const listed = run(tsc, ["-p", ".", "--listFiles"], { cwd: app }).stdout.split("\n")
      const ours = listed.filter((f) => f.includes("/@streamwire/"))
      const sources = ours.filter((f) => !f.endsWith(".d.ts"))
      if (sources.length > 0) throw new Error(`the app's compiler reads our sources: ${sources.join(", ")}`)
      return `${ours.length} of our files, all .d.ts`
    }
  )
  check("node out/check.js: the compiled app runs with plain node", () => {
    const out = run(process.execPath, ["out/check.js"], { cwd: app, timeout: 60_000 }).stdout
    const result = JSON.parse(out.trim().split("\n").pop())
    if (result.exported.length !== runnable.length) throw new Error(out)
    if (JSON.stringify(result.decoded) !== JSON.stringify(["x"])) throw new Error(out)
    return result.exported.join(", ")
  })

  // 4b. @streamwire/server/testing from the tarball, in a vitest run: the EventLog contract suite
  // against the memory log, and serve + connect
  Fs.writeFileSync(
    Path.join(app, "installed.test.ts"),
    `
import { expect, it } from "@effect/vitest"
import { Sse } from "@streamwire/codec"
import { MemoryEventLog, SseResponse } from "@streamwire/server"
import { connect, eventLogContract, serve } from "@streamwire/server/testing"
import { Effect, Stream } from "effect"

eventLogContract("MemoryEventLog (installed)", () => MemoryEventLog.layer({ maxEvents: 5 }), { retained: 5 })

it.scopedLive("serve and connect", () =>
  Effect.gen(function*() {
    const url = yield* serve(SseResponse.make(Stream.make(Sse.unsafeEvent({ data: "hi", id: "1" }))))
    const client = yield* connect(url)
    yield* Effect.promise(() => client.waitForEnd(30_000))
    expect(client.events()).toEqual([{ _tag: "SseEvent", type: "message", data: "hi", lastEventId: "1" }])
  }))
`
  )
  check(
    "vitest run installed.test.ts: @streamwire/server/testing (EventLog contract, serve, connect) from the tarball",
    () => {
      const vitest = Path.join(app, "node_modules", ".bin", "vitest")
      const out = run(vitest, ["run", "installed.test.ts", "--testTimeout=60000", "--reporter=dot"], {
        cwd: app,
        timeout: 300_000,
        env: { ...process.env, CI: "true", NO_COLOR: "1" }
      }).stdout
      const passed = /Tests\s+(\d+) passed/.exec(out)
      if (passed === null || /failed/.test(out)) throw new Error(out)
      return `${passed[1]} tests passed`
    }
  )

  // 5. a plain .mjs program: a server route, followed by the client, with node (no tsx)
  Fs.writeFileSync(
    Path.join(app, "follow.mjs"),
    `
import { FetchHttpClient, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SseClient } from "@streamwire/client"
import { Sse } from "@streamwire/codec"
import { SseResponse } from "@streamwire/server"
import { Effect, Layer, Option, Schema, Stream } from "effect"
import { createServer } from "node:http"

const Tick = Schema.parseJson(Schema.Struct({ n: Schema.Number }))
const router = HttpRouter.empty.pipe(
  HttpRouter.get("/ticks", SseResponse.resume((lastEventId) => {
    const from = Option.match(lastEventId, { onNone: () => 1, onSome: (id) => Number(id) + 1 })
    return Stream.iterate(from, (n) => n + 1).pipe(
      Stream.take(3),
      Stream.map((n) => Sse.unsafeEvent({ type: "tick", data: JSON.stringify({ n }), id: String(n) }))
    )
  }, { retry: "100 millis" }))
)
const ServerLive = router.pipe(
  HttpServer.serve(),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)
const program = Effect.gen(function*() {
  const { address } = yield* HttpServer.HttpServer
  const url = \`http://127.0.0.1:\${address.port}/ticks\`
  const ticks = yield* SseClient.schema(url, Tick).pipe(Stream.take(5), Stream.runCollect)
  return Array.from(ticks, (t) => t.n)
}).pipe(Effect.provide(ServerLive), Effect.provide(FetchHttpClient.layer), Effect.timeout("30 seconds"))

Effect.runPromise(program).then(
  (ns) => console.log(\`received \${ns.join(", ")}\`),
  (error) => { console.error(error); process.exitCode = 1 }
)
`
  )
  check("node follow.mjs: a server route followed by the client, resumed with Last-Event-ID", () => {
    const out = run(process.execPath, ["follow.mjs"], { cwd: app, timeout: 60_000 }).stdout.trim()
    if (out !== "received 1, 2, 3, 4, 5") throw new Error(`unexpected output: ${out}`)
    return out
  })

  // 6. require(): works where Node loads ES modules synchronously (20.19+), else ERR_REQUIRE_ESM
  check(`require("@streamwire/codec") on node ${process.version}: the module, or a clear ERR_REQUIRE_ESM`, () => {
    const r = spawnSync(process.execPath, [
      "-e",
      `
      try {
        const codec = require("@streamwire/codec")
        console.log(typeof codec.Sse.decode === "function" ? "loaded" : "no Sse.decode")
      } catch (error) {
        console.log(error.code)
      }`
    ], { cwd: app, encoding: "utf8", timeout: 60_000 })
    const out = r.stdout.trim()
    if (out !== "loaded" && out !== "ERR_REQUIRE_ESM") throw new Error(`unexpected: ${out}\n${r.stderr}`)
    return out === "loaded" ? "loaded (require of an ES module)" : "ERR_REQUIRE_ESM, as the README says"
  })
} catch (error) {
  if (!checks.some((c) => !c.ok)) {
    check("pack-check itself", () => {
      throw error
    })
  }
} finally {
  if (keep) console.log(`scratch app kept in ${app}`)
  else Fs.rmSync(scratch, { recursive: true, force: true })
}

const names = Object.keys(report)
if (names.length > 0) {
  console.log("\npackage               tarball   unpacked  files")
  for (const name of names) {
    const r = report[name]
    console.log(
      `${name.padEnd(20)} ${(r.size / 1024).toFixed(1).padStart(6)} kB ${
        (r.unpackedSize / 1024).toFixed(1).padStart(7)
      } kB  ${r.files}`
    )
  }
}
const passed = checks.filter((c) => c.ok).length
const failed = checks.length - passed
if (process.env.STREAMWIRE_PACK_CHECK_JSON) {
  Fs.writeFileSync(
    process.env.STREAMWIRE_PACK_CHECK_JSON,
    JSON.stringify({ passed, failed, checks, packages: report }, null, 2)
  )
}
console.log(`pack-check: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)

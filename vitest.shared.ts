/**
 * Settings every vitest project shares, and the system programs some suites need.
 *
 * Sources: inside the repository the `@streamwire/*` packages resolve to their TypeScript sources
 * through the `@streamwire/source` export condition (first in every `exports` entry), so tests run
 * without a build; installed tarballs resolve to `dist/`.
 *
 * System programs: `redis-server` (the @streamwire/redis project), Chromium (the browser tests) and
 * `openssl` (the certificates of the HTTP/2 tests).
 * The root config calls `checkSystemTools()` once: a missing one is installed with apt-get when
 * running as root on Debian/Ubuntu (as `.ci/setup` does); otherwise its suites are skipped with one
 * line saying what is missing and how to provide it, except under `CI=true`, where it is an error.
 */
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import { defaultServerConditions } from "vite"
import type { UserConfig } from "vitest/config"

export const sourceCondition = "@streamwire/source"

const conditions = [sourceCondition, ...defaultServerConditions]

export const fromSources: Pick<UserConfig, "resolve" | "ssr"> = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: [sourceCondition] } }
}

interface SystemTool {
  readonly name: string
  /** The variable that points at another executable. */
  readonly variable: string
  readonly fallback: string
  /** The Debian package that provides it. */
  readonly debian: string
  readonly suites: string
  readonly available: (path: string) => boolean
}

const runs = (path: string) => spawnSync(path, ["--version"], { stdio: "ignore", timeout: 20_000 }).status === 0
const executable = (path: string) => {
  try {
    Fs.accessSync(path, Fs.constants.X_OK)
    return Fs.statSync(path).isFile()
  } catch {
    return false
  }
}

export const systemTools = {
  redis: {
    name: "redis-server",
    variable: "REDIS_SERVER",
    fallback: "redis-server",
    debian: "redis-server",
    suites: "the @streamwire/redis project",
    available: runs
  },
  chromium: {
    name: "Chromium",
    variable: "STREAMWIRE_CHROMIUM",
    fallback: "/usr/bin/chromium",
    debian: "chromium",
    suites: "packages/e2e/test/browser.test.ts and http2-browser.test.ts",
    available: executable
  },
  openssl: {
    name: "openssl",
    variable: "STREAMWIRE_OPENSSL",
    fallback: "openssl",
    debian: "openssl",
    suites: "the HTTP/2 tests (their self-signed certificates)",
    available: (path: string) => spawnSync(path, ["version"], { stdio: "ignore", timeout: 20_000 }).status === 0
  }
} satisfies Record<string, SystemTool>

export type SystemToolName = keyof typeof systemTools

/** Set by `checkSystemTools` for the project configs loaded after the root one. */
const MISSING_VARIABLE = "STREAMWIRE_TEST_MISSING"

const pathOf = (tool: SystemTool) => process.env[tool.variable] || tool.fallback

const tryInstall = (tools: ReadonlyArray<SystemTool>): void => {
  const root = process.getuid?.() === 0
  if (!root || !runs("apt-get") && !executable("/usr/bin/apt-get")) return
  // only the ones nobody pointed elsewhere: an explicit path that does not work is the user's call
  const packages = tools.filter((t) => !process.env[t.variable]).map((t) => t.debian)
  if (packages.length === 0) return
  console.log(`streamwire tests: installing ${packages.join(", ")} with apt-get (missing)`)
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env })
  spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { stdio: "inherit", env })
}

/**
 * Finds the system programs (installing them when it can) and returns the missing ones; prints
 * one line per missing program, or throws under `CI=true`.
 */
export const checkSystemTools = (): ReadonlyArray<SystemToolName> => {
  const names = Object.keys(systemTools) as Array<SystemToolName>
  const missingNow = () => names.filter((n) => !systemTools[n].available(pathOf(systemTools[n])))
  let missing = missingNow()
  if (missing.length > 0) {
    tryInstall(missing.map((n) => systemTools[n]))
    missing = missingNow()
  }
  const lines = missing.map((n) => {
    const t: SystemTool = systemTools[n]
    return `${t.name} not found at ${pathOf(t)}: ${t.suites} ${
      process.env["CI"] === "true" ? "cannot run" : "skipped"
    }` +
      ` (install the Debian package \`${t.debian}\`, e.g. \`sudo apt-get install ${t.debian}\`, or set ${t.variable}=/path/to/it)`
  })
  if (process.env["CI"] === "true" && lines.length > 0) {
    throw new Error(`streamwire tests under CI=true need every system program:\n${lines.join("\n")}`)
  }
  for (const line of lines) console.log(`streamwire tests: ${line}`)
  process.env[MISSING_VARIABLE] = missing.join(",")
  return missing
}

/** Whether a system program is missing (as found by the root config; looks itself otherwise). */
export const isMissing = (name: SystemToolName): boolean => {
  const known = process.env[MISSING_VARIABLE]
  if (known !== undefined) return known.split(",").includes(name)
  const tool: SystemTool = systemTools[name]
  return !tool.available(pathOf(tool))
}

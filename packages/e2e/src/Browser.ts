/**
 * Headless Chromium (Debian's `/usr/bin/chromium`, installed by `.ci/setup`) driven by
 * `playwright-core`, in a fresh profile directory that is removed on close. Playwright never
 * downloads a browser here: it is only given the executable.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import type { BrowserContext } from "playwright-core"

export const executablePath = process.env["STREAMWIRE_CHROMIUM"] ?? "/usr/bin/chromium"

export const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

export interface Browser {
  readonly context: BrowserContext
  readonly close: () => Promise<void>
}

/** `extraArgs`: more Chromium switches (e.g. `--ignore-certificate-errors-spki-list=…` for a test certificate). */
export const launch = async (extraArgs: ReadonlyArray<string> = []): Promise<Browser> => {
  const userDataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-chromium-"))
  const cleanup = () => Fs.rmSync(userDataDir, { recursive: true, force: true })
  try {
    // `--user-data-dir` is the persistent context's own argument in Playwright
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      args: [...args, ...extraArgs],
      headless: true,
      viewport: { width: 1100, height: 900 },
      timeout: 30_000
    })
    let closed = false
    return {
      context,
      close: async () => {
        if (closed) return
        closed = true
        try {
          await context.close()
        } finally {
          cleanup()
        }
      }
    }
  } catch (error) {
    cleanup()
    throw error
  }
}

/** `test-artifacts/` at the repository root (git-ignored). */
export const artifactsDir = (): string => {
  const dir = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../../test-artifacts")
  Fs.mkdirSync(dir, { recursive: true })
  return dir
}

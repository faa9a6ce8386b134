/**
 * Bundles a browser module (and what it imports: effect, the client, the codec) into one classic
 * script with esbuild (installed with the repository's dev tools), in a temporary directory that
 * is removed at once: the demo serves the text, nothing is written to the repository.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const esbuild = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../node_modules/.bin/esbuild")

export const bundle = (entry: string): Promise<string> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamwire-bundle-"))
  const out = Path.join(dir, "bundle.js")
  return new Promise<string>((resolve, reject) => {
    ChildProcess.execFile(
      esbuild,
      [
        entry,
        "--bundle",
        "--minify",
        "--format=iife",
        "--platform=browser",
        "--target=es2022",
        "--conditions=@streamwire/source",
        `--outfile=${out}`,
        "--log-level=warning"
      ],
      { timeout: 120_000 },
      (error, _stdout, stderr) => {
        try {
          if (error) reject(new Error(`esbuild failed: ${stderr || error.message}`))
          else resolve(Fs.readFileSync(out, "utf8"))
        } finally {
          Fs.rmSync(dir, { recursive: true, force: true })
        }
      }
    )
  })
}

/** The demo page's "shared across tabs" panel script (`shared-panel.ts`), bundled. */
export const sharedPanel = (): Promise<string> =>
  bundle(Path.join(Path.dirname(fileURLToPath(import.meta.url)), "shared-panel.ts"))

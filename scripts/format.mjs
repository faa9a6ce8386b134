// dprint through its Wasm plugins (@dprint/formatter + @dprint/typescript + @dprint/json): the
// formatter Effect uses, with no native binary to download (the dprint CLI's per-platform packages
// are optional dependencies that some registries do not carry, which breaks `npm ci`).
// `node scripts/format.mjs` formats in place; `--check` lists unformatted files and exits 1.
// Settings and excludes: dprint.json. A file starting with `// dprint-ignore-file` is left as it is.
import { createContext } from "@dprint/formatter"
import * as json from "@dprint/json"
import * as typescript from "@dprint/typescript"
import { execFileSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const config = JSON.parse(readFileSync(join(root, "dprint.json"), "utf8"))
const check = process.argv.includes("--check")

const context = createContext({})
context.addPlugin(readFileSync(typescript.getPath()), config.typescript)
context.addPlugin(readFileSync(json.getPath()), config.json)

// the files git tracks or would track (untracked, not ignored), minus the excludes
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  cwd: root,
  encoding: "utf8"
}).split("\n").filter((f) =>
  /\.(ts|mts|mjs|js|json)$/.test(f) && !f.endsWith("package-lock.json") && !f.startsWith(".ci/out/")
)

const bad = []
for (const file of files) {
  const path = join(root, file)
  let text
  try {
    text = readFileSync(path, "utf8")
  } catch {
    continue // deleted in the work tree
  }
  if (text.startsWith("// dprint-ignore-file")) continue
  const formatted = context.formatText({ filePath: path, fileText: text })
  if (formatted === text) continue
  bad.push(file)
  if (!check) writeFileSync(path, formatted)
}
if (check && bad.length > 0) {
  console.error(bad.map((f) => `not formatted: ${f}`).join("\n"))
  console.error(`format: ${bad.length} file(s) not formatted; npm run format fixes them`)
  process.exit(1)
}
console.log(check ? `format: ${files.length} files formatted` : `format: ${bad.length} file(s) rewritten`)

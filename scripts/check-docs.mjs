// Typechecks every ```ts example in the packages' JSDoc: each one is written to its own module
// under .docs-check/ and compiled with the project's settings. Run by `npm run docs:check` and CI.
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const out = join(root, ".docs-check")
rmSync(out, { recursive: true, force: true })
mkdirSync(out)
let n = 0
for (const pkg of readdirSync(join(root, "packages"))) {
  const src = join(root, "packages", pkg, "src")
  let files = []
  try {
    files = readdirSync(src).filter((f) => f.endsWith(".ts"))
  } catch {
    continue
  }
  for (const file of files) {
    const text = readFileSync(join(src, file), "utf8")
    for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      const code = m[1].split("\n").map((l) => l.startsWith(" * ") ? l.slice(3) : l.trim() === "*" ? "" : l).join("\n")
      writeFileSync(join(out, `${pkg}_${basename(file, ".ts")}_${++n}.ts`), code + "\nexport {}\n")
    }
  }
}
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../tsconfig.base.json",
    compilerOptions: {
      noEmit: true,
      composite: false,
      emitDeclarationOnly: false,
      declaration: false,
      noUnusedLocals: false,
      noUnusedParameters: false
    },
    include: ["*.ts"]
  })
)
try {
  execFileSync(join(root, "node_modules", ".bin", "tsc"), ["-p", out], { stdio: "inherit" })
  console.log(`docs: ${n} JSDoc examples typecheck`)
} catch {
  console.error(`docs: some of the ${n} JSDoc examples do not typecheck (files in .docs-check/)`)
  process.exit(1)
}
rmSync(out, { recursive: true, force: true })

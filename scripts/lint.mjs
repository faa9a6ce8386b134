// The project's own lint rules, the ones a formatter cannot see (run by `npm run lint` and CI):
// - no package imports "upwards" (DESIGN.md §1): the codec knows nothing of HTTP or of our other
//   packages; server and client never import each other; nothing reaches into another package's
//   files by a relative path;
// - public modules (packages/*/src/*.ts) are JSDoc plus thin exports: every export has a JSDoc
//   block, every exported value (function, class, const other than a literal) has an @example, and no `as any`;
// - library sources do not write to the console (a library logs through Effect, if at all).
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const root = new URL("..", import.meta.url).pathname
const libraries = ["codec", "server", "client", "redis"]

/** Imports a package's sources may not use (prefix match on the specifier). */
const forbidden = {
  codec: ["@effect/platform", "@streamwire/", "ioredis", "node:http"],
  server: ["@streamwire/client", "@streamwire/redis"],
  client: ["@streamwire/server", "@streamwire/redis"],
  redis: ["@streamwire/client"]
}

const problems = []
const report = (file, line, message) => problems.push(`${relative(root, file)}:${line}: ${message}`)

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : path.endsWith(".ts") ? [path] : []
  })

for (const pkg of libraries) {
  const src = join(root, "packages", pkg, "src")
  for (const file of walk(src)) {
    const text = readFileSync(file, "utf8")
    const lines = text.split("\n")
    const isPublic = relative(src, file).indexOf("/") < 0 && !file.endsWith("index.ts")
    lines.forEach((line, i) => {
      const spec = /^\s*(?:import|export)\b[^"']*from\s+["']([^"']+)["']/.exec(line)?.[1] ??
        /^\s*import\s+["']([^"']+)["']/.exec(line)?.[1]
      if (spec !== undefined) {
        for (const bad of forbidden[pkg]) {
          if (spec.startsWith(bad)) report(file, i + 1, `@streamwire/${pkg} must not import ${spec}`)
        }
        if (spec.startsWith(".") && !join(file, "..", spec).startsWith(src)) {
          report(file, i + 1, `relative import leaves the package: ${spec}`)
        }
      }
      if (/\bconsole\./.test(line) && !/^\s*(\*|\/\/)/.test(line)) {
        report(file, i + 1, "library code writes to the console")
      }
      if (isPublic && /\bas any\b/.test(line) && !/^\s*(\*|\/\/)/.test(line)) {
        report(file, i + 1, "`as any` in a public module (put the machinery in internal/)")
      }
      if (isPublic) {
        const m = /^export\s+(?:declare\s+)?(const|function|class|interface|type)\s+(\w+)/.exec(line)
        if (m) {
          let j = i - 1
          while (j >= 0 && lines[j].trim() === "") j--
          if (j < 0 || !lines[j].trim().endsWith("*/")) {
            report(file, i + 1, `export ${m[2]} has no JSDoc`)
          } else if (
            (m[1] === "const" && !/^export\s+const\s+\w+\s*(:[^=]+)?=\s*["'`\d]/.test(line)) || m[1] === "function" ||
            m[1] === "class"
          ) {
            let k = j
            while (k >= 0 && !lines[k].trim().startsWith("/**")) k--
            const doc = lines.slice(Math.max(k, 0), j + 1).join("\n")
            if (!doc.includes("@example") && !doc.includes("@internal")) {
              report(file, i + 1, `export ${m[2]} has no @example`)
            }
          }
        }
      }
    })
  }
}

if (problems.length > 0) {
  console.error(problems.join("\n"))
  console.error(`lint: ${problems.length} problem(s)`)
  process.exit(1)
}
console.log("lint: import boundaries, JSDoc and examples on every public export, no `as any` in public modules")

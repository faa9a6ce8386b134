import { defineConfig } from "vitest/config"
import { checkSystemTools } from "./vitest.shared.js"

const missing = checkSystemTools()

export default defineConfig({
  test: {
    // each project has its own vitest.config.ts (name, timeouts sized for a loaded 2-core machine)
    projects: [
      "packages/codec",
      "packages/server",
      "packages/client",
      ...(missing.includes("redis") ? [] : ["packages/redis"]),
      "packages/e2e",
      "examples"
    ]
  }
})

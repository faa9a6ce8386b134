import { defineProject } from "vitest/config"
import { fromSources } from "../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/examples",
    // real servers and child processes: sized for a loaded 2-core machine, not an idle one
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

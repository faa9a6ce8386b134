import { defineProject } from "vitest/config"
import { fromSources } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/client",
    // real servers on 127.0.0.1: sized for a loaded 2-core machine, not an idle one
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

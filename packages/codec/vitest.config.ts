import { defineProject } from "vitest/config"
import { fromSources } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/codec",
    // sized for a loaded 2-core machine: the conformance properties took 7.8 s there
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

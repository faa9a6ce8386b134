import { defineProject } from "vitest/config"
import { fromSources } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/codec",
    // properties sized for a loaded 2-core machine: the conformance property took 7.8 s at a load
    // of ~4, and the heaviest ones 20–60 s at a load average of 22 (other jobs beside the tests)
    testTimeout: 120_000,
    hookTimeout: 60_000
  }
})

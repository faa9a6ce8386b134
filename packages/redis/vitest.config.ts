import { defineProject } from "vitest/config"
import { fromSources } from "../../vitest.shared.js"

// Left out of the root config's projects when redis-server is missing (see vitest.shared.ts).
export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/redis",
    globalSetup: ["./test/globalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

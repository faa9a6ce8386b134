import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@streamwire/redis",
    globalSetup: ["./test/globalSetup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000
  }
})

import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@streamwire/e2e",
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

import { configDefaults, defineProject } from "vitest/config"
import { fromSources, isMissing } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/e2e",
    // without Chromium (see vitest.shared.ts) the browser files are left out, the rest still runs
    exclude: [
      ...configDefaults.exclude,
      ...(isMissing("chromium") ? ["test/browser.test.ts", "test/shared-tabs.test.ts"] : [])
    ],
    testTimeout: 90_000,
    hookTimeout: 90_000
  }
})

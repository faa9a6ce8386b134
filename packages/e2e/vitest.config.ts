import { configDefaults, defineProject } from "vitest/config"
import { fromSources, isMissing } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/e2e",
    // without Chromium (see vitest.shared.ts) the browser file is left out, the rest still runs
    exclude: [...configDefaults.exclude, ...(isMissing("chromium") ? ["test/browser.test.ts"] : [])],
    testTimeout: 90_000,
    hookTimeout: 90_000
  }
})

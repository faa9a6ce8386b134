import { configDefaults, defineProject } from "vitest/config"
import { fromSources, isMissing } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/e2e",
    // without Chromium or openssl (see vitest.shared.ts) the files that need them are left out
    exclude: [
      ...configDefaults.exclude,
      ...(isMissing("chromium")
        ? ["test/browser.test.ts", "test/shared-tabs.test.ts", "test/http2-browser.test.ts"]
        : []),
      ...(isMissing("openssl") ? ["test/http2.test.ts", "test/http2-browser.test.ts"] : [])
    ],
    testTimeout: 90_000,
    hookTimeout: 90_000
  }
})

import { configDefaults, defineProject } from "vitest/config"
import { fromSources, isMissing } from "../../vitest.shared.js"

export default defineProject({
  ...fromSources,
  test: {
    name: "@streamwire/server",
    // without openssl (see vitest.shared.ts) the HTTP/2 tests cannot make their certificate
    exclude: [...configDefaults.exclude, ...(isMissing("openssl") ? ["test/Http2Server.test.ts"] : [])],
    // real servers on 127.0.0.1: sized for a loaded 2-core machine, not an idle one
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

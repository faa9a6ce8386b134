import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { program as decodeSample } from "../src/decode-sample.js"
import { program as quickstart } from "../src/quickstart.js"

describe("examples", () => {
  it.live("quickstart: the client resumes after the server's stream ends, with Last-Event-ID", () =>
    Effect.gen(function*() {
      expect(yield* quickstart).toEqual([1, 2, 3, 4, 5])
    }).pipe(Effect.timeout("10 seconds"), Logger.withMinimumLogLevel(LogLevel.Warning)))

  it.live("decode-sample: awkwardly chunked bytes decode to the events of the sample", () =>
    Effect.gen(function*() {
      const { lines, ticks } = yield* decodeSample
      expect(lines).toEqual([
        "retry 2000 ms",
        "tick #1: \"{\\\"n\\\":1}\"",
        "tick #2: \"{\\\"n\\\":2}\"",
        "message #3: \"a message\\nover two lines\"",
        "message #3: \"emoji split across reads: 🎉\""
      ])
      expect(ticks).toEqual([{ n: 1 }, { n: 2 }])
    }))
})

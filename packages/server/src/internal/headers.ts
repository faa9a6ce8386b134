/** @internal */
import type * as Headers from "@effect/platform/Headers"

/** Lower-cased header record from any `Headers.Input`. @internal */
export const toRecord = (input: Headers.Input | undefined): Record<string, string> => {
  if (input === undefined) return {}
  const out: Record<string, string> = {}
  const entries = Symbol.iterator in input
    ? Array.from(input as Iterable<readonly [string, string]>)
    : Object.entries(input as Record<string, string | ReadonlyArray<string> | undefined>)
  for (const [k, v] of entries) {
    if (v === undefined) continue
    out[k.toLowerCase()] = typeof v === "string" ? v : (v as ReadonlyArray<string>).join(", ")
  }
  return out
}

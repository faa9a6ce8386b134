/**
 * Redis stream entry ids (`<ms>-<seq>`, two unsigned 64-bit integers): parsing to a canonical form
 * and comparison.
 *
 * @internal
 */

const U64_MAX = (1n << 64n) - 1n

/** @internal */
export interface StreamId {
  readonly ms: bigint
  readonly seq: bigint
}

/** @internal */
export const ZERO = "0-0"

/** The parsed id, or undefined when `s` is not a full `<ms>-<seq>` id within range. @internal */
export const parse = (s: string): StreamId | undefined => {
  const m = /^([0-9]{1,20})-([0-9]{1,20})$/.exec(s)
  if (m === null) return undefined
  const ms = BigInt(m[1]!)
  const seq = BigInt(m[2]!)
  if (ms > U64_MAX || seq > U64_MAX) return undefined
  return { ms, seq }
}

/** @internal */
export const format = (id: StreamId): string => `${id.ms}-${id.seq}`

/** The canonical spelling of an id (no leading zeros), or undefined. @internal */
export const canonical = (s: string): string | undefined => {
  const id = parse(s)
  return id === undefined ? undefined : format(id)
}

/** Compares two valid ids: negative, zero or positive. @internal */
export const compare = (a: string, b: string): number => {
  const x = parse(a)
  const y = parse(b)
  if (x === undefined || y === undefined) throw new Error(`not stream ids: ${a}, ${b}`)
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1
  return x.seq === y.seq ? 0 : x.seq < y.seq ? -1 : 1
}

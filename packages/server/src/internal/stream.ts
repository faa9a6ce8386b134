/**
 * For `dual` APIs with optional arguments: is the first argument a `Stream` (a data-first call)?
 * The codec's transformers take their options the same way.
 *
 * @internal
 */
import { isEffect } from "effect/Effect"
import { StreamTypeId } from "effect/Stream"

/** @internal */
export const isStreamArg = (args: IArguments): boolean => {
  const u = args[0]
  return typeof u === "object" && u !== null && (StreamTypeId in u || isEffect(u))
}

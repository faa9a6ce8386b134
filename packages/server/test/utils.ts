/** Helpers of the server's own tests; the shared ones (serve, connect, eventually) are in `@streamwire/server/testing`. */
import { Effect } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** Waits for real time, whatever clock the test runs with. */
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

export const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Lets Node run one turn of its event loop (I/O callbacks included). */
export const ioTurn = Effect.promise(() => new Promise<void>((r) => setImmediate(r)))

/** Heap in use after a full garbage collection (test-only: exposes V8's gc through a flag). */
export const heapAfterGc = (): number => {
  v8.setFlagsFromString("--expose-gc")
  const gc = vm.runInNewContext("gc") as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

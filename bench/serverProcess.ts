/**
 * The node flags of a benchmark's server child process: it loads the packages as the parent does —
 * built (`dist/`, what users run; the npm scripts build first) or from source (`npm run tsx --
 * bench/….ts`) — through `tsx`, plus `extra`, plus `STREAMWIRE_SERVER_FLAGS` (e.g.
 * `STREAMWIRE_SERVER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` profiles the server processes).
 */
export const serverExecArgv = (...extra: Array<string>): Array<string> => [
  ...process.execArgv.filter((arg) => arg === "--conditions=@streamwire/source"),
  "--import",
  "tsx",
  ...extra,
  ...(process.env["STREAMWIRE_SERVER_FLAGS"]?.split(" ").filter((f) => f !== "") ?? [])
]

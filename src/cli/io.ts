/**
 * The CLI's connection to the world, passed in as a value so commands are testable in process:
 * `main(argv, io)` writes only through `io` and returns the exit code (0 ok, 1 failure while
 * running, 2 bad input: a malformed model or data file, a bad flag).
 */
import type { Budget } from '../interpreters/budget.js'

export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  /** Whether stderr is a terminal (progress bars redraw in place only then). */
  readonly errIsTTY: boolean
  /** The memory limit (`--max-memory`); absent: a fraction of the machine's memory (`budgetOf`). */
  readonly budget?: Budget
  /** False under `--no-timing`: JSON results leave out wall-clock fields, so they are byte-reproducible. */
  readonly timing?: boolean
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  errIsTTY: process.stderr.isTTY === true,
}

/** Collects output in memory (tests). */
export const memoryIo = (): Io & { readonly stdout: () => string; readonly stderr: () => string } => {
  let o = ''
  let e = ''
  return {
    out: (t) => void (o += t),
    err: (t) => void (e += t),
    errIsTTY: false,
    stdout: () => o,
    stderr: () => e,
  }
}

/** Exit codes shared by every command. */
export const exitCode = { ok: 0, failed: 1, badInput: 2 } as const

export type Command = (argv: readonly string[], io: Io) => Promise<number>

/**
 * A progress bar on stderr: redrawn in place on a terminal, a line every 10 % otherwise (logs
 * stay readable in CI), the last one, at 100 %, written once by `done`. Purely an output concern: it holds only its own counters.
 */
import type { Io } from './io.js'

export interface Progress {
  readonly tick: (done: number, info?: string) => void
  readonly done: (info?: string) => void
}

export const progressBar = (io: Io, label: string, total: number, clock: () => number = () => performance.now()): Progress => {
  const start = clock()
  let lastDraw = -Infinity
  let lastDecile = -1
  const line = (done: number, info?: string): string => {
    const frac = total > 0 ? Math.min(done / total, 1) : 1
    const width = 24
    const filled = Math.round(frac * width)
    const secs = (clock() - start) / 1000
    const eta = frac > 0 && frac < 1 ? ` eta ${((secs / frac) * (1 - frac)).toFixed(0)}s` : ''
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${secs.toFixed(1)}s${eta}${info ? ` ${info}` : ''}`
  }
  return {
    tick: (done, info) => {
      if (io.errIsTTY) {
        const now = clock()
        if (now - lastDraw < 100 && done < total) return
        lastDraw = now
        io.err(`\r${line(done, info)}\x1b[K`)
      } else {
        // The 100 % line is written once, by `done` (with its final info).
        const decile = Math.floor((10 * done) / Math.max(total, 1))
        if (decile === lastDecile || done >= total) return
        lastDecile = decile
        io.err(`${line(done, info)}\n`)
      }
    },
    done: (info) => io.err(io.errIsTTY ? `\r${line(total, info)}\x1b[K\n` : `${line(total, info)}\n`),
  }
}

/** About how many float64 values a command computes before its progress is worth showing (a second or so). */
export const longWork = 1e8

/**
 * A progress bar for a loop of `total` steps that computes about `work` values in all, or one
 * that draws nothing when the work is short: the output of a quick run (and of tests) stays the
 * same, and the choice does not depend on the clock.
 */
export const progressIfLong = (io: Io, label: string, total: number, work: number): Progress =>
  work >= longWork ? progressBar(io, label, total) : { tick: () => undefined, done: () => undefined }

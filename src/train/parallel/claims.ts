/**
 * Work between the meetings of a data-parallel step taken in chunks on demand (team.ts, rows.ts,
 * optimizer.ts): the weight draws, the element ranges of the long sums, the rows of a deferred
 * weight gradient and the optimizer step. Each such section of `n` independent elements has its
 * own counter in shared memory; every replica claims the next chunk from it (the guided sizes of
 * the inference threads, `claimRows` of threads/chunks.ts) until none are left. A replica on a
 * slower or busier core simply takes fewer chunks, instead of making every other replica wait for
 * its fixed half at the next meeting.
 *
 * Every element of such a section is computed by the same arithmetic whichever replica computes
 * it (a weight's draw at its own counter, the sum of one element's slots in part order, one
 * element of a product, one element's optimizer update), so the bits never depend on who took
 * which chunk: only on the minibatch and the number of parts.
 *
 * The sections of a pass are numbered in the order every replica meets them (all replicas run the
 * same sums, spreads and settles in the same order), so section s uses counter s; the team zeroes
 * the counters before it posts a pass or an optimizer step, while every worker waits. Past the
 * last counter, a section falls back to fixed even ranges (the same bits).
 */
import { chunkRows, claimRows } from '../../threads/chunks.js'
import { evenRanges } from '../../threads/jobs.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface Claims {
  /**
   * Calls `f(lo, hi)` for chunks of [0, n) this replica claims, until no element is left; with
   * the other replicas' chunks they cover [0, n) once. Chunks start at multiples of `align`
   * (default 64, at most `minChunk`) and hold at least `min` elements (default `minChunk`; but the last).
   */
  readonly share: (n: number, f: (lo: number, hi: number) => void, align?: number, min?: number) => void
  /** The smallest chunk by default, in elements (`MIN_CHUNK`; smaller in tests, to cut every section into many chunks). */
  readonly minChunk: number
}

/** Counters of the pass's sections, then of the optimizer step's (int32 words). */
export const PASS_COUNTERS = 96
export const OPTIMIZER_COUNTERS = 64
export const COUNTER_WORDS = PASS_COUNTERS + OPTIMIZER_COUNTERS

/** The smallest chunk when chunks are asked for (`TeamSpec.minChunk`, bench/threads.ts `--chunk 4096`), in elements. */
export const MIN_CHUNK = 4096

/**
 * A team's default `minChunk`: 0, fixed even shares. Measured in the eleventh session (MLP,
 * bench/threads.ts with the rows' order balanced), chunks of `MIN_CHUNK` took 12–24 % longer than
 * fixed halves on two equal cores (13.6–15.5 against 11.7–12.5 ms per step) and the same on
 * unequal ones (12.3 against 12.5 ms; the conv step 26.9 against 27.1 ms): what they would save on
 * a slower core was not seen. So they stay an option until a measurement says otherwise.
 */
export const DEFAULT_CHUNK = 0

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * Replica `r` of `replicas`' claims on `counters[first … first + count)` (shared, zeroed before
 * the step is posted), chunks of at least `minChunk` elements by default; without counters, past
 * the last, or with `minChunk` 0 (fixed shares, bench/threads.ts `--chunk 0`), even ranges.
 * @example claimsOn(undefined, 1, 0).share(10, (lo, hi) => console.log(lo, hi)) // 0 10
 */
export const claimsOn = (counters: Int32Array | undefined, replicas: number, r: number, first = 0, count = PASS_COUNTERS, minChunk = MIN_CHUNK): Claims => {
  let section = 0
  return {
    minChunk,
    share: (n, f, align = Math.min(64, minChunk), min = minChunk) => {
      const s = section++
      if (n <= 0) return
      if (replicas === 1) return f(0, n)
      if (counters === undefined || s >= count || minChunk <= 0) {
        const [lo, hi] = evenRanges(n, replicas)[r]!
        if (hi > lo) f(lo, hi)
        return
      }
      // Claimed in units of `align` elements, with the guided sizes of the inference chunks.
      const units = Math.ceil(n / align)
      const minUnits = Math.max(1, Math.ceil(min / align))
      for (;;) {
        const u0 = claimRows(counters, first + s, units, minUnits, replicas)
        if (u0 < 0) return
        const u1 = u0 + chunkRows(u0, units, minUnits, replicas)
        f(u0 * align, Math.min(n, u1 * align))
      }
    },
  }
}

/** Zeroes the counters of a pass (`optimizer` false) or of an optimizer step, before it is posted. */
export const resetClaims = (counters: Int32Array, optimizer: boolean): void => {
  if (optimizer) counters.fill(0, PASS_COUNTERS, COUNTER_WORDS)
  else counters.fill(0, 0, PASS_COUNTERS)
}

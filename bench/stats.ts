/**
 * Timing helpers for the benchmarks: contenders are timed in interleaved rounds (A, B, C, A, B,
 * C, …) so that a noisy neighbour slows all of them alike, and each sample repeats a fast
 * function until it has run for at least `minMs`, so timer granularity does not matter.
 */

import type { Spread } from '../src/bench/benchNetwork.js'
import { spread, timeIt } from '../src/bench/benchNetwork.js'

export type Summary = Spread
export const summary = spread
/** Milliseconds per call of `fn`, averaged over enough calls to last `minMs`. */
export const sample = timeIt

/** Times every contender `rounds` times, interleaved; returns ms-per-call samples by name. */
export const rounds = (
  contenders: Readonly<Record<string, { readonly fn: () => void; readonly minMs?: number }>>,
  n: number,
): Record<string, number[]> => {
  const out: Record<string, number[]> = {}
  for (const [name, c] of Object.entries(contenders)) {
    c.fn() // warm-up: compile and tier up
    c.fn()
    out[name] = []
  }
  for (let r = 0; r < n; r++) for (const [name, c] of Object.entries(contenders)) out[name]!.push(sample(c.fn, c.minMs ?? 25))
  return out
}

/**
 * Like `rounds`, with this process's CPU time (user + system) per call beside the wall time: each
 * contender first runs for `warmMs`, then every round times each for at least `minMs`, in
 * turn; progress on stderr as `label: round r/n`. `BENCH_ROUNDS` in the environment sets the
 * rounds (default 9).
 */
export const roundsWithCpu = (
  contenders: Readonly<Record<string, () => void>>,
  o: { readonly label: string; readonly minMs: number; readonly warmMs: number },
): { readonly rounds: number; readonly wall: Record<string, number[]>; readonly cpu: Record<string, number[]> } => {
  const n = Number(process.env['BENCH_ROUNDS'] ?? 9)
  const wall: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (const f of Object.values(contenders)) for (const t0 = performance.now(); performance.now() - t0 < o.warmMs; ) f()
  for (let r = 0; r < n; r++) {
    process.stderr.write(`${o.label}: round ${r + 1}/${n}\n`)
    for (const [name, f] of Object.entries(contenders)) {
      let calls = 0
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      let now = t0
      do {
        f()
        calls++
        now = performance.now()
      } while (now - t0 < o.minMs)
      const c = process.cpuUsage(c0)
      wall[name]!.push((now - t0) / calls)
      cpu[name]!.push((c.user + c.system) / 1000 / calls)
    }
  }
  return { rounds: n, wall, cpu }
}

/** Per-round ratios a[i] / b[i] (paired samples measured close in time). */
export const ratios = (a: readonly number[], b: readonly number[]): number[] => a.map((x, i) => x / b[i]!)

export const fmt = (x: number, digits = 2): string =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(digits)

export const range = (s: Summary, digits = 2): string => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`

/** Uniform numbers in [0, 1) from a seeded xorshift32 (the benchmarks' random pixels and labels). */
export const xorshift = (seed: number): (() => number) => {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

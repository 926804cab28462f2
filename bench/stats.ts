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

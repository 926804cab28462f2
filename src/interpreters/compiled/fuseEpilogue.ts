/**
 * Fusing a layer's epilogue into integer comparisons, at compile time.
 *
 * After a product of ±1 operands, the pre-activation of unit j is a_j(dot), where dot is an exact
 * integer and a_j the chain of bias / scale / batch-norm / elementwise ops that follows, evaluated
 * in float64 exactly as the reference does. Every op of a fusable chain is monotone (float64
 * rounding is monotone, and so are +c, ·c, batch-norm, tanh, σ, hardtanh, relu, exp, log, neg), so
 * a_j is monotone in dot, and so is the sampling threshold T(F(a_j(dot))). Hence:
 *
 * - `sign` (the mode network, or noise `none`): the +1 set {dot : a_j(dot) ≥ 0} is an interval,
 *   stored as (lo, span): +1 iff (dot − lo) <ᵤ span.
 * - `sample`: T is 0 far below the noise's support and 2^32 far above it; in between (the window)
 *   it is tabulated per unit, T[dot − lo], and outside the window the outcome is forced.
 *
 * NaN (log of a negative) compares false everywhere, exactly like −∞, so it keeps the outcome
 * monotone. A window that would be too large (a tiny batch-norm scale) refuses to fuse, and the
 * layer falls back to writing the dot product and sampling in a generic loop.
 */
import type { Noise } from '../../dsl/noise.js'
import { noiseFns } from '../../dsl/distributions.js'
import { threshold } from '../reference/sampling.js'
import { unreachable } from '../../dsl/dslErrors.js'

/** The pre-activation of one unit as a function of the exact dot product. */
export type UnitFn = (dot: number) => number

/** dot values lie in [min, max]; every integer in between may be probed. */
export interface DotRange {
  readonly min: number
  readonly max: number
}

export interface SignTables {
  readonly kind: 'sign'
  /** (lo, span) per unit. */
  readonly thresholds: Int32Array
}
export interface SampleTables {
  readonly kind: 'sample'
  /** (lo, len, offset, flags) per unit. */
  readonly headers: Int32Array
  /** The window entries of every unit, T as uint32 bits. */
  readonly table: Int32Array
}

/** Largest |dot| and |lo| the integer kernels accept (so that dot − lo never overflows int32). */
export const DOT_LIMIT = 2 ** 28
/** Spans are clamped below 2^30 (see the branch-free JavaScript comparison). */
const SPAN_LIMIT = 2 ** 30 - 1
/** Largest window table of one layer (entries), beyond which the layer does not fuse. */
export const TABLE_LIMIT = 1 << 24

const TWO32 = 4294967296

/** The first integer d in [lo, hi] with pred(d) (pred monotone false→true), or hi + 1. */
export const firstTrue = (lo: number, hi: number, pred: (d: number) => boolean): number => {
  let a = lo
  let b = hi + 1
  while (a < b) {
    const m = Math.floor((a + b) / 2)
    if (pred(m)) b = m
    else a = m + 1
  }
  return a
}

/** +1 iff a ≥ 0 (the mode rule): an interval of dot values per unit. */
export const signTables = (units: readonly UnitFn[], range: DotRange): SignTables => {
  const out = new Int32Array(2 * units.length)
  units.forEach((a, j) => {
    const pos = (d: number): boolean => a(d) >= 0
    let lo: number
    let hi: number // +1 on [lo, hi)
    const atMin = pos(range.min)
    const atMax = pos(range.max)
    if (atMin === atMax) [lo, hi] = atMin ? [range.min, range.max + 1] : [0, 0]
    else if (atMax) [lo, hi] = [firstTrue(range.min, range.max, pos), range.max + 1]
    else [lo, hi] = [range.min, firstTrue(range.min, range.max, (d) => !pos(d))]
    out[2 * j] = lo
    out[2 * j + 1] = Math.min(hi - lo, SPAN_LIMIT)
  })
  return { kind: 'sign', thresholds: out }
}

/** How far out (in units of the scale) each family's T is certainly 0 below and 2^32 above. */
const supportBound: Readonly<Record<string, number>> = { logistic: 40, normal: 10, uniform: 1.0000001, triangular: 1.0000001 }

/**
 * The sampling rule per unit: T(dot) = threshold(cdf(a(dot))) tabulated over the window where it
 * is neither 0 nor 2^32. Returns a reason instead when the tables would be too large.
 */
export const sampleTables = (units: readonly UnitFn[], range: DotRange, noise: Noise): SampleTables | string => {
  if (noise.family === 'none') return unreachable('noise none uses sign tables')
  const cdf = noiseFns(noise).cdf
  const bound = supportBound[noise.family]! * noise.scale
  const T = (a: number): number => {
    const t = threshold(cdf(a))
    return Number.isNaN(t) ? 0 : t
  }
  const headers = new Int32Array(4 * units.length)
  const windows: { lo: number; ts: number[] }[] = []
  let total = 0
  for (let j = 0; j < units.length; j++) {
    const a = units[j]!
    // Orient so that `up(d)` is a monotone increasing view of a: NaN counts as −∞.
    const v = (d: number): number => {
      const x = a(d)
      return Number.isNaN(x) ? -Infinity : x
    }
    const increasing = v(range.max) >= v(range.min)
    // With a increasing, T runs 0 … 0 | window | 2^32 … 2^32; decreasing, the mirror image.
    // The binary searches find the dots with a in (−bound, bound), outside which T is certainly
    // 0 or 2^32; the trims then drop the forced values at the window's edges.
    const [low, high] = increasing ? [0, TWO32] : [TWO32, 0]
    let lo = increasing ? firstTrue(range.min, range.max, (d) => v(d) > -bound) : firstTrue(range.min, range.max, (d) => v(d) < bound)
    const afterLast = increasing ? firstTrue(range.min, range.max, (d) => v(d) >= bound) : firstTrue(range.min, range.max, (d) => v(d) <= -bound)
    let hi = Math.max(lo, afterLast) // the window is [lo, hi)
    while (lo < hi && T(a(lo)) === low) lo++
    while (hi > lo && T(a(hi - 1)) === high) hi--
    const ts: number[] = []
    for (let d = lo; d < hi; d++) {
      const t = T(a(d))
      // A non-monotone cdf could put a certain +1 inside the window; uint32 cannot hold 2^32.
      if (t === TWO32) return `the threshold of unit ${j} is 2^32 inside its window`
      ts.push(t)
    }
    total += ts.length
    if (total > TABLE_LIMIT) return `the sampling tables need more than ${TABLE_LIMIT} entries`
    const below = low === TWO32 ? 1 : 0
    const above = high === TWO32 ? 1 : 0
    headers[4 * j] = lo
    headers[4 * j + 1] = hi - lo
    headers[4 * j + 3] = below | (above << 1)
    windows.push({ lo, ts })
  }
  const table = new Int32Array(Math.max(total, 1))
  let at = 0
  windows.forEach((w, j) => {
    headers[4 * j + 2] = at
    for (const t of w.ts) table[at++] = t | 0
  })
  return { kind: 'sample', headers, table }
}

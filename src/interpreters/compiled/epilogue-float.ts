/**
 * The sign epilogue of a float64 pre-activation: for a monotone a_j (fusion.ts), the values v
 * with a_j(v) ≥ 0 form an interval of the float64 line, stored as (lo_j, hi_j) so that the kernel
 * tests lo_j ≤ v ≤ hi_j (an empty set as lo = +∞, hi = −∞). The ends are found by binary search
 * over the float64 values in their order (the bit pattern as a signed magnitude), at compile
 * time, with the reference's arithmetic.
 *
 * −0 and +0 are one point of that order (v ≥ lo compares them equal, and no op of a chain tells
 * them apart in sign), NaN is never a pre-activation of a convolution plus constants.
 */
import type { UnitFn } from './fuseEpilogue.js'

const f64 = new Float64Array(1)
const i64 = new BigInt64Array(f64.buffer)
const SIGN = -(2n ** 63n)

/** The order key of a float64: its bits for v ≥ 0, minus its magnitude's bits for v < 0. */
const keyOf = (v: number): bigint => {
  f64[0] = v
  const b = i64[0]!
  return b < 0n ? -(b & ~SIGN) : b
}

const valueOf = (key: bigint): number => {
  i64[0] = key < 0n ? -key | SIGN : key
  return f64[0]!
}

/** The first key in [lo, hi] with pred (monotone false → true), or hi + 1. */
const firstKey = (lo: bigint, hi: bigint, pred: (v: number) => boolean): bigint => {
  let a = lo
  let b = hi + 1n
  while (a < b) {
    const m = (a + b) >> 1n
    if (pred(valueOf(m))) b = m
    else a = m + 1n
  }
  return a
}

/** (lo, hi) per unit: +1 iff lo ≤ v ≤ hi, for every finite v. */
export const floatSignIntervals = (units: readonly UnitFn[]): Float64Array => {
  const out = new Float64Array(2 * units.length)
  const [kMin, kMax] = [keyOf(-Number.MAX_VALUE), keyOf(Number.MAX_VALUE)]
  units.forEach((a, j) => {
    const pos = (v: number): boolean => a(v) >= 0
    const atMin = pos(-Number.MAX_VALUE)
    const atMax = pos(Number.MAX_VALUE)
    let lo: number
    let hi: number
    if (atMin === atMax) [lo, hi] = atMin ? [-Infinity, Infinity] : [Infinity, -Infinity]
    else if (atMax) [lo, hi] = [valueOf(firstKey(kMin, kMax, pos)), Infinity]
    else [lo, hi] = [-Infinity, valueOf(firstKey(kMin, kMax, (v) => !pos(v)) - 1n)]
    out[2 * j] = lo
    out[2 * j + 1] = hi
  })
  return out
}

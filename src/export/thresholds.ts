/**
 * Folding a layer's bias / batch-norm / elementwise chain and its sign into one comparison per
 * unit, exactly.
 *
 * Unit j of a binary layer is +1 iff a_j(s) ≥ 0, where s is the unit's sum (an exact integer for
 * ±1 inputs, a float64 sum for a real input) and a_j the chain that follows, evaluated in float64
 * as the reference does. Every op of such a chain is monotone (see compiled/fuseEpilogue.ts), so the
 * +1 set is a half-line, all, or nothing. It is stored as a direction d_j ∈ {−1, 0, +1} and a
 * bias c_j with
 *
 *     x_j = +1  ⇔  d_j·s + c_j ≥ 0      (computed in float64, as written)
 *
 * - increasing: +1 iff s ≥ t (t the first +1 sum): d = +1, c = −t;
 * - decreasing: +1 iff s ≤ t (t the last +1 sum): d = −1, c = t;
 * - constant: d = 0, c = +1 or −1.
 *
 * This is exact for float64 sums too: for finite doubles fl(s − t) ≥ 0 iff s ≥ t (IEEE
 * subtraction is monotone and exact at 0), and negation is exact. Integer thresholds are found
 * by bisection over [−K, K]; float ones by bisection over the ordered finite doubles.
 */
import type { UnitFn } from '../interpreters/compiled/fuseEpilogue.js'
import { firstTrue } from '../interpreters/compiled/fuseEpilogue.js'

/** The folded comparison of every unit of a layer. */
export interface Folded {
  readonly direction: Int8Array
  /** Integers (in int32 range) when `integer`, else any finite doubles. */
  readonly bias: Float64Array
  readonly integer: boolean
}

const positive = (a: UnitFn, s: number): boolean => a(s) >= 0

// The finite doubles in order: ordinal(x) is monotone, −0 and +0 share ordinal 0.
const f64 = new Float64Array(1)
const i64 = new BigInt64Array(f64.buffer)
const ordinal = (x: number): bigint => {
  f64[0] = x
  const bits = i64[0]!
  return bits >= 0n ? bits : -(bits & 0x7fffffffffffffffn)
}
const fromOrdinal = (o: bigint): number => {
  i64[0] = o >= 0n ? o : -o | -0x8000000000000000n
  return f64[0]!
}

/** The first double x in [lo, hi] with pred(x) (pred monotone false→true), or undefined. */
const firstTrueDouble = (lo: number, hi: number, pred: (x: number) => boolean): number | undefined => {
  let a = ordinal(lo)
  let b = ordinal(hi) + 1n
  const end = b
  while (a < b) {
    const m = (a + b) >> 1n
    if (pred(fromOrdinal(m))) b = m
    else a = m + 1n
  }
  return a === end ? undefined : fromOrdinal(a)
}

/** Integer sums in [−k, k]: thresholds as integers. */
export const foldInteger = (units: readonly UnitFn[], k: number): Folded => {
  const direction = new Int8Array(units.length)
  const bias = new Float64Array(units.length)
  units.forEach((a, j) => {
    const atMin = positive(a, -k)
    const atMax = positive(a, k)
    if (atMin === atMax) {
      direction[j] = 0
      bias[j] = atMin ? 1 : -1
    } else if (atMax) {
      direction[j] = 1
      bias[j] = -firstTrue(-k, k, (d) => positive(a, d))
    } else {
      direction[j] = -1
      bias[j] = firstTrue(-k, k, (d) => !positive(a, d)) - 1
    }
  })
  return { direction, bias, integer: true }
}

/** Float64 sums of any finite value: thresholds as doubles. */
export const foldReal = (units: readonly UnitFn[]): Folded => {
  const max = Number.MAX_VALUE
  const direction = new Int8Array(units.length)
  const bias = new Float64Array(units.length)
  units.forEach((a, j) => {
    const atMin = positive(a, -max)
    const atMax = positive(a, max)
    if (atMin === atMax) {
      direction[j] = 0
      bias[j] = atMin ? 1 : -1
    } else if (atMax) {
      direction[j] = 1
      bias[j] = -firstTrueDouble(-max, max, (s) => positive(a, s))!
    } else {
      // The last +1 sum is the double just below the first −1 sum.
      const first = firstTrueDouble(-max, max, (s) => !positive(a, s))!
      direction[j] = -1
      bias[j] = fromOrdinal(ordinal(first) - 1n)
    }
  })
  return { direction, bias, integer: false }
}

/** The comparison of the fold, for tests and docs: whether unit j is +1 at sum s. */
export const foldedSign = (f: Folded, j: number, s: number): boolean => f.direction[j]! * s + f.bias[j]! >= 0

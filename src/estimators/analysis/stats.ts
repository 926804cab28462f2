/** Small statistics used by the gradient-accuracy lab: norms, cosine, quantiles. */

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/** cos(a, b); 0 when either vector is zero (no direction to compare). */
export const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  const d = Math.sqrt(dot(a, a) * dot(b, b))
  return d === 0 ? 0 : dot(a, b) / d
}

/** The q-quantile of values by linear interpolation between order statistics (type 7). */
export const quantile = (values: ArrayLike<number>, q: number): number => {
  const sorted = Float64Array.from(values).sort()
  if (sorted.length === 0) return Number.NaN
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

export const mean = (values: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < values.length; i++) s += values[i]!
  return values.length === 0 ? Number.NaN : s / values.length
}

/** The M values of MATH.md §7: 1..9, 10..90 step 10, 100..900 step 100, 1000..9000 step 1000, up to n. */
export const protocolMs = (n: number): number[] => {
  const out: number[] = []
  for (const decade of [1, 10, 100, 1000]) for (let k = 1; k <= 9; k++) if (k * decade <= n) out.push(k * decade)
  return out
}

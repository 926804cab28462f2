/**
 * The numerical functions of each noise family of MATH.md §2: what a `Noise` value of the IR means.
 *
 * A unit is x = sign(a − Z), so P(x = +1 | a) = F(a). Every family has a scale s:
 * F_s(a) = F(a / s), p_s(a) = p(a / s) / s, F_s^−1(p) = s · F^−1(p). Lower tails are accurate to a
 * relative error (use `cdf(−a)` for P(x = −1), not `1 − cdf(a)`). The sampling rule that turns
 * F(a) and a uint32 draw into a sign lives with the interpreters' core
 * (`interpreters/reference/sampling.ts`).
 */
import type { Noise, NoiseFamily } from './noise.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The numerical functions of one noise (family and scale). */
export interface NoiseFns {
  /** F_s(a) = F(a/s) = P(Z ≤ a) = P(x = +1 | a). */
  readonly cdf: (a: number) => number
  /** p_s(a) = p(a/s)/s. For `none`, the improper constant ½ (so that 2p = 1, identity ST). */
  readonly pdf: (a: number) => number
  /** The inverse cdf on (0, 1); ±∞ at 0 and 1 (±s for the bounded families), NaN outside. */
  readonly icdf: (p: number) => number
  /** A noise value from a uniform u in (0, 1), by inverse transform. */
  readonly sample: (u: number) => number
}

/** The unit-scale functions of a proper family, in z = a / s. */
interface Standard {
  readonly cdf: (z: number) => number
  readonly pdf: (z: number) => number
  readonly icdf: (p: number) => number
}

// ---------------------------------------------------------------------------------------------
// Rules: the standard (scale 1) families

// Logistic: F = σ(z), written with exp of a non-positive argument so that it never overflows.
const logistic: Standard = {
  cdf: (z) => {
    if (z >= 0) return 1 / (1 + Math.exp(-z))
    const e = Math.exp(z)
    return e / (1 + e)
  },
  pdf: (z) => {
    const e = Math.exp(-Math.abs(z))
    return e / ((1 + e) * (1 + e))
  },
  // logit(p) = log p − log(1 − p); log1p keeps p near 1 accurate.
  icdf: (p) => Math.log(p) - Math.log1p(-p),
}

// Uniform on [−1, 1]: F = clip((z + 1)/2, 0, 1), p = ½ on the closed interval.
const uniform: Standard = {
  cdf: (z) => (z <= -1 ? 0 : z >= 1 ? 1 : (z + 1) / 2),
  pdf: (z) => (Math.abs(z) <= 1 ? 0.5 : 0),
  icdf: (p) => 2 * p - 1,
}

// Triangular on [−1, 1], p = 1 − |z|: each half of F is a parabola, so F^−1 is a square root.
const triangular: Standard = {
  cdf: (z) => {
    if (z <= -1) return 0
    if (z >= 1) return 1
    return z <= 0 ? ((1 + z) * (1 + z)) / 2 : 1 - ((1 - z) * (1 - z)) / 2
  },
  pdf: (z) => Math.max(0, 1 - Math.abs(z)),
  icdf: (p) => (p <= 0.5 ? Math.sqrt(2 * p) - 1 : 1 - Math.sqrt(2 * (1 - p))),
}

// Normal N(0, 1). Φ is a series near 0 and a continued fraction of the Mills ratio in the tails,
// both written in z (not z/√2) so that no rounding of a rescaled argument is amplified by exp.
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI)
/** Where Φ switches from the series (≤ 24 terms) to the continued fraction (≤ 46 terms). */
const SERIES_LIMIT = 2

// φ(z) with z² split as h² + l(t + h), h = round(16t)/16, so h² is exact and a large |z| keeps a
// relative error of a few ulps instead of ~z²·ulp.
const phi = (z: number): number => {
  const t = Math.abs(z)
  if (!(t < 39)) return Number.isNaN(t) ? NaN : 0 // exp(−39²/2) underflows
  const h = Math.round(t * 16) / 16
  const l = t - h
  return Math.exp(-0.5 * h * h) * Math.exp(-0.5 * l * (t + h)) * INV_SQRT_2PI
}

// Φ(z) − ½ = φ(z) Σ_{n≥0} z^{2n+1} / (1·3·5···(2n+1)): positive terms for z > 0, so the relative
// error is a few ulps; used for |z| < SERIES_LIMIT.
const centralPart = (z: number): number => {
  const z2 = z * z
  let term = z
  let sum = z
  for (let n = 1; n < 200; n++) {
    term *= z2 / (2 * n + 1)
    sum += term
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break
  }
  return phi(z) * sum
}

// Mills ratio Φ(−t)/φ(t) = t / (t² + 1 − 1·2/(t² + 5 − 3·4/(t² + 9 − …))) for t ≥ SERIES_LIMIT,
// by the modified Lentz method (the even part of Laplace's fraction: half the terms).
const millsRatio = (t: number): number => {
  const t2 = t * t
  let f = t2 + 1
  let c = f
  let d = 0
  for (let n = 1; n < 500; n++) {
    const a = -(2 * n - 1) * (2 * n)
    const b = t2 + 1 + 4 * n
    d = 1 / (b + a * d)
    c = b + a / c
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) <= 2.3e-16) break
  }
  return t / f
}

/** Φ(z), with relative accuracy in the lower tail (Φ(−37) ≈ 5.7e−300 is still accurate). */
const normalCdf = (z: number): number => {
  if (Number.isNaN(z)) return NaN
  const t = Math.abs(z)
  if (t < SERIES_LIMIT) return 0.5 + centralPart(z)
  const lower = t < 39 ? phi(t) * millsRatio(t) : 0
  return z < 0 ? lower : 1 - lower
}

// Φ^−1 by Newton's method, started on the side of the root from which it converges monotonically.
// Near the centre it solves Φ(z) − ½ = p − ½ (exact for p in [¼, ¾]) so that z keeps its relative
// accuracy; in the lower tail it solves log Φ(z) = log p, which is concave in z, from
// z0 = −√(−2 log p) (left of the root because Φ(−t) ≤ ½exp(−t²/2)); the upper tail is the mirror
// image, and 1 − p is exact there.
const NEWTON_STEPS = 60
const converged = (dz: number, z: number): boolean => Math.abs(dz) <= 4e-16 * Math.abs(z)

const lowerTailIcdf = (p: number): number => {
  const logp = Math.log(p)
  let z = -Math.sqrt(-2 * logp)
  for (let i = 0; i < NEWTON_STEPS; i++) {
    const F = normalCdf(z)
    const dz = ((Math.log(F) - logp) * F) / phi(z)
    if (!Number.isFinite(dz)) break // Φ(z) underflowed: p is subnormal, keep the estimate z0
    z -= dz
    if (converged(dz, z)) break
  }
  return z
}

const normalIcdf = (p: number): number => {
  if (p === 0) return -Infinity
  if (p === 1) return Infinity
  if (p > 0.25 && p < 0.75) {
    const q = p - 0.5
    let z = q / INV_SQRT_2PI
    for (let i = 0; i < NEWTON_STEPS; i++) {
      const dz = (centralPart(z) - q) / phi(z)
      z -= dz
      if (converged(dz, z)) break
    }
    return z
  }
  return p <= 0.25 ? lowerTailIcdf(p) : -lowerTailIcdf(1 - p)
}

const normal: Standard = { cdf: normalCdf, pdf: phi, icdf: normalIcdf }

const standards: { readonly [F in NoiseFamily]: Standard } = { logistic, uniform, triangular, normal }

const scaled = (std: Standard, s: number): NoiseFns => {
  // p = 0 and p = 1 give the ends of the support (−∞/+∞, or ∓s for the bounded families).
  const icdf = (p: number): number => (p >= 0 && p <= 1 ? s * std.icdf(p) : NaN)
  return {
    cdf: (a) => std.cdf(a / s),
    pdf: (a) => std.pdf(a / s) / s,
    icdf,
    sample: icdf,
  }
}

const noneFns: NoiseFns = {
  cdf: (a) => (a >= 0 ? 1 : 0),
  pdf: () => 0.5,
  icdf: () => 0,
  sample: () => 0,
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The cdf, pdf, inverse cdf and sampler of a noise.
 * @example noiseFns(logistic(1)).cdf(0.3) // 0.574442516811659
 */
export const noiseFns = (n: Noise): NoiseFns => (n.family === 'none' ? noneFns : scaled(standards[n.family], n.scale))

/**
 * The unit-scale cdf F(z) of a proper family (the sampling rule evaluates F(a / s) with it, so that
 * no closure is built per unit).
 * @example standardCdf('logistic')(0) // 0.5
 */
export const standardCdf = (f: NoiseFamily): ((z: number) => number) => standards[f].cdf

/**
 * The ST reverse rule over a vector: out[i] = 2p(a[i])·g[i] (g[i] for `none`), one loop, with the
 * logistic density written out (the hot path of every ST backward pass).
 */
export const stFactorTimes = (n: Noise, a: Float64Array, g: Float64Array, alloc: (length: number) => Float64Array = (k) => new Float64Array(k)): Float64Array => {
  // `alloc` (MatrixProducts.alloc): where the result lives; every element is written below.
  const out = alloc(a.length)
  if (n.family === 'none') {
    out.set(g)
    return out
  }
  if (n.family === 'logistic') {
    const s = n.scale
    for (let i = 0; i < out.length; i++) {
      const e = Math.exp(-Math.abs(a[i]! / s))
      out[i] = ((2 * (e / ((1 + e) * (1 + e)))) / s) * g[i]!
    }
    return out
  }
  const f = stFactor(n)
  for (let i = 0; i < out.length; i++) out[i] = f(a[i]!) * g[i]!
  return out
}

/**
 * The matched straight-through factor 2·p(a), the derivative of the proxy 2F(a) − 1; 1 for `none`.
 * @example stFactor(uniform(1))(0.3) // 1
 */
export const stFactor = (n: Noise): ((a: number) => number) => {
  if (n.family === 'none') return () => 1
  const pdf = noiseFns(n).pdf
  return (a) => 2 * pdf(a)
}

/**
 * The numerical functions of each noise family of MATH.md §2, and the sampling rule.
 *
 * A unit is x = sign(a − Z), so P(x = +1 | a) = F(a). The sampling rule, used by every interpreter
 * that samples and reproduced bit for bit by the compiled one, is defined once here:
 *
 *     x = +1  iff  u < T(F(a)),   T(F) = floor(F · 2^32) in float64,
 *
 * with u the uint32 draw `bits(siteKey, index)`. For noise `none`, x = +1 iff a ≥ 0 and no draw is
 * used. P(x = +1) = T / 2^32, within 2^−32 of F(a); F = 1 gives T = 2^32 > every u, so a unit whose
 * noise cannot reach it is deterministic. See docs/random.md.
 *
 * Every family has a scale s: F_s(a) = F(a / s), p_s(a) = p(a / s) / s, F_s^−1(p) = s · F^−1(p).
 * Lower tails are accurate to a relative error (use `cdf(−a)` for P(x = −1), not `1 − cdf(a)`).
 */
import type { Noise, NoiseFamily } from '../dsl/noise.js'
import type { Key } from '../dsl/random.js'
import { fillBits } from '../dsl/random.js'

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
 * The matched straight-through factor 2·p(a), the derivative of the proxy 2F(a) − 1; 1 for `none`.
 * @example stFactor(uniform(1))(0.3) // 1
 */
/**
 * The ST reverse rule over a vector: out[i] = 2p(a[i])·g[i] (g[i] for `none`), one loop, with the
 * logistic density written out (the hot path of every ST backward pass).
 */
export const stFactorTimes = (n: Noise, a: Float64Array, g: Float64Array): Float64Array => {
  const out = new Float64Array(a.length)
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

export const stFactor = (n: Noise): ((a: number) => number) => {
  if (n.family === 'none') return () => 1
  const pdf = noiseFns(n).pdf
  return (a) => 2 * pdf(a)
}

// ---------------------------------------------------------------------------------------------
// The sampling rule

const TWO32 = 4294967296

/**
 * T(F) = floor(F · 2^32) in float64: the number of uint32 draws that give +1. 0 ≤ T ≤ 2^32 for
 * F in [0, 1] (F · 2^32 is exact, so T is the exact floor).
 * @example threshold(0.5) // 2147483648
 */
export const threshold = (F: number): number => Math.floor(F * TWO32)

/**
 * The sampling rule for one unit: +1 iff u < T(F(a)); for `none`, +1 iff a ≥ 0.
 * @example signFromBits(0, 0.3, logistic(1)) // 1
 */
export const signFromBits = (u: number, a: number, n: Noise): 1 | -1 => {
  if (n.family === 'none') return a >= 0 ? 1 : -1
  return u < threshold(standards[n.family].cdf(a / n.scale)) ? 1 : -1
}

const CHUNK = 4096

// A fast and exact logistic comparison. The rule is u < floor(σ(z)·2³²) with σ computed by
// Math.exp. σ̃ below uses a polynomial 2^f (|f| ≤ ½, degree 10: relative error < 3·10⁻¹³), so
// |σ̃·2³² − σ·2³²| < 0.01; whenever u is farther than MARGIN from σ̃·2³² the comparison is decided,
// and only the rare near-ties call the exact rule. The result is bit-identical to the exact rule.
const MARGIN = 4
const LOG2E = Math.LOG2E
const POW2 = Float64Array.from({ length: 1101 }, (_, i) => 2 ** (i - 1100))
const expNonPositive = (x: number): number => {
  const t = x * LOG2E
  if (t < -1074) return 0
  const n = Math.round(t)
  const f = (t - n) * Math.LN2
  // e^f by Horner, |f| ≤ ln2/2.
  const p = 1 + f * (1 + f * (0.5 + f * (1 / 6 + f * (1 / 24 + f * (1 / 120 + f * (1 / 720 + f * (1 / 5040 + f * (1 / 40320 + f * (1 / 362880 + f / 3628800)))))))))
  return p * POW2[n + 1100]!
}

/**
 * The sampling rule over `count` units: out[o + i] = +1 iff u[i] < T(F(pre[p + i] / scale)).
 * Logistic noise takes the fast exact path above; other families call their cdf.
 */
export const signsFromBits = (
  u: ArrayLike<number>, pre: ArrayLike<number>, p: number, n: Noise, out: Float64Array, o: number, count: number,
): void => {
  if (n.family === 'none') {
    for (let i = 0; i < count; i++) out[o + i] = pre[p + i]! >= 0 ? 1 : -1
    return
  }
  const cdf = standards[n.family].cdf
  const s = n.scale
  if (n.family !== 'logistic') {
    for (let i = 0; i < count; i++) out[o + i] = u[i]! < Math.floor(cdf(pre[p + i]! / s) * TWO32) ? 1 : -1
    return
  }
  for (let i = 0; i < count; i++) {
    const z = pre[p + i]! / s
    const e = expNonPositive(-Math.abs(z))
    const approx = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) * TWO32
    const ui = u[i]!
    out[o + i] = ui < approx - MARGIN ? 1 : ui > approx + MARGIN ? -1 : ui < Math.floor(cdf(z) * TWO32) ? 1 : -1
  }
}

/**
 * The sampling rule over a vector: out[i] = ±1 for pre-activation pre[i] with draw index
 * start + i of key k (no per-element allocation; bits are drawn in chunks). `out` may be `pre`.
 * Returns `out`.
 * @example signsInto(siteKey(k, 'h1'), 0, pre, logistic(1), new Float64Array(pre.length))
 */
export const signsInto = (k: Key, start: number, pre: Float64Array, n: Noise, out: Float64Array): Float64Array => {
  const len = pre.length
  if (out.length < len) throw new RangeError(`signsInto: out has ${out.length} slots for ${len} pre-activations`)
  if (n.family === 'none') {
    signsFromBits([], pre, 0, n, out, 0, len)
    return out
  }
  const u = new Uint32Array(Math.min(len, CHUNK))
  for (let c = 0; c < len; c += CHUNK) {
    const m = Math.min(CHUNK, len - c)
    fillBits(k, start + c, m === u.length ? u : u.subarray(0, m))
    signsFromBits(u, pre, c, n, out, c, m)
  }
  return out
}

/**
 * The sampling rule and the binarize rules of every interpreter, defined once (MATH.md §2,
 * docs/random.md). A unit is x = sign(a − Z), so P(x = +1 | a) = F(a); with u the uint32 draw
 * `bits(siteKey, index)`:
 *
 *     x = +1  iff  u < T(F(a)),   T(F) = floor(F · 2^32) in float64,
 *
 * and for noise `none` (and in the mode network) x = sign(a), sign(0) = +1, with no draw.
 * P(x = +1) = T / 2^32, within 2^−32 of F(a); F = 1 gives T = 2^32 > every u, so a unit whose
 * noise cannot reach it is deterministic. The compiled interpreter reproduces these bits exactly.
 *
 * The draw of element i of site s in a forward pass with key k is `bits(siteKey(k, s), i)`, i the
 * flat row-major index in the concrete tensor ([N, …] for activations; the weight tensor's own
 * shape for weights, drawn once per pass). Sample j of a run with key K uses `passKey(K, j)`.
 */
import type { Noise } from '../../dsl/noise.js'
import type { Key } from '../../dsl/random.js'
import { fillBits, foldIn, siteKey } from '../../dsl/random.js'
import { standardCdf } from '../../dsl/distributions.js'
import type { NDArray } from '../ndarray.js'
import type { BinarizeRule } from './forward.js'

// ---------------------------------------------------------------------------------------------
// The deterministic sign

/**
 * The one sign of sbnkit: +1 for a ≥ 0 (so sign(0) = +1), −1 otherwise (and for NaN).
 * @example sign(0) // 1
 */
export const sign = (a: number): 1 | -1 => (a >= 0 ? 1 : -1)

/** sign over a vector into `out` (which may be `pre`); returns `out`. */
export const signsOf = (pre: ArrayLike<number>, out: Float64Array): Float64Array => {
  for (let i = 0; i < out.length; i++) out[i] = sign(pre[i]!)
  return out
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
  if (n.family === 'none') return sign(a)
  return u < threshold(standardCdf(n.family)(a / n.scale)) ? 1 : -1
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
    for (let i = 0; i < count; i++) out[o + i] = sign(pre[p + i]!)
    return
  }
  const cdf = standardCdf(n.family)
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

/**
 * The binarize rule over a vector into `out`: the sampling rule with the site key `key`, or sign
 * when there is none (the mode network; also what the sampling rule does for noise `none`).
 * Returns `out`.
 */
export const binarizeInto = (noise: Noise, pre: Float64Array, key: Key | undefined, out: Float64Array): Float64Array =>
  key === undefined ? signsOf(pre, out) : signsInto(key, 0, pre, noise, out)

// ---------------------------------------------------------------------------------------------
// The binarize rules of the forward pass

/** The key of forward pass (sample) `j` of a run with key `k`. */
export const passKey = (k: Key, j: number): Key => foldIn(k, j)

/** Sample every binarize node with its own noise, keyed by (pass key, site, index). */
export const sampleRule = (pass: Key): BinarizeRule => (node, input) => ({
  shape: input.shape,
  data: binarizeInto(node.noise, input.data, siteKey(pass, node.site), new Float64Array(input.data.length)),
})

/** The deterministic "mode" network: every binarize becomes sign (+1 iff a ≥ 0). */
export const modeRule: BinarizeRule = (node, input): NDArray => ({
  shape: input.shape,
  data: binarizeInto(node.noise, input.data, undefined, new Float64Array(input.data.length)),
})

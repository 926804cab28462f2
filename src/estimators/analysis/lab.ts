/**
 * The gradient-accuracy lab (MATH.md §7). For each estimator: N full-batch draws of the
 * gradient, grouped into non-overlapping means of M draws; per parameter group (a layer's
 * weights and bias, concatenated) and per M, the mean and the 15 %/85 % quantiles of
 * cos(ĝ_M, g) over the groups, and the relative RMSE sqrt(mean ‖ĝ_M − g‖² / ‖g‖²), against the
 * exact gradient g. Also, from all N draws, per group: the mean gradient m with its standard error,
 * the per-draw variance of each parameter, and the bias norm ‖m − g‖ with its standard error (delta
 * method: sqrt(Σ_i d_i² v_i/N)/‖d‖, d = m − g) and the noise floor sqrt(Σ_i v_i/N), the value
 * ‖m − g‖ takes on average for an unbiased estimator, so that bias can be tested, not eyeballed.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { foldIn } from '../../dsl/random.js'
import type { RunError } from '../../interpreters/runErrors.js'
import type { Feed } from '../../interpreters/ndarray.js'
import type { Estimator, LatentRule } from '../estimator.js'
import { exactGradient } from '../estimator.js'
import { gradient, prepareGradient } from '../gradient.js'
import { cosine, mean, protocolMs, quantile } from './stats.js'

export interface LayerCurve {
  readonly M: readonly number[]
  readonly cosine: readonly { readonly mean: number; readonly q15: number; readonly q85: number }[]
  readonly relativeRmse: readonly number[]
  /** ‖mean of all N draws − g‖ / ‖g‖ (includes the Monte Carlo error of the mean). */
  readonly relativeBias: number
  /** Mean over parameters of the per-draw variance. */
  readonly variance: number
  /** Mean of the N draws per parameter (weights then bias, row-major), and its standard error sqrt(v_i/N). */
  readonly mean: Float64Array
  readonly stderr: Float64Array
  /** Per-draw (sample) variance v_i of each parameter. */
  readonly perDrawVariance: Float64Array
  /** ‖m − g‖, its standard error, and the noise floor sqrt(Σ v_i/N) (E‖m − g‖² = ‖bias‖² + floor²). */
  readonly biasNorm: number
  readonly biasNormStderr: number
  readonly noiseFloor: number
}

export interface EstimatorReport {
  readonly label: string
  readonly layers: Readonly<Record<string, LayerCurve>>
}

export interface GradevalReport {
  readonly draws: number
  readonly exactLoss: number
  readonly groups: Readonly<Record<string, readonly string[]>>
  /** The exact gradient per group (the truth the curves compare with). */
  readonly exact: Readonly<Record<string, Float64Array>>
  readonly estimators: readonly EstimatorReport[]
  /** Wall-clock seconds per estimator label, kept apart so the rest is reproducible bit for bit. */
  readonly timing: Readonly<Record<string, number>>
}

export interface GradevalOptions {
  readonly estimators: readonly Estimator[]
  readonly draws: number
  readonly key: Key
  readonly latent?: LatentRule
  /** Called after each draw: (estimator index, draws done). */
  readonly onProgress?: (estimator: number, done: number) => void
  /** Wall clock in seconds (injected, so the lab stays a pure function of its inputs otherwise). */
  readonly clock?: () => number
}

/** Parameter groups: `layer1.W` and `layer1.b` form `layer1` (trainable parameters only). */
export const parameterGroups = (net: Checked<Network>): Record<string, string[]> => {
  const groups: Record<string, string[]> = Object.create(null) as Record<string, string[]> // names are data: "constructor" is a group
  for (const name of Object.keys(net.params).sort()) {
    const dot = name.lastIndexOf('.')
    const g = dot > 0 ? name.slice(0, dot) : name
    ;(groups[g] ??= []).push(name)
  }
  return groups
}

const concat = (grad: Readonly<Record<string, Float64Array>>, names: readonly string[]): Float64Array => {
  const out = new Float64Array(names.reduce((a, n) => a + grad[n]!.length, 0))
  let o = 0
  for (const n of names) { out.set(grad[n]!, o); o += grad[n]!.length }
  return out
}

/** Curves of one group from N draws stored row-major [N × P]. */
const curve = (draws: Float64Array, n: number, truth: Float64Array): LayerCurve => {
  const P = truth.length
  const prefix = new Float64Array((n + 1) * P)
  for (let t = 0; t < n; t++) for (let i = 0; i < P; i++) prefix[(t + 1) * P + i] = prefix[t * P + i]! + draws[t * P + i]!
  const g2 = truth.reduce((a, v) => a + v * v, 0)
  const Ms = protocolMs(n)
  const cos: { mean: number; q15: number; q85: number }[] = []
  const rrmse: number[] = []
  const m = new Float64Array(P)
  for (const M of Ms) {
    const groups = Math.floor(n / M)
    const cs = new Float64Array(groups)
    let se = 0
    for (let k = 0; k < groups; k++) {
      for (let i = 0; i < P; i++) m[i] = (prefix[(k + 1) * M * P + i]! - prefix[k * M * P + i]!) / M
      cs[k] = cosine(m, truth)
      for (let i = 0; i < P; i++) se += (m[i]! - truth[i]!) ** 2
    }
    cos.push({ mean: mean(cs), q15: quantile(cs, 0.15), q85: quantile(cs, 0.85) })
    rrmse.push(Math.sqrt(se / groups / (g2 === 0 ? 1 : g2)))
  }
  let bias2 = 0
  let variance = 0
  let floor2 = 0
  let spread = 0
  const meanVec = new Float64Array(P)
  const perDrawVariance = new Float64Array(P)
  for (let i = 0; i < P; i++) {
    const mu = prefix[n * P + i]! / n
    meanVec[i] = mu
    const d = mu - truth[i]!
    bias2 += d * d
    let v = 0
    for (let t = 0; t < n; t++) v += (draws[t * P + i]! - mu) ** 2
    const vi = v / Math.max(n - 1, 1)
    perDrawVariance[i] = vi
    variance += vi / P
    floor2 += vi / n
    spread += (d * d * vi) / n
  }
  const biasNorm = Math.sqrt(bias2)
  return {
    M: Ms, cosine: cos, relativeRmse: rrmse, relativeBias: Math.sqrt(bias2 / (g2 === 0 ? 1 : g2)), variance,
    mean: meanVec, stderr: perDrawVariance.map((v) => Math.sqrt(v / n)), perDrawVariance,
    biasNorm, biasNormStderr: biasNorm === 0 ? Math.sqrt(floor2) : Math.sqrt(spread) / biasNorm, noiseFloor: Math.sqrt(floor2),
  }
}

/** Runs the protocol for each estimator against the exact gradient of `net` on `feed`. */
export const gradeval = (net: Checked<Network>, feed: Feed, opts: GradevalOptions): E.Either<RunError, GradevalReport> => {
  if (!(Number.isInteger(opts.draws) && opts.draws >= 1))
    return E.left({ _tag: 'InvalidOption', option: 'draws', expected: 'an integer ≥ 1', found: String(opts.draws) })
  const latent = opts.latent ?? 'mirror'
  const truthE = gradient(net, feed, { key: opts.key, estimator: exactGradient(), latent })
  if (E.isLeft(truthE)) return truthE
  const groups = parameterGroups(net)
  const truth = Object.fromEntries(Object.entries(groups).map(([g, names]) => [g, concat(truthE.right.grad, names)]))
  const clock = opts.clock ?? (() => 0)
  const reports: EstimatorReport[] = []
  const timing: Record<string, number> = {}
  for (const [e, est] of opts.estimators.entries()) {
    const start = clock()
    const store = Object.fromEntries(Object.entries(truth).map(([g, t]) => [g, new Float64Array(opts.draws * t.length)]))
    const k = foldIn(opts.key, e + 1)
    const prepared = prepareGradient(net, feed, { estimator: est, weights: est, latent })
    if (E.isLeft(prepared)) return prepared
    let baseline = 0
    for (let t = 0; t < opts.draws; t++) {
      // REINFORCE's baseline is the running mean of the losses of the previous draws.
      const r = prepared.right(foldIn(k, t), est.kind === 'reinforce' && est.baseline ? baseline : 0)
      baseline += (r.loss - baseline) / (t + 1)
      for (const [g, names] of Object.entries(groups)) store[g]!.set(concat(r.grad, names), t * truth[g]!.length)
      opts.onProgress?.(e, t + 1)
      if (est.kind === 'exact' || est.kind === 'meanfield') {
        // Deterministic estimators have no variance: one evaluation stands for every draw.
        for (const [g, names] of Object.entries(groups)) {
          const first = concat(r.grad, names)
          for (let u = 1; u < opts.draws; u++) store[g]!.set(first, u * first.length)
        }
        opts.onProgress?.(e, opts.draws)
        break
      }
    }
    const layers = Object.fromEntries(Object.entries(truth).map(([g, t]) => [g, curve(store[g]!, opts.draws, t)]))
    reports.push({ label: est.label, layers })
    timing[est.label] = clock() - start
  }
  return E.right({ draws: opts.draws, exactLoss: truthE.right.loss, groups, exact: truth, estimators: reports, timing })
}

/**
 * An independent brute-force expectation for the SBNs of `sbn.ts`, written with plain loops and
 * the noise cdf only (no sbnkit interpreter code): for every joint state of the Bernoulli weights
 * and, per example, of every hidden unit,
 *
 *   E[ℓ] = Σ_w P(w) Σ_h P(h | x, w) ℓ(η(h), y),   P(w) = Π F_w(σ η),   P(h | x, w) = Π_k Π_j F(σ a_kj),
 *
 * with a_k = W_k h_{k−1} + b_k (h₀ = x), η = W_head h_K + b_head (+ W_skip h₁). Weight matrices
 * are read in the parameters' row-major [in, out] order.
 */
import { noiseFns } from '../../src/dsl/distributions.js'
import type { SbnCase } from './sbn.js'

export interface BruteResult {
  readonly loss: number
  readonly perExample: number[]
  /** Softmax probabilities [n][classes], or [n][1] = P(y = +1) for the logistic head. */
  readonly predictive: number[][]
}

const logSumExp = (v: readonly number[]): number => {
  const m = Math.max(...v)
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0))
}

/** −log P(y | η): softmax cross-entropy, or log(1 + exp(−yη)) for ±1 labels. */
const nll = (head: 'softmax' | 'logistic', eta: readonly number[], y: number): number => {
  if (head === 'softmax') return logSumExp(eta) - eta[y]!
  const z = -y * eta[0]!
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))
}

const probs = (head: 'softmax' | 'logistic', eta: readonly number[]): number[] => {
  if (head === 'logistic') return [1 / (1 + Math.exp(-eta[0]!))]
  const l = logSumExp(eta)
  return eta.map((e) => Math.exp(e - l))
}

/** x · W + b for W stored row-major [in, out]. */
const affine = (x: readonly number[], W: ArrayLike<number>, b: ArrayLike<number> | undefined, out: number): number[] => {
  const a: number[] = []
  for (let j = 0; j < out; j++) {
    let s = b === undefined ? 0 : b[j]!
    for (let i = 0; i < x.length; i++) s += x[i]! * W[i * out + j]!
    a.push(s)
  }
  return a
}

/** All ±1 vectors of length n (state s: bit j set ⇒ +1), in any fixed order. */
const states = (n: number): number[][] => {
  const out: number[][] = []
  for (let s = 0; s < 2 ** n; s++) out.push(Array.from({ length: n }, (_, j) => (Math.floor(s / 2 ** j) % 2 === 1 ? 1 : -1)))
  return out
}

export const bruteForce = ({ spec, params, feed }: SbnCase): BruteResult => {
  const F = noiseFns(spec.noise).cdf
  const Fw = noiseFns(spec.weightNoise).cdf
  const x = feed['x']!
  const y = feed['y']!
  const n = x.shape[0]!
  const K = spec.widths.length
  const width = spec.head === 'softmax' ? spec.classes : 1
  const latent = spec.widths.map((_, k) => (spec.binaryWeights[k] === true ? params[`l${k + 1}.W`]! : undefined))
  const weightBits = latent.reduce((a, l) => a + (l?.length ?? 0), 0)
  const hidden = spec.widths.reduce((a, b) => a + b, 0)
  const perExample = new Array<number>(n).fill(0)
  const predictive = Array.from({ length: n }, () => new Array<number>(width).fill(0))
  for (const w of states(weightBits)) {
    // This weight state: the weight matrices and P(w) = Π F_w(σ η).
    let pw = 1
    let at = 0
    const Ws = spec.widths.map((_, k) => {
      const eta = latent[k]
      if (eta === undefined) return params[`l${k + 1}.W`]!
      const m = eta.map((e, i) => {
        const sigma = w[at + i]!
        pw *= Fw(sigma * e)
        return sigma
      })
      at += eta.length
      return m
    })
    for (let e = 0; e < n; e++) {
      const x0 = Array.from(x.data.subarray(e * spec.inputs, (e + 1) * spec.inputs))
      for (const h of states(hidden)) {
        // Split the joint hidden state into layers; multiply in each layer's P(h_k | h_{k−1}).
        let p = pw
        let prev = x0
        let off = 0
        const layers: number[][] = []
        for (let k = 0; k < K; k++) {
          const a = affine(prev, Ws[k]!, params[`l${k + 1}.b`]!, spec.widths[k]!)
          const hk = h.slice(off, off + spec.widths[k]!)
          hk.forEach((s, j) => (p *= F(s * a[j]!)))
          layers.push(hk)
          prev = hk
          off += spec.widths[k]!
        }
        const eta = affine(prev, params['head.W']!, params['head.b']!, width)
        if (spec.skip) affine(layers[0]!, params['skip.W']!, undefined, width).forEach((v, j) => (eta[j]! += v))
        perExample[e]! += p * nll(spec.head, eta, y.data[e]!)
        probs(spec.head, eta).forEach((q, j) => (predictive[e]![j]! += p * q))
      }
    }
  }
  return { loss: perExample.reduce((a, b) => a + b, 0) / n, perExample, predictive }
}

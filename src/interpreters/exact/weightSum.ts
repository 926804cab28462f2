/**
 * The outer sum of the exact interpreter: weights are shared by the batch, so each joint state w
 * of all Bernoulli weights is visited once, with P(w) = Π F(σ η), and the examples' inner sums
 * (layer messages on chains, `chain.ts`; joint enumeration otherwise, `brute.ts`) run under it:
 *
 *   E[ℓₙ] = Σ_w P(w) Eₙ(w),   ∂L/∂θ = Σ_w P(w) ∂L(w)/∂θ + Σ_w L(w) ∂P(w)/∂θ.
 */
import type { Binarize, Checked, Loss, Network, Node } from '../../dsl/node.js'
import type { Feed, NDArray } from '../ndarray.js'
import { backward } from '../reference/backward.js'
import { evaluate } from '../reference/forward.js'
import type { ParamGrads } from '../reference/grads.js'
import { addParamGrads } from '../reference/grads.js'
import { modeRule } from '../reference/sampling.js'
import { bruteInner } from './brute.js'
import type { InnerResult } from './chain.js'
import { chainInner } from './chain.js'
import type { Site, Structure } from './structure.js'
import type { UnitFactors } from './states.js'
import { bit, stateProb, unitFactors } from './states.js'

export interface WeightSum {
  /** Σ_w P(w) Eₙ(w), per example. */
  readonly perExample: Float64Array
  readonly mass: Float64Array
  readonly predictive: Float64Array
  /** Weight states whose inner sum ran (those of probability 0 that add nothing are skipped). */
  readonly weightStates: number
}

export interface WeightSumInput {
  readonly net: Checked<Network>
  readonly feed: Feed
  readonly batch: number
  readonly loss: Loss
  readonly st: Structure
  readonly method: 'chain' | 'enumeration'
  /** Gradients are added here when given. */
  readonly grads: ParamGrads | undefined
}

/** Concatenated unit factors of all weight sites (their inputs depend on parameters only). */
const weightFactors = (net: Checked<Network>, sites: readonly Site[]): { readonly f: UnitFactors; readonly pre: Map<Node, NDArray> } => {
  const ev = evaluate({ net, feed: {}, batch: 1, binarize: modeRule }, sites.map((s) => s.node.input))
  const parts = sites.map((s) => unitFactors(ev.values.get(s.node.input)!.data, s.node.noise))
  const cat = (k: keyof UnitFactors): Float64Array => {
    const out = new Float64Array(parts.reduce((a, p) => a + p[k].length, 0))
    let o = 0
    for (const p of parts) { out.set(p[k], o); o += p[k].length }
    return out
  }
  return { f: { plus: cat('plus'), minus: cat('minus'), density: cat('density') }, pre: new Map(sites.map((s) => [s.node.input, ev.values.get(s.node.input)!])) }
}

/** Σ over all weight states of the inner sums (and the gradient into `grads`). */
export const sumOverWeights = ({ net, feed, batch, loss, st, method, grads }: WeightSumInput): WeightSum => {
  const W = st.weights.reduce((a, s) => a + s.units, 0)
  const wf = weightFactors(net, st.weights)
  const wSeeds = st.weights.map((s) => new Float64Array(s.units))
  const perExample = new Float64Array(batch)
  const mass = new Float64Array(batch)
  let predictive: Float64Array | undefined
  let weightStates = 0
  for (let c = 0; c < 2 ** W; c++) {
    // One joint state of all weights, its probability and ∂P(w)/∂(weight-site inputs).
    const fixed = new Map<Binarize, NDArray>()
    let off = 0
    for (const s of st.weights) {
      const v = new Float64Array(s.units)
      for (let j = 0; j < s.units; j++) v[j] = bit(c, off + j) ? 1 : -1
      fixed.set(s.node, { shape: s.node.type.shape.map(Number), data: v })
      off += s.units
    }
    const dP = new Float64Array(W)
    const pw = W === 0 ? 1 : stateProb(wf.f, 0, W, c, dP)
    // A state of probability 0 adds nothing to the loss, but at the edge of a bounded noise
    // (uniform, η = ±s) its ∂P/∂η is not 0 and its L(w)·∂P/∂η term is part of the gradient.
    if (pw === 0 && (grads === undefined || dP.every((d) => d === 0))) continue
    const r: InnerResult = method === 'chain' && st.chain !== undefined
      ? chainInner(net, feed, batch, loss, st.chain, fixed, pw, grads)
      : bruteInner(net, feed, batch, loss, st.activations, fixed, pw, grads)
    weightStates++
    let Lw = 0
    for (let n = 0; n < batch; n++) {
      perExample[n]! += pw * r.perExample[n]!
      mass[n]! += pw * r.mass[n]!
      Lw += r.perExample[n]! / batch
    }
    predictive ??= new Float64Array(r.predictive.length)
    for (let i = 0; i < r.predictive.length; i++) predictive[i]! += pw * r.predictive[i]!
    off = 0
    for (const [k, s] of st.weights.entries()) {
      for (let j = 0; j < s.units; j++) wSeeds[k]![j]! += Lw * dP[off + j]!
      off += s.units
    }
  }
  if (grads !== undefined && st.weights.length > 0) {
    const roots = st.weights.map((s) => s.node.input)
    const ev = evaluate({ net, feed: {}, batch: 1, binarize: modeRule }, roots)
    const at = new Map(st.weights.map((s, k) => [s.node.input, { shape: wf.pre.get(s.node.input)!.shape, data: wSeeds[k]! }] as const))
    addParamGrads(grads, backward(ev, roots, { at }, () => undefined))
  }
  return { perExample, mass, predictive: predictive!, weightStates }
}

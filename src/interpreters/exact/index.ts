/**
 * The exact interpreter: the specification of what an SBN computes. For a checked network and a
 * batch of data it returns the exact expected loss L = mean over examples of E_noise[ℓ], the
 * exact predictive distribution, and the exact gradient of L with respect to every parameter
 * (real weights, biases, and the latent parameters of Bernoulli weights).
 *
 * Weights are shared by the batch, so weight states are enumerated outside (P(w) = Π F(σ η)),
 * and for each weight state the examples are independent: the inner sum uses layer messages
 * when the activation sites form a chain, joint enumeration otherwise. The gradient is
 *   ∂L/∂θ = Σ_w P(w) ∂L(w)/∂θ + Σ_w L(w) ∂P(w)/∂θ.
 * A budget on visited joint states turns an intractable request into `EnumerationTooLarge`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Checked, Loss, Network, Node } from '../../dsl/node.js'
import { topoOrder } from '../../dsl/fold.js'
import type { Budget } from '../budget.js'
import { defaultBudget as defaultMemory, evaluationBytes } from '../budget.js'
import { bind } from '../bind.js'
import type { RunError } from '../errors.js'
import { lossOutput } from '../outputs.js'
import type { Feed, NDArray } from '../ndarray.js'
import { backward } from '../reference/backward.js'
import { evaluate } from '../reference/forward.js'
import { modeRule } from '../reference/sampling.js'
import type { ParamGrads } from '../reference/grads.js'
import { addParamGrads, zeroGrads } from '../reference/grads.js'
import { bit } from './states.js'
import { bruteInner } from './brute.js'
import type { InnerResult } from './chain.js'
import { chainInner } from './chain.js'
import type { Site } from './sites.js'
import { structure } from './sites.js'
import { stateProb, unitFactors } from './states.js'
import type { UnitFactors } from './states.js'

export interface ExactOptions {
  /** Also compute the exact gradient (default false). */
  readonly grad?: boolean
  /** Most joint states to visit (default 2²², about a few seconds of work; the §7 network by layer messages needs ~1.5·10⁴). */
  readonly budget?: number
  /** `auto` uses layer messages for chains and enumeration otherwise. */
  readonly method?: 'auto' | 'chain' | 'enumeration'
  /**
   * The memory the evaluation may take (default 2 GB): every value of the network on each
   * example times the states of its widest stochastic layer, checked before anything is allocated.
   */
  readonly memory?: Budget
}

export interface ExactResult {
  /** The exact expected loss, mean over examples. */
  readonly loss: number
  /** E[ℓ] of each example. */
  readonly perExample: Float64Array
  /** The exact predictive distribution E[softmax(η)] (or E[σ(η)] for ±1 labels), per example. */
  readonly predictive: NDArray
  /** Total probability of the enumerated states per example (1 up to rounding). */
  readonly mass: Float64Array
  /** Gradient of `loss` for every parameter, in its row-major order (when asked). */
  readonly grad?: ParamGrads
  readonly method: 'chain' | 'enumeration'
  readonly states: number
}

export const defaultBudget = 2 ** 22

const siteList = (sites: readonly Site[]) => sites.map((s) => ({ site: s.node.site as string, units: s.units }))

const checkModes = (loss: Loss): E.Either<RunError, void> =>
  topoOrder([loss]).some((n) => n._tag === 'BatchNorm' && n.mode === 'train')
    ? E.left({ _tag: 'Unsupported', interpreter: 'exact', what: 'batch normalisation in training mode (batch statistics couple the examples)', fix: 'set the BatchNorm nodes to inference mode' })
    : E.right(undefined)

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

/** Exact expected loss, predictive distribution and (optionally) gradient. */
export const exact = (net: Checked<Network>, feed: Feed, opts: ExactOptions = {}): E.Either<RunError, ExactResult> => {
  const lossE = lossOutput(net)
  if (E.isLeft(lossE)) return lossE
  const loss = lossE.right
  const modes = checkModes(loss)
  if (E.isLeft(modes)) return modes
  const boundE = bind(net, feed, [loss])
  if (E.isLeft(boundE)) return boundE
  const batch = boundE.right.batch
  const st = structure(loss)
  const W = st.weights.reduce((a, s) => a + s.units, 0)
  const useChain = opts.method === 'chain' || (opts.method !== 'enumeration' && st.chain !== undefined)
  if (opts.method === 'chain' && st.chain === undefined)
    return E.left({ _tag: 'Unsupported', interpreter: 'exact', what: 'layer messages on a network whose stochastic activations do not form a chain', fix: 'use method "enumeration" or "auto"' })
  const A = st.activations.map((s) => s.units)
  const inner = useChain
    ? batch * 2 ** A[0]! + A.slice(1).reduce((a, u, i) => a + 2 ** (A[i]! + u), 0) + batch * 2 ** A[A.length - 1]!
    : batch * 2 ** A.reduce((a, b) => a + b, 0)
  const states = 2 ** W * (A.length === 0 ? batch : inner)
  const budget = opts.budget ?? defaultBudget
  if (!(budget >= 1)) return E.left({ _tag: 'InvalidOption', option: 'budget', expected: 'a number of joint states ≥ 1', found: String(budget) })
  const widest = Math.max(W, ...A)
  if (states > budget || widest > 30)
    return E.left({ _tag: 'EnumerationTooLarge', sites: siteList([...st.weights, ...st.activations]), states, budget })
  // Layer messages and enumeration evaluate the network on every state of a layer at once.
  const layerStates = 2 ** Math.max(0, ...A)
  const bytes = evaluationBytes(net, batch * layerStates)
  const limit = (opts.memory ?? defaultMemory).maxBytes
  if (bytes > limit)
    return E.left({ _tag: 'MemoryTooLarge', what: `exact: the network on ${batch} examples × ${layerStates} states`, bytes, limit })
  const grads = opts.grad === true ? zeroGrads(net) : undefined
  const wf = weightFactors(net, st.weights)
  const wSeeds = st.weights.map((s) => new Float64Array(s.units))
  const perExample = new Float64Array(batch)
  const mass = new Float64Array(batch)
  let predictive: Float64Array | undefined
  let visited = 0
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
    const r: InnerResult = useChain && st.chain !== undefined
      ? chainInner(net, feed, batch, loss, st.chain, fixed, pw, grads)
      : bruteInner(net, feed, batch, loss, st.activations, fixed, pw, grads)
    visited += r.states
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
  const classes = predictive!.length / batch
  return E.right({
    loss: perExample.reduce((a, b) => a + b, 0) / batch,
    perExample,
    predictive: { shape: classes === 1 ? [batch] : [batch, classes], data: predictive! },
    mass,
    ...(grads === undefined ? {} : { grad: grads }),
    method: useChain ? 'chain' : 'enumeration',
    states: visited,
  })
}

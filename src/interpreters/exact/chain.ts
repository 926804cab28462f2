/**
 * Exact inner sum by layer messages (MATH.md §5) when the activation sites form a chain
 * x → S₁ → … → S_K → loss. For fixed weights:
 *   M₁[n, s] = P(S₁ = s | xₙ),   T_k[s′, s] = P(S_k = s | S_{k−1} = s′)  (shared by all examples),
 *   M_k = M_{k−1} T_k,           L = (1/N) Σₙ Σ_s M_K[n, s] ℓ(s, yₙ).
 * T_k is computed by evaluating S_k's input on the batch of all 2^{n_{k−1}} states of S_{k−1};
 * the head on all (example, state) pairs. The gradient runs the recursion backwards:
 *   G_K = ℓ/N,  ∂L/∂T_k = M_{k−1}ᵀ G_k,  G_{k−1} = G_k T_kᵀ,
 * and ∂L/∂a follows from ∂T/∂a = σ p(a) Π_{others} F, seeded into ordinary reverse passes.
 */
import type { Binarize, Checked, Input, Loss, Network, Node } from '../../dsl/node.js'
import type { Feed, NDArray } from '../ndarray.js'
import { backward } from '../reference/backward.js'
import type { Evaluation } from '../reference/forward.js'
import { evaluate } from '../reference/forward.js'
import { predictive } from '../reference/ops.js'
import type { ParamGrads } from '../reference/grads.js'
import { addParamGrads } from '../reference/grads.js'
import type { Site } from './structure.js'
import { allStates, fixedRule, stateProb, unitFactors } from './states.js'
import type { UnitFactors } from './states.js'

export interface InnerResult {
  /** Σ over states of P(state | xₙ) ℓₙ, per example. */
  readonly perExample: Float64Array
  /** Σ over states of P(state | xₙ) (1 up to rounding). */
  readonly mass: Float64Array
  /** Σ over states of P(state | xₙ) times the predictive distribution, [N × classes]. */
  readonly predictive: Float64Array
}

/** The probabilities of all 2^n states for each row of pre-activations [rows, n]: [rows, 2^n]. */
const transition = (f: UnitFactors, rows: number, n: number): Float64Array => {
  const out = new Float64Array(rows * 2 ** n)
  const scratch = new Float64Array(n + 1)
  for (let r = 0; r < rows; r++) for (let s = 0; s < 2 ** n; s++) out[r * 2 ** n + s] = stateProb(f, r * n, n, s, undefined, 0, 1, scratch)
  return out
}

/** ∂L/∂a for pre-activations [rows, n], given ∂L/∂P for their state probabilities [rows, 2^n]. */
const preGrad = (f: UnitFactors, rows: number, n: number, dP: Float64Array, scale: number): Float64Array => {
  const out = new Float64Array(rows * n)
  const scratch = new Float64Array(n + 1)
  for (let r = 0; r < rows; r++)
    for (let s = 0; s < 2 ** n; s++) {
      const d = dP[r * 2 ** n + s]!
      if (d !== 0) stateProb(f, r * n, n, s, out, r * n, scale * d, scratch)
    }
  return out
}

/** C[m, q] = A[m, k] · B[k, q] (plain row-major product of message matrices). */
const mm = (A: Float64Array, B: Float64Array, m: number, k: number, q: number, transB = false, transA = false): Float64Array => {
  const C = new Float64Array(m * q)
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const a = transA ? A[p * m + i]! : A[i * k + p]!
      if (a === 0) continue
      for (let j = 0; j < q; j++) C[i * q + j]! += a * (transB ? B[j * k + p]! : B[p * q + j]!)
    }
  return C
}

export const chainInner = (
  net: Checked<Network>, feed: Feed, batch: number, loss: Loss, chain: readonly Site[],
  weights: ReadonlyMap<Binarize, NDArray>, scale: number, grads: ParamGrads | undefined,
): InnerResult => {
  const rule = fixedRule(weights)
  const K = chain.length
  const units = chain.map((s) => s.units)
  const statesOf = (k: number): NDArray => ({ shape: [2 ** units[k]!, ...chain[k]!.node.type.shape.slice(1).map(Number)], data: allStates(units[k]!) })
  // Forward: the first layer on the data, later layers on all states of the previous one.
  const evs: Evaluation[] = []
  const factors: UnitFactors[] = []
  const T: Float64Array[] = []
  for (let k = 0; k < K; k++) {
    const site = chain[k]!
    const rows = k === 0 ? batch : 2 ** units[k - 1]!
    const cut = k === 0 ? new Map<Node, NDArray>() : new Map<Node, NDArray>([[chain[k - 1]!.node, statesOf(k - 1)]])
    const ev = evaluate({ net, feed, batch: rows, binarize: rule }, [site.node.input], cut)
    evs.push(ev)
    factors.push(unitFactors(ev.values.get(site.node.input)!.data, site.node.noise))
    T.push(transition(factors[k]!, rows, units[k]!))
  }
  const M: Float64Array[] = [T[0]!]
  for (let k = 1; k < K; k++) M.push(mm(M[k - 1]!, T[k]!, batch, 2 ** units[k - 1]!, 2 ** units[k]!))
  // The head on every (example, last state) pair.
  const last = 2 ** units[K - 1]!
  const lastStates = statesOf(K - 1)
  const width = units[K - 1]!
  const tiledStates = new Float64Array(batch * last * width)
  for (let n = 0; n < batch; n++) tiledStates.set(lastStates.data, n * last * width)
  const target = loss.target as Input
  const labels = feed[target.name]!
  const per = labels.data.length / batch
  const tiledLabels = new Float64Array(batch * last * per)
  for (let n = 0; n < batch; n++) for (let s = 0; s < last; s++) tiledLabels.set(labels.data.subarray(n * per, (n + 1) * per), (n * last + s) * per)
  const headFeed: Feed = { ...feed, [target.name]: { shape: [batch * last, ...labels.shape.slice(1)], data: tiledLabels } }
  const headCut = new Map<Node, NDArray>([[chain[K - 1]!.node, { shape: [batch * last, ...lastStates.shape.slice(1)], data: tiledStates }]])
  const evHead = evaluate({ net, feed: headFeed, batch: batch * last, binarize: rule }, [loss], headCut)
  const ell = evHead.lossPerExample.get(loss)!
  const MK = M[K - 1]!
  const perExample = new Float64Array(batch)
  const mass = new Float64Array(batch)
  for (let n = 0; n < batch; n++)
    for (let s = 0; s < last; s++) {
      perExample[n]! += MK[n * last + s]! * ell[n * last + s]!
      mass[n]! += MK[n * last + s]!
    }
  const pr = predictive(loss.op, evHead.values.get(loss.logits)!).data
  const classes = pr.length / (batch * last)
  const pred = new Float64Array(batch * classes)
  for (let n = 0; n < batch; n++)
    for (let s = 0; s < last; s++)
      for (let c = 0; c < classes; c++) pred[n * classes + c]! += MK[n * last + s]! * pr[(n * last + s) * classes + c]!
  if (grads !== undefined) {
    // Head parameters: each (example, state) row weighs M_K[n, s] / N.
    const w = Float64Array.from(MK, (m) => (scale * m) / batch)
    addParamGrads(grads, backward(evHead, [loss], { loss: new Map([[loss, w]]) }, () => undefined))
    let G: Float64Array = Float64Array.from(ell, (l) => l / batch)
    for (let k = K - 1; k >= 0; k--) {
      const rows = k === 0 ? batch : 2 ** units[k - 1]!
      const dT = k === 0 ? G : mm(M[k - 1]!, G, 2 ** units[k - 1]!, batch, 2 ** units[k]!, false, true)
      const dA = preGrad(factors[k]!, rows, units[k]!, dT, scale)
      const input = chain[k]!.node.input
      addParamGrads(grads, backward(evs[k]!, [input], { at: new Map([[input, { shape: evs[k]!.values.get(input)!.shape, data: dA }]]) }, () => undefined))
      if (k > 0) G = mm(G, T[k]!, batch, 2 ** units[k]!, 2 ** units[k - 1]!, true)
    }
  }
  return { perExample, mass, predictive: pred }
}

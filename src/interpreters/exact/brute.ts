/**
 * Exact inner sum by joint enumeration (any DAG): for fixed weights, every joint state c of all
 * activation sites is visited, the network is evaluated with the sites fixed to c (all examples
 * at once), and P(c | xₙ) = Π_sites Π_units F(σ a) weights the loss. The gradient of Σ_c P ℓ is
 * P ∂ℓ/∂θ (reverse pass through the loss) plus ℓ ∂P/∂a (seeded at each site's input).
 */
import type { Binarize, Checked, Loss, Network } from '../../dsl/node.js'
import type { Feed, NDArray } from '../ndarray.js'
import { backward } from '../reference/backward.js'
import { evaluate } from '../reference/forward.js'
import { predictive } from '../reference/ops.js'
import type { ParamGrads } from '../reference/grads.js'
import { addParamGrads } from '../reference/grads.js'
import type { Site } from './structure.js'
import { bit, fixedRule, stateProb, unitFactors } from './states.js'
import type { InnerResult } from './chain.js'

export const bruteInner = (
  net: Checked<Network>, feed: Feed, batch: number, loss: Loss, sites: readonly Site[],
  weights: ReadonlyMap<Binarize, NDArray>, scale: number, grads: ParamGrads | undefined,
): InnerResult => {
  const total = sites.reduce((a, s) => a + s.units, 0)
  const offsets = sites.map((_, i) => sites.slice(0, i).reduce((a, s) => a + s.units, 0))
  const perExample = new Float64Array(batch)
  const mass = new Float64Array(batch)
  let pred: Float64Array | undefined
  for (let c = 0; c < 2 ** total; c++) {
    const fixed = new Map(weights)
    sites.forEach((s, k) => {
      const v = new Float64Array(batch * s.units)
      for (let n = 0; n < batch; n++) for (let j = 0; j < s.units; j++) v[n * s.units + j] = bit(c, offsets[k]! + j) ? 1 : -1
      fixed.set(s.node, { shape: [batch, ...s.node.type.shape.slice(1).map(Number)], data: v })
    })
    const ev = evaluate({ net, feed, batch, binarize: fixedRule(fixed) }, [loss])
    const ell = ev.lossPerExample.get(loss)!
    const factors = sites.map((s) => unitFactors(ev.values.get(s.node.input)!.data, s.node.noise))
    const state = (k: number): number => Math.floor(c / 2 ** offsets[k]!) % 2 ** sites[k]!.units
    const probs = new Float64Array(batch)
    const lossWeights = new Float64Array(batch)
    const seeds = sites.map((s) => new Float64Array(batch * s.units))
    for (let n = 0; n < batch; n++) {
      const perSite = sites.map((s, k) => stateProb(factors[k]!, n * s.units, s.units, state(k)))
      const p = perSite.reduce((a, b) => a * b, 1)
      probs[n] = p
      lossWeights[n] = (scale * p) / batch
      perExample[n]! += p * ell[n]!
      mass[n]! += p
      if (grads === undefined) continue
      sites.forEach((s, k) => {
        const others = perSite.reduce((a, b, i) => (i === k ? a : a * b), 1)
        stateProb(factors[k]!, n * s.units, s.units, state(k), seeds[k], n * s.units, (scale * others * ell[n]!) / batch)
      })
    }
    const pr = predictive(loss.op, ev.values.get(loss.logits)!).data
    pred ??= new Float64Array(pr.length)
    const width = pr.length / batch
    for (let i = 0; i < pr.length; i++) pred[i]! += probs[Math.floor(i / width)]! * pr[i]!
    if (grads !== undefined) {
      const at = new Map(sites.map((s, k) => [s.node.input, { shape: ev.values.get(s.node.input)!.shape, data: seeds[k]! }] as const))
      addParamGrads(grads, backward(ev, [loss], { loss: new Map([[loss, lossWeights]]), at }, () => undefined))
    }
  }
  return { perExample, mass, predictive: pred! }
}

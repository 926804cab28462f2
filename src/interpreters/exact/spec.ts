/**
 * What an SBN computes, by definition (MATH.md §1–§3): the expected loss of example n is a sum
 * over every joint state c of all its stochastic units (the Bernoulli weights and the example's
 * activations together),
 *
 *   E[ℓₙ] = Σ_c P(c | xₙ) ℓ(c, yₙ),    P(c | xₙ) = Π_units F(σ a),   L = (1/N) Σₙ E[ℓₙ],
 *
 * with σ = ±1 the unit's state and a its input, evaluated by the reference forward rules with
 * every site fixed to c. Its gradient is Σ_c P ∂ℓ/∂θ + ℓ ∂P/∂θ, where ∂P/∂a = σ p(a) Π_others F.
 *
 * This file is the readable specification: it visits 2^(weights + activations) states per
 * example. `index.ts` computes the same numbers with the optimisations (weight states shared by
 * the batch, layer messages on chains); the law "optimised ≡ spec" holds them equal.
 */
import type { Binarize, Checked, Loss, Network, Node } from '../../dsl/node.js'
import { isStochastic } from '../../dsl/noise.js'
import { topoOrder } from '../../dsl/fold.js'
import { sizeOf } from '../../dsl/shape.js'
import { noiseFns } from '../../dsl/distributions.js'
import type { Feed, NDArray } from '../ndarray.js'
import { sliceFeed } from '../ndarray.js'
import { backward } from '../reference/backward.js'
import { evaluate } from '../reference/forward.js'
import type { ParamGrads } from '../reference/grads.js'
import { addParamGrads, zeroGrads } from '../reference/grads.js'
import { predictive } from '../reference/ops.js'
import { modeRule } from '../reference/sampling.js'
import { bit } from './states.js'

export interface SpecResult {
  readonly loss: number
  readonly perExample: Float64Array
  /** E[predictive distribution], [N × width] row-major. */
  readonly predictive: Float64Array
  readonly grad: ParamGrads
}

/** One stochastic unit of a joint state: its site's input node, index, state σ, F(σa) and σp(a). */
interface Unit { readonly input: Node; readonly index: number; readonly prob: number; readonly dProb: number }

/** The exact expected loss, predictive distribution and gradient of `loss` on a batch of `batch` examples. */
export const exactSpec = (net: Checked<Network>, feed: Feed, batch: number, loss: Loss): SpecResult => {
  const sites = topoOrder([loss]).filter((n): n is Binarize => n._tag === 'Binarize' && isStochastic(n.noise))
  const units = sites.reduce((a, s) => a + sizeOf(s.type.shape), 0)
  const perExample = new Float64Array(batch)
  const grad = zeroGrads(net)
  let pred: Float64Array | undefined
  for (let n = 0; n < batch; n++) {
    const example = sliceFeed(feed, n, n + 1)
    for (let c = 0; c < 2 ** units; c++) {
      // Fix every stochastic unit to its bit of c, in the order the forward pass meets them.
      const state: Unit[] = []
      const fixed = (node: Binarize, input: NDArray): NDArray => {
        if (!isStochastic(node.noise)) return modeRule(node, input)
        const f = noiseFns(node.noise)
        const data = input.data.map((a, index) => {
          const sigma = bit(c, state.length) === 1 ? 1 : -1
          state.push({ input: node.input, index, prob: f.cdf(sigma * a), dProb: sigma * f.pdf(a) })
          return sigma
        })
        return { shape: input.shape, data }
      }
      const ev = evaluate({ net, feed: example, batch: 1, binarize: fixed }, [loss])
      const product = (skip: number): number => state.reduce((p, u, i) => (i === skip ? p : p * u.prob), 1)
      const P = product(-1)
      const ell = ev.values.get(loss)!.data[0]!
      perExample[n]! += P * ell
      const q = predictive(loss.op, ev.values.get(loss.logits)!).data
      pred ??= new Float64Array(batch * q.length)
      q.forEach((v, j) => (pred![n * q.length + j]! += P * v))
      // ∂(Pℓ)/∂θ / N: P∂ℓ through the loss, ℓ∂P/∂a seeded at each site's input.
      const at = new Map<Node, NDArray>()
      state.forEach((u, i) => {
        const seed = at.get(u.input) ?? { shape: ev.values.get(u.input)!.shape, data: new Float64Array(ev.values.get(u.input)!.data.length) }
        seed.data[u.index]! += (ell * u.dProb * product(i)) / batch
        at.set(u.input, seed)
      })
      addParamGrads(grad, backward(ev, [loss], { loss: new Map([[loss, Float64Array.of(P / batch)]]), at }, () => undefined))
    }
  }
  return { loss: perExample.reduce((a, b) => a + b, 0) / batch, perExample, predictive: pred ?? new Float64Array(0), grad }
}

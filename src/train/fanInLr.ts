/**
 * Learning rates scaled by fan-in for the real weight matrices of a network (the real head of
 * the presets), so that the standard recipe's step size does not grow with the width the head
 * reads (docs/training.md, "The head's learning rate").
 *
 * Adam moves every weight by about ε per step whatever the size of its gradient. A logit
 * z = Σⱼ hⱼWⱼ over n inputs hⱼ = ±1 then moves by up to ε·n per step, and by about ε·√n when the
 * steps' signs are unrelated to the inputs'. With ε = 0.2 (the rate the latent weights want)
 * the head of `mlp:256,256` overshoots at once (its training loss climbs from 3.3 to 6 in the
 * first steps) and that of `mlp:1024,1024` more (to 9.5). Scaling the rate of a real weight of
 * fan-in n by 1/√n makes a logit's random-walk change per step about ε whatever the width; the
 * BNN recipe's measured head rate, 0.01 at n = 256, is 0.2/√256 = 0.0125 within a factor 1.25.
 * Biases and batch-norm scales and shifts (one input each) keep the rate ε.
 */
import type { Checked, Network, Param } from '../dsl/node.js'
import { topoOrder } from '../dsl/fold.js'
import { fans } from '../dsl/init.js'
import type { Optimizer, OptimizerState } from './optimizers.js'
import { withCopies, withSpec } from './optimizers.js'

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The factor 1/√fanIn of every parameter of rank ≥ 2 (a dense weight [in, out] or a
 * convolution kernel [out, in, kh, kw]); parameters of rank < 2 are absent (factor 1). Applied
 * to the real optimizer only, so binarized (latent) weights are unaffected.
 * @example fanInScales(presetNetwork(mlpPreset, opts))['head.W'] // 1/√256 = 0.0625 for mlp:256,256
 */
export const fanInScales = (net: Checked<Network>): Readonly<Record<string, number>> => {
  const scales: Record<string, number> = {}
  for (const n of topoOrder(Object.values(net.outputs))) {
    if (n._tag !== 'Param') continue
    const f = fans((n as Param).type.shape)
    if (f !== undefined) scales[n.name] = 1 / Math.sqrt(f.fanIn)
  }
  return scales
}

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * `inner` with the learning rate of each parameter multiplied by `scales[name]` (1 when absent).
 * One step of the wrapper is one step of `inner` (one step count, so Adam's bias correction is
 * shared); with every factor 1 it is `inner`, bit for bit. The state is `inner`'s, so a
 * checkpoint of either resumes under the other.
 * @example const headScaled = perParameterLr(adam(), { 'head.W': 1 / 16 })
 */
export const perParameterLr = (inner: Optimizer, scales: Readonly<Record<string, number>>): Optimizer => {
  for (const [name, s] of Object.entries(scales))
    if (!(Number.isFinite(s) && s > 0)) throw new RangeError(`perParameterLr: the factor of "${name}" must be finite and > 0, found ${s}`)
  const made = withCopies(`perParameterLr(${inner.name})`, inner.init, (params, grads, state, lr) => {
    const groups = new Map<number, Record<string, Float64Array>>()
    for (const [name, theta] of Object.entries(params)) {
      const s = scales[name] ?? 1
      const group = groups.get(s) ?? {}
      group[name] = theta
      groups.set(s, group)
    }
    // Every group steps from the same step count; the slots of the groups are disjoint.
    let next: OptimizerState = state
    for (const [s, group] of [...groups].sort((a, b) => b[0] - a[0])) {
      const after = inner.stepInPlace(group, grads, { step: state.step, slots: next.slots }, lr * s)
      next = { step: after.step, slots: { ...next.slots, ...after.slots } }
    }
    return groups.size === 0 ? inner.stepInPlace(params, grads, state, lr) : next
  })
  return inner.spec === undefined ? made : withSpec({ kind: 'perParameterLr', inner: inner.spec, scales: { ...scales } }, made)
}

/**
 * The score-function parts of the gradient interpreter: REINFORCE's score ∂ log P(x | a)/∂a,
 * ARM's two antithetic losses and DisARM's seed from them, plus the per-example objective they
 * multiply.
 */
import type { Binarize, Checked, Network, Node } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { foldIn } from '../dsl/random.js'
import { topoOrder } from '../dsl/fold.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import { noiseFns } from '../dsl/distributions.js'
import type { Evaluation } from '../interpreters/reference/forward.js'
import { evaluate } from '../interpreters/reference/forward.js'
import { isWeight } from './sites.js'

/** Per-example values of the objective: a loss head's losses, or an output summed per example. */
export const objectivePerExample = (root: Node, ev: Evaluation, batch: number): Float64Array => {
  const l = ev.lossPerExample.get(root)
  if (l !== undefined) return l
  const v = ev.values.get(root)!.data
  const per = v.length / batch
  return Float64Array.from({ length: batch }, (_, n) => v.subarray(n * per, (n + 1) * per).reduce((a, b) => a + b, 0))
}

/** The nodes that depend on `site` (its descendants, itself included). */
const descendants = (loss: Node, site: Node): Set<Node> => {
  const out = new Set<Node>([site])
  for (const n of topoOrder([loss])) if (children(n).some(([, c]) => out.has(c))) out.add(n)
  return out
}

/** Score of log P(x | a) with respect to a: σ p(a)/F(σ a) with σ = x. */
export const score = (node: Binarize, a: NDArray, x: NDArray): Float64Array => {
  const f = noiseFns(node.noise)
  const out = new Float64Array(a.data.length)
  for (let i = 0; i < out.length; i++) {
    const v = a.data[i]!
    const s = x.data[i]!
    const F = f.cdf(s * v)
    out[i] = F > 0 ? (s * f.pdf(v)) / F : 0
  }
  return out
}

export const mean = (xs: Float64Array): number => xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * ARM's two antithetic losses for site `s`: the loss with the site fixed to b1 = [u > σ(−a)] and
 * to b2 = [u < σ(a)], everything upstream as in the base pass, everything downstream drawn afresh.
 */
export const armLosses = (
  net: Checked<Network>, feed: Feed, batch: number, loss: Node, ev: Evaluation, s: Binarize, x: NDArray,
  u: Float64Array, passRule: (pass: Key) => (node: Binarize, a: NDArray) => NDArray, key: Key, k: number,
): { readonly f1: Float64Array; readonly f2: Float64Array } => {
  const down = descendants(loss, s)
  const a = ev.values.get(s.input)!
  const F = noiseFns(s.noise).cdf
  const b2: NDArray = { shape: x.shape, data: Float64Array.from(a.data, (v, i) => (u[i]! < F(v) ? 1 : -1)) }
  const run = (value: NDArray, stream: number): Float64Array => {
    const cut = new Map<Node, NDArray>()
    for (const [n, v] of ev.values) if (!down.has(n)) cut.set(n, v)
    cut.set(s, value)
    const fresh = evaluate({ net, feed, batch, binarize: passRule(foldIn(foldIn(key, 0x41524d), 2 * k + stream)), products: ev.products }, [loss], cut)
    return objectivePerExample(loss, fresh, batch)
  }
  return { f1: run(x, 0), f2: run(b2, 1) }
}

/**
 * DisARM (Dong, Mnih & Tucker 2020), per layer like ARM: the same antithetic pair
 * b1 = [u > F(−a)], b2 = [u < F(a)] and the same two losses f1, f2 (the rest of the network drawn
 * afresh from each), but ARM's factor (u − ½) is replaced by its conditional expectation given
 * the pair, which is zero where b1 and b2 agree:
 *
 *   ĝ_(a_i) = ½ (f1 − f2) · x1_i · [x1_i ≠ x2_i] · σ(|a_i|/s)/s      (logistic noise of scale s).
 *
 * For one unit the pair differs with probability 2σ(−|a|/s), which gives E[ĝ] = σ(a/s)σ(−a/s)/s ·
 * (f(+1) − f(−1)) = p(a)(f(+1) − f(−1)), the exact derivative. Unbiased, with a variance never
 * above ARM's (a Rao–Blackwellisation of it). This is its seed at the site's pre-activation, from
 * ARM's uniforms `u`, the state x = b1 and the two losses.
 */
export const disarmSeed = (
  s: Binarize, a: NDArray, x: NDArray, u: Float64Array, f: { readonly f1: Float64Array; readonly f2: Float64Array }, batch: number,
): Float64Array => {
  const F = noiseFns(s.noise).cdf
  const scale = s.noise.family === 'logistic' ? s.noise.scale : 1
  const weight = isWeight(s)
  const perUnit = x.data.length / (weight ? 1 : batch)
  const whole = weight ? mean(f.f1) - mean(f.f2) : 0
  return Float64Array.from(a.data, (v, i) => {
    const x1 = x.data[i]!
    const x2 = u[i]! < F(v) ? 1 : -1
    if (x1 === x2) return 0
    const diff = weight ? whole : (f.f1[Math.floor(i / perUnit)]! - f.f2[Math.floor(i / perUnit)]!) / batch
    return (0.5 * diff * x1 * F(Math.abs(v))) / scale
  })
}

/**
 * The score-function parts of the gradient interpreter: REINFORCE's score ∂ log P(x | a)/∂a and
 * ARM's two antithetic losses, plus the per-example objective both multiply.
 */
import type { Binarize, Checked, Network, Node } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { foldIn } from '../dsl/random.js'
import { topoOrder } from '../interpreters/algebra.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import { noiseFns } from '../interpreters/noise.js'
import type { Evaluation } from '../interpreters/reference/forward.js'
import { evaluate } from '../interpreters/reference/forward.js'

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
    const fresh = evaluate({ net, feed, batch, binarize: passRule(foldIn(foldIn(key, 0x41524d), 2 * k + stream)), kernels: ev.kernels }, [loss], cut)
    return objectivePerExample(loss, fresh, batch)
  }
  return { f1: run(x, 0), f2: run(b2, 1) }
}


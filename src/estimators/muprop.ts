/**
 * MuProp (Gu, Levine, Sutskever & Mnih 2016): REINFORCE with a control variate at every site k,
 * the first-order Taylor expansion of the objective around the mean-field value of that site:
 *
 *   h_k(x)   = the objective with site k set to x, the sites above it as drawn and the sites
 *              below it in mean-field mode (x = 2F(a) − 1),
 *   c_k(x)   = h_k(μ_k) + h_k′(μ_k)·(x − μ_k),   μ_k = 2F(a_k) − 1,
 *   ĝ_(a_k)  = (f − c_k(x_k)) · ∂ log P(x_k | a_k)/∂a_k  +  h_k′(μ_k) · 2p(a_k),
 *
 * plus the direct gradient of the output layer. E[c_k(x) ∂ log P] = h′(μ)·∂μ/∂a because c_k is
 * affine in x and h(μ), h′(μ) do not depend on x_k's own draw, so the correction restores exactly
 * what the control variate takes away: MuProp is unbiased, and its variance is small where the
 * objective is close to linear in x_k. Per example for activation sites; for a Bernoulli weight
 * (shared by the batch) f, h and c are batch means. Costs one mean-field pass below each site.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Node } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { topoOrder } from '../dsl/fold.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { NDArray } from '../interpreters/ndarray.js'
import { noiseFns, stFactor, stFactorTimes } from '../dsl/distributions.js'
import { backward, meanWeights } from '../interpreters/reference/backward.js'
import type { BinarizeRule } from '../interpreters/reference/forward.js'
import type { WholeContext, WholeDraw } from './pass.js'
import { cutAt, drawPass, objectiveSeeds, resultOf, run, seedSite, stopAtSites } from './pass.js'
import { objectivePerExample, score } from './score.js'
import { isWeight } from './sites.js'

/** Mean-field forward rule: x = 2F(a) − 1. */
const meanRule: BinarizeRule = (node, a) => {
  const F = noiseFns(node.noise).cdf
  return { shape: a.shape, data: Float64Array.from(a.data, (v) => 2 * F(v) - 1) }
}

/** The nodes that depend on `site` (excluding it). */
const below = (root: Node, site: Node): Set<Node> => {
  const out = new Set<Node>()
  for (const n of topoOrder([root])) if (children(n).some(([, ch]) => ch === site || out.has(ch))) out.add(n)
  return out
}

/**
 * The control variate of site `s` in the drawn pass: per example (or for the batch, for a
 * weight) c(x) − and h′(μ) per unit, from one mean-field pass below the site and its reverse pass.
 */
const controlVariate = (
  c: WholeContext, s: Binarize, down: ReadonlySet<Node>, ev: ReturnType<typeof drawPass>['ev'],
): { readonly cv: Float64Array; readonly slope: Float64Array } => {
  const B = c.batch
  const a = ev.values.get(s.input)!
  const x = ev.values.get(s)!
  const mu = meanRule(s, a)
  const e = run(c, meanRule, [c.root], cutAt(ev, down, s, mu))
  const h = objectivePerExample(c.root, e, B)
  // Reverse pass of the mean objective through the mean-field network (factor 2p(a) at each site below).
  const grads = backward(e, [c.root], objectiveSeeds(c, e, meanWeights(B)), (node, ai, _xo, g) => stFactorTimesNd(node, ai, g), e.order)
  const slope = grads.get(s)?.data ?? new Float64Array(x.data.length)
  const weight = isWeight(s)
  const per = x.data.length / (weight ? 1 : B)
  // Linear term Σ_i h′_i (x_i − μ_i): slope already carries 1/B (the mean), so per example multiply by B.
  const cv = weight ? Float64Array.of(h.reduce((t, v) => t + v, 0) / B) : h.slice()
  for (let i = 0; i < x.data.length; i++) {
    const lin = slope[i]! * (x.data[i]! - mu.data[i]!)
    if (weight) cv[0]! += lin
    else cv[Math.floor(i / per)]! += lin * B
  }
  return { cv, slope }
}

const stFactorTimesNd = (node: Binarize, a: NDArray, g: NDArray): NDArray => ({ shape: a.shape, data: stFactorTimes(node.noise, a.data, g.data) })

/** Prepares MuProp's draws. Every site needs a density (noise `none` has none). */
export const prepareMuprop = (c: WholeContext): E.Either<RunError, WholeDraw> => {
  for (const s of c.sites)
    if (s.noise.family === 'none')
      return E.left({ _tag: 'Unsupported', interpreter: 'muprop', what: `site "${s.site}" with noise "none"`, fix: 'MuProp needs a noise with a density at every site' })
  const downs = new Map(c.sites.map((s) => [s, below(c.root, s)] as const))
  const B = c.batch
  return E.right((key: Key) => {
    const { ev, ell } = drawPass(c, key)
    const meanLoss = ell.reduce((t, v) => t + v, 0) / B
    const at = new Map<Node, NDArray>()
    for (const s of c.sites) {
      const a = ev.values.get(s.input)!
      const x = ev.values.get(s)!
      const { cv, slope } = controlVariate(c, s, downs.get(s)!, ev)
      const sc = score(s, a, x)
      const factor = stFactor(s.noise)
      const weight = isWeight(s)
      const per = x.data.length / (weight ? 1 : B)
      seedSite(c, at, s, a, Float64Array.from(sc, (v, i) => {
        const diff = weight ? meanLoss - cv[0]! : (ell[Math.floor(i / per)]! - cv[Math.floor(i / per)]!) / B
        return diff * v + slope[i]! * factor(a.data[i]!)
      }))
    }
    return resultOf(c, ell, [backward(ev, [c.root], objectiveSeeds(c, ev, meanWeights(B), at), stopAtSites, c.order)])
  })
}

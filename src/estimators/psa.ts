/**
 * PSA, the path sample-analytic estimator (Shekhovtsov, Yanush & Flach 2020), as specified in
 * spec/PSA.md, for a chain of binary layers x⁰ → x¹ → … → x^L → output:
 *
 *   output layer:  Ê = ω₀ f(η) + Σ_i ω_i f(η_(|i)),  ω_i = (1 − π^L_i)/n_L,  ω₀ = 1 − Σ_i ω_i
 *   backward:      g^L_i = f(η_(|i)) − f(η);  δ^k_j = g^k_j · (−x^k_j p(a^k_j));
 *                  g^(k−1)_i = Σ_j g^k_j C^k_ji,  C^k_ji = −x^k_j [F(a^k_(j|i)) − F(a^k_j)].
 *
 * δ^k is seeded at the pre-activation a^k and back-propagated to layer k's parameters (the drawn
 * input, in whichever coding the layer reads it, gives the weight gradient); the output layer's
 * parameters get ω₀∇f(η) + Σ_i ω_i ∇f(η_(|i)). Flipped values are computed by re-evaluating the
 * segment between two sites with one unit of the earlier site flipped (in every example at once),
 * so any per-example layer works, dense or convolutional, ±1 or {0,1} coded; the cost is one
 * evaluation of layer k per unit of layer k − 1 (a convolution's flips are not made local).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Node } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { topoOrder } from '../dsl/fold.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { NDArray } from '../interpreters/ndarray.js'
import { noiseFns } from '../dsl/distributions.js'
import type { Evaluation } from '../interpreters/reference/forward.js'
import { backward } from '../interpreters/reference/backward.js'
import type { WholeContext, WholeDraw } from './pass.js'
import { cutAt, drawPass, noSiteRule, objectiveSeeds, resultOf, run, seedSite, stopAtSites } from './pass.js'
import { objectivePerExample } from './score.js'
import { isWeight } from './sites.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The chain PSA walks: its layers' sites and the nodes recomputed when a site's unit flips. */
export interface PsaChain {
  readonly sites: readonly Binarize[]
  /** segments[k]: the nodes between site k − 1 and a^k (empty for the first layer). */
  readonly segments: readonly ReadonlySet<Node>[]
  /** The nodes between the last site and the differentiated output. */
  readonly head: ReadonlySet<Node>
}

/** The terms of one draw, per layer k (row-major per example): for tests and inspection. */
export interface PsaTerms {
  readonly x: readonly Float64Array[]
  readonly a: readonly Float64Array[]
  /** g^k: the change of the objective per flip probability of unit j. */
  readonly g: readonly Float64Array[]
  /** δ^k = g^k · (−x^k p(a^k)), the seed at a^k (before the 1/batch of the mean). */
  readonly delta: readonly Float64Array[]
  /** C^k [batch, n_k, n_(k−1)] for k ≥ 2 (empty for the first layer). */
  readonly C: readonly Float64Array[]
  /** ω_i per example [batch, n_L], and ω₀ [batch]. */
  readonly omega: Float64Array
  readonly omega0: Float64Array
  /** f(η) per example, and f(η_(|i)) [batch, n_L]. */
  readonly f: Float64Array
  readonly fFlipped: Float64Array
}

// ---------------------------------------------------------------------------------------------
// Constructors: which networks PSA covers

const unsupported = (what: string, fix: string): E.Either<RunError, never> => E.left({ _tag: 'Unsupported', interpreter: 'psa', what, fix })

/** The sites reachable from `node` without crossing a site. */
const directSites = (node: Node): Set<Binarize> => {
  const out = new Set<Binarize>()
  const seen = new Set<Node>()
  const stack: Node[] = [node]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (seen.has(n)) continue
    seen.add(n)
    for (const [, child] of children(n)) {
      if (child._tag === 'Binarize') out.add(child)
      else stack.push(child)
    }
  }
  return out
}

/** The nodes below `top` that depend on `from` (excluding `from`). */
const between = (top: Node, from: Node): Set<Node> => {
  const out = new Set<Node>()
  for (const n of topoOrder([top])) if (children(n).some(([, ch]) => ch === from || out.has(ch))) out.add(n)
  return out
}

const name = (s: Binarize): string => `"${s.site}"`

/**
 * Recognises the chain, or says why PSA does not cover the network: Bernoulli weights (their
 * flips are not in the method), a site without a density (noise `none`), a layer reading two
 * sites or skipping one (not a chain), or a batch-norm in training mode between layers (it couples
 * the examples, so flipping one example's unit would change the others').
 */
export const psaChain = (c: WholeContext): E.Either<RunError, PsaChain> => {
  const sites = c.sites
  if (sites.length === 0) return unsupported('a network without binary layers', 'PSA needs at least one stochastic binary layer; the gradient is plain backprop there')
  for (const s of sites) {
    if (isWeight(s)) return unsupported(`site ${name(s)}: Bernoulli weights`, 'PSA covers binary activations with real weights; use st, reinforce or muprop for Bernoulli weights')
    if (s.noise.family === 'none') return unsupported(`site ${name(s)}: noise "none" (a deterministic sign)`, 'PSA needs a noise with a density p')
  }
  const reads = (node: Node, where: string, want: Binarize | undefined): E.Either<RunError, null> => {
    const got = [...directSites(node)]
    if (got.length === (want === undefined ? 0 : 1) && (want === undefined || got[0] === want)) return E.right(null)
    return unsupported(
      `${where} reads ${got.length === 0 ? 'no binary layer' : got.map(name).join(' and ')}`,
      `PSA covers chains: each layer reads only the previous binary layer${want === undefined ? '' : ` (${name(want)})`}, and the output only the last one`,
    )
  }
  const segments: Set<Node>[] = []
  for (const [k, s] of sites.entries()) {
    const prev = k === 0 ? undefined : sites[k - 1]!
    const r = reads(s.input, `the layer of site ${name(s)}`, prev)
    if (E.isLeft(r)) return r
    segments.push(prev === undefined ? new Set() : between(s.input, prev))
  }
  const last = sites[sites.length - 1]!
  const r = reads(c.root, 'the output', last)
  if (E.isLeft(r)) return r
  const head = between(c.root, last)
  for (const seg of [...segments, head])
    for (const n of seg)
      if (n._tag === 'BatchNorm' && n.mode === 'train')
        return unsupported(`a batch norm in training mode${n.label === undefined ? '' : ` (${n.label})`} after a binary layer`, 'it couples the examples of a batch; use its inference mode or st')
  return E.right({ sites, segments, head })
}

// ---------------------------------------------------------------------------------------------
// Rules

/** `v` with unit i of every example negated (units per example `per`). */
const flipped = (v: NDArray, i: number, per: number): NDArray => {
  const data = v.data.slice()
  for (let o = i; o < data.length; o += per) data[o] = -data[o]!
  return { shape: v.shape, data }
}

/** The PSA terms of the drawn pass `ev`, plus the evaluations of the output with one flip each. */
export const psaTerms = (c: WholeContext, chain: PsaChain, ev: Evaluation, f: Float64Array): { readonly terms: PsaTerms; readonly heads: readonly Evaluation[] } => {
  const B = c.batch
  const L = chain.sites.length
  const xs = chain.sites.map((s) => ev.values.get(s)!)
  const as = chain.sites.map((s) => ev.values.get(s.input)!.data)
  const per = xs.map((x) => x.data.length / B)
  const last = chain.sites[L - 1]!
  const nL = per[L - 1]!
  // Output layer: one evaluation of the head per flipped unit of the last layer.
  const heads: Evaluation[] = []
  const fFlipped = new Float64Array(B * nL)
  for (let i = 0; i < nL; i++) {
    const e = run(c, noSiteRule, [c.root], cutAt(ev, chain.head, last, flipped(xs[L - 1]!, i, nL)))
    heads.push(e)
    const fi = objectivePerExample(c.root, e, B)
    for (let n = 0; n < B; n++) fFlipped[n * nL + i] = fi[n]!
  }
  const FL = noiseFns(last.noise).cdf
  const omega = Float64Array.from(fFlipped, (_, o) => FL(-xs[L - 1]!.data[o]! * as[L - 1]![o]!) / nL)
  const omega0 = Float64Array.from({ length: B }, (_, n) => 1 - omega.subarray(n * nL, (n + 1) * nL).reduce((s, w) => s + w, 0))
  const g: Float64Array[] = new Array<Float64Array>(L)
  const delta: Float64Array[] = new Array<Float64Array>(L)
  const C: Float64Array[] = new Array<Float64Array>(L).fill(new Float64Array(0))
  g[L - 1] = Float64Array.from(fFlipped, (v, o) => v - f[Math.floor(o / nL)]!)
  for (let k = L - 1; k >= 0; k--) {
    const s = chain.sites[k]!
    const { cdf: F, pdf: p } = noiseFns(s.noise)
    const x = xs[k]!.data
    const a = as[k]!
    const gk = g[k]!
    delta[k] = Float64Array.from(gk, (v, o) => v * -x[o]! * p(a[o]!))
    if (k === 0) break
    // g^(k−1)_i = Σ_j g^k_j C^k_ji, with a^k_(j|i) from re-evaluating layer k with unit i of x^(k−1) flipped.
    const nk = per[k]!
    const np = per[k - 1]!
    const Ck = new Float64Array(B * nk * np)
    const gp = new Float64Array(B * np)
    for (let i = 0; i < np; i++) {
      const e = run(c, noSiteRule, [s.input], cutAt(ev, chain.segments[k]!, chain.sites[k - 1]!, flipped(xs[k - 1]!, i, np)))
      const af = e.values.get(s.input)!.data
      for (let n = 0; n < B; n++)
        for (let j = 0; j < nk; j++) {
          const o = n * nk + j
          const cji = -x[o]! * (F(af[o]!) - F(a[o]!))
          Ck[o * np + i] = cji
          gp[n * np + i]! += gk[o]! * cji
        }
    }
    C[k] = Ck
    g[k - 1] = gp
  }
  return { terms: { x: xs.map((v) => v.data), a: as, g, delta, C, omega, omega0, f, fFlipped }, heads }
}

/** Prepares PSA's draws for the chain of `c` (or the reason it does not cover the network). */
export const preparePsa = (c: WholeContext): E.Either<RunError, WholeDraw> => {
  const chainE = psaChain(c)
  if (E.isLeft(chainE)) return chainE
  const chain = chainE.right
  const B = c.batch
  return E.right((key: Key) => {
    const { ev, ell } = drawPass(c, key)
    const { terms, heads } = psaTerms(c, chain, ev, ell)
    const at = new Map<Node, NDArray>()
    chain.sites.forEach((s, k) => seedSite(c, at, s, ev.values.get(s.input)!, terms.delta[k]!.map((v) => v / B)))
    const passes = [backward(ev, [c.root], objectiveSeeds(c, ev, terms.omega0.map((w) => w / B), at), stopAtSites, c.order)]
    const nL = terms.omega.length / B
    heads.forEach((e, i) => {
      const w = Float64Array.from({ length: B }, (_, n) => terms.omega[n * nL + i]! / B)
      passes.push(backward(e, [c.root], objectiveSeeds(c, e, w), stopAtSites, e.order))
    })
    return resultOf(c, ell, passes)
  })
}

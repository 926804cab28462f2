/**
 * What the whole-network estimators (PSA, MuProp, REINFORCE leave-one-out) share: the prepared
 * context of one network and batch, the ancestral forward pass drawn exactly as ST draws it (so
 * a `BitSource` that forces states for ST forces them here too), the loss seeds of a reverse pass
 * with per-example weights, the seed of a site's pre-activation, and the assembled result.
 */
import type { Binarize, Checked, Loss, Network, Node } from '../dsl/node.js'
import { InternalError } from '../dsl/dslErrors.js'
import type { Key } from '../dsl/random.js'
import type { ParamGrads } from '../interpreters/reference/grads.js'
import { addParamGrads, zeroGrads } from '../interpreters/reference/grads.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import type { Seeds } from '../interpreters/reference/backward.js'
import type { BinarizeRule, Evaluation } from '../interpreters/reference/forward.js'
import { evaluate } from '../interpreters/reference/forward.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import type { LatentRule } from './estimator.js'
import type { GradientResult } from './result.js'
import { objectivePerExample } from './score.js'
import type { BitSource } from './sites.js'
import { isWeight, sampleWith, toMirror } from './sites.js'

// ---------------------------------------------------------------------------------------------
// Model

/** One network, batch and configuration, checked once by `prepareGradient`. */
export interface WholeContext {
  readonly net: Checked<Network>
  readonly feed: Feed
  readonly batch: number
  /** What is differentiated: the loss, or an output summed per example. */
  readonly root: Node
  readonly loss: Loss
  /** Every binarize site below `root`, in evaluation order. */
  readonly sites: readonly Binarize[]
  readonly order: readonly Node[]
  readonly latent: LatentRule
  readonly source: BitSource
  readonly products: MatrixProducts | undefined
  readonly shapes: Readonly<Record<string, readonly number[]>>
  readonly estimators: Readonly<Record<string, string>>
}

/** What one draw returns (the fields of `GradientResult`; whole-network passes keep no batch statistics). */
export type WholeResult = Omit<GradientResult, 'batchStats'> & { readonly batchStats: Readonly<Record<string, never>> }

/** A prepared whole-network estimator: one draw per key (a running-mean baseline is not used). */
export type WholeDraw = (key: Key) => WholeResult

// ---------------------------------------------------------------------------------------------
// Forward

/** The sampling rule of ST's forward pass: x = +1 iff u < T(F(a)), u read from `source`. */
export const samplingRule = (c: WholeContext, pass: Key): BinarizeRule => (node, a) =>
  sampleWith(node.noise, a, c.source(pass, node.site, a.data.length))

/** A rule for segments that contain no binarize site (reaching one is our bug). */
export const noSiteRule: BinarizeRule = (node) => {
  throw new InternalError(`a deterministic segment reached site ${node.site}`)
}

/** Evaluates `roots` with `rule` at the sites, nodes of `cut` fixed. */
export const run = (c: WholeContext, rule: BinarizeRule, roots: readonly Node[] = [c.root], cut?: ReadonlyMap<Node, NDArray>): Evaluation =>
  evaluate({ net: c.net, feed: c.feed, batch: c.batch, binarize: rule, ...(c.products === undefined ? {} : { products: c.products }) }, roots, cut)

/** The ancestral sample of one pass and its per-example objective. */
export const drawPass = (c: WholeContext, pass: Key): { readonly ev: Evaluation; readonly ell: Float64Array } => {
  const ev = run(c, samplingRule(c, pass), [c.root], new Map())
  return { ev, ell: objectivePerExample(c.root, ev, c.batch) }
}

/** The base values of `ev` with the nodes of `redo` removed and `site` set to `value`: a cut. */
export const cutAt = (ev: Evaluation, redo: ReadonlySet<Node>, site: Node, value: NDArray): Map<Node, NDArray> => {
  const cut = new Map<Node, NDArray>()
  for (const [n, v] of ev.values) if (!redo.has(n)) cut.set(n, v)
  cut.set(site, value)
  return cut
}

// ---------------------------------------------------------------------------------------------
// Reverse

/** Seeds of Σ_n w_n · objective_n: the loss weighted per example, or the output's rows. */
export const objectiveSeeds = (c: WholeContext, ev: Evaluation, w: Float64Array, at: Map<Node, NDArray> = new Map()): Seeds => {
  if (c.root === c.loss) return { loss: new Map([[c.loss as Node, w]]), at }
  const v = ev.values.get(c.root)!
  const per = v.data.length / c.batch
  const data = Float64Array.from(v.data, (_, i) => w[Math.floor(i / per)]!)
  const prev = at.get(c.root)
  if (prev !== undefined) for (let i = 0; i < data.length; i++) data[i]! += prev.data[i]!
  return { at: new Map([...at, [c.root, { shape: v.shape, data }]]) }
}

/**
 * Puts a gradient with respect to a site's pre-activation into `at`; a Bernoulli weight's
 * gradient with respect to η is converted to the mirror direction when the latent rule says so.
 */
export const seedSite = (c: WholeContext, at: Map<Node, NDArray>, s: Binarize, a: NDArray, data: Float64Array): void => {
  const g = { shape: a.shape, data }
  const v = isWeight(s) && c.latent === 'mirror' ? toMirror(s, a, g) : g
  const prev = at.get(s.input)
  if (prev === undefined) at.set(s.input, v)
  else for (let i = 0; i < v.data.length; i++) prev.data[i]! += v.data[i]!
}

/** Site rule of the reverse passes: no pathwise gradient crosses a site (terms are seeded). */
export const stopAtSites = (): undefined => undefined

/** The result from the objective of the differentiated pass and the reverse passes' gradients. */
export const resultOf = (c: WholeContext, ell: Float64Array, passes: readonly ReadonlyMap<Node, NDArray>[], scale = 1): WholeResult => {
  const grad: ParamGrads = zeroGrads(c.net)
  for (const g of passes) addParamGrads(grad, g)
  if (scale !== 1) for (const v of Object.values(grad)) for (let i = 0; i < v.length; i++) v[i]! *= scale
  const loss = ell.reduce((a, b) => a + b, 0) / c.batch
  return { loss, perExample: ell, grad, shapes: c.shapes, latent: c.latent, estimators: c.estimators, batchStats: {} }
}


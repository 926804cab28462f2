/**
 * The gradient interpreter of per-site estimators: one forward pass drawn with a key, then one
 * reverse pass whose rule at each binarize site comes from that site's estimator; every other
 * primitive uses the shared reverse rules of `interpreters/reference/backward.ts`. Score-function
 * estimators (REINFORCE, ARM) add their terms as seeds at the sites' inputs. Returns a gradient
 * for every parameter, in the parameter's row-major order and shape. `gradient.ts` chooses
 * between this, the whole-network procedures (`whole.ts`) and the exact gradient (`oracle.ts`).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Checked, Loss, Network, Node } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import { unreachable } from '../dsl/dslErrors.js'
import { sizeOf } from '../dsl/shape.js'
import type { Key } from '../dsl/random.js'
import { foldIn, siteKey } from '../dsl/random.js'
import type { ProperNoise } from '../dsl/noise.js'
import { topoOrder } from '../dsl/fold.js'
import { bind } from '../interpreters/bind.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { ParamGrads } from '../interpreters/reference/grads.js'
import { zeroGrads } from '../interpreters/reference/grads.js'
import { lossOutput } from '../interpreters/outputs.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import { sliceFeed } from '../interpreters/ndarray.js'
import { backward, meanWeights } from '../interpreters/reference/backward.js'
import type { Evaluation } from '../interpreters/reference/forward.js'
import type { MatrixProducts, RowParts } from '../interpreters/reference/ops.js'
import { evaluate } from '../interpreters/reference/forward.js'
import type { Estimator, LatentRule } from './estimator.js'
import { isWholeNetwork, st } from './estimator.js'
import type { BitSource } from './sites.js'
import { backwardSite, forwardSite, isWeight, keyedSource, toMirror } from './sites.js'
import { armLosses, disarmSeed, mean, objectivePerExample, score } from './score.js'
import type { GradientResult, PreparedGradient } from './result.js'
import { shapesOf } from './result.js'

export interface GradientOptions {
  readonly key: Key
  /** Estimator of activation sites (default principled `st()`). */
  readonly estimator?: Estimator
  /** Estimator of weight sites (default `st()`). */
  readonly weights?: Estimator
  /** Per-site overrides, by site id. */
  readonly sites?: Readonly<Record<string, Estimator>>
  /** How weight gradients reach latent parameters (default `mirror`). */
  readonly latent?: LatentRule
  /** Bernoulli weights drawn once per pass (default), once per example, or the mode sign(η). */
  readonly weightSampling?: 'per-pass' | 'per-example' | 'mode'
  /** REINFORCE baseline subtracted from the loss (e.g. a running mean kept by the caller). */
  readonly baseline?: number
  /** Where draws come from (default: the keyed PRNG). Tests enumerate randomness through it. */
  readonly source?: BitSource
  /** Matrix-product kernels for the passes (default: the float64 reference loops). */
  readonly products?: MatrixProducts
  /**
   * Differentiate the batch mean of this output (summed over its per-example elements) instead
   * of the loss, e.g. a linear head η for the laws of MATH.md §6.
   */
  readonly output?: string
}

const sitesOf = (root: Node): Binarize[] => topoOrder([root]).filter((n): n is Binarize => n._tag === 'Binarize')

/** What `configureSites` checked once: the differentiated root, its sites and each site's estimator. */
export interface SiteConfig {
  readonly loss: Loss
  readonly root: Node
  readonly batch: number
  readonly latent: LatentRule
  readonly sites: readonly Binarize[]
  readonly estOf: (s: Binarize) => Estimator
  /** The estimator label of each site. */
  readonly estimators: Readonly<Record<string, string>>
  readonly shapes: Readonly<Record<string, readonly number[]>>
}

/**
 * Checks the data, the differentiated output and each site's estimator once (also for the exact
 * gradient, which `gradient.ts` then hands to `oracle.ts`).
 */
export const configureSites = (
  net: Checked<Network>, feed: Feed, opts: Omit<GradientOptions, 'key' | 'baseline'>,
): E.Either<RunError, SiteConfig> => {
  const lossE = lossOutput(net)
  if (E.isLeft(lossE)) return lossE
  const loss = lossE.right
  const boundE = bind(net, feed, [loss])
  if (E.isLeft(boundE)) return boundE
  const latent = opts.latent ?? 'mirror'
  if (opts.output !== undefined && net.outputs[opts.output] === undefined)
    return E.left({ _tag: 'MissingOutput', name: opts.output, expected: 'the output to differentiate', available: Object.keys(net.outputs) })
  const root: Node = opts.output === undefined ? loss : net.outputs[opts.output]!
  const sites = sitesOf(root)
  // Own keys only: a site named "__proto__" or "constructor" is an ordinary site id.
  const estOf = (s: Binarize): Estimator => (opts.sites !== undefined && Object.hasOwn(opts.sites, s.site) ? opts.sites[s.site] : undefined) ?? (isWeight(s) ? opts.weights : opts.estimator) ?? st()
  const estimators = Object.fromEntries(sites.map((s) => [s.site, opts.estimator?.kind === 'exact' ? 'exact' : estOf(s).label]))
  for (const s of sites) {
    const k = estOf(s).kind
    if ((k === 'arm' || k === 'disarm') && s.noise.family !== 'logistic')
      return E.left({ _tag: 'Unsupported', interpreter: k, what: `site ${s.site} with ${s.noise.family} noise`, fix: `${k === 'arm' ? 'ARM' : 'DisARM'} needs logistic noise; use reinforce or st there` })
    if (k !== 'exact' && isWholeNetwork(estOf(s)))
      return E.left({ _tag: 'Unsupported', interpreter: 'gradient', what: `${estOf(s).label} at a single site (${s.site})`, fix: `${estOf(s).label} treats the whole network: pass it as the estimator of the network` })
    if (k === 'exact' && opts.estimator?.kind !== 'exact')
      return E.left({ _tag: 'Unsupported', interpreter: 'gradient', what: `the exact estimator at a single site (${s.site})`, fix: 'use exactGradient() as the estimator of the whole network' })
  }
  return E.right({ loss, root, batch: boundE.right.batch, latent, sites, estOf, estimators, shapes: shapesOf(net, loss) })
}

/**
 * The draw function of the per-site estimators for a configuration `configureSites` checked (the
 * lab and the trainer call it thousands of times).
 */
export const prepareSites = (
  net: Checked<Network>, feed: Feed, opts: Omit<GradientOptions, 'key' | 'baseline'>, c: SiteConfig,
): E.Either<RunError, PreparedGradient> => {
  const { loss, root, batch, latent, sites, estOf, estimators, shapes } = c
  if (opts.estimator?.kind === 'exact') return unreachable('the exact gradient is prepared by oracle.ts, not by the per-site passes')
  if (opts.weightSampling === 'per-example' && batch > 1) {
    // Each example draws its own weights: one pass per example, gradients averaged.
    const perRow: PreparedGradient[] = []
    for (let n = 0; n < batch; n++) {
      const rowFeed = sliceFeed(feed, n, n + 1)
      const rowOpts = { ...opts, weightSampling: 'per-pass' } as const
      const r = E.chain((rc: SiteConfig) => prepareSites(net, rowFeed, rowOpts, rc))(configureSites(net, rowFeed, rowOpts))
      if (E.isLeft(r)) return r
      perRow.push(r.right)
    }
    return E.right((key, baseline) => {
      const grad = zeroGrads(net)
      const perExample = new Float64Array(batch)
      perRow.forEach((run, n) => {
        const r = run(foldIn(key, n), baseline)
        for (const [name, g] of Object.entries(r.grad)) for (let i = 0; i < g.length; i++) grad[name]![i]! += g[i]! / batch
        perExample[n] = r.loss
      })
      return { loss: perExample.reduce((a, b) => a + b, 0) / batch, perExample, grad, shapes, latent, estimators, batchStats: {} }
    })
  }
  const source = opts.source ?? keyedSource
  const weightMode = opts.weightSampling === 'mode'
  const order = topoOrder([root])
  const skip = (s: Binarize): boolean => s.noise.family === 'none' || (weightMode && isWeight(s))
  // Sites whose forward pass is exactly the sampling rule on the keyed draws: the kernels' sampler may take them.
  const fastSigns = opts.source === undefined ? opts.products?.signs : undefined
  const samples = (s: Binarize): boolean => {
    const e = estOf(s)
    return !skip(s) && ((e.kind === 'st' && e.forward === 'sample') || e.kind === 'reinforce')
  }
  // A pass over some parts of a minibatch (data parallelism): sums over the batch cover all parts,
  // the mean is over all rows, and an activation site's draws start at the pass's first row.
  const rows0 = opts.products?.rows
  // Gradient sums over parts that nothing reads before the pass returns may be completed at its
  // end, all at one meeting of the passes (RowParts.later): those of a parameter, and of a weight
  // site whose reverse rule hands its gradient on unread to its parameter, each used once.
  const rows = rows0?.later === undefined ? rows0 : { ...rows0, deferrable: deferrableOf(order, latent, (s) => skip(s) || ['st', 'meanfield'].includes(estOf(s).kind)) }
  const products = rows === rows0 ? opts.products : { ...opts.products!, rows: rows! }
  const total = rows?.batch ?? batch
  // The weight sites on parameters of a pass over some parts: drawn before the forward pass, every
  // pass its share of each, at one meeting of the passes (RowParts.spreads) instead of one each.
  const early = fastSigns !== undefined && rows?.spreads !== undefined ? sites.filter((s) => isWeight(s) && samples(s) && s.input._tag === 'Param') : []
  // With no score-function site nothing reads the loss before the reverse pass: the per-example
  // losses are then gathered with the gradients' deferred sums (one meeting of the passes fewer).
  const lateLoss = rows?.later !== undefined && rows.settle !== undefined && rows.allRanges !== undefined &&
    !sites.some((s) => !skip(s) && ['reinforce', 'arm', 'disarm'].includes(estOf(s).kind))
  /** This pass's share of each of `early`'s draws into the spread's memory, or undefined where they do not fit. */
  const drawEarly = (key: Key): ReadonlyMap<Binarize, Float64Array> | undefined => {
    const got = rows!.spreads!(early.map((s) => {
      const a = net.params[(s.input as { readonly name: string }).name]!
      const k = siteKey(key, s.site)
      return {
        n: a.length,
        // This pass's share, straight into the spread's memory.
        fill: (lo: number, hi: number, out: Float64Array) => void fastSigns!(s.noise as ProperNoise, a.subarray(lo, hi), k, lo, out),
      }
    }))
    return got === undefined ? undefined : new Map(early.map((s, i) => [s, got[i]!]))
  }
  const drawAt = (node: Binarize): number => (rows === undefined || isWeight(node) ? 0 : rows.first * sizeOf(node.type.shape))
  const draw: PreparedGradient = (key, baseline = 0) => {
    // Forward: each site by its estimator; ARM keeps its uniforms.
    const uniforms = new Map<Binarize, Float64Array>()
    const drawn = early.length === 0 ? undefined : drawEarly(key)
    const passRule = (pass: Key) => (node: Binarize, a: NDArray): NDArray => {
      if (fastSigns !== undefined && samples(node)) {
        const noise = node.noise as ProperNoise
        const k = siteKey(pass, node.site)
        const pre = pass === key ? drawn?.get(node) : undefined
        if (pre !== undefined) return { shape: a.shape, data: pre }
        // A weight site's draws are the same in every pass of the minibatch: the passes share the work.
        if (rows?.spread !== undefined && isWeight(node))
          return {
            shape: a.shape,
            // This pass's share, straight into the spread's memory.
            data: rows.spread(a.data.length, (lo, hi, out) => void fastSigns(noise, a.data.subarray(lo, hi), k, lo, out)),
          }
        return { shape: a.shape, data: fastSigns(noise, a.data, k, drawAt(node)) }
      }
      const r = forwardSite(estOf(node), node, a, source(pass, node.site, a.data.length, drawAt(node)), weightMode && isWeight(node))
      if (r.u !== undefined && pass === key) uniforms.set(node, r.u)
      return r.x
    }
    const ev = evaluate({ net, feed, batch, binarize: passRule(key), ...(products === undefined ? {} : { products }) }, [root], new Map(), order)
    const own = objectivePerExample(root, ev, batch)
    const ell = rows === undefined ? own : gatherRows(own, rows, lateLoss)
    // The mean loss from the gathered rows when the parts are known: the sum's own arithmetic, one meeting of the passes fewer.
    const lossOf = (): number => rows === undefined ? ell.reduce((a, b) => a + b, 0) / batch : (rows.allRanges === undefined ? sumRows(own, rows) : sumParts(ell, rows.allRanges)) / total
    // (Late: known after `settle`; no seed below reads it then.)
    let meanLoss = lateLoss ? NaN : lossOf()
    const at = new Map<Node, NDArray>()
    const seed = (node: Binarize, data: Float64Array): void => {
      const a = ev.values.get(node.input)!
      const g = { shape: a.shape, data }
      at.set(node.input, isWeight(node) && latent === 'mirror' ? toMirror(node, a, g) : g)
    }
    for (const [k, s] of sites.entries()) {
      if (skip(s)) continue
      const est = estOf(s)
      const a = ev.values.get(s.input)!
      const x = ev.values.get(s)!
      const perUnit = isWeight(s) ? 1 : sizeOf(s.type.shape)
      if (est.kind === 'reinforce') {
        const sc = score(s, a, x)
        seed(s, Float64Array.from(sc, (v, i) => (isWeight(s) ? meanLoss - baseline : (own[Math.floor(i / perUnit)]! - baseline) / total) * v))
      } else if (est.kind === 'disarm') {
        seed(s, disarmSeed(s, a, x, uniforms.get(s)!, armLosses(net, feed, batch, root, ev, s, x, uniforms.get(s)!, passRule, key, k), batch))
      } else if (est.kind === 'arm') {
        const f = armLosses(net, feed, batch, root, ev, s, x, uniforms.get(s)!, passRule, key, k)
        const scale = s.noise.family === 'logistic' ? s.noise.scale : 1
        seed(s, Float64Array.from(uniforms.get(s)!, (v, i) => {
          const n = isWeight(s) ? -1 : Math.floor(i / perUnit)
          const diff = n < 0 ? mean(f.f1) - mean(f.f2) : (f.f1[n]! - f.f2[n]!) / batch
          return (diff * (v - 0.5)) / scale
        }))
      }
    }
    if (root !== loss) {
      const v = ev.values.get(root)!
      at.set(root, { shape: v.shape, data: new Float64Array(v.data.length).fill(1 / total) })
    }
    const lossSeeds = root === loss ? new Map([[loss as Node, new Float64Array(batch).fill(1 / total)]]) : new Map<Node, Float64Array>()
    const grads = backward(ev, [root], { loss: lossSeeds, at }, (node, a, x, g) =>
      skip(node) && isWeight(node)
        ? latent === 'mirror' ? g : backwardSite(estOf(node).kind === 'st' ? estOf(node) : st(), node, a, x, g, latent)
        : backwardSite(estOf(node), node, a, x, g, latent, uniforms.get(node), opts.products),
    order)
    rows?.settle?.()
    if (lateLoss) meanLoss = lossOf()
    const grad = paramGradsOf(net, feed, ev, grads)
    const batchStats = batchStatsOf(ev)
    opts.products?.release?.(temporaries(ev, grads, [...Object.values(net.params), ...Object.values(feed).map((v) => v.data), ...Object.values(grad), own]))
    return { loss: meanLoss, perExample: ell, grad, shapes, latent, estimators, batchStats }
  }
  return E.right(draw)
}

/**
 * The nodes whose gradient is only returned (RowParts.deferrable): parameters used once, and
 * weight sites used once, on a parameter used once, whose reverse rule passes the gradient on
 * unchanged (`passes`, under the `mirror` latent rule).
 */
const deferrableOf = (order: readonly Node[], latent: LatentRule, passes: (s: Binarize) => boolean): ReadonlySet<Node> => {
  const uses = new Map<Node, number>()
  for (const n of order) for (const [, c] of children(n)) uses.set(c, (uses.get(c) ?? 0) + 1)
  // A parameter named by two nodes has its gradients added after `settle` (paramGradsOf): not deferred.
  const names = new Map<string, number>()
  for (const n of order) if (n._tag === 'Param') names.set(n.name, (names.get(n.name) ?? 0) + 1)
  const once = (n: Node): boolean => uses.get(n) === 1 && (n._tag !== 'Param' || names.get(n.name) === 1)
  return new Set(order.filter((n) =>
    (n._tag === 'Param' && once(n)) ||
    (n._tag === 'Binarize' && latent === 'mirror' && isWeight(n) && once(n) && n.input._tag === 'Param' && once(n.input) && passes(n))))
}

/** Σ of the rows' values over the whole minibatch: per part in row order, the parts in part order. */
const sumRows = (own: Float64Array, rows: RowParts): number =>
  rows.sum(1, (lo, hi, out) => {
    let s = 0
    for (let i = lo; i < hi; i++) s += own[i]!
    out[0] = s
  })[0]!

/** `sumRows` computed from all the minibatch's rows (`gatherRows`): each part's sum in row order, then the parts in part order. */
const sumParts = (all: Float64Array, ranges: readonly (readonly [number, number])[]): number => {
  let total = 0
  for (const [p, [lo, hi]] of ranges.entries()) {
    let s = 0
    for (let i = lo; i < hi; i++) s += all[i]!
    total = p === 0 ? s : total + s
  }
  return total
}

/** The rows' values of the whole minibatch, in row order (each part writes its own; the others add zeros); `late`: completed by `settle`. */
const gatherRows = (own: Float64Array, rows: RowParts, late = false): Float64Array =>
  (late ? rows.later! : rows.sum)(rows.batch, (lo, hi, out) => out.set(own.subarray(lo, hi), rows.first + lo), false, true)

/**
 * Each parameter's gradient (zeros where none reaches it), in `net.params` order, summed when a
 * parameter appears twice. A gradient array the reverse pass made is handed over as it is (the
 * pass and its temporaries end here, so nothing else holds it); it is copied only where it could
 * be shared with something the caller sees: a parameter's or an input's data, a batch statistic,
 * or another parameter's gradient.
 */
const paramGradsOf = (net: Checked<Network>, feed: Feed, ev: Evaluation, grads: ReadonlyMap<Node, NDArray>): ParamGrads => {
  const seen = new Set<Float64Array>([...Object.values(net.params), ...Object.values(feed).map((v) => v.data)])
  for (const st of ev.bnStats.values()) seen.add(st.mean.data).add(st.variance.data)
  const found = new Map<string, Float64Array>()
  for (const [node, g] of grads) {
    if (node._tag !== 'Param') continue
    const prev = found.get(node.name)
    if (prev !== undefined) {
      // A total of data-parallel sums is shared by the passes (train/parallel/rows.ts): add into a copy.
      const into = typeof SharedArrayBuffer !== 'undefined' && prev.buffer instanceof SharedArrayBuffer ? prev.slice() : prev
      for (let i = 0; i < into.length; i++) into[i]! += g.data[i]!
      found.set(node.name, into)
    } else {
      const own = seen.has(g.data) ? g.data.slice() : g.data
      seen.add(own)
      found.set(node.name, own)
    }
  }
  return Object.fromEntries(Object.entries(net.params).map(([name, v]) => [name, found.get(name) ?? new Float64Array(v.length)]))
}

/**
 * The arrays of a pass (forward values and reverse gradients) that die with it: every one that
 * shares no memory with what outlives the pass (`kept`: the parameters, the inputs, the returned
 * gradients and losses, and the batch statistics, added here). The products may reuse them.
 */
const temporaries = (ev: Evaluation, grads: ReadonlyMap<Node, NDArray>, kept: readonly Float64Array[]): Float64Array[] => {
  const live = new Set<ArrayBufferLike>(kept.map((a) => a.buffer))
  for (const st of ev.bnStats.values()) live.add(st.mean.data.buffer).add(st.variance.data.buffer)
  const out = new Set<Float64Array>()
  for (const v of [...ev.values.values(), ...grads.values()]) if (!live.has(v.data.buffer)) out.add(v.data)
  return [...out]
}

const batchStatsOf = (ev: Evaluation): GradientResult['batchStats'] => {
  const out: Record<string, GradientResult['batchStats'][string]> = {}
  for (const [node, st] of ev.bnStats)
    if (node._tag === 'BatchNorm' && node.mode === 'train' && node.runningMean._tag === 'Param' && node.runningVar._tag === 'Param')
      out[node.runningMean.name] = { varName: node.runningVar.name, momentum: node.momentum, mean: st.mean.data, variance: st.variance.data }
  return out
}

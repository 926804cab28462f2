/**
 * The whole-network estimators (PSA, MuProp, REINFORCE leave-one-out): unlike ST or ARM they are
 * not a rule per site but one procedure over the network, so `prepareGradient` hands them the
 * network here. This module checks what they share (the data, the differentiated output, how
 * Bernoulli weights are drawn) and builds the context each one prepares its draws from.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Checked, Network, Node } from '../dsl/node.js'
import { concreteShape } from '../dsl/shape.js'
import { topoOrder } from '../dsl/fold.js'
import { bind } from '../interpreters/bind.js'
import type { RunError } from '../interpreters/runErrors.js'
import { lossOutput } from '../interpreters/outputs.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { Estimator, LatentRule } from './estimator.js'
import { prepareLoo } from './loo.js'
import { prepareMuprop } from './muprop.js'
import type { WholeContext, WholeDraw } from './pass.js'
import { preparePsa } from './psa.js'
import type { BitSource } from './sites.js'
import { keyedSource } from './sites.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'

/** The options of `GradientOptions` that whole-network estimators read. */
export interface WholeOptions {
  readonly latent?: LatentRule
  readonly weightSampling?: 'per-pass' | 'per-example' | 'mode'
  readonly source?: BitSource
  readonly products?: MatrixProducts
  readonly output?: string
  /** Per-site overrides: refused, a whole-network estimator has no per-site rule to override. */
  readonly sites?: Readonly<Record<string, Estimator>>
}

/** Checks the inputs once and builds the context of a whole-network estimator labelled `label`. */
export const wholeContext = (
  net: Checked<Network>, feed: Feed, opts: WholeOptions, label: string,
): E.Either<RunError, WholeContext> => {
  const lossE = lossOutput(net)
  if (E.isLeft(lossE)) return lossE
  const loss = lossE.right
  const boundE = bind(net, feed, [loss])
  if (E.isLeft(boundE)) return boundE
  if (opts.output !== undefined && net.outputs[opts.output] === undefined)
    return E.left({ _tag: 'MissingOutput', name: opts.output, expected: 'the output to differentiate', available: Object.keys(net.outputs) })
  if (opts.weightSampling !== undefined && opts.weightSampling !== 'per-pass')
    return E.left({
      _tag: 'Unsupported', interpreter: label, what: `Bernoulli weights drawn ${opts.weightSampling === 'mode' ? 'as their mode' : 'per example'}`,
      fix: 'whole-network estimators draw the weights once per pass (weightSampling: per-pass)',
    })
  const overridden = Object.keys(opts.sites ?? {})
  if (overridden.length > 0)
    return E.left({
      _tag: 'Unsupported', interpreter: label, what: `per-site estimators (${overridden.join(', ')})`,
      fix: `${label} treats every site of the network by its own rule; drop the per-site choice or use a per-site estimator (st, reinforce, arm, disarm, …) as the network's`,
    })
  const root: Node = opts.output === undefined ? loss : net.outputs[opts.output]!
  const order = topoOrder([root])
  const sites = order.filter((n): n is Binarize => n._tag === 'Binarize')
  const shapes = Object.fromEntries(
    topoOrder([loss]).flatMap((n) => (n._tag === 'Param' ? [[n.name, concreteShape(n.type.shape, 1)] as const] : [])),
  )
  return E.right({
    net, feed, batch: boundE.right.batch, root, loss, sites, order, latent: opts.latent ?? 'mirror', source: opts.source ?? keyedSource,
    products: opts.products, shapes, estimators: Object.fromEntries(sites.map((s) => [s.site, label])),
  })
}

/** Prepares the draws of a whole-network estimator (`exact` is `oracle.ts`, chosen by `gradient.ts`). */
export const prepareWhole = (
  net: Checked<Network>, feed: Feed, est: Estimator, opts: WholeOptions,
): E.Either<RunError, WholeDraw> => {
  const c = wholeContext(net, feed, opts, est.label)
  if (E.isLeft(c)) return c
  switch (est.kind) {
    case 'psa':
      return preparePsa(c.right)
    case 'muprop':
      return prepareMuprop(c.right)
    case 'reinforce-loo':
      return prepareLoo(c.right, est.samples)
    default:
      return E.left({ _tag: 'Unsupported', interpreter: 'gradient', what: `${est.label} as a whole-network estimator`, fix: 'pass it through prepareGradient' })
  }
}

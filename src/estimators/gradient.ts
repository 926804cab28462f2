/**
 * `gradient` and `prepareGradient`: one gradient draw of a network, whichever estimator is asked.
 * A composition (docs/architecture.md) that chooses among three procedures, so that none of them
 * needs another interpreter:
 *
 * - the whole-network estimators (PSA, MuProp, REINFORCE leave-one-out): `whole.ts`;
 * - the exact gradient (`exactGradient()`), which is the exact interpreter: `oracle.ts`;
 * - every other estimator, a rule per binarize site in one forward and one reverse pass:
 *   `perSite.ts`, the gradient interpreter.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../dsl/node.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { Feed } from '../interpreters/ndarray.js'
import { isWholeNetwork } from './estimator.js'
import { prepareOracle } from './oracle.js'
import type { GradientOptions, SiteConfig } from './perSite.js'
import { configureSites, prepareSites } from './perSite.js'
import type { GradientResult, PreparedGradient } from './result.js'
import { prepareWhole } from './whole.js'

export type { GradientOptions, GradientResult, PreparedGradient }

/**
 * Checks the configuration and the data once and returns the draw function (the lab and the
 * trainer call it thousands of times; `gradient` is the one-shot form).
 */
export const prepareGradient = (
  net: Checked<Network>, feed: Feed, opts: Omit<GradientOptions, 'key' | 'baseline'>,
): E.Either<RunError, PreparedGradient> => {
  if (opts.estimator !== undefined && opts.estimator.kind !== 'exact' && isWholeNetwork(opts.estimator)) return prepareWhole(net, feed, opts.estimator, opts)
  return E.chain((c: SiteConfig) => (opts.estimator?.kind === 'exact' ? prepareOracle : prepareSites)(net, feed, opts, c))(configureSites(net, feed, opts))
}

/** One gradient draw: `prepareGradient` then a call with `opts.key`. */
export const gradient = (net: Checked<Network>, feed: Feed, opts: GradientOptions): E.Either<RunError, GradientResult> =>
  E.map((run: PreparedGradient) => run(opts.key, opts.baseline))(prepareGradient(net, feed, opts))

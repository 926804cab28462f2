/**
 * Batch-norm running statistics that are computed by other nodes, checked when a model is read.
 *
 * A running variance given as a parameter is checked by the decoder (`params.ts`: every value
 * ≥ 0). A model may instead compute it (a `Const`, a negation of a parameter, …); inference
 * would then divide by √(σ² + ε) of whatever that computes, and a negative or NaN value makes
 * every result NaN, shown as "n/a" everywhere with exit 0. So a computed running mean or variance
 * is evaluated here, once, before anything runs: it must depend on parameters and constants only
 * (a running statistic does not change with the input or a random draw) and, for the variance,
 * every value must be ≥ 0 and not NaN.
 */
import type { Checked, Network, Node } from '../dsl/node.js'
import { topoOrder } from '../dsl/fold.js'
import { isStochastic } from '../dsl/noise.js'
import { structure } from '../dsl/codec/modelErrors.js'
import type { ModelError } from '../dsl/codec.js'
import { evaluate } from '../interpreters/reference/forward.js'
import { modeRule } from '../interpreters/reference/sampling.js'

/** What makes a value vary from pass to pass: an input, or a stochastic binarize. */
const varying = (n: Node): string | undefined =>
  n._tag === 'Input' ? `the input "${n.name}"` : n._tag === 'Binarize' && isStochastic(n.noise) ? `the stochastic site "${n.site}"` : undefined

const show = (v: number): string => (Number.isNaN(v) ? 'NaN' : String(v))

/**
 * Errors of the BatchNorm nodes whose running statistics are computed rather than parameters.
 * @example runningStatisticErrors(net) // [] for every network built with batchNorm(…)
 */
export const runningStatisticErrors = (net: Checked<Network>, where: (n: Node) => string = () => 'a node'): ModelError[] => {
  const errors: ModelError[] = []
  const seen = new Set<Node>()
  for (const bn of topoOrder(Object.values(net.outputs))) {
    if (bn._tag !== 'BatchNorm') continue
    const which = `the BatchNorm at ${where(bn)}`
    for (const [role, stat] of [['runningMean', bn.runningMean], ['runningVar', bn.runningVar]] as const) {
      if (stat._tag === 'Param' || seen.has(stat)) continue
      seen.add(stat)
      const cause = topoOrder([stat]).map(varying).find((c) => c !== undefined)
      if (cause !== undefined) {
        errors.push(structure('nodes', `${role} of ${which}: expected a running statistic computed from parameters and constants only, found one that depends on ${cause}`))
        continue
      }
      const values = evaluate({ net, feed: {}, batch: 1, binarize: modeRule }, [stat]).values.get(stat)!.data
      const bad = values.findIndex((v) => Number.isNaN(v) || (role === 'runningVar' && v < 0))
      if (bad >= 0)
        errors.push(structure('nodes', `${role} of ${which}: expected ${role === 'runningVar' ? 'a running variance ≥ 0' : 'a running mean that is a number'}, found ${show(values[bad]!)} at index ${bad} (computed by the ${stat._tag} at ${where(stat)})`))
    }
  }
  return errors
}

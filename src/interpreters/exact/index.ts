/**
 * The exact interpreter. For a checked network and a batch of data it returns the exact expected
 * loss L = mean over examples of E_noise[ℓ], the exact predictive distribution, and the exact
 * gradient of L with respect to every parameter (real weights, biases, and the latent parameters
 * of Bernoulli weights). What these numbers are is defined by `spec.ts` (every stochastic unit
 * enumerated jointly); this entry computes the same numbers faster, held equal by the law
 * "optimised ≡ spec": weight states are enumerated once for the batch (`weightSum.ts`), and under
 * each the inner sum uses layer messages on chains (`chain.ts`), joint enumeration otherwise
 * (`brute.ts`). The budget check counts the states `cost` (structure.ts) says will be visited,
 * and turns an intractable request into `EnumerationTooLarge` before any work.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Loss, Network } from '../../dsl/node.js'
import { topoOrder } from '../../dsl/fold.js'
import type { Budget } from '../budget.js'
import { defaultBudget as defaultMemory, evaluationBytes } from '../budget.js'
import { bind } from '../bind.js'
import type { RunError } from '../runErrors.js'
import { lossOutput } from '../outputs.js'
import type { Feed, NDArray } from '../ndarray.js'
import type { ParamGrads } from '../reference/grads.js'
import { zeroGrads } from '../reference/grads.js'
import { sumOverWeights } from './weightSum.js'
import type { Site } from './structure.js'
import { cost, structure } from './structure.js'

export interface ExactOptions {
  /** Also compute the exact gradient (default false). */
  readonly grad?: boolean
  /** Most joint states to visit (default 2²², about a few seconds of work; the §7 network by layer messages needs ~1.5·10⁴). */
  readonly budget?: number
  /** `auto` uses layer messages for chains and enumeration otherwise. */
  readonly method?: 'auto' | 'chain' | 'enumeration'
  /**
   * The memory the evaluation may take (default 2 GB): every value of the network on each
   * example times the states of its widest stochastic layer, checked before anything is allocated.
   */
  readonly memory?: Budget
}

export interface ExactResult {
  /** The exact expected loss, mean over examples. */
  readonly loss: number
  /** E[ℓ] of each example. */
  readonly perExample: Float64Array
  /** The exact predictive distribution E[softmax(η)] (or E[σ(η)] for ±1 labels), per example. */
  readonly predictive: NDArray
  /** Total probability of the enumerated states per example (1 up to rounding). */
  readonly mass: Float64Array
  /** Gradient of `loss` for every parameter, in its row-major order (when asked). */
  readonly grad?: ParamGrads
  readonly method: 'chain' | 'enumeration'
  readonly states: number
}

export const defaultBudget = 2 ** 22

const siteList = (sites: readonly Site[]) => sites.map((s) => ({ site: s.node.site as string, units: s.units }))

const checkModes = (loss: Loss): E.Either<RunError, void> =>
  topoOrder([loss]).some((n) => n._tag === 'BatchNorm' && n.mode === 'train')
    ? E.left({ _tag: 'Unsupported', interpreter: 'exact', what: 'batch normalisation in training mode (batch statistics couple the examples)', fix: 'set the BatchNorm nodes to inference mode' })
    : E.right(undefined)

/** Exact expected loss, predictive distribution and (optionally) gradient. */
export const exact = (net: Checked<Network>, feed: Feed, opts: ExactOptions = {}): E.Either<RunError, ExactResult> => {
  const lossE = lossOutput(net)
  if (E.isLeft(lossE)) return lossE
  const loss = lossE.right
  const modes = checkModes(loss)
  if (E.isLeft(modes)) return modes
  const boundE = bind(net, feed, [loss])
  if (E.isLeft(boundE)) return boundE
  const batch = boundE.right.batch
  const st = structure(loss)
  const W = st.weights.reduce((a, s) => a + s.units, 0)
  const useChain = opts.method === 'chain' || (opts.method !== 'enumeration' && st.chain !== undefined)
  if (opts.method === 'chain' && st.chain === undefined)
    return E.left({ _tag: 'Unsupported', interpreter: 'exact', what: 'layer messages on a network whose stochastic activations do not form a chain', fix: 'use method "enumeration" or "auto"' })
  const A = st.activations.map((s) => s.units)
  const inner = cost(st, batch, useChain ? 'chain' : 'enumeration')
  const states = 2 ** W * inner
  const budget = opts.budget ?? defaultBudget
  if (!(budget >= 1)) return E.left({ _tag: 'InvalidOption', option: 'budget', expected: 'a number of joint states ≥ 1', found: String(budget) })
  const widest = Math.max(W, ...A)
  if (states > budget || widest > 30)
    return E.left({ _tag: 'EnumerationTooLarge', sites: siteList([...st.weights, ...st.activations]), states, budget })
  // Layer messages and enumeration evaluate the network on every state of a layer at once.
  const layerStates = 2 ** Math.max(0, ...A)
  const bytes = evaluationBytes(net, batch * layerStates)
  const limit = (opts.memory ?? defaultMemory).maxBytes
  if (bytes > limit)
    return E.left({ _tag: 'MemoryTooLarge', what: `exact: the network on ${batch} examples × ${layerStates} states`, bytes, limit })
  const grads = opts.grad === true ? zeroGrads(net) : undefined
  const sum = sumOverWeights({ net, feed, batch, loss, st, method: useChain ? 'chain' : 'enumeration', grads })
  const classes = sum.predictive.length / batch
  return E.right({
    loss: sum.perExample.reduce((a, b) => a + b, 0) / batch,
    perExample: sum.perExample,
    predictive: { shape: classes === 1 ? [batch] : [batch, classes], data: sum.predictive },
    mass: sum.mass,
    ...(grads === undefined ? {} : { grad: grads }),
    method: useChain ? 'chain' : 'enumeration',
    states: sum.weightStates * inner,
  })
}

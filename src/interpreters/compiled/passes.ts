/**
 * The passes of one run, shared by `run` and `infer`: one pass in the `mode` and `sample` modes,
 * `samples` passes with pass keys foldIn(key, j) in `ensemble` mode, whose outputs are the means
 * Σ_j o_j / samples (accumulated in pass order, so every caller gets the same bits), plus the mean
 * predictive distribution of a `loss` head.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Loss } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { concreteShape } from '../../dsl/shape.js'
import type { RunError } from '../runErrors.js'
import { passKey } from '../reference/sampling.js'
import { predictive } from '../reference/ops.js'
import type { Executor } from './execute.js'
import type { Plan, Step } from './plan.js'

export interface PassResult {
  /** The values of an output: a view of the memory (valid until the next run) or the ensemble mean. */
  readonly values: (name: string) => Float64Array
  readonly shape: (name: string) => number[]
}

export interface Passes {
  /** The outputs a run returns (`#logits`, the hidden ensemble output, excluded; `predictive` included). */
  readonly names: readonly string[]
  /** `offset`: the index of the first row in the whole set (draws from there, see StepEnv). */
  readonly run: (steps: readonly Step[], key: Key | undefined, offset?: number) => E.Either<RunError, PassResult>
}

export interface PassesSpec {
  readonly plan: Plan
  readonly executor: Executor
  readonly mode: 'mode' | 'sample' | 'ensemble'
  readonly samples: number
  /** The loss head whose mean predictive distribution an ensemble returns (with `#logits` in the plan). */
  readonly lossHead: Loss | undefined
}

export const makePasses = (s: PassesSpec): Passes => {
  const ex = s.executor
  const slots = s.plan.outputs
  const index = new Map(slots.map((o, i) => [o.name, i]))
  const names = [...slots.map((o) => o.name).filter((n) => n !== '#logits'), ...(s.lossHead === undefined ? [] : ['predictive'])]
  const view = (i: number): Float64Array => {
    const slot = slots[i]!
    const size = concreteShape(slot.shape, ex.rows()).reduce((a, b) => a * b, 1)
    const start = ex.addr(slot.buffer) / 8
    return ex.views().f64.subarray(start, start + size)
  }
  // Made once, not per run (a batch-1 call is a few µs of JavaScript): the rows are the executor's current ones.
  const shape = (name: string): number[] => {
    const rows = ex.rows()
    if (name === 'predictive' && s.lossHead !== undefined) {
      const logits = concreteShape(slots[index.get('#logits')!]!.shape, rows)
      return s.lossHead.op === 'logistic-nll' ? [logits[0]!] : logits
    }
    return concreteShape(slots[index.get(name)!]!.shape, rows)
  }
  const values = (name: string): Float64Array => view(index.get(name)!)
  const run = (steps: readonly Step[], key: Key | undefined, offset = 0): E.Either<RunError, PassResult> => {
    if (s.mode !== 'mode' && s.plan.sites.length > 0 && key === undefined)
      return E.left({ _tag: 'InvalidOption', option: 'key', expected: `a PRNG key for ${s.mode} mode`, found: 'none' })
    const rows = ex.rows()
    if (s.mode !== 'ensemble') {
      ex.passSteps(steps, key, offset)
      return E.right({ values, shape })
    }
    const sums = slots.map((o) => new Float64Array(concreteShape(o.shape, rows).reduce((a, b) => a * b, 1)))
    let pred: Float64Array | undefined
    for (let j = 0; j < s.samples; j++) {
      ex.passSteps(steps, key === undefined ? undefined : passKey(key, j), offset)
      sums.forEach((sum, i) => {
        const o = view(i)
        for (let t = 0; t < sum.length; t++) sum[t]! += o[t]! / s.samples
      })
      if (s.lossHead !== undefined) {
        const i = index.get('#logits')!
        const p = predictive(s.lossHead.op, { shape: concreteShape(slots[i]!.shape, rows), data: view(i) })
        pred ??= new Float64Array(p.data.length)
        for (let t = 0; t < pred.length; t++) pred[t]! += p.data[t]! / s.samples
      }
    }
    return E.right({ values: (name) => (name === 'predictive' ? pred! : sums[index.get(name)!]!), shape })
  }
  return { names, run }
}

/**
 * The optimizer step of a data-parallel team split over its replicas (team.ts, worker.ts): each
 * replica updates a fixed contiguous range of every parameter's elements, the parameters and
 * the optimizer's slots living in shared memory. Every optimizer with a `spec` (optimizers.ts)
 * updates each element from that element's own value, gradient and slots, and the step counter
 * is the same for every range, so a range's step computes exactly what the whole step computes
 * for those elements: the same bits for any number of replicas. The gradient each replica reads
 * is its own pass's result (every pass of a minibatch has the same totals, often the very same
 * shared array), so nothing is exchanged but the learning rate and the step counters.
 *
 * A routing with an optimizer that has no spec (one made from an arbitrary rule) is not split:
 * the calling thread steps it whole, as with one thread.
 */
import type { Routing } from '../routing.js'
import type { Optimizer, OptimizerSpec, OptimizerState, Tensors } from '../optimizers.js'
import { adam, clipped, sgd } from '../optimizers.js'
import { perParameterLr } from '../fanInLr.js'
import type { Share } from '../../threads/jobs.js'
import { shareOf } from '../../threads/jobs.js'

// ---------------------------------------------------------------------------------------------
// Model

/** One rule of a split routing: its optimizer as data, and each of its parameters with the float64 offsets of its slots. */
export interface SplitRule {
  readonly spec: OptimizerSpec
  readonly params: readonly (readonly [name: string, slots: readonly number[]])[]
}

/** The slots of every rule, as plain data (a worker's copy of the routing). */
export interface SplitRouting {
  readonly rules: readonly SplitRule[]
  /** Float64 values of all the slots. */
  readonly values: number
}

/** Per rule: each parameter's slot arrays (views of the shared memory). */
export type SharedSlots = readonly Readonly<Record<string, readonly Float64Array[]>>[]

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The optimizer a spec describes (the same constructor with the same arguments, so the same
 * update rule).
 * @example optimizerOf({ kind: 'adam', options: {} }).name // 'adam(0.9,0.999)'
 */
export const optimizerOf = (spec: OptimizerSpec): Optimizer => {
  switch (spec.kind) {
    case 'sgd':
      return sgd(spec.options)
    case 'adam':
      return adam(spec.options)
    case 'clipped':
      return clipped(optimizerOf(spec.inner), spec.lo, spec.hi)
    case 'perParameterLr':
      return perParameterLr(optimizerOf(spec.inner), spec.scales)
  }
}

/**
 * The split form of `routing` over `params` (slot counts from each optimizer's `init`), or
 * undefined when an optimizer has no spec (then the calling thread steps the whole routing).
 */
export const splitRoutingOf = (routing: Routing, params: Tensors): SplitRouting | undefined => {
  let at = 0
  const rules: SplitRule[] = []
  for (const [i, rule] of routing.rules.entries()) {
    const spec = rule.optimizer.spec
    if (spec === undefined) return undefined
    const owned = Object.entries(routing.assignment).filter(([, r]) => r === i).map(([name]) => name)
    const init = rule.optimizer.init(Object.fromEntries(owned.map((name) => [name, params[name]!])))
    rules.push({
      spec,
      params: owned.map((name) => {
        const slots = (init.slots[name] ?? []).map((s) => {
          const offset = at
          at += s.length
          return offset
        })
        return [name, slots] as const
      }),
    })
  }
  return { rules, values: at }
}

/** The slot arrays of a split routing, as views of `buf`. */
export const sharedSlots = (buf: SharedArrayBuffer, split: SplitRouting, lengths: Readonly<Record<string, number>>): SharedSlots =>
  split.rules.map((rule) => Object.fromEntries(rule.params.map(([name, offsets]) => [name, offsets.map((at) => new Float64Array(buf, 8 * at, lengths[name]!))])))

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * Replica r of `replicas`: one step of every rule on its range [lo, hi) of each parameter's
 * elements (`evenRanges` of the parameter's length), `steps[i]` being rule i's step count before
 * this step. Writes the parameters and slots in place.
 */
export const stepRange = (
  optimizers: readonly Optimizer[], split: SplitRouting, params: Tensors, grads: Tensors, slots: SharedSlots, steps: readonly number[],
  lr: number, r: number, replicas: number,
): void => void stepShare(optimizers, split, params, grads, slots, steps, lr, shareOf(replicas, r))

/**
 * The checks of a split optimizer step (what the trainer checks on one thread): every replica
 * checks its chunks of the gradient, the replicas meet, and nobody updates anything if any found
 * a non-finite value; then each checks the chunks it updated.
 */
export interface StepChecks {
  /** Records a non-finite value (bits of barrier.ts `BAD`: 1 in the gradient, 2 in an updated parameter). */
  readonly report: (bad: number) => void
  /** Meets the other replicas after the gradient's checks; true if any replica reported a non-finite gradient. */
  readonly gradientBad: () => boolean
}

/** Whether a[lo … hi) holds only finite values (x − x is 0 for every finite x and NaN otherwise: one branch-free pass). */
export const finiteRange = (a: Float64Array, lo: number, hi: number): boolean => {
  let acc = 0
  for (let i = lo; i < hi; i++) acc += a[i]! - a[i]!
  return acc === 0
}

/**
 * One step of every rule on this replica's share of each parameter's elements (`share`: a fixed
 * even range, `shareOf`), `steps[i]` being rule i's
 * step count before this step. Writes the parameters and slots in place. Each element's update
 * reads only that element, so the chunks never change a bit. With `checks`, the gradient is
 * checked first (nothing is updated if it is not finite, returning false) and every updated chunk after.
 */
export const stepShare = (
  optimizers: readonly Optimizer[], split: SplitRouting, params: Tensors, grads: Tensors, slots: SharedSlots, steps: readonly number[],
  lr: number, share: Share, checks?: StepChecks,
): boolean => {
  if (checks !== undefined) {
    for (const rule of split.rules)
      for (const [name] of rule.params) {
        const g = grads[name]!
        share(g.length, (lo, hi) => {
          if (!finiteRange(g, lo, hi)) checks.report(1)
        })
      }
    if (checks.gradientBad()) return false
  }
  for (const [i, rule] of split.rules.entries()) {
    for (const [name] of rule.params) {
      const theta = params[name]!
      share(theta.length, (lo, hi) => {
        const own = { [name]: theta.subarray(lo, hi) }
        const g = { [name]: grads[name]!.subarray(lo, hi) }
        const s = { [name]: slots[i]![name]!.map((slot) => slot.subarray(lo, hi)) }
        optimizers[i]!.stepInPlace(own, g, { step: steps[i]!, slots: s }, lr)
        if (checks !== undefined && !finiteRange(theta, lo, hi)) checks.report(2)
      })
    }
  }
  return true
}

/** The states after a split step: the same shared slots, each step count one more. */
export const nextStates = (states: readonly OptimizerState[]): readonly OptimizerState[] =>
  states.map((s) => ({ step: s.step + 1, slots: s.slots }))

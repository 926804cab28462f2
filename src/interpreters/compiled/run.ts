/**
 * `Compiled.run`: a feed of float64 NDArrays in, the outputs as float64 NDArrays out. It binds
 * the feed with the reference interpreters' `bind` (shapes, dtypes, labels), checks that binary
 * inputs hold only ±1 (bits cannot hold anything else), places the buffers for the batch, copies
 * the inputs in, runs the passes (passes.ts) and copies the outputs out. `infer` (infer.ts) is
 * the typed-array twin that skips the float64 copies.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { topoOrder } from '../../dsl/fold.js'
import { bind } from '../bind.js'
import type { RunError } from '../runErrors.js'
import type { Feed, NDArray } from '../ndarray.js'
import type { CompiledMode, RunOptions } from './compiled.js'
import type { Executor } from './execute.js'
import type { Passes } from './passes.js'
import type { Plan } from './plan.js'

export interface RunSpec {
  readonly net: Checked<Network>
  readonly plan: Plan
  readonly executor: Executor
  readonly passes: Passes
  readonly mode: CompiledMode
  /** Per-example buffers only `infer`'s entries write (entries.ts `Entries.idle`): left unplaced. */
  readonly idle: ReadonlySet<number>
}

export type Run = (feed: Feed, key?: Key, options?: RunOptions) => E.Either<RunError, Readonly<Record<string, NDArray>>>

const unsupported = (what: string, fix: string): E.Either<RunError, never> => E.left({ _tag: 'Unsupported', interpreter: 'compiled', what, fix })

export const makeRun = ({ net, plan, executor: ex, passes, mode, idle }: RunSpec): Run => {
  const binaryInputs = [...new Set(topoOrder(Object.values(net.outputs)).flatMap((n) => (n._tag === 'Input' && n.type.dtype === 'binary' ? [n.name] : [])))]
  return (feed, key, options) => {
    const offset = options?.offset ?? 0
    if (!(Number.isSafeInteger(offset) && offset >= 0))
      return E.left({ _tag: 'InvalidOption', option: 'offset', expected: "an integer ≥ 0 (the index of the feed's first row in the whole set)", found: String(offset) })
    const bound = bind(net, feed)
    if (E.isLeft(bound)) return bound
    // Binary inputs are packed as bits, which can only hold ±1 (the reference would multiply
    // any value it is given, so anything else cannot be reproduced).
    // v·v = 1 exactly for v = ±1 and for no other double (NaN included); one test instead of
    // `v !== 1 && v !== -1`, whose first branch is a coin flip on random signs (4× slower).
    for (const name of binaryInputs) {
      const data = feed[name]!.data
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!
        if (v * v !== 1) return unsupported(`data.${name}[${i}] = ${v} for an input of dtype binary`, 'feed ±1 values, or declare the input real')
      }
    }
    try {
      ex.load(bound.right.feed, bound.right.batch, idle)
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      return unsupported(`a batch of ${bound.right.batch} (${err.message})`, 'run the data in smaller batches')
    }
    if (mode !== 'mode' && plan.sites.length > 0 && key === undefined)
      return E.left({ _tag: 'InvalidOption', option: 'key', expected: `a PRNG key for ${mode} mode`, found: 'none' })
    let ran: ReturnType<Passes['run']>
    try {
      ran = passes.run(plan.steps, key, offset)
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      return unsupported(err.message, 'number the draws of a smaller set')
    }
    if (E.isLeft(ran)) return ran
    const result: Record<string, NDArray> = {}
    for (const name of passes.names) result[name] = { shape: ran.right.shape(name), data: Float64Array.from(ran.right.values(name)) }
    return E.right(result)
  }
}

/**
 * What a data-parallel worker is given (structured-cloneable data only) and the views both sides
 * take of the shared memory: the parameters and the optimizer's slots (written by the split
 * optimizer step between passes), the minibatch rows of the workers, the sum slots and area, and
 * the step's baseline, learning rate and step counts.
 */
import type { Feed } from '../../interpreters/ndarray.js'
import type { Estimator, LatentRule } from '../../estimators/estimator.js'
import type { SplitRouting } from './optimizer.js'

/** The gradient options a worker rebuilds (estimators are plain data). */
export interface TeamGradient {
  readonly estimator: Estimator
  readonly weights: Estimator
  readonly sites: Readonly<Record<string, Estimator>>
  readonly latent: LatentRule
  readonly weightSampling: 'per-pass' | 'per-example' | 'mode'
}

/** workerData of a replica. */
export interface TeamData {
  /** The network as model-file text (`encodeModel`), in the mode it was given. */
  readonly model: string
  readonly gradient: TeamGradient
  /** Kernels by name (`fast` or `reference`), rebuilt single-threaded in the worker. */
  readonly products: string
  readonly parts: number
  readonly replicas: number
  /** This worker's replica index (1-based; the main thread is replica 0). */
  readonly replica: number
  readonly control: SharedArrayBuffer
  readonly params: SharedArrayBuffer
  /** [name, offset, length] in float64 values. */
  readonly paramLayout: readonly (readonly [string, number, number])[]
  readonly feed: SharedArrayBuffer
  /** [name, offset, shape of one row] in float64 values; room for `maxRows` rows each. */
  readonly feedLayout: readonly (readonly [string, number, readonly number[]])[]
  readonly maxRows: number
  /** Checks of a control word before sleeping (barrier.ts). */
  readonly spin: number
  readonly scratch: SharedArrayBuffer
  readonly slotLength: number
  /** The step's area of the long sums and the spreads (rows.ts `SumSlots`). */
  readonly area: SharedArrayBuffer
  readonly splitFrom: number
  /** With phase counting: `PHASE_WORDS` float64 per replica (barrier.ts). */
  readonly phases?: SharedArrayBuffer
  /** The optimizer step split over the replicas (optimizer.ts), if every optimizer has a spec, and its slots. */
  readonly split?: SplitRouting
  readonly slots?: SharedArrayBuffer
  /** Float64: the step's REINFORCE baseline, the optimizer step's learning rate, each rule's step count. */
  readonly baseline: SharedArrayBuffer
  /** Where the worker writes why it failed (read with `receiveMessageOnPort`). */
  readonly port: unknown
}

/** The parameters as views of the shared buffer. */
export const paramViews = (buf: SharedArrayBuffer, layout: TeamData['paramLayout']): Record<string, Float64Array> =>
  Object.fromEntries(layout.map(([name, at, n]) => [name, new Float64Array(buf, 8 * at, n)]))

/** Rows [lo, hi) of the shared minibatch, as a feed of views. */
export const feedRows = (buf: SharedArrayBuffer, layout: TeamData['feedLayout'], lo: number, hi: number): Feed =>
  Object.fromEntries(layout.map(([name, at, row]) => {
    const width = row.reduce((a, b) => a * b, 1)
    return [name, { shape: [hi - lo, ...row], data: new Float64Array(buf, 8 * (at + lo * width), (hi - lo) * width) }]
  }))

/** The layout of a feed's rows for up to `maxRows` rows, and the float64 values it needs. */
export const feedLayoutOf = (feed: Feed, maxRows: number): { readonly layout: TeamData['feedLayout']; readonly values: number } => {
  let at = 0
  const layout = Object.entries(feed).map(([name, v]) => {
    const row = v.shape.slice(1)
    const entry = [name, at, row] as const
    at += maxRows * row.reduce((a, b) => a * b, 1)
    return entry
  })
  return { layout, values: at }
}

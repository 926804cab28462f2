/**
 * The reverse of broadcasting: a gradient of the broadcast shape summed back onto an operand's
 * shape (the bias of a dense layer or of a convolution), in the gradient's flat order, and the
 * same per part of a minibatch cut into parts (data parallelism).
 */
import type { NDArray } from '../ndarray.js'
import type { RowParts } from './ops.js'
import { blockOf, broadcastIndex, sizeOf } from './ops.js'

/**
 * out[m] += Σ g over channel m's values, g read as [outer, mid, inner] (channel m's runs of
 * `inner` values at (o·mid + m)·inner), each channel's sum in flat order. A sum is one chain of
 * dependent additions (about 4 cycles each), so finishing one channel's run before the next
 * waits on that chain at every value; four channels' chains side by side, each in its own order,
 * keep the adder busy (the bias gradient of a 64×16×28×28 map: 0.66 → 0.40 ms, docs/training.md
 * §Profile). The same additions in the same order per channel: the same bits.
 */
const sumRuns = (G: Float64Array, outer: number, mid: number, inner: number, out: Float64Array): void => {
  // Short runs (a dense bias: inner 1) keep the plain loop, whose overhead is lower there.
  const four = inner >= 8 ? mid - (mid % 4) : 0
  for (let o = 0; o < outer; o++) {
    for (let m = 0; m < four; m += 4) {
      const i0 = (o * mid + m) * inner, i1 = i0 + inner, i2 = i1 + inner, i3 = i2 + inner
      let a0 = out[m]!, a1 = out[m + 1]!, a2 = out[m + 2]!, a3 = out[m + 3]!
      for (let t = 0; t < inner; t++) { a0 += G[i0 + t]!; a1 += G[i1 + t]!; a2 += G[i2 + t]!; a3 += G[i3 + t]! }
      out[m] = a0; out[m + 1] = a1; out[m + 2] = a2; out[m + 3] = a3
    }
    for (let m = four, i = (o * mid + four) * inner; m < mid; m++) {
      let acc = out[m]!
      for (let t = 0; t < inner; t++, i++) acc += G[i]!
      out[m] = acc
    }
  }
}

/** Sums `g` (of the broadcast shape) back onto an operand of shape `s`, in g's flat order. */
export const unbroadcast = (g: NDArray, s: readonly number[]): NDArray => {
  const size = sizeOf(s)
  if (size === g.data.length) return { shape: s, data: g.data }
  const out = new Float64Array(size)
  const blk = blockOf(g.shape, s)
  if (blk !== undefined) {
    sumRuns(g.data, blk.outer, blk.mid, blk.inner, out)
    return { shape: s, data: out }
  }
  const idx = broadcastIndex(s, g.shape)
  for (let i = 0; i < idx.length; i++) out[idx[i]!]! += g.data[i]!
  return { shape: s, data: out }
}

/**
 * Sums g (rows first: [rows, …]) back onto shape `s`, which has no batch axis: per part of
 * `rows`, then in part order (`unbroadcast` of each part's rows), by `sum` (`rows.sum`, or `rows.later`).
 */
export const unbroadcastRows = (g: NDArray, s: readonly number[], rows: RowParts, sum: RowParts['sum'] = rows.sum): NDArray => {
  const n = g.shape[0]!
  const width = n === 0 ? 0 : g.data.length / n
  const shape = [g.shape[0]!, ...g.shape.slice(1)]
  const data = sum(sizeOf(s), (lo, hi, out) => {
    shape[0] = hi - lo
    out.set(unbroadcast({ shape, data: g.data.subarray(lo * width, hi * width) }, s).data)
  })
  return { shape: s, data }
}

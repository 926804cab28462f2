/**
 * Splitting one example across threads: at batch 1 there are no rows to share, so a large dense
 * layer is split by output units instead. Units [j0, j1) of a `BinaryDense` or `ByteDense` kernel
 * (mode network: `sign` or `dot` epilogue) are the same kernel specialised for j1 − j0 units,
 * called with the weight rows, output bits (or float64 dots) and thresholds of unit j0 onwards.
 * Every j0 is a multiple of 64, so each thread writes whole 64-bit output words of its own; each
 * unit's dot and threshold are computed by the same code as on one thread: the same bits.
 */
import type { Kernel } from '../kernels.js'
import { buffersOf } from '../kernels.js'
import { bytesRow, rowBytes } from '../layout.js'

/** Units below which a layer is not worth splitting (a wake-up costs about as much as 512 units). */
export const MIN_SPLIT_UNITS = 512

export interface UnitPart {
  /** The kernel specialised for this part's units (to be built into the module). */
  readonly kernel: Kernel
  /** Byte offsets added to the addresses of `buffersOf(original)`, in that order. */
  readonly offsets: readonly number[]
}

/** The parts of a kernel split `threads` ways by units, or undefined when it is not split. */
export const unitParts = (k: Kernel, threads: number): UnitPart[] | undefined => {
  if (k._tag !== 'BinaryDense' && k._tag !== 'ByteDense') return undefined
  if (k.epilogue.kind === 'sample' || k.n < MIN_SPLIT_UNITS || threads < 2) return undefined
  const per = 64 * Math.ceil(k.n / threads / 64)
  const wRow = k._tag === 'BinaryDense' ? rowBytes(k.width, 64) : bytesRow(k.k)
  const parts: UnitPart[] = []
  for (let j0 = 0; j0 < k.n; j0 += per) {
    const n = Math.min(per, k.n - j0)
    const out = k.epilogue.kind === 'sign' ? j0 / 8 : 8 * j0
    // A part of an 8-bit layer takes the byte masks (not the nibble tables, which every part
    // would build in the one row's scratch buffer); the nibble buffers' arguments are unused.
    const label = `${k.label} units ${j0}–${j0 + n - 1}`
    const kernel: Kernel = k._tag === 'ByteDense' ? { _tag: 'ByteDense', label, bytes: k.bytes, w: k.w, out: k.out, k: k.k, n, epilogue: k.epilogue } : { ...k, n, label }
    parts.push({
      kernel,
      offsets: [0, j0 * wRow, out, ...(k.epilogue.kind === 'sign' ? [8 * j0] : [])],
    })
  }
  // (zero offsets for the nibble buffers an 8-bit part does not read)
  const count = buffersOf(k).length
  return parts.map((p) => ({ ...p, offsets: [...p.offsets, ...new Array<number>(count - p.offsets.length).fill(0)] }))
}

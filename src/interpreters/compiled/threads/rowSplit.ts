/**
 * Splitting a run of row-local kernels across threads: every kernel but `FillRandom` (whose draws
 * are numbered across the whole batch) reads and writes example r only at
 * address + r·stride of its per-example buffers, so rows [r0, r1) of a batch are the same kernel
 * call with `r1 − r0` rows and those buffers' addresses moved by r0·stride. Each thread computes
 * whole examples with the same code, so the result is the same bits as one thread.
 */
import type { BufferSpec, Kernel } from '../kernels.js'
import { buffersOf } from '../kernels.js'

/** Whether a kernel may be split by rows (see above). */
export const rowLocal = (k: Kernel): boolean => k._tag !== 'FillRandom'

/** The row ranges of `parts` threads over `rows` examples (as even as possible, in order). */
export const rowRanges = (rows: number, parts: number): [number, number][] =>
  Array.from({ length: parts }, (_, p) => [Math.floor((rows * p) / parts), Math.floor((rows * (p + 1)) / parts)])

/** The arguments of kernel `k` for rows [r0, r1): (rows, ...addresses). */
export const argsFor = (k: Kernel, buffers: readonly BufferSpec[], addr: (b: number) => number, r0: number, r1: number): number[] => [
  r1 - r0,
  ...buffersOf(k).map((b) => addr(b) + (buffers[b]!.perExample ? r0 * buffers[b]!.stride : 0)),
]

/** One thread's call list for a pool (threads/pool.ts): [calls, (function index, argc, ...args)*]. */
export const callList = (calls: readonly { readonly fn: number; readonly args: readonly number[] }[]): Int32Array => {
  const out: number[] = [calls.length]
  for (const c of calls) out.push(c.fn, c.args.length, ...c.args)
  return Int32Array.from(out)
}

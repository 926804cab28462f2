/**
 * Splitting a run of row-local kernels across threads: every kernel but `FillRandom` (whose draws
 * are numbered across the whole batch) reads and writes example r only at
 * address + r·stride of its per-example buffers, so rows [r0, r1) of a batch are the same kernel
 * call with `r1 − r0` rows and those buffers' addresses moved by r0·stride. Each thread computes
 * whole examples with the same code, so the result is the same bits as one thread, whatever the
 * split: the calling thread's share adapts to the threads' observed speeds (`rowBalance`).
 */
import type { BufferSpec, Kernel } from '../kernels.js'
import { buffersOf } from '../kernels.js'
import { evenRanges } from '../../../threads/jobs.js'

/** Whether a kernel may be split by rows (see above). */
export const rowLocal = (k: Kernel): boolean => k._tag !== 'FillRandom'


/** The arguments of kernel `k` for rows [r0, r1) on thread `thread` (0: the calling one): (rows, ...addresses). */
export const argsFor = (k: Kernel, buffers: readonly BufferSpec[], addr: (b: number) => number, r0: number, r1: number, thread = 0): number[] => [
  r1 - r0,
  ...buffersOf(k).map((b) => addr(b) + (buffers[b]!.perExample ? r0 * buffers[b]!.stride : buffers[b]!.perThread === true ? thread * buffers[b]!.bytes : 0)),
]

/** The row stride of each buffer argument of kernel `k` (0 for a static buffer), in `argsFor`'s order. */
export const rowStrides = (k: Kernel, buffers: readonly BufferSpec[]): number[] => buffersOf(k).map((b) => (buffers[b]!.perExample ? buffers[b]!.stride : 0))

/** The distance between threads' scratch of each buffer argument of kernel `k` (0 but for per-thread buffers). */
export const threadStrides = (k: Kernel, buffers: readonly BufferSpec[]): number[] => buffersOf(k).map((b) => (buffers[b]!.perThread === true ? buffers[b]!.bytes : 0))

/**
 * The smallest chunk of rows a thread claims in the default split (`rowSplit: 'chunks'`,
 * threads/pool.ts `runChunks`) for `rows` rows on `parts` threads: a quarter of a thread's even
 * share, from 2 (the dense kernels tile two rows) to 8 rows (a chunk runs every kernel of the
 * segment, and each chunk streams the weights again, so not too many; but the last chunk is what
 * one thread may finish alone: on the MNIST MLP at batch 256, two threads over one, medians of
 * three A/B runs in one process with the cap switched per call, twelfth session: 8 rows ×1.905,
 * ×1.903, ×1.809 against 16 rows ×1.850, ×1.892, ×1.772, the same CPU time; 4 and 6 rows level
 * with 8, 2 rows ×1.80).
 * @example minChunk(256, 2) // 8
 */
export const minChunk = (rows: number, parts: number): number => Math.min(8, Math.max(2, 2 * Math.floor(rows / (8 * parts))))

/**
 * Row ranges with the calling thread's share `main` of the rows (the workers share the rest
 * evenly): the calling thread takes rows [0, m), m rounded to an even count (the dense kernels'
 * tiles are two rows) and kept in [1, rows − parts + 1]. Any split gives the same bits.
 */
export const weightedRanges = (rows: number, parts: number, main: number): [number, number][] => {
  const even = 2 * Math.round((rows * main) / 2)
  const m = Math.min(rows - parts + 1, Math.max(1, even))
  return [[0, m], ...evenRanges(rows - m, parts - 1).map(([a, b]): [number, number] => [m + a, m + b])]
}

/**
 * The calling thread's share of the rows, adapted from call to call: a core shared with other
 * processes (a machine's other jobs, or niced ones) runs its thread slower, and with an even split
 * the other threads then wait for it. After each split run, `observe` compares the calling
 * thread's time with the whole run's: if it waited, the workers were slower, and the share moves
 * halfway to the one that would have balanced the two rates; if it did not, its share shrinks by
 * 3 %. Runs shorter than MIN_MS (timer resolution) are not observed.
 */
export interface RowBalance {
  readonly ranges: (rows: number, parts: number) => [number, number][]
  readonly observe: (ranges: readonly [number, number][], mainMs: number, totalMs: number) => void
}
const MIN_MS = 0.5
export const rowBalance = (): RowBalance => {
  let share = 0
  let parts = 0
  return {
    ranges: (rows, n) => {
      if (n !== parts) [share, parts] = [1 / n, n]
      return weightedRanges(rows, n, share)
    },
    observe: (ranges, mainMs, totalMs) => {
      if (totalMs < MIN_MS || ranges.length < 2 || mainMs <= 0) return
      const [m0, m1] = ranges[0]!
      const [w0, w1] = ranges[1]!
      const n = ranges.length
      let target = share * 0.97
      if (totalMs - mainMs > 0.02 * totalMs) {
        const main = (m1 - m0) / mainMs
        const worker = (w1 - w0) / totalMs
        target = main / (main + (n - 1) * worker)
      }
      share = Math.min(Math.max(0.5 * share + 0.5 * target, 0.25 / n), Math.min(0.9, 2.5 / n))
    },
  }
}

/** Equal row ranges, never adapted (`compile`'s `rowSplit: 'even'`). */
export const evenSplit: RowBalance = { ranges: evenRanges, observe: () => undefined }

/** One thread's call list for a pool (threads/pool.ts): [calls, (function index, argc, ...args)*]. */
export const callList = (calls: readonly { readonly fn: number; readonly args: readonly number[] }[]): Int32Array => {
  const out: number[] = [calls.length]
  for (const c of calls) out.push(c.fn, c.args.length, ...c.args)
  return Int32Array.from(out)
}

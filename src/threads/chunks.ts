/**
 * Chunked jobs of a thread pool (`ThreadPool.runChunks` in pool.ts): every thread, the calling
 * one included, claims the next chunk of rows from a counter in the pool's control words
 * (`Atomics.compareExchange`) and runs the job's calls on it, until no rows are left. A thread on
 * a core that runs slower (shared with other work) simply takes fewer chunks, within the call.
 * Which thread computes which rows never changes a value: each call computes the same values
 * wherever it runs.
 */

/**
 * Function index of a chunked entry (`ThreadPool.runChunks`): the thread claims chunks of rows
 * from a shared counter until none are left and runs the entry's calls on each chunk. Its
 * arguments: rows, the smallest chunk, the threads sharing the rows, the counter's index in the
 * control words, the number of calls, then per call (function index, argc, argc base arguments,
 * argc strides): the chunk [r0, r0 + n) runs fn(n, ...base + r0·stride).
 */
export const CHUNKS = -2
/** Control words after the workers' slots (the chunk counter of `runChunks`). */
export const EXTRA_WORDS = 16

/**
 * The size of the chunk that starts at row `cur` of `rows` (guided: a share of what is left,
 * 1 / (parts + 1), rounded up to an even count, at least `min`, so the first chunks are large and
 * the last ones small). Each chunk costs a pass over the kernels' weights (a 4096² binary layer's
 * 2 MB stream from L3 again), so there are few: 9 for 256 rows on two threads with min 8 (86,
 * 58, 38, 26, 16, 12, 8, 8, 4), against 14 with 1 / (2·parts) and min 2, which cost 7 % more CPU
 * on the MNIST MLP (bench/rowsplit.ts). A first chunk of a third lets the other thread take the
 * other two thirds when the calling thread's core is twice as slow. The worker source repeats
 * this formula.
 * @example chunkRows(0, 256, 16, 2) // 86
 */
export const chunkRows = (cur: number, rows: number, min: number, parts: number): number => {
  let n = Math.ceil((rows - cur) / (parts + 1))
  if (n < min) n = min
  n += n & 1
  return n < rows - cur ? n : rows - cur
}

/** Claims the next chunk from the counter at `ctl[at]`: its first row, or −1 when all rows are taken. */
export const claimRows = (ctl: Int32Array, at: number, rows: number, min: number, parts: number): number => {
  for (;;) {
    const cur = Atomics.load(ctl, at)
    if (cur >= rows) return -1
    if (Atomics.compareExchange(ctl, at, cur, cur + chunkRows(cur, rows, min, parts)) === cur) return cur
  }
}

/**
 * A job of `runChunks`: on thread t (0: the calling one), chunk [r0, r0 + n) calls
 * fn(n, ...args[i] + r0·strides[i] + t·threadStrides[i]) for each call in order.
 */
export interface ChunkJob {
  readonly rows: number
  /** The smallest chunk (but the last), in rows. */
  readonly min: number
  readonly calls: readonly { readonly fn: number; readonly args: readonly number[]; readonly strides: readonly number[]; readonly threadStrides?: readonly number[] }[]
}

/**
 * The call list of every worker for `job` (worker w is thread w + 1): one chunked entry whose
 * base arguments carry the worker's scratch offsets.
 */
export const chunkLists = (job: ChunkJob, workers: number, counter: number): Int32Array[] =>
  Array.from({ length: workers }, (_, w) => {
    const entry: number[] = [job.rows, job.min, workers + 1, counter, job.calls.length]
    for (const c of job.calls) entry.push(c.fn, c.args.length, ...c.args.map((a, i) => a + (w + 1) * (c.threadStrides?.[i] ?? 0)), ...c.strides)
    return Int32Array.from([1, CHUNKS, entry.length, ...entry])
  })

/** The calling thread's share of a chunked job: claims chunks until none are left. */
export const runMine = (ctl: Int32Array, counter: number, job: ChunkJob, parts: number, mine: (r0: number, r1: number) => void): void => {
  for (;;) {
    const r0 = claimRows(ctl, counter, job.rows, job.min, parts)
    if (r0 < 0) return
    mine(r0, r0 + chunkRows(r0, job.rows, job.min, parts))
  }
}

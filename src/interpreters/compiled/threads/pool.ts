/**
 * A pool of worker threads that call the exported functions of one WebAssembly module over one
 * shared `WebAssembly.Memory`. It knows nothing about networks: a job is, per worker, a list of
 * calls (function index, i32 arguments); the calling thread runs its own share meanwhile and then
 * waits until every worker is done. So any code emitted into the module — the inference kernels
 * here, training kernels later — can be split across cores by whoever owns the memory.
 *
 * Synchronisation is by `Atomics.wait`/`Atomics.notify` on a small control `SharedArrayBuffer`
 * (the calls are written into it too), so `run` is synchronous: the caller blocks (allowed on
 * Node's main thread and in Web Workers, not on a page's main thread). Workers are started from a
 * self-contained source string (no file to locate, in tsx or in dist alike), are `unref`'d so
 * they never keep a process alive, and wait in `Atomics.wait` between jobs.
 *
 * @example
 * const pool = startPool({ module, memory, exports: ['k0', 'k1'], workers: 1 })
 * if (E.isRight(pool)) pool.right.run([Int32Array.of(0, 3, rows, src, dst)], () => mine())
 */
import * as E from 'fp-ts/lib/Either.js'

/** Int32 slots per worker in the control buffer: 4 words of state, then the call list. */
const SLOT = 16384
const STATE = 4
/** How long to wait for a worker to start (ms) before giving up with an error value. */
const START_TIMEOUT = 20000

/** The worker: instantiate, report ready, then run call lists until told to stop (sequence −1). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { module, memory, control, slot, exports: names } = workerData
const ctl = new Int32Array(control)
const base = slot * ${SLOT}
let fns
try {
  const inst = new WebAssembly.Instance(module, { env: { mem: memory } })
  fns = names.map((n) => inst.exports[n])
  Atomics.store(ctl, base + 2, 1)
} catch (err) {
  Atomics.store(ctl, base + 2, -1)
}
Atomics.notify(ctl, base + 2)
let seen = 0
while (fns !== undefined) {
  Atomics.wait(ctl, base, seen)
  const seq = Atomics.load(ctl, base)
  if (seq < 0) break
  seen = seq
  try {
    let p = base + ${STATE}
    const calls = ctl[p++]
    for (let c = 0; c < calls; c++) {
      const f = ctl[p++], argc = ctl[p++]
      const args = new Array(argc)
      for (let a = 0; a < argc; a++) args[a] = ctl[p++]
      fns[f](...args)
    }
  } catch (err) {
    Atomics.store(ctl, base + 3, 1)
  }
  Atomics.store(ctl, base + 1, seq)
  Atomics.notify(ctl, base + 1)
}
`

/** The slice of `node:worker_threads` the pool uses. */
interface NodeWorker {
  unref(): void
  terminate(): Promise<number>
}
interface WorkerThreads {
  readonly Worker: new (source: string, opts: { readonly eval: true; readonly workerData: unknown }) => NodeWorker
}

/** Node's worker_threads, if this host has them (Node ≥ 20.16 exposes `process.getBuiltinModule`). */
const workerThreads = (): WorkerThreads | undefined => {
  const proc = (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process
  return proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined
}

export interface ThreadPool {
  /** Worker threads (besides the calling one). */
  readonly workers: number
  /**
   * Runs `lists[w]` on worker w — each a call list [calls, (function index, argc, ...args)*] —
   * and `mine` on the calling thread, and returns when all are done.
   */
  readonly run: (lists: readonly Int32Array[], mine: () => void) => void
  /** Stops the workers. */
  readonly close: () => void
  /** Whether the workers are running (false after `close`). */
  readonly open: () => boolean
}

export interface PoolSpec {
  /** A compiled `WebAssembly.Module` importing `env.mem`. */
  readonly module: object
  /** The shared `WebAssembly.Memory` it runs on. */
  readonly memory: object
  /** Export names, by function index in the call lists. */
  readonly exports: readonly string[]
  readonly workers: number
}

/** Starts `workers` threads on the module and memory, or says why it cannot. */
export const startPool = (spec: PoolSpec): E.Either<string, ThreadPool> => {
  const wt = workerThreads()
  if (wt === undefined) return E.left('worker_threads are not available here (Node ≥ 20.16 is needed; in a page, threads are not supported yet)')
  if (typeof SharedArrayBuffer === 'undefined') return E.left('SharedArrayBuffer is not available here')
  const control = new SharedArrayBuffer(4 * SLOT * spec.workers)
  const ctl = new Int32Array(control)
  const threads: NodeWorker[] = []
  for (let w = 0; w < spec.workers; w++) {
    const t = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { module: spec.module, memory: spec.memory, control, slot: w, exports: spec.exports } })
    t.unref()
    threads.push(t)
  }
  let closed = false
  const close = (): void => {
    closed = true
    for (let w = 0; w < threads.length; w++) {
      Atomics.store(ctl, w * SLOT, -1)
      Atomics.notify(ctl, w * SLOT)
    }
    for (const t of threads) void t.terminate()
  }
  for (let w = 0; w < spec.workers; w++) {
    if (Atomics.wait(ctl, w * SLOT + 2, 0, START_TIMEOUT) === 'timed-out' || Atomics.load(ctl, w * SLOT + 2) !== 1) {
      close()
      return E.left(`worker ${w} did not start (${Atomics.load(ctl, w * SLOT + 2) < 0 ? 'the module could not be instantiated on the shared memory' : 'timed out'})`)
    }
  }
  let seq = 0
  const run = (lists: readonly Int32Array[], mine: () => void): void => {
    seq++
    const used = Math.min(lists.length, spec.workers)
    for (let w = 0; w < used; w++) {
      const list = lists[w]!
      if (list.length > SLOT - STATE) throw new Error(`our bug: a call list of ${list.length} words exceeds the pool's ${SLOT - STATE}`)
      ctl.set(list, w * SLOT + STATE)
      Atomics.store(ctl, w * SLOT, seq)
      Atomics.notify(ctl, w * SLOT)
    }
    mine()
    for (let w = 0; w < used; w++) {
      let done = Atomics.load(ctl, w * SLOT + 1)
      while (done !== seq) {
        Atomics.wait(ctl, w * SLOT + 1, done)
        done = Atomics.load(ctl, w * SLOT + 1)
      }
      if (Atomics.load(ctl, w * SLOT + 3) !== 0) throw new Error(`our bug: a kernel trapped on worker ${w}`)
    }
  }
  return E.right({ workers: spec.workers, run, close, open: () => !closed })
}

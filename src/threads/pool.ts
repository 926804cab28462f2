/**
 * A pool of worker threads that call the exported functions of one WebAssembly module over one
 * shared `WebAssembly.Memory`. It knows nothing about networks or training: a job is, per
 * worker, a list of calls (function index, i32 arguments); the calling thread runs its own share
 * meanwhile and then waits until every worker is done. The compiled interpreter splits its
 * kernels over it (by rows, by units), the training kernels their products (by panels).
 *
 * Synchronisation is by `Atomics.wait`/`Atomics.notify` on a small control `SharedArrayBuffer`
 * (the calls are written into it too), so `run` is synchronous: the caller blocks (allowed on
 * Node's main thread and in Web Workers, not on a page's main thread). Workers are started from a
 * self-contained source string (no file to locate, in tsx or in dist alike), are `unref`'d so
 * they never keep a process alive, and wait in `Atomics.wait` between jobs.
 *
 * Failures never hang the caller, and need no time limit: a worker whose call throws (a trap, a
 * bad call list) or whose thread exits reports it itself — its message through a
 * `MessagePort` read synchronously (`receiveMessageOnPort`), then a failure word in the control
 * buffer and a notify on the word the caller waits on — and `run` throws a `ThreadFailure`
 * naming the worker and the cause. A failed pool is closed; the caller decides what to do next.
 *
 * @example
 * const pool = startPool({ module, memory, exports: ['k0', 'k1'], workers: 1 })
 * if (E.isRight(pool)) pool.right.run([Int32Array.of(1, 0, 3, rows, src, dst)], () => mine())
 */
import * as E from 'fp-ts/lib/Either.js'
import { InternalError } from '../base/internalError.js'
import type { ChunkJob } from './chunks.js'
import { CHUNKS, EXTRA_WORDS, chunkLists, runMine } from './chunks.js'

export { CHUNKS, EXTRA_WORDS, chunkRows, claimRows } from './chunks.js'
export type { ChunkJob } from './chunks.js'

/** A worker of a pool failed: its number (1-based; the calling thread is not counted) and why. */
export class ThreadFailure extends Error {
  constructor(readonly worker: number, readonly reason: string) {
    super(`worker thread ${worker} failed: ${reason}`)
    this.name = 'ThreadFailure'
  }
}

/** Int32 slots per worker in the control buffer: 4 words of state, then the call list. */
export const SLOT = 16384
const STATE = 4
// The state words of a slot: the job posted, the job done, started (1) or not (−1), failure.
export const POSTED = 0
const DONE = 1
export const READY = 2
export const FAILED = 3
/** Failure codes: a call threw, the thread exited. */
const THREW = 1
const EXITED = 2
/** What a failed worker writes into its DONE word, so that a wait on it always wakes. */
const FAILED_DONE = -2
/** How long to wait for a worker to start (ms) before giving up with an error value. */
export const START_TIMEOUT = 20000
/** Function index that makes a worker exit (for tests of a dying worker; never in a real job). */
export const EXIT_CALL = -1
/**
 * The worker: instantiate, report ready, then run call lists until told to stop (sequence −1).
 * Any failure is reported once: message to the port first, then the failure word, then DONE.
 */
export const WORKER_SOURCE = `
const proc = globalThis.process
const { workerData } = proc.getBuiltinModule('node:worker_threads')
const { module, memory, control, slot, exports: names, port } = workerData
const ctl = new Int32Array(control)
const base = slot * ${SLOT}
const fail = (code, why) => {
  if (Atomics.load(ctl, base + ${FAILED}) !== 0) return
  try { port.postMessage(String(why)) } catch (e) {}
  Atomics.store(ctl, base + ${FAILED}, code)
  Atomics.store(ctl, base + ${DONE}, ${FAILED_DONE})
  Atomics.notify(ctl, base + ${DONE})
  Atomics.notify(ctl, base + ${READY})
}
proc.on('exit', (code) => fail(${EXITED}, 'its thread exited (code ' + code + ')'))
let fns
try {
  const inst = new WebAssembly.Instance(module, { env: { mem: memory } })
  fns = names.map((n) => inst.exports[n])
  Atomics.store(ctl, base + ${READY}, 1)
} catch (err) {
  Atomics.store(ctl, base + ${READY}, -1)
}
Atomics.notify(ctl, base + ${READY})
const fnOf = (f) => {
  const fn = fns[f]
  if (typeof fn !== 'function') throw new Error('no function ' + f + ' in the call list (' + fns.length + ' exported)')
  return fn
}
// A chunked entry at p (see CHUNKS in pool.ts): claim chunks, run the calls on each.
const chunks = (p) => {
  const rows = ctl[p], min = ctl[p + 1], parts = ctl[p + 2], at = ctl[p + 3], count = ctl[p + 4]
  const list = []
  let q = p + 5
  for (let i = 0; i < count; i++) {
    const fn = fnOf(ctl[q]), argc = ctl[q + 1]
    list.push([fn, Array.from(ctl.subarray(q + 2, q + 2 + argc)), Array.from(ctl.subarray(q + 2 + argc, q + 2 + 2 * argc))])
    q += 2 + 2 * argc
  }
  for (;;) {
    const cur = Atomics.load(ctl, at)
    if (cur >= rows) return
    let n = Math.ceil((rows - cur) / (parts + 1))
    if (n < min) n = min
    n += n & 1
    if (n > rows - cur) n = rows - cur
    if (Atomics.compareExchange(ctl, at, cur, cur + n) !== cur) continue
    for (const [fn, base, strides] of list) fn(n, ...base.map((a, j) => a + cur * strides[j]))
  }
}
let seen = 0
while (fns !== undefined) {
  Atomics.wait(ctl, base + ${POSTED}, seen)
  const seq = Atomics.load(ctl, base + ${POSTED})
  if (seq < 0) break
  seen = seq
  try {
    let p = base + ${STATE}
    const calls = ctl[p++]
    for (let c = 0; c < calls; c++) {
      const f = ctl[p++], argc = ctl[p++]
      if (f === ${CHUNKS}) {
        chunks(p)
        p += argc
        continue
      }
      const args = new Array(argc)
      for (let a = 0; a < argc; a++) args[a] = ctl[p++]
      if (f === ${EXIT_CALL}) proc.exit(args[0] ?? 1)
      fnOf(f)(...args)
    }
  } catch (err) {
    fail(${THREW}, (err && err.message) || String(err))
    break
  }
  Atomics.store(ctl, base + ${DONE}, seq)
  Atomics.notify(ctl, base + ${DONE})
}
`

/** The slice of `node:worker_threads` the pool uses. */
interface NodeWorker {
  unref(): void
  terminate(): Promise<number>
  on(event: 'error', listener: (err: unknown) => void): void
}
interface NodePort {
  close(): void
}
interface WorkerThreads {
  readonly Worker: new (source: string, opts: { readonly eval: true; readonly workerData: unknown; readonly transferList: readonly unknown[] }) => NodeWorker
  readonly MessageChannel: new () => { readonly port1: NodePort; readonly port2: NodePort }
  readonly receiveMessageOnPort: (port: NodePort) => { readonly message: unknown } | undefined
}

/** Node's worker_threads, if this host has them (Node ≥ 20.16 exposes `process.getBuiltinModule`). */
const workerThreads = (): WorkerThreads | undefined => {
  const proc = (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process
  return proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined
}

/**
 * Why this host cannot run a pool, or undefined when it can.
 * @example threadsUnavailable() // undefined on Node ≥ 20.16
 */
export const threadsUnavailable = (): string | undefined => {
  if (workerThreads() === undefined) return 'worker_threads are not available here (Node ≥ 20.16 is needed; in a page, threads are not supported yet)'
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available here'
  return undefined
}

/**
 * The number of cores this process may use (`os.availableParallelism()`), 1 where unknown.
 * @example availableCores() // 2 on the project's machine
 */
export const availableCores = (): number => {
  const proc = (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process
  const os = proc?.getBuiltinModule?.('node:os') as { readonly availableParallelism?: () => number } | undefined
  const n = os?.availableParallelism?.()
  return n !== undefined && Number.isSafeInteger(n) && n >= 1 ? n : 1
}

export interface ThreadPool {
  /** Worker threads (besides the calling one). */
  readonly workers: number
  /**
   * Runs `lists[w]` on worker w — each a call list [calls, (function index, argc, ...args)*] —
   * and `mine` on the calling thread, and returns when all are done; throws `ThreadFailure`
   * (after closing the pool) if a worker failed.
   */
  readonly run: (lists: readonly Int32Array[], mine: () => void) => void
  /**
   * Runs a job over `job.rows` rows in chunks claimed from a shared counter by every thread (the
   * calling one through `mine(r0, r1)`, each worker through `job.calls`), so a thread that runs
   * slower, on a core shared with other work, simply takes fewer chunks. Returns when all rows
   * are done; throws `ThreadFailure` like `run`.
   */
  readonly runChunks: (job: ChunkJob, mine: (r0: number, r1: number) => void) => void
  /** Stops the workers. */
  readonly close: () => void
  /** Whether the workers are running (false after `close` or a failure). */
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
  const unavailable = threadsUnavailable()
  if (unavailable !== undefined) return E.left(unavailable)
  const wt = workerThreads()!
  const control = new SharedArrayBuffer(4 * (SLOT * spec.workers + EXTRA_WORDS))
  const ctl = new Int32Array(control)
  const threads: NodeWorker[] = []
  const ports: NodePort[] = []
  for (let w = 0; w < spec.workers; w++) {
    const { port1, port2 } = new wt.MessageChannel()
    const workerData = { module: spec.module, memory: spec.memory, control, slot: w, exports: spec.exports, port: port2 }
    const t = new wt.Worker(WORKER_SOURCE, { eval: true, workerData, transferList: [port2] })
    // Failures are reported through the control buffer; an 'error' event must not crash the caller.
    t.on('error', () => undefined)
    t.unref()
    threads.push(t)
    ports.push(port1)
  }
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    for (let w = 0; w < threads.length; w++) {
      Atomics.store(ctl, w * SLOT + POSTED, -1)
      Atomics.notify(ctl, w * SLOT + POSTED)
    }
    for (const t of threads) void t.terminate()
    for (const p of ports) p.close()
  }
  /** Worker w's failure message from its port, if it sent one. */
  const messageOf = (w: number): string | undefined => {
    const message = wt.receiveMessageOnPort(ports[w]!)?.message
    return typeof message === 'string' ? message : undefined
  }
  for (let w = 0; w < spec.workers; w++) {
    if (Atomics.wait(ctl, w * SLOT + READY, 0, START_TIMEOUT) === 'timed-out' || Atomics.load(ctl, w * SLOT + READY) !== 1) {
      const why = Atomics.load(ctl, w * SLOT + READY) < 0 ? 'the module could not be instantiated on the shared memory' : Atomics.load(ctl, w * SLOT + FAILED) !== 0 ? failureReason(ctl, w, messageOf) : 'timed out'
      close()
      return E.left(`worker ${w + 1} did not start (${why})`)
    }
  }
  return E.right(drive(ctl, spec.workers, messageOf, close, () => closed))
}

/** Why worker w (0-based) failed: its own message (read before the pool closes), else what its failure word says. */
export const failureReason = (ctl: Int32Array, w: number, messageOf: (w: number) => string | undefined): string =>
  messageOf(w) ?? (Atomics.load(ctl, w * SLOT + FAILED) === EXITED ? 'its thread exited' : 'a call threw')

/**
 * The jobs of a started pool over its control words (the protocol above), whatever started its
 * workers (Node's `worker_threads` here, Web Workers in webWorkers.ts); `messageOf(w)` reads a
 * failed worker's message where that start put it.
 */
export const drive = (ctl: Int32Array, workers: number, messageOf: (w: number) => string | undefined, close: () => void, isClosed: () => boolean): ThreadPool => {
  /** The failure of worker w (0-based), as a ThreadFailure, after closing the pool. */
  const failure = (w: number): ThreadFailure => {
    const reason = failureReason(ctl, w, messageOf)
    close()
    return new ThreadFailure(w + 1, reason)
  }
  let seq = 0
  const run = (lists: readonly Int32Array[], mine: () => void): void => {
    if (isClosed()) throw new InternalError('a job for a closed thread pool')
    seq++
    const used = Math.min(lists.length, workers)
    for (let w = 0; w < used; w++) {
      if (Atomics.load(ctl, w * SLOT + FAILED) !== 0) throw failure(w)
      const list = lists[w]!
      if (list.length > SLOT - STATE) throw new InternalError(`a call list of ${list.length} words exceeds the pool's ${SLOT - STATE}`)
      ctl.set(list, w * SLOT + STATE)
      Atomics.store(ctl, w * SLOT + POSTED, seq)
      Atomics.notify(ctl, w * SLOT + POSTED)
    }
    mine()
    for (let w = 0; w < used; w++) {
      for (;;) {
        if (Atomics.load(ctl, w * SLOT + FAILED) !== 0) throw failure(w)
        const done = Atomics.load(ctl, w * SLOT + DONE)
        if (done === seq) break
        Atomics.wait(ctl, w * SLOT + DONE, done)
      }
    }
  }
  const counter = SLOT * workers
  const runChunks = (job: ChunkJob, mine: (r0: number, r1: number) => void): void => {
    if (ctl.length < counter + 1) throw new InternalError('a control buffer without the chunk counter')
    Atomics.store(ctl, counter, 0)
    run(chunkLists(job, workers, counter), () => runMine(ctl, counter, job, workers + 1, mine))
  }
  return { workers, run, runChunks, close, open: () => !isClosed() }
}

/**
 * How a compiled network starts its thread pool, by host. On Node the pool starts synchronously
 * (pool.ts: `worker_threads`, a bounded wait for each worker). In a page, workers can only start
 * asynchronously (webWorkers.ts), so a synchronous start there is refused with the reason, and
 * `laterStarts` hands out pools whose workers are still starting, with one Promise for them all:
 * `compileAsync` builds the network with it and waits for that Promise before returning.
 *
 * @example
 * const later = laterStarts()
 * const pool = later.start({ module, memory, exports, workers: 2 }) // Right(pool), not open yet
 * const started = await later.started() // Right(undefined) once every worker runs
 */
import * as E from 'fp-ts/lib/Either.js'
import { InternalError } from '../base/internalError.js'
import type { PoolSpec, ThreadPool } from './pool.js'
import { startPool, threadsUnavailable } from './pool.js'
import { startWebPool, webHost, webRefusal } from './webWorkers.js'

/** Starts a pool now, or says why it cannot. */
export type PoolStarter = (spec: PoolSpec) => E.Either<string, ThreadPool>

/**
 * Whether pool.ts's `worker_threads` are the way: outside a page, or wherever Node's worker
 * threads exist (a page emulated in Node, e.g. jsdom, still has them).
 * @example nodeThreads() // true on Node
 */
export const nodeThreads = (): boolean => webHost() === undefined || threadsUnavailable() === undefined

/**
 * The synchronous start: Node's `worker_threads` (pool.ts), or in a page the reason to call
 * `compileAsync` (or, on a page's main thread, to move to a Web Worker).
 * @example startThreads({ module, memory, exports, workers: 1 }) // Right(pool) on Node
 */
export const startThreads: PoolStarter = (spec) => {
  if (nodeThreads()) return startPool(spec)
  return E.left(
    webRefusal() ??
      'in a Web Worker, threads start asynchronously: use compileAsync (a worker cannot start another worker while it blocks in Atomics.wait)',
  )
}

export interface LaterStarts {
  /** Starts a pool whose workers boot once the caller returns to its event loop; closed until then. */
  readonly start: PoolStarter
  /** Resolves when every pool handed out has started (Right), or with why one did not (Left). */
  readonly started: () => Promise<E.Either<string, void>>
}

/**
 * Starts on Web Workers (webWorkers.ts), for `compileAsync`. A pool handed out reports
 * `open() === false` until its workers run (so a job would run on the calling thread alone);
 * after `started()` resolves Right, its jobs are split over them.
 */
export const laterStarts = (): LaterStarts => {
  const pending: Promise<E.Either<string, ThreadPool>>[] = []
  const start: PoolStarter = (spec) => {
    let target: ThreadPool | undefined
    let closed = false
    const starting = startWebPool(spec).then((p) => {
      if (E.isRight(p)) {
        if (closed) p.right.close()
        else target = p.right
      }
      return p
    })
    pending.push(starting)
    return E.right({
      workers: spec.workers,
      run: (lists, mine) => {
        if (target === undefined) throw new InternalError('a job for a thread pool that has not started')
        target.run(lists, mine)
      },
      runChunks: (job, mine) => {
        if (target === undefined) throw new InternalError('a job for a thread pool that has not started')
        target.runChunks(job, mine)
      },
      close: () => {
        closed = true
        target?.close()
      },
      open: () => !closed && target !== undefined && target.open(),
    })
  }
  const started = async (): Promise<E.Either<string, void>> => {
    const all = await Promise.all(pending)
    const failed = all.find(E.isLeft)
    return failed === undefined ? E.right(undefined) : E.left(failed.left)
  }
  return { start, started }
}

/**
 * Jobs for a thread pool, described by name: a job is one list of calls per part, part 0 for
 * the calling thread and part i for worker i. A `Runner` runs such a job on the calling thread
 * alone (`localRunner`, for one thread or small jobs) or spread over a pool started lazily on the
 * first job that has work for a worker (`poolRunner`). Whoever splits work into parts decides
 * only who computes what: each call computes the same values wherever it runs.
 */
import * as E from 'fp-ts/lib/Either.js'
import { InternalError } from '../base/internalError.js'
import type { ThreadPool } from './pool.js'
import { EXIT_CALL, startPool, ThreadFailure } from './pool.js'

/** One call of an exported function: its name and its i32 arguments. */
export type Call = readonly [name: string, ...args: number[]]

export interface Runner {
  /** How many parts a job may have (the calling thread and the workers). */
  readonly threads: number
  /**
   * Runs `parts[0]` and then `mine` on the calling thread and `parts[i]` on worker i, and returns
   * when all are done; throws `ThreadFailure` when a worker failed.
   */
  readonly run: (parts: readonly (readonly Call[])[], mine?: () => void) => void
}

/**
 * The ranges of `parts` near-equal consecutive shares of `count` items, in order.
 * @example evenRanges(10, 3) // [[0, 3], [3, 6], [6, 10]]
 */
export const evenRanges = (count: number, parts: number): [number, number][] =>
  Array.from({ length: parts }, (_, p) => evenRange(count, parts, p))

/**
 * Share `p` of `evenRanges(count, parts)`, without the others.
 * @example evenRange(10, 3, 2) // [6, 10]
 */
export const evenRange = (count: number, parts: number, p: number): [number, number] =>
  [Math.floor((count * p) / parts), Math.floor((count * (p + 1)) / parts)]

/** `f(lo, hi)` over some elements of [0, n): one replica's share of a section of work. */
export type Share = (n: number, f: (lo: number, hi: number) => void) => void

/**
 * Replica r of `replicas`' share of every section: its range of `evenRanges(n, replicas)`
 * (nothing when that is empty), so that the replicas' shares cover [0, n) once.
 * @example shareOf(2, 1)(10, (lo, hi) => console.log(lo, hi)) // 5 10
 */
export const shareOf = (replicas: number, r: number): Share => (n, f) => {
  const [lo, hi] = evenRange(n, replicas, r)
  if (hi > lo) f(lo, hi)
}

/** A pool's call list: [calls, (function index, argc, ...args)*]. */
export const callList = (calls: readonly Call[], index: ReadonlyMap<string, number>): Int32Array => {
  const out: number[] = [calls.length]
  for (const [name, ...args] of calls) {
    const fn = index.get(name)
    if (fn === undefined) throw new InternalError(`${name} is not an export of the pool's module`)
    out.push(fn, args.length, ...args)
  }
  return Int32Array.from(out)
}

/** Every part in order on the calling thread. */
export const localRunner = (exports: Readonly<Record<string, unknown>>): Runner => {
  const fns = new Map<string, (...args: number[]) => void>()
  const fn = (name: string): ((...args: number[]) => void) => {
    let f = fns.get(name)
    if (f === undefined) {
      f = exports[name] as ((...args: number[]) => void) | undefined
      if (typeof f !== 'function') throw new InternalError(`${name} is not an export of the module`)
      fns.set(name, f)
    }
    return f
  }
  return {
    threads: 1,
    run: (parts, mine) => {
      for (const part of parts) for (const [name, ...args] of part) fn(name)(...args)
      mine?.()
    },
  }
}

/** A runner over a pool of `threads − 1` workers, with a way to close it and to test failures. */
export interface PoolRunner extends Runner {
  /** Stops the workers (if they were started); later jobs run on the calling thread. */
  readonly close: () => void
  /** Whether workers were started (a job had a part for one of them). */
  readonly started: () => boolean
  /**
   * For tests: the next job that reaches worker `worker` (1-based) makes it throw (`throw`) or
   * its thread exit (`exit`) instead of running its calls.
   */
  readonly injectFailure: (worker: number, how: 'throw' | 'exit') => void
}

export interface PoolRunnerSpec {
  /** The compiled module (importing `env.mem`) and its shared memory, as `startPool` takes them. */
  readonly module: object
  readonly memory: object
  /** The exports the workers may call, by name. */
  readonly exports: readonly string[]
  /** The calling thread's instance exports, for its own part. */
  readonly instance: Readonly<Record<string, unknown>>
  /** Threads in all (the calling one included). */
  readonly threads: number
}

/**
 * A runner that starts `threads − 1` workers on `module` and its shared `memory` the first time
 * a job has a part for one of them (so that runs whose jobs are all small never start a thread).
 * A pool that cannot start throws `ThreadFailure` (worker 1, the reason); so does a failed worker.
 */
export const poolRunner = (spec: PoolRunnerSpec): PoolRunner => {
  const here = localRunner(spec.instance)
  const index = new Map(spec.exports.map((n, i) => [n, i]))
  let pool: ThreadPool | undefined
  let closed = false
  const injected = new Map<number, 'throw' | 'exit'>()
  const poolOf = (): ThreadPool => {
    if (pool !== undefined) {
      if (!pool.open()) throw new ThreadFailure(1, 'the thread pool was closed after a failure')
      return pool
    }
    const started = startPool({ module: spec.module, memory: spec.memory, exports: spec.exports, workers: spec.threads - 1 })
    if (E.isLeft(started)) throw new ThreadFailure(1, started.left)
    pool = started.right
    return pool
  }
  const run: Runner['run'] = (parts, mine) => {
    if (parts.length > spec.threads) throw new InternalError(`a job of ${parts.length} parts for ${spec.threads} threads`)
    const mineFirst = parts[0] ?? []
    const busy = parts.slice(1).some((p) => p.length > 0)
    if (!busy || closed || spec.threads < 2) return here.run(parts, mine)
    const p = poolOf()
    const lists = parts.slice(1, spec.threads).map((calls, w) => {
      const how = injected.get(w + 1)
      if (how === undefined) return callList(calls, index)
      injected.delete(w + 1)
      // A call to a function the module does not have throws in the worker; EXIT_CALL exits it.
      return how === 'exit' ? Int32Array.of(1, EXIT_CALL, 1, 70) : Int32Array.of(1, spec.exports.length, 0)
    })
    p.run(lists, () => here.run([mineFirst], mine))
  }
  return {
    threads: spec.threads,
    run,
    close: () => {
      closed = true
      pool?.close()
    },
    started: () => pool !== undefined,
    injectFailure: (worker, how) => void injected.set(worker, how),
  }
}

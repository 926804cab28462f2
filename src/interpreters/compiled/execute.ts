/**
 * Executing a plan on a machine: place the buffers for the batch, copy the feed in, run the steps
 * of one pass, read the outputs. Static buffers sit at fixed addresses from 0 (written once);
 * per-example buffers follow, sized for the current batch (re-placed when it changes).
 */
import type { SiteId } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { siteKey } from '../../dsl/random.js'
import { concreteShape } from '../../dsl/shape.js'
import type { Feed, NDArray } from '../ndarray.js'
import type { Kernel } from './kernels.js'
import { buffersOf, siteOf } from './kernels.js'
import type { KernelFn } from './jitless.js'
import type { Machine } from './machine.js'
import type { Plan, Step, StepEnv, Views } from './plan.js'
import type { ThreadPool } from '../../threads/pool.js'
import { argsFor, callList, minChunk, rowLocal, rowStrides, threadStrides } from './threads/rowSplit.js'
import type { RowBalance } from './threads/rowSplit.js'
import type { UnitPart } from './threads/units.js'
import { InternalError } from '../../dsl/dslErrors.js'
import { MAX_BYTES, alignUp, arena } from '../../wasm/memory.js'

/** Slack after every buffer: vector kernels may write past a buffer's end, at most 124 bytes (the
 * Threefry fill writes whole groups of 32 draws, kernels-wasm/threefry.ts). */
export const BUFFER_SLACK = 128

/**
 * Byte addresses of the plan's buffers for `rows` examples on `threads` threads: one bump arena,
 * 64-byte aligned. The per-example buffers in `unused` (ones a call never touches, entries.ts
 * `BytesEntry.unused`) get no rows: they are placed last, with only their slack. The static
 * buffers come first whatever `unused` is, so their addresses (and contents) never move.
 */
export const placeBuffers = (plan: Plan, rows: number, threads = 1, unused: ReadonlySet<number> = new Set()): { readonly addr: Int32Array; readonly total: number } => {
  const addr = new Int32Array(plan.buffers.length)
  // From 64, not 0: a `FillRandom` starting at an odd draw writes its block's first word at
  // out − 4, so every buffer has bytes before it (the slack of the one before, or these).
  const space = arena(64, 64)
  for (const b of plan.buffers) if (!b.perExample) addr[b.id] = space.alloc((b.perThread === true ? threads : 1) * b.bytes + BUFFER_SLACK)
  for (const b of plan.buffers) if (b.perExample && !unused.has(b.id)) addr[b.id] = space.alloc(rows * b.bytes + BUFFER_SLACK)
  for (const b of plan.buffers) if (b.perExample && unused.has(b.id)) addr[b.id] = space.alloc(BUFFER_SLACK)
  const total = alignUp(space.end(), 64)
  if (total > MAX_BYTES) throw new RangeError(`compiled: ${rows} examples need ${total} bytes, over the 2 GiB addressable by the kernels`)
  return { addr, total }
}

/**
 * The start arguments of a `FillRandom` kernel: the first draw's block (a uint32 counter, as an
 * i32) and whether the first draw is the block's second word. Per-example draws of rows
 * offset.. start at offset × count; weights (drawn once per pass) at 0.
 */
export const drawStart = (k: Kernel, offset: number, rows: number): [number, number] => {
  if (k._tag !== 'FillRandom' || !k.perExample || offset === 0) return [0, 0]
  const start = offset * k.count
  if (Math.ceil((start + rows * k.count) / 2) > 2 ** 32) throw new RangeError(`site ${k.site}: draws past 2^33 (rows from ${offset})`)
  return [(start / 2) | 0, start % 2]
}

/** All kernels of a plan in execution order (a choice's test, then its branches). */
export const productsOf = (steps: readonly Step[]): Kernel[] =>
  steps.flatMap((s) => (s._tag === 'Kernel' ? [s.kernel] : s._tag === 'Choice' ? [s.test, ...productsOf(s.then), ...productsOf(s.otherwise)] : []))

/** A plan instantiated on a machine: `prepare` once per batch size, then `pass` per pass. */
export interface Executor {
  /** Places buffers for `rows` examples and copies the feed's inputs in. */
  /** `unused`: as `prepare`'s (the entries' idle buffers, for `run`). */
  readonly load: (feed: Feed, rows: number, unused?: ReadonlySet<number>) => void
  /**
   * Places buffers for `rows` examples (and writes the static ones once), without any input;
   * `unused`: per-example buffers the coming call never touches, left without rows.
   */
  readonly prepare: (rows: number, unused?: ReadonlySet<number>) => void
  /**
   * Runs every step once with the given pass key (ignored by the mode network); `offset` is the
   * index of row 0 in the whole set whose draws this pass reproduces (default 0, see StepEnv).
   */
  readonly pass: (key: Key | undefined, offset?: number) => void
  /** Runs the given steps (the plan's, some replaced, see infer.ts) once with the pass key. */
  readonly passSteps: (steps: readonly Step[], key: Key | undefined, offset?: number) => void
  /** Runs a kernel of the machine that is not in the plan (an entry kernel) on the current rows. */
  readonly call: (k: Kernel) => number | void
  /** The byte address of a buffer for the current rows. */
  readonly addr: (buffer: number) => number
  /** The current views of the memory. */
  readonly views: () => Views
  /** The examples the buffers are placed for. */
  readonly rows: () => number
  /** Copies output `i` out of the memory. */
  readonly output: (i: number) => NDArray
  /** Runs one kernel alone (for benchmarks), by its index in `productsOf(plan.steps)`. */
  readonly kernel: (index: number, key?: Key) => number | void
  /** Runs top-level step `index` of the plan alone (after `load` and one `pass`). */
  readonly step: (index: number, key?: Key) => void
}

/** Threads for the executor: a pool over the machine's shared memory, and how many threads in all. */
export interface Parallel {
  readonly pool: ThreadPool
  readonly threads: number
  /** Kernels split by units at batch 1 (threads/units.ts); their parts are among the extra kernels. */
  readonly units: ReadonlyMap<Kernel, readonly UnitPart[]>
  /**
   * How a batch is split by rows: `'chunks'` (the default), chunks claimed by whichever thread is
   * free (threads/pool.ts `runChunks`); or fixed ranges per run from a `RowBalance` (adapted to
   * the threads' speeds, or even).
   */
  readonly balance?: RowBalance | 'chunks'
}

export const executor = (plan: Plan, machine: Machine, extra: readonly Kernel[] = [], parallel?: Parallel): Executor => {
  const all = [...productsOf(plan.steps), ...extra]
  const indexOf = new Map<Kernel, number>(all.map((k, i) => [k, i]))
  let rows = 0
  let addr: Int32Array = new Int32Array(0)
  let staticWritten = false
  /** The `unused` set of the current placement (sorted ids). */
  let placedUnused = ''
  // The closures of a pass without a key are made once: a batch-1 call is a few µs of JavaScript.
  const addrOf = (b: number): number => addr[b]!
  const noKey = (): Key => {
    throw new InternalError('a sampling step ran without a pass key')
  }
  const env = (key: Key | undefined, offset = 0): StepEnv => {
    if (key === undefined) return { views: machine.views(), rows, offset, addr: addrOf, siteKey: noKey }
    const keys = new Map<SiteId, Key>()
    return {
      views: machine.views(),
      rows,
      offset,
      addr: addrOf,
      siteKey: (site) => {
        let k = keys.get(site)
        if (k === undefined) keys.set(site, (k = siteKey(key, site)))
        return k
      },
    }
  }
  const call = (fns: readonly KernelFn[], k: Kernel, e: StepEnv): number | void => {
    const fn = fns[indexOf.get(k)!]!
    const args = buffersOf(k).map((b) => addr[b]!)
    const site = siteOf(k)
    if (site !== undefined) {
      const sk = e.siteKey(site)
      args.push(sk[0] | 0, sk[1] | 0, ...drawStart(k, e.offset, rows))
    }
    return fn(rows, ...args)
  }
  // The calling thread's share of a split batch, adapted to the threads' speeds (rowSplit.ts).
  const balance = parallel?.balance ?? 'chunks'
  // Kernels that can run on the pool: row-local ones the WebAssembly module exports.
  const splittable = (k: Kernel): boolean => parallel !== undefined && rowLocal(k) && machine.how[indexOf.get(k)!] === 'wasm'
  /** Runs consecutive row-local kernels with the batch split across the threads (threads/rowSplit.ts). */
  const segment = (ks: readonly Kernel[], fns: readonly KernelFn[], e: StepEnv): void => {
    const parts = Math.min(parallel?.threads ?? 1, rows)
    if (parallel === undefined || !parallel.pool.open()) {
      for (const k of ks) call(fns, k, e)
      return
    }
    if (parts < 2) {
      // One example: large layers split by units, one after the other.
      for (const k of ks) {
        const split = parallel.units.get(k)
        if (split === undefined) {
          call(fns, k, e)
          continue
        }
        const base = buffersOf(k).map((b) => addr[b]!)
        const argsOf = (p: UnitPart): number[] => [rows, ...base.map((a, i) => a + p.offsets[i]!)]
        parallel.pool.run(split.slice(1).map((p) => callList([{ fn: indexOf.get(p.kernel)!, args: argsOf(p) }])), () => {
          const first = split[0]!
          const [n, ...args] = argsOf(first)
          fns[indexOf.get(first.kernel)!]!(n!, ...args)
        })
      }
      return
    }
    const at = (b: number): number => addr[b]!
    if (balance === 'chunks') {
      // Each chunk runs the whole segment (row-local kernels: a chunk's rows need no other rows).
      const calls = ks.map((k) => ({ fn: indexOf.get(k)!, args: argsFor(k, plan.buffers, at, 0, 0).slice(1), strides: rowStrides(k, plan.buffers), threadStrides: threadStrides(k, plan.buffers) }))
      parallel.pool.runChunks({ rows, min: minChunk(rows, parts), calls }, (r0, r1) => {
        for (const k of ks) {
          const [n, ...args] = argsFor(k, plan.buffers, at, r0, r1)
          fns[indexOf.get(k)!]!(n!, ...args)
        }
      })
      return
    }
    const ranges = balance.ranges(rows, parts)
    const lists = ranges.slice(1).map(([r0, r1], w) => callList(ks.map((k) => ({ fn: indexOf.get(k)!, args: argsFor(k, plan.buffers, at, r0, r1, w + 1) }))))
    const [r0, r1] = ranges[0]!
    const t0 = performance.now()
    let mainMs = 0
    parallel.pool.run(lists, () => {
      for (const k of ks) {
        const [n, ...args] = argsFor(k, plan.buffers, at, r0, r1)
        fns[indexOf.get(k)!]!(n!, ...args)
      }
      mainMs = performance.now() - t0
    })
    balance.observe(ranges, mainMs, performance.now() - t0)
  }
  const runSteps = (steps: readonly Step[], fns: readonly KernelFn[], e: StepEnv): void => {
    let run: Kernel[] = []
    for (const s of steps) {
      if (s._tag === 'Kernel' && splittable(s.kernel)) {
        run.push(s.kernel)
        continue
      }
      if (run.length > 0) segment(run, fns, e)
      run = []
      if (s._tag === 'Kernel') call(fns, s.kernel, e)
      else if (s._tag === 'Generic') s.run(e)
      else runSteps(call(fns, s.test, e) === 1 ? s.then : s.otherwise, fns, e)
    }
    if (run.length > 0) segment(run, fns, e)
  }
  const prepare = (n: number, unused: ReadonlySet<number> = new Set()): void => {
    const key = [...unused].sort((a, b) => a - b).join()
    if (n !== rows || key !== placedUnused || !staticWritten) {
      const placed = placeBuffers(plan, n, parallel?.threads ?? 1, unused)
      machine.ensure(placed.total)
      addr = placed.addr
      rows = n
      placedUnused = key
    }
    if (!staticWritten) {
      const v = machine.views()
      for (const b of plan.buffers) {
        if (b.init === undefined) continue
        if (b.init instanceof Float64Array) v.f64.set(b.init, addr[b.id]! / 8)
        else v.i32.set(b.init, addr[b.id]! / 4)
      }
      staticWritten = true
    }
  }
  return {
    load: (feed, n, unused) => {
      prepare(n, unused)
      const v = machine.views()
      for (const slot of plan.inputs) v.f64.set(feed[slot.name]!.data, addr[slot.buffer]! / 8)
    },
    prepare,
    pass: (key, offset) => runSteps(plan.steps, machine.kernels(), env(key, offset)),
    passSteps: (steps, key, offset) => runSteps(steps, machine.kernels(), env(key, offset)),
    call: (k) => call(machine.kernels(), k, env(undefined)),
    addr: (b) => addr[b]!,
    views: () => machine.views(),
    rows: () => rows,
    output: (i) => {
      const slot = plan.outputs[i]!
      const shape = concreteShape(slot.shape, rows)
      const size = shape.reduce((a, b) => a * b, 1)
      const start = addr[slot.buffer]! / 8
      return { shape, data: machine.views().f64.slice(start, start + size) }
    },
    kernel: (index, key) => call(machine.kernels(), all[index]!, env(key)),
    step: (index, key) => runSteps([plan.steps[index]!], machine.kernels(), env(key)),
  }
}

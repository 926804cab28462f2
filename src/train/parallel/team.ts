/**
 * Data parallelism (docs/training.md, "Data parallelism"): a minibatch cut into `parts` fixed
 * contiguous slices, computed by replicas of the gradient pass — the calling thread (replica 0)
 * and `threads − 1` worker threads, each holding a contiguous range of parts. Every sum over the
 * batch axis goes through `RowParts.sum` (rows.ts): per part, then all parts in part order, so the
 * gradient, the loss and the batch statistics are the same bits for any number of threads.
 *
 * With workers, the parameters and the optimizer's slots live in shared memory, which every
 * replica reads and writes in place: nothing is copied per step but the workers' rows of the
 * minibatch. A step posts the key and baseline, runs the calling thread's pass and waits for the
 * workers' (their results are the same totals). `optimize` then posts the optimizer step, which
 * every replica of the pass takes on its own element ranges of every parameter (optimizer.ts).
 * A failed worker makes the step throw `ThreadFailure` (threads/pool.ts), `TornStep` inside the
 * optimizer step.
 */
import * as E from 'fp-ts/lib/Either.js'
import { InternalError } from '../../base/internalError.js'
import type { Checked, Network } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { topoOrder } from '../../dsl/fold.js'
import { encodeModel } from '../../dsl/codec/encode.js'
import type { Feed } from '../../interpreters/ndarray.js'
import type { MatrixProducts } from '../../interpreters/reference/ops.js'
import type { RunError } from '../../interpreters/runErrors.js'
import { START_TIMEOUT, threadsUnavailable, ThreadFailure } from '../../threads/pool.js'
import { ABORT, ACTIVE, BAD, CHECKS, checksOn, controlWords, DONE, FAILED, injectAt, JOB, KEY, markPass, OPTIMIZE, PASS, PHASE, PHASE_WORDS, ROWS, SPIN, STEP, barrierOn, Aborted, waitChange } from './barrier.js'
import type { OptimizerState, Tensors } from '../optimizers.js'
import type { Routing } from '../routing.js'
import { stepRoutedInPlace } from '../routing.js'
import { sharedSlots, splitRoutingOf, stepShare } from './optimizer.js'
import { shareOf } from '../../threads/jobs.js'
import type { TeamData, TeamGradient } from './teamData.js'
import { feedLayoutOf, paramViews } from './teamData.js'
import { localRows, partsOf, replicaParts, scratchArray, sharedRows } from './rows.js'
import { workerStart } from './spawn.js'
import type { NodeWorkerLike } from './spawn.js'

export interface Team {
  /** Threads computing the passes, the calling one included. */
  readonly replicas: number
  readonly parts: number
  /** The parameters (update them in place between steps: with workers, they are views of the memory every replica reads). */
  readonly params: Record<string, Float64Array>
  /**
   * One step over `feed` (a whole minibatch): `pass(products, rows)` is the calling thread's
   * gradient pass over its rows with `products` (whose `rows` sums over every part); its result
   * is returned. Throws `ThreadFailure` if a worker failed.
   */
  readonly step: <R>(feed: Feed, key: Key, baseline: number, pass: (products: MatrixProducts, feed: Feed) => R) => R
  /**
   * The optimizer step of the routing (`TeamSpec.routing`) on the last step's gradient `grads`
   * (the calling thread's pass result), in place on `params`: split over the replicas of that
   * step by element ranges when every optimizer has a spec (optimizer.ts), else on the calling
   * thread alone (`stepRoutedInPlace`). The same bits either way. The returned states hold the
   * team's slot arrays (a checkpoint copies them). Throws `ThreadFailure` (`torn` when the
   * parameters may be half updated) if a worker failed.
   */
  readonly optimize: (grads: Tensors, states: readonly OptimizerState[], lr: number) => readonly OptimizerState[]
  /**
   * Whether the optimizer step after the last `step` is split over several replicas (every
   * optimizer has a spec and the minibatch had rows for several): `optimizeChecked` then checks
   * the routed gradients and parameters by the same chunks.
   */
  readonly splits: () => boolean
  /**
   * `optimize` that also checks, split like the step when `splits()`: first every routed
   * gradient (a non-finite value anywhere: nothing is updated, `bad` has bit `BAD_GRADIENT`), then
   * every updated parameter (bit `BAD_PARAMETER`). Without a split it checks nothing (`bad` 0):
   * the caller checks on its own thread, as with one thread.
   */
  readonly optimizeChecked: (grads: Tensors, states: readonly OptimizerState[], lr: number) => { readonly states: readonly OptimizerState[]; readonly bad: number }
  readonly close: () => void
  /**
   * With `TeamSpec.phases`: per replica (0 the calling thread), the `PHASE` words (barrier.ts)
   * accumulated since the last call, which zeroes them.
   */
  readonly phases: () => readonly Float64Array[]
  /** For tests: worker `worker` (1-based) throws or exits at its next pass, or throws at its next optimizer step. */
  readonly injectFailure: (worker: number, how: 'throw' | 'exit' | 'throw in the optimizer') => void
}

export interface TeamSpec {
  /** The network (any batch-norm mode; each replica switches it as the trainer does). */
  readonly net: Checked<Network>
  readonly gradient: TeamGradient
  readonly products: { readonly name: string; readonly kernels: MatrixProducts }
  readonly parts: number
  readonly threads: number
  readonly batchSize: number
  /** A minibatch of the data (for the shapes of its rows). */
  readonly sample: Feed
  /** Sums of at least this many values are split by element ranges (default `SPLIT_FROM`; for tests). */
  readonly splitFrom?: number
  /** Count each replica's phases (`Team.phases`; bench/threads.ts `--phases`). */
  readonly phases?: boolean
  /** Which optimizer updates which parameter (`Team.optimize`). */
  readonly routing: Routing
  /** Checks of a control word before a waiting replica sleeps (default `SPIN`; bench/threads.ts `--spin`). */
  readonly spin?: number
}

/**
 * A worker failed in the middle of the optimizer step: some of its elements may be updated and
 * others not, so no checkpoint may be taken of these parameters.
 */
export class TornStep extends ThreadFailure {
  constructor(worker: number, reason: string) {
    super(worker, `${reason} (during the optimizer step: the parameters are partly updated)`)
  }
}

/**
 * The step's area of the sums (rows.ts): each part's slot of every parameter's gradient, and one
 * copy of each weight site's draws, with room for a few sums over the rows. A pass whose sums do
 * not fit (a parameter read twice) takes the rest through the alternating slots.
 */
const areaLengthOf = (net: Checked<Network>, batch: number, parts: number): number => {
  let params = 0
  // A dense weight's gradient may be a product over the gathered rows (RowParts.productLater).
  let gathered = 0
  for (const n of topoOrder(Object.values(net.outputs))) if (n._tag === 'Param' && n.type.shape.length === 2) gathered += Math.max(1, batch) * ((n.type.shape[0] as number) + (n.type.shape[1] as number))
  for (const p of Object.values(net.params)) params += p.length
  return (parts + 1) * params + 4 * parts * Math.max(1, batch) + gathered
}

/**
 * Sums of at least this many values are added by element ranges split over the replicas
 * (rows.ts), at the cost of a second barrier: below it, adding the whole (about 0.1 ms for 2¹⁶
 * values) costs less than the replicas meeting once more.
 */
export const SPLIT_FROM = 1 << 16

/** The longest sum over parts a pass takes: a parameter's gradient, 4 values per batch-norm channel, or a loss per row. */
const slotLengthOf = (net: Checked<Network>, batch: number): number => {
  let longest = Math.max(1, batch)
  for (const p of Object.values(net.params)) longest = Math.max(longest, p.length)
  for (const n of topoOrder(Object.values(net.outputs))) if (n._tag === 'BatchNorm') longest = Math.max(longest, 4 * (n.type.shape[1] as number))
  return longest
}

const watchers = new Set<(t: Team) => void>()

/**
 * For tests: calls `f` with every team started from now on (to inject a failure); returns the
 * function that stops watching.
 * @example const stop = watchTeams((t) => t.injectFailure(1, 'throw'))
 */
export const watchTeams = (f: (t: Team) => void): (() => void) => {
  watchers.add(f)
  return () => void watchers.delete(f)
}

const unsupported = (what: string): RunError => ({ _tag: 'Unsupported', interpreter: 'data-parallel training', what, fix: 'train with parts: 1 (or threads: 1)' })

/**
 * Starts `threads − 1` workers for data-parallel steps (none for one thread: the team then runs
 * every part on the calling thread), or says why this host cannot.
 */
export const startTeam = async (spec: TeamSpec): Promise<E.Either<RunError, Team>> => {
  const workers = Math.max(0, Math.min(spec.threads, spec.parts) - 1)
  if (workers > 0) {
    const why = threadsUnavailable()
    if (why !== undefined) return E.left(unsupported(`${spec.threads} threads: ${why}`))
  }
  const replicas = workers + 1
  const ctl = new Int32Array(new SharedArrayBuffer(4 * controlWords(workers)))
  const paramLayout: [string, number, number][] = []
  let at = 0
  for (const [name, v] of Object.entries(spec.net.params)) {
    paramLayout.push([name, at, v.length])
    at += v.length
  }
  // With workers, the trainer's parameters live in shared memory: every replica reads them there
  // (the optimizer writes them between steps, while the workers wait), so nothing is copied per step.
  const paramBuf = new SharedArrayBuffer(workers === 0 ? 8 : 8 * Math.max(1, at))
  const params: Record<string, Float64Array> = workers === 0
    ? Object.fromEntries(Object.entries(spec.net.params).map(([name, v]) => [name, v.slice()]))
    : paramViews(paramBuf, paramLayout)
  if (workers > 0) for (const [name, v] of Object.entries(spec.net.params)) params[name]!.set(v)
  const feed = feedLayoutOf(spec.sample, spec.batchSize)
  const feedBuf = new SharedArrayBuffer(8 * Math.max(1, workers === 0 ? 1 : feed.values))
  const slotLength = slotLengthOf(spec.net, spec.batchSize)
  const parts = spec.parts
  const scratch = new Float64Array(new SharedArrayBuffer(workers === 0 ? 8 : 8 * 2 * parts * slotLength))
  const areaLength = workers === 0 ? 1 : areaLengthOf(spec.net, spec.batchSize, parts)
  const area = new Float64Array(new SharedArrayBuffer(8 * areaLength))
  const splitFrom = spec.splitFrom ?? SPLIT_FROM
  const split = workers === 0 ? undefined : splitRoutingOf(spec.routing, spec.net.params)
  const lengths = Object.fromEntries(paramLayout.map(([name, , n]) => [name, n]))
  const slotBuf = new SharedArrayBuffer(8 * Math.max(1, split?.values ?? 0))
  const slotViews = split === undefined ? [] : sharedSlots(slotBuf, split, lengths)
  const optimizers = spec.routing.rules.map((r) => r.optimizer)
  // The step's REINFORCE baseline, then the optimizer step's learning rate and each rule's step count.
  const baseline = new Float64Array(new SharedArrayBuffer(8 * (2 + spec.routing.rules.length)))
  const model = workers === 0 ? '' : encodeModel(spec.net).json
  const phaseBuf = spec.phases === true ? new SharedArrayBuffer(8 * PHASE_WORDS * replicas) : undefined
  const phasesOf = (r: number): Float64Array | undefined => (phaseBuf === undefined ? undefined : new Float64Array(phaseBuf, 8 * PHASE_WORDS * r, PHASE_WORDS))
  const ownPhases = phasesOf(0)
  const started: { readonly worker: NodeWorkerLike; readonly message: () => string | undefined }[] = []
  const close = (): void => {
    Atomics.store(ctl, ABORT, -1)
    Atomics.store(ctl, STEP, -1)
    for (const w of [1, 2, 4]) Atomics.notify(ctl, w)
    for (const s of started) void s.worker.terminate()
  }
  for (let r = 1; r <= workers; r++) {
    const data: Omit<TeamData, 'port'> = {
      model, gradient: spec.gradient, products: spec.products.name, parts, replicas, replica: r,
      control: ctl.buffer as SharedArrayBuffer, params: paramBuf, paramLayout, feed: feedBuf, feedLayout: feed.layout, maxRows: spec.batchSize,
      spin: spec.spin ?? SPIN, scratch: scratch.buffer as SharedArrayBuffer, slotLength, area: area.buffer as SharedArrayBuffer, splitFrom, baseline: baseline.buffer as SharedArrayBuffer,
      ...(phaseBuf === undefined ? {} : { phases: phaseBuf }),
      ...(split === undefined ? {} : { split, slots: slotBuf }),
    }
    const s = workerStart(data)
    if (E.isLeft(s)) {
      close()
      return E.left(unsupported(s.left))
    }
    started.push(s.right)
  }
  const ready = await Promise.all(started.map((s) => s.worker.ready(START_TIMEOUT)))
  const failed = ready.findIndex((r) => r !== undefined)
  if (failed >= 0) {
    close()
    return E.left(unsupported(`worker ${failed + 1} did not start (${ready[failed]})`))
  }
  const spin = spec.spin ?? SPIN
  const barrier = barrierOn(ctl, ownPhases, spin)
  const slots = { scratch, slotLength, parts, area, splitFrom }
  let seq = 0
  const local = scratchArray()
  /** Worker r's failure as a ThreadFailure, after closing the team. */
  const failure = (r: number): ThreadFailure => {
    const reason = started[r - 1]?.message() ?? (Atomics.load(ctl, FAILED + r) === 2 ? 'its thread exited' : 'its pass threw')
    close()
    return new ThreadFailure(r, reason)
  }
  /** Posts a job to the workers (the ACTIVE replicas of the last pass take part). */
  const post = (job: typeof PASS | typeof OPTIMIZE): void => {
    Atomics.store(ctl, JOB, job)
    Atomics.store(ctl, DONE, 0)
    Atomics.store(ctl, STEP, ++seq)
    Atomics.notify(ctl, STEP)
  }
  /** Returns once every worker is done with the posted job; throws `failed(r)` if worker r failed. */
  const awaitWorkers = (failed: (r: number) => ThreadFailure): void => {
    for (;;) {
      const abort = Atomics.load(ctl, ABORT)
      if (abort > 0) throw failed(abort)
      const done = Atomics.load(ctl, DONE)
      if (done === workers) return
      waitChange(ctl, DONE, done, undefined, spin)
    }
  }
  let lastActive = 1
  /** Whether the workers hold the gradient of a pass not yet stepped. */
  let passed = false
  const step = <R>(batch: Feed, key: Key, base: number, pass: (products: MatrixProducts, feed: Feed) => R): R => {
    if (Atomics.load(ctl, ABORT) !== 0) throw failure(Math.max(1, Atomics.load(ctl, ABORT)))
    const rows = Object.values(batch)[0]?.shape[0] ?? 0
    const ranges = partsOf(rows, parts)
    const active = Math.min(replicas, ranges.length)
    lastActive = active
    const kernels = spec.products.kernels
    if (active === 1) return pass({ ...kernels, rows: localRows(rows, parts, local, kernels.alloc) }, batch)
    const [, mine] = replicaParts(ranges.length, active, 0)
    const split = ranges[mine - 1]![1]
    // The workers' rows into shared memory (the main thread reads its own straight from the feed).
    for (const [name, offset, row] of feed.layout) {
      const width = row.reduce((a, b) => a * b, 1)
      const src = batch[name]!.data
      new Float64Array(feedBuf, 8 * (offset + split * width), (rows - split) * width).set(src.subarray(split * width, rows * width))
    }
    Atomics.store(ctl, ROWS, rows)
    Atomics.store(ctl, KEY, key[0] | 0)
    Atomics.store(ctl, KEY + 1, key[1] | 0)
    baseline[0] = base
    Atomics.store(ctl, ACTIVE, active)
    post(PASS)
    const own: Feed = Object.fromEntries(Object.entries(batch).map(([name, v]) => {
      const width = v.shape[0] === 0 ? 0 : v.data.length / v.shape[0]!
      return [name, { shape: [split, ...v.shape.slice(1)], data: v.data.subarray(0, split * width) }]
    }))
    let result: R
    const t0 = ownPhases === undefined ? 0 : performance.now()
    markPass(ownPhases)
    try {
      result = pass({ ...kernels, rows: sharedRows(rows, parts, active, 0, slots, barrier, kernels.alloc) }, own)
    } catch (err) {
      if (err instanceof Aborted && err.by > 0) throw failure(err.by)
      close()
      throw err
    }
    const t1 = ownPhases === undefined ? 0 : performance.now()
    awaitWorkers(failure)
    passed = true
    if (ownPhases !== undefined) {
      ownPhases[PHASE.steps]!++
      ownPhases[PHASE.passMs]! += t1 - t0
      ownPhases[PHASE.doneMs]! += performance.now() - t1
    }
    return result
  }
  const splits = (): boolean => split !== undefined && lastActive > 1
  const optimizeChecked = (grads: Tensors, states: readonly OptimizerState[], lr: number, check = true): { readonly states: readonly OptimizerState[]; readonly bad: number } => {
    if (split === undefined || lastActive === 1) return { states: stepRoutedInPlace(spec.routing, params, grads, states, lr), bad: 0 }
    // The workers step with the gradient of their last pass, which they keep for one optimizer step.
    if (!passed) throw new InternalError('a split optimizer step without a gradient pass before it')
    passed = false
    if (Atomics.load(ctl, ABORT) !== 0) throw failure(Math.max(1, Atomics.load(ctl, ABORT)))
    const t0 = ownPhases === undefined ? 0 : performance.now()
    // The states given hold the team's slots after the first step; before it (a fresh run, a resume) their values move in.
    states.forEach((s, i) => {
      for (const [name, views] of Object.entries(slotViews[i]!)) views.forEach((v, j) => {
        const given = s.slots[name]?.[j]
        if (given !== undefined && given !== v) v.set(given)
      })
    })
    baseline[1] = lr
    states.forEach((s, i) => (baseline[2 + i] = s.step))
    Atomics.store(ctl, CHECKS, check ? 1 : 0)
    Atomics.store(ctl, BAD, 0)
    post(OPTIMIZE)
    const torn = (r: number): TornStep => {
      const f = failure(r)
      return new TornStep(f.worker, f.reason)
    }
    let stepped: boolean
    try {
      stepped = stepShare(optimizers, split, params, grads, slotViews, states.map((s) => s.step), lr, shareOf(lastActive, 0), check ? checksOn(ctl, barrier) : undefined)
    } catch (err) {
      if (err instanceof Aborted && err.by > 0) throw torn(err.by)
      close()
      throw err
    }
    awaitWorkers(torn)
    if (ownPhases !== undefined) ownPhases[PHASE.optimizerMs]! += performance.now() - t0
    const bad = Atomics.load(ctl, BAD)
    // A non-finite gradient: nobody updated anything, and the states stay those given.
    return stepped ? { states: states.map((s, i) => ({ step: s.step + 1, slots: slotViews[i]! })), bad } : { states, bad }
  }
  const optimize = (grads: Tensors, states: readonly OptimizerState[], lr: number): readonly OptimizerState[] => optimizeChecked(grads, states, lr, false).states
  const injectFailure = (worker: number, how: 'throw' | 'exit' | 'throw in the optimizer'): void => {
    if (worker >= 1 && worker <= workers) Atomics.store(ctl, injectAt(workers) + worker, how === 'throw' ? 1 : how === 'exit' ? 2 : 3)
  }
  const phases = (): readonly Float64Array[] => Array.from({ length: phaseBuf === undefined ? 0 : replicas }, (_, r) => {
    const words = phasesOf(r)!
    const copy = words.slice()
    words.fill(0)
    return copy
  })
  const team: Team = { replicas, parts, params, step, optimize, splits, optimizeChecked: (g, st, lr) => optimizeChecked(g, st, lr), close, phases, injectFailure }
  for (const f of watchers) f(team)
  return E.right(team)
}

/**
 * The entry of a data-parallel worker thread (started by spawn.ts; never imported): rebuilds the
 * network from its model text, takes the parameters as views of the shared memory, the kernels
 * by name (single-threaded) and the optimizers from their specs (optimizer.ts), says "ready",
 * then runs each posted job and counts itself out: a gradient pass over its rows (its results are
 * the same totals as the main thread's; it keeps the gradient), or the optimizer step on its
 * element ranges with that gradient. A failure is reported once — the message to the port, then
 * the failure word and ABORT (barrier.ts) — so no other thread waits for it.
 */
import * as E from 'fp-ts/lib/Either.js'
import { InternalError } from '../../base/internalError.js'
import { decodeModel } from '../../dsl/codec.js'
import { keyOfWords } from '../../dsl/random.js'
import { withBatchNormMode, withParams } from '../../dsl/rewrite.js'
import { prepareGradient } from '../../estimators/gradient.js'
import type { MatrixProducts } from '../../interpreters/reference/ops.js'
import { referenceProducts } from '../../interpreters/reference/ops.js'
import { drawRunError } from '../../interpreters/runErrors.js'
import { fastProducts } from '../fast/index.js'
import { Aborted, ACTIVE, barrierOn, CHECKS, checksOn, DONE, injectAt, JOB, KEY, markPass, PASS, PHASE, PHASE_WORDS, reportFailure, ROWS, STEP, waitChange } from './barrier.js'
import type { Tensors } from '../optimizers.js'
import { optimizerOf, sharedSlots, stepShare } from './optimizer.js'
import { shareOf } from '../../threads/jobs.js'
import type { TeamData } from './teamData.js'
import { feedRows, paramViews } from './teamData.js'
import { partsOf, replicaParts, sharedRows } from './rows.js'

interface WorkerGlobals {
  readonly workerData: TeamData
  readonly parentPort: { postMessage(m: unknown): void }
}
interface Proc {
  on(event: 'exit', f: (code: number) => void): void
  exit(code: number): never
  getBuiltinModule(id: string): unknown
}
const proc = (globalThis as unknown as { readonly process: Proc }).process
const { workerData: d, parentPort } = proc.getBuiltinModule('node:worker_threads') as WorkerGlobals
const port = d.port as { postMessage(m: unknown): void }
const ctl = new Int32Array(d.control)
const workers = d.replicas - 1

const fail = (code: 1 | 2, why: string): void => {
  try {
    port.postMessage(why)
  } catch {
    // The port may be closed already; the failure word still says what happened.
  }
  reportFailure(ctl, d.replica, code)
}

const kernelsByName = (name: string): E.Either<string, MatrixProducts> => {
  if (name === 'reference') return E.right(referenceProducts)
  if (name === 'fast') return E.mapLeft(drawRunError)(fastProducts())
  return E.left(`kernels "${name}" cannot be rebuilt in a worker`)
}

const setup = (): E.Either<string, { readonly run: () => void; readonly optimize: () => void }> => {
  const decoded = decodeModel(JSON.parse(d.model))
  if (E.isLeft(decoded)) return E.left(`the network did not decode: ${decoded.left.map((e) => JSON.stringify(e)).join('; ')}`)
  const kernels = kernelsByName(d.products)
  if (E.isLeft(kernels)) return kernels
  // The parameters are read where the main thread's optimizer writes them (between steps).
  const net = withParams(withBatchNormMode(decoded.right, 'train'), paramViews(d.params, d.paramLayout))
  const baseline = new Float64Array(d.baseline)
  const slots = { scratch: new Float64Array(d.scratch), slotLength: d.slotLength, parts: d.parts, area: new Float64Array(d.area), splitFrom: d.splitFrom }
  const phases = d.phases === undefined ? undefined : new Float64Array(d.phases, 8 * PHASE_WORDS * d.replica, PHASE_WORDS)
  const barrier = barrierOn(ctl, phases, d.spin)
  const r = d.replica
  const params = paramViews(d.params, d.paramLayout)
  const lengths = Object.fromEntries(d.paramLayout.map(([name, , n]) => [name, n]))
  const split = d.split === undefined || d.slots === undefined ? undefined : { routing: d.split, slots: sharedSlots(d.slots, d.split, lengths), optimizers: d.split.rules.map((rule) => optimizerOf(rule.spec)) }
  /** The private copies of the pass's rows, by input name. */
  const copies = new Map<string, Float64Array>()
  /** The last pass's gradient, kept for the optimizer step that follows it. */
  let kept: Tensors | undefined
  const drop = (): void => {
    // The worker's totals are the main thread's too: its kernels may reuse them.
    if (kept !== undefined) kernels.right.release?.(Object.values(kept))
    kept = undefined
  }
  /** The posted optimizer step: this replica's ranges, with its own pass's gradient. */
  const optimize = (): void => {
    const active = Atomics.load(ctl, ACTIVE)
    if (r < active && split !== undefined && kept !== undefined) {
      const t0 = phases === undefined ? 0 : performance.now()
      const steps = split.routing.rules.map((_, i) => baseline[2 + i]!)
      const checks = Atomics.load(ctl, CHECKS) === 1 ? checksOn(ctl, barrier) : undefined
      stepShare(split.optimizers, split.routing, params, kept, split.slots, steps, baseline[1]!, shareOf(active, r), checks)
      if (phases !== undefined) phases[PHASE.optimizerMs]! += performance.now() - t0
    }
    drop()
  }
  /** One posted step: this replica's pass over its rows, if it has any. */
  const run = (): void => {
    drop()
    const rows = Atomics.load(ctl, ROWS)
    const active = Atomics.load(ctl, ACTIVE)
    // A minibatch with fewer rows than replicas has fewer parts: the replicas past them sit this
    // step out (ACTIVE counts those taking part, so the barrier does not wait for them).
    if (r >= active) return
    const t0 = phases === undefined ? 0 : performance.now()
    markPass(phases)
    const ranges = partsOf(rows, d.parts)
    const [p0, p1] = replicaParts(ranges.length, active, r)
    // Private copies of its rows (V8 reads shared memory slowly in places), into the same arrays
    // from step to step (a fresh one costs a page fault per 4 KiB on this VM; nothing outlives
    // the pass with them).
    const feed = Object.fromEntries(Object.entries(feedRows(d.feed, d.feedLayout, ranges[p0]![0], ranges[p1 - 1]![1])).map(([name, v]) => {
      let copy = copies.get(name)
      if (copy?.length !== v.data.length) copies.set(name, (copy = new Float64Array(v.data.length)))
      copy.set(v.data)
      return [name, { shape: v.shape, data: copy }]
    }))
    const products: MatrixProducts = { ...kernels.right, rows: sharedRows(rows, d.parts, active, r, slots, barrier, kernels.right.alloc) }
    const prepared = prepareGradient(net, feed, { ...d.gradient, products })
    if (E.isLeft(prepared)) throw new InternalError(`a worker's pass was refused after the main thread's was not: ${drawRunError(prepared.left)}`)
    const key = keyOfWords(Atomics.load(ctl, KEY), Atomics.load(ctl, KEY + 1))
    kept = prepared.right(key, baseline[0]!).grad
    if (phases !== undefined) {
      phases[PHASE.steps]!++
      phases[PHASE.passMs]! += performance.now() - t0
    }
  }
  return E.right({ run, optimize })
}

/** The wait for the optimizer step after a pass spins this many times the usual checks before sleeping. */
const AFTER_PASS_SPINS = 10
/**
 * The wait for the next pass after an optimizer step spins this many times the usual checks (a
 * few milliseconds): the trainer's work between steps (checks, logging, the next rows) takes
 * about a millisecond, and waking a sleeping thread costs this VM up to half a millisecond. (Its
 * effect on bench/threads.ts was within the VM's noise; it only decides when a worker sleeps.)
 */
const AFTER_OPTIMIZER_SPINS = 20

proc.on('exit', (code) => fail(2, `its thread exited (code ${code})`))
const ready = setup()
if (E.isLeft(ready)) parentPort.postMessage(ready.left)
else {
  parentPort.postMessage('ready')
  let seen = 0
  let last: number | undefined
  for (;;) {
    // After a pass the optimizer step follows as soon as the main thread has checked the
    // gradient, and after that the next pass once the trainer has its rows (a fraction of a
    // millisecond to a millisecond or two): spin longer rather than sleep through it, since
    // waking a sleeping thread costs this VM about half a millisecond.
    const seq = waitChange(ctl, STEP, seen, Infinity, last === undefined ? d.spin : (last === PASS ? AFTER_PASS_SPINS : AFTER_OPTIMIZER_SPINS) * d.spin)
    if (seq < 0) break
    if (seq === seen) continue
    seen = seq
    const job = Atomics.load(ctl, JOB)
    const injected = Atomics.load(ctl, injectAt(workers) + d.replica)
    // Injected failures (tests): 1 throw and 2 exit at a pass, 3 throw at an optimizer step.
    const inject = (job === PASS) === (injected < 3) ? injected : 0
    try {
      if (inject === 1 || inject === 3) throw new InternalError('an injected failure (test)')
      if (inject === 2) proc.exit(3)
      if (job === PASS) ready.right.run()
      else ready.right.optimize()
      last = job
    } catch (err) {
      if (err instanceof Aborted) break
      fail(1, err instanceof Error ? err.message : String(err))
      break
    }
    Atomics.add(ctl, DONE, 1)
    Atomics.notify(ctl, DONE)
  }
}

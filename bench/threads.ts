/**
 * `npx tsx bench/threads.ts --preset conv:16,32 [--batch-norm] [--threads 1,2] [--parts 1,2] [--rounds 15] [--batch 64] [--always] [--phases] [--spin N[,M…]] [--warm W] [--burst B] [--alternate] [--pin A,B] [--json]`:
 * the training step of `trainStep.ts` (the one `bench:train` times) on each thread count, in ONE
 * process with interleaved rounds (round r times one step of every thread count in turn), so
 * that the machine's load drifts over all of them alike. Prints wall ms per step, median
 * (min–max), per thread count and each count's speed-up over the first (the ratio of medians);
 * and the CPU time of the process (every thread) per step; `--json`: one object
 * `{ preset, batchNorm, batch, rounds, rows: [{ threads, msPerStep, cpuMsPerStep, speedup }], loadAverage }`.
 * By default the threaded kernels split a job only where timing shows that it pays
 * (`src/threads/choose.ts`); `--always` adds, for each count above 1, a row `N always` whose
 * kernels split every job above `MIN_SPLIT_MACS` (the behaviour before the chooser).
 * `--parts 1,2` times every thread count with each part count: parts 1 is the step above
 * (products split over threads), parts P ≥ 2 the data-parallel step (src/train/parallel/: the
 * minibatch cut into P slices, the threads taking whole slices); rows carry `"parts"`.
 * `--phases` adds, for the rows with parts ≥ 2, each replica's mean pass time per step (for a worker, how long after the calling thread's its pass started: its wake-up), the part
 * of it spent in barriers (how many, and how many fell through to `Atomics.wait`), and for the
 * calling thread the wait for the workers and the rest of the step (optimizer, running statistics);
 * `optimizer`: the replica's share of the split optimizer step (src/train/parallel/optimizer.ts);
 * and every row's CPU time per step by thread (largest first), with its time runnable but off its core (`/q`; Linux: bench/threadCpu.ts), which a loaded machine
 * does not stretch as it does wall time. `--spin N`: the checks of a control word before a
 * waiting replica sleeps (default `SPIN`, src/train/parallel/barrier.ts; 0: sleep at once, so
 * that the threads' CPU time is their work alone); several values time each data-parallel row
 * with each (rows carry `"spin"`).
 * `--warm W`: untimed rounds first (default 30: a worker's JIT warms up only on its own passes, and with 3 rounds, the default before the tenth session, the two-thread rows timed a worker still compiling the pass).
 * `--alternate`: every other round in reverse order, for A/B variants (`--spin N,M`): a
 * data-parallel row right after another one finds the previous team's worker still spinning on
 * the other core after its optimizer step, and was 10–25 % slower whichever it was when the
 * rounds kept one order. (Not the default: it also moves the one-thread rows next to the team's
 * spinning worker, which changes the usual ratio, ×1.25 against ×1.40 in one pair, so rows would
 * no longer compare with earlier sessions'.)
 * `--burst B`: each round takes B consecutive steps of each row, each timed (default 1): the
 * steps after a row's first show a team whose workers are still spinning from the last step, as
 * in a training loop, rather than woken from sleep after the other rows' steps.
 * `--pin A,B` (Linux, `taskset`): once every team has started, the calling thread is pinned to core A and
 * every other thread of the process (the teams' workers among them) to core B, so that a run and its
 * swap (`--pin 1,0`) tell a slower core from a slower replica.
 * Every stepper starts from the same parameters and batches, and the steps are bit-identical
 * across thread counts (for one part count), so all do the same work.
 */
import * as E from 'fp-ts/lib/Either.js'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { drawRunError } from '../src/interpreters/runErrors.js'
import { fastThreadedProducts } from '../src/train/fast/index.js'
import type { ThreadedProducts } from '../src/train/threads/threadedProducts.js'
import { threadedProducts } from '../src/train/threads/threadedProducts.js'
import { MIN_SPLIT_MACS } from '../src/train/fast/wasm-gemm.js'
import { median, timeOnce } from './train.js'
import { STEP_BATCH, stepper, teamStepper } from './trainStep.js'
import { PHASE, PHASE_MEETINGS } from '../src/train/parallel/barrier.js'
import { cpuBetween, threadCpuMs, threadRunQueueMs } from './threadCpu.js'
import { rerunUnderEsmOnly } from './esmOnly.js'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

rerunUnderEsmOnly(import.meta.url)

const fail = (why: string): never => {
  process.stderr.write(`bench/threads: ${why}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'conv:16,32' }, 'batch-norm': { type: 'boolean', default: false },
    threads: { type: 'string', default: '1,2' }, rounds: { type: 'string', default: '15' }, json: { type: 'boolean', default: false },
    always: { type: 'boolean', default: false }, parts: { type: 'string', default: '1' },
    batch: { type: 'string', default: String(STEP_BATCH) }, warm: { type: 'string', default: '30' }, burst: { type: 'string', default: '1' }, pin: { type: 'string' }, phases: { type: 'boolean', default: false }, spin: { type: 'string' }, alternate: { type: 'boolean', default: false },
  },
})
const spins = values.spin === undefined ? [undefined] : values.spin.split(',').map(Number)
if (spins.some((n) => n !== undefined && !(Number.isSafeInteger(n) && n >= 0))) fail(`--spin: expected integers ≥ 0 separated by commas, found ${values.spin}`)
const batch = Number(values.batch)
if (!Number.isSafeInteger(batch) || batch < 1) fail(`--batch: expected an integer ≥ 1, found ${values.batch}`)
const counts = values.threads.split(',').map(Number)
const rounds = Number(values.rounds)
if (counts.some((t) => !Number.isSafeInteger(t) || t < 1)) fail(`--threads: expected counts ≥ 1 separated by commas, found ${values.threads}`)
if (!Number.isSafeInteger(rounds) || rounds < 1) fail(`--rounds: expected an integer ≥ 1, found ${values.rounds}`)
const partCounts = values.parts.split(',').map(Number)
if (partCounts.some((p) => !Number.isSafeInteger(p) || p < 1)) fail(`--parts: expected counts ≥ 1 separated by commas, found ${values.parts}`)

/** Each row: a part count, a thread count, whether every job above the threshold is split, and the team's spin. */
const rowsOf = partCounts.flatMap((p) => counts.flatMap((t) =>
  (values.always && t > 1 && p === 1 ? [{ p, t, always: false, spin: undefined }, { p, t, always: true, spin: undefined }]
    : p > 1 && t > 1 ? spins.map((spin) => ({ p, t, always: false, spin })) : [{ p, t, always: false, spin: undefined }])))
const kernels: ThreadedProducts[] = rowsOf.map(({ p, t, always }) => {
  const k = always ? threadedProducts({ threads: t, splitAbove: MIN_SPLIT_MACS }) : fastThreadedProducts(p > 1 ? 1 : t)
  return E.isLeft(k) ? fail(`--threads ${t}: ${drawRunError(k.left)}`) : k.right
})
const closers: (() => void)[] = []
const steps: (() => number)[] = []
/** Per row: the team's phase counters (parts ≥ 2 with --phases). */
const phaseReaders: ((() => readonly Float64Array[]) | undefined)[] = []
for (const [i, { p, t, spin }] of rowsOf.entries()) {
  const setup = { preset: values.preset, batchNorm: values['batch-norm'], kernels: kernels[i]!, batch }
  phaseReaders.push(undefined)
  if (p > 1) {
    const s = await teamStepper({ ...setup, parts: p, threads: t, phases: values.phases, ...(spin === undefined ? {} : { spin }) })
    if (E.isLeft(s)) fail(`--parts ${p} --threads ${t}: ${s.left}`)
    else {
      steps.push(s.right.step)
      closers.push(s.right.close)
      phaseReaders[i] = s.right.phases
    }
  } else {
    const s = stepper(setup)
    steps.push(E.isLeft(s) ? fail(`--preset: ${s.left}`) : s.right)
  }
}
if (values.pin !== undefined) {
  const cores = values.pin.split(',').map(Number)
  if (cores.length !== 2 || cores.some((c) => !Number.isSafeInteger(c) || c < 0)) fail(`--pin: expected two core numbers A,B, found ${values.pin}`)
  for (const tid of readdirSync('/proc/self/task').map(Number))
    execFileSync('taskset', ['-p', '-c', String(tid === process.pid ? cores[0] : cores[1]), String(tid)], { stdio: 'ignore' })
}
const burst = Number(values.burst)
if (!Number.isSafeInteger(burst) || burst < 1) fail(`--burst: expected an integer ≥ 1, found ${values.burst}`)
const warm = Number(values.warm)
if (!Number.isSafeInteger(warm) || warm < 0) fail(`--warm: expected an integer ≥ 0, found ${values.warm}`)
const wall = rowsOf.map(() => [] as number[])
const cpu = rowsOf.map(() => [] as number[])
/** Per row and replica: the phase words summed over the timed rounds. */
const phaseSums = rowsOf.map(() => [] as Float64Array[])
/** Per row: CPU ms of each thread over the timed rounds (with --phases). */
const threadCpu = rowsOf.map(() => new Map<number, number>())
/** Per row: ms each thread spent runnable but off its core (waiting for a core) over the timed rounds (with --phases). */
const threadQueued = rowsOf.map(() => new Map<number, number>())
/** Times one step of row i (recorded from the first timed round on). */
const timeStep = (step: () => number, i: number, timed: boolean): void => {
  const before = values.phases ? threadCpuMs() : undefined
  const queuedBefore = values.phases ? threadRunQueueMs() : undefined
  const t = timeOnce(step)
  const after = before === undefined ? undefined : threadCpuMs()
  const queuedAfter = queuedBefore === undefined ? undefined : threadRunQueueMs()
  const ph = phaseReaders[i]?.() ?? []
  if (!timed) return
  if (before !== undefined && after !== undefined) for (const [tid, ms] of cpuBetween(before, after)) threadCpu[i]!.set(tid, (threadCpu[i]!.get(tid) ?? 0) + ms)
  if (queuedBefore !== undefined && queuedAfter !== undefined) for (const [tid, ms] of cpuBetween(queuedBefore, queuedAfter)) threadQueued[i]!.set(tid, (threadQueued[i]!.get(tid) ?? 0) + ms)
  wall[i]!.push(t.wall)
  cpu[i]!.push(t.cpu)
  ph.forEach((words, k) => {
    const sum = (phaseSums[i]![k] ??= new Float64Array(words.length))
    // passAt is a time, not a sum: what is summed is the replica's start after the calling thread's.
    words.forEach((w, j) => (sum[j]! += j === PHASE.passAt ? w - ph[0]![PHASE.passAt]! : w))
  })
}
for (let r = 0; r < warm + rounds; r++) {
  // With --alternate, every other round in reverse order, so that no row always follows the
  // same one (a data-parallel row right after another one finds that team's worker still
  // spinning on the other core: 10–25 % slower whichever it is).
  for (let j = 0; j < steps.length; j++) {
    const i = values.alternate && r % 2 === 1 ? steps.length - 1 - j : j
    for (let b = 0; b < burst; b++) timeStep(steps[i]!, i, r >= warm)
  }
  process.stderr.write(`\rbench/threads ${values.preset}: round ${r + 1}/${warm + rounds}   `)
}
process.stderr.write('\n')
kernels.forEach((k) => k.close())
closers.forEach((c) => c())
const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) })
const rows = rowsOf.map(({ p: parts, t: threads, always, spin }, i) => ({ threads, parts, ...(always ? { always } : {}), ...(spin === undefined ? {} : { spin }), msPerStep: stats(wall[i]!), cpuMsPerStep: stats(cpu[i]!), speedup: median(wall[0]!) / median(wall[i]!) }))
const load = os.loadavg()[0]!
/** Mean ms (or count) per step of each replica's phases: pass (of which barrier waits), the wait for the workers, the rest of the step. */
const phaseRows = rowsOf.map((_, i) => phaseSums[i]!.map((w, replica) => {
  const per = (x: number): number => x / Math.max(1, w[PHASE.steps]!)
  return {
    replica, passMs: per(w[PHASE.passMs]!), lateMs: per(w[PHASE.passAt]!), waitMs: per(w[PHASE.waitMs]!), firstMs: per(w[PHASE.firstMs]!), byMeeting: Array.from({ length: Math.min(PHASE_MEETINGS, Math.round(per(w[PHASE.waits]!))) }, (_, j) => per(w[PHASE.byMeeting + j]!)), waits: per(w[PHASE.waits]!), sleeps: per(w[PHASE.sleeps]!), optimizerMs: per(w[PHASE.optimizerMs]!),
    ...(replica === 0 ? { doneMs: per(w[PHASE.doneMs]!), outsideMs: wall[i]!.reduce((a, b) => a + b, 0) / wall[i]!.length - per(w[PHASE.passMs]! + w[PHASE.doneMs]!) } : {}),
  }
}))
const withPhases = rows.map((r, i) => (phaseRows[i]!.length === 0 ? r : { ...r, phases: phaseRows[i] }))
if (values.json) process.stdout.write(`${JSON.stringify({ preset: values.preset, batchNorm: values['batch-norm'], batch, rounds, rows: withPhases, loadAverage: load })}\n`)
else {
  console.log(`${values.preset}${values['batch-norm'] ? ' + batch norm' : ''}, batch ${batch}, ${rounds} interleaved rounds, load average ${load.toFixed(1)}`)
  for (const [i, r] of rows.entries()) {
    console.log(`  ${r.parts} part${r.parts === 1 ? ' ' : 's'} ${r.threads} thread${r.threads === 1 ? ' ' : 's'}${'always' in r ? ' (always split)' : ''}${'spin' in r ? ` spin ${r.spin}` : ''}  ${r.msPerStep.median.toFixed(1)} (${r.msPerStep.min.toFixed(1)}–${r.msPerStep.max.toFixed(1)}) ms per step  ×${r.speedup.toFixed(2)}; CPU (all threads) ${r.cpuMsPerStep.median.toFixed(1)} ms`)
    const cpuOf = [...threadCpu[i]!].map(([tid, ms]) => [tid, ms / (rounds * burst)] as const).filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1])
    if (values.phases && cpuOf.length > 0)
      console.log(`      CPU per step by thread (ms, mean of ${rounds * burst} steps; /q: waiting for a core): ${cpuOf.map(([tid, ms]) => `${tid === process.pid ? 'main' : `thread ${tid}`} ${ms.toFixed(1)}/q${((threadQueued[i]!.get(tid) ?? 0) / (rounds * burst)).toFixed(2)}`).join(', ')}`)
    for (const ph of phaseRows[i]!)
      console.log(`      replica ${ph.replica}: pass ${ph.passMs.toFixed(2)} ms${ph.replica === 0 ? '' : ` (started ${ph.lateMs.toFixed(2)} ms after the calling thread's)`}, of which ${ph.waitMs.toFixed(2)} ms in ${ph.waits.toFixed(0)} barriers (${ph.sleeps.toFixed(1)} slept; ${ph.firstMs.toFixed(2)} ms from the pass's start to the first; by meeting ${ph.byMeeting.map((x) => x.toFixed(2)).join(' ')}); optimizer ${ph.optimizerMs.toFixed(2)} ms${ph.doneMs === undefined ? '' : `; waiting for the workers after the pass ${ph.doneMs.toFixed(2)} ms; outside the pass (optimizer, running statistics) ${ph.outsideMs!.toFixed(2)} ms (mean)`}`)
  }
}

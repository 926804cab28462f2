/**
 * The control words of a data-parallel team (team.ts, worker.ts) in one shared Int32Array, and
 * its barrier. Everything is `Atomics`: the main thread posts a step by bumping STEP, the
 * replicas meet at the barrier once per sum over parts and count themselves out in DONE.
 *
 * A replica that fails (its pass throws, or its thread exits) writes its failure word and ABORT
 * and wakes every waiter, so nobody waits for it: the barrier throws in every other replica, and
 * the main thread turns that into a `ThreadFailure` naming the worker. Closing the team writes
 * ABORT = −1 (and STEP = −1), which ends the workers' loops quietly.
 */

/** Word indices of the control array. */
export const ARRIVED = 0
export const GEN = 1
/** 0 while running; r ≥ 1 when worker r failed; −1 when the team is closing. */
export const ABORT = 2
/** Replicas taking part in the step in progress (the barrier's count). */
export const ACTIVE = 3
/** Sequence number of the posted step (−1: stop). */
export const STEP = 4
/** Workers finished with the posted step. */
export const DONE = 5
/** Rows of the posted minibatch. */
export const ROWS = 6
/** The step's key, two uint32 words. */
export const KEY = 7
/** What the posted step asks: `PASS` (a gradient pass) or `OPTIMIZE` (the replica's ranges of the optimizer step). */
export const JOB = 9
export const PASS = 0
export const OPTIMIZE = 1
/** 1 when the posted optimizer step also checks the gradient and the updated parameters for non-finite values. */
export const CHECKS = 10
/** What those checks found: bit 1 (`BAD_GRADIENT`) a non-finite gradient, bit 2 (`BAD_PARAMETER`) a non-finite updated parameter. */
export const BAD = 11
export const BAD_GRADIENT = 1
export const BAD_PARAMETER = 2
/** Per worker r (1-based): its failure word (1 threw, 2 exited), at FAILED + r. */
export const FAILED = 16
/** Per worker r: a failure to inject (1 throw or 2 exit at its next pass, 3 throw at its next optimizer step), for tests. */
export const injectAt = (workers: number): number => FAILED + workers + 1
/** Int32 words of a team of `workers` workers. */
export const controlWords = (workers: number): number => injectAt(workers) + workers + 1

/** What a replica's failure writes: its own word, then ABORT, then wakes every waiter. */
export const reportFailure = (ctl: Int32Array, worker: number, code: 1 | 2): void => {
  if (Atomics.load(ctl, FAILED + worker) !== 0) return
  Atomics.store(ctl, FAILED + worker, code)
  Atomics.compareExchange(ctl, ABORT, 0, worker)
  Atomics.notify(ctl, GEN)
  Atomics.notify(ctl, DONE)
  Atomics.notify(ctl, STEP)
}

/** Thrown by a barrier that another replica aborted (a worker failed, or the team is closing). */
export class Aborted extends Error {
  constructor(readonly by: number) {
    super(by < 0 ? 'the team is closing' : `worker ${by} failed`)
    this.name = 'Aborted'
  }
}

export interface Barrier {
  /** Returns when all ACTIVE replicas have called it; throws `Aborted` if the team aborted. */
  readonly wait: () => void
}

/** How long one `Atomics.wait` lasts before the abort word is checked again (ms); a safety net only. */
const POLL = 1000

/**
 * What a replica's phases cost, accumulated when a team is started with `phases` (bench/threads.ts
 * `--phases`): one Float64Array of `PHASE_WORDS` words per replica, in shared memory.
 */
export const PHASE = { steps: 0, passMs: 1, waitMs: 2, waits: 3, sleeps: 4, optimizerMs: 5, doneMs: 6, passStart: 7, passT0: 8, firstMs: 9, passAt: 10, byMeeting: 11 } as const
/** Meetings of a pass whose waits are counted one by one (`PHASE.byMeeting` + i: the i-th meeting's ms). */
export const PHASE_MEETINGS = 16
export const PHASE_WORDS = PHASE.byMeeting + PHASE_MEETINGS

/** Marks the start of a pass in a replica's phase words (the meetings are counted from it; `firstMs` sums the time to the first). */
export const markPass = (phases: Float64Array | undefined): void => {
  if (phases === undefined) return
  phases[PHASE.passStart] = phases[PHASE.waits]!
  phases[PHASE.passT0] = performance.now()
  // The pass's start on a clock every thread shares (each thread's performance.now() counts from its own origin), so that a worker's late start can be read against the calling thread's.
  phases[PHASE.passAt] = performance.timeOrigin + phases[PHASE.passT0]!
}

/** Waits for ctl[GEN] to move past `gen`: spins, then sleeps; returns whether it slept. */
const awaitGeneration = (ctl: Int32Array, gen: number, spin: number): boolean => {
  // Spin briefly first: the others are usually microseconds away, and a thread put to sleep
  // may wait a whole time slice for a core when the machine is busy.
  for (let i = 0; i < spin; i++) if (Atomics.load(ctl, GEN) !== gen) return false
  for (;;) {
    const abort = Atomics.load(ctl, ABORT)
    if (abort !== 0) throw new Aborted(abort)
    if (Atomics.load(ctl, GEN) !== gen) return true
    Atomics.wait(ctl, GEN, gen, POLL)
  }
}

/**
 * The barrier of a team over its control words (sense by generation); `phases`: where to count
 * its waits; `spin`: checks of the word before sleeping.
 */
export const barrierOn = (ctl: Int32Array, phases?: Float64Array, spin = SPIN): Barrier => ({
  wait: () => {
    if (phases !== undefined && phases[PHASE.waits] === phases[PHASE.passStart]) phases[PHASE.firstMs]! += performance.now() - phases[PHASE.passT0]!
    const gen = Atomics.load(ctl, GEN)
    if (Atomics.add(ctl, ARRIVED, 1) === Atomics.load(ctl, ACTIVE) - 1) {
      Atomics.store(ctl, ARRIVED, 0)
      Atomics.add(ctl, GEN, 1)
      Atomics.notify(ctl, GEN)
      if (phases !== undefined) phases[PHASE.waits]!++
      return
    }
    if (phases === undefined) {
      awaitGeneration(ctl, gen, spin)
      return
    }
    const t0 = performance.now()
    const slept = awaitGeneration(ctl, gen, spin)
    const ms = performance.now() - t0
    phases[PHASE.waitMs]! += ms
    const meeting = phases[PHASE.waits]! - phases[PHASE.passStart]!
    if (meeting < PHASE_MEETINGS) phases[PHASE.byMeeting + meeting]! += ms
    phases[PHASE.waits]!++
    if (slept) phases[PHASE.sleeps]!++
  },
})

/**
 * The checks of a split optimizer step (optimizer.ts `StepChecks`) on a team's control words:
 * findings are or-ed into `BAD`, and the replicas meet at `barrier` after the gradient's.
 */
export const checksOn = (ctl: Int32Array, barrier: Barrier): { readonly report: (bad: number) => void; readonly gradientBad: () => boolean } => ({
  report: (bad) => void Atomics.or(ctl, BAD, bad),
  gradientBad: () => {
    barrier.wait()
    return (Atomics.load(ctl, BAD) & BAD_GRADIENT) !== 0
  },
})

/** Checks of a word before sleeping on it (a few tens of microseconds). */
export const SPIN = 20000

/** Waits until ctl[at] differs from `value`: spins `spin` checks, then sleeps (at most `ms` per wait); returns the new value. */
export const waitChange = (ctl: Int32Array, at: number, value: number, ms = POLL, spin = SPIN): number => {
  for (let i = 0; i < spin; i++) {
    const v = Atomics.load(ctl, at)
    if (v !== value) return v
  }
  Atomics.wait(ctl, at, value, ms)
  return Atomics.load(ctl, at)
}

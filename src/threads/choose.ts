/**
 * Whether a job is worth splitting over threads, decided by timing it both ways on this machine,
 * now. Splitting a job never changes its results (each output is computed by the same code
 * whichever thread owns it, `jobs.ts`), only who computes them, so the choice may depend on the
 * clock without touching the bits.
 *
 * Why measure instead of a fixed threshold: what a split costs is the wake-up of a worker, and
 * that moves by two orders of magnitude with the machine's state (about 20 µs on a busy host,
 * far more on a small VM whose idle virtual CPU has halted and must be woken through the
 * hypervisor; and on a host with no idle core the worker's share simply waits), while what it
 * saves is half the job's work. So each kind of job (a product of given sizes, a sampled site of
 * given size) is tried both ways, then run the way that was faster, with the other way retried
 * now and then (more rarely while it keeps losing) so that the choice follows the load.
 *
 * @example
 * const choose = splitChooser()
 * choose('gemm 64×784×512', (split) => runJob(split ? 2 : 1))
 */

/** Timed calls per way before the first choice, and the window of recent times compared. */
const WINDOW = 3
/** Calls between two retries of the losing way: at first, and at most (doubling while it loses). */
const RETRY_FIRST = 8
const RETRY_MAX = 512

interface Arm {
  readonly times: number[]
  runs: number
}
interface KindState {
  readonly arms: readonly [Arm, Arm]
  /** Calls since the losing way was last tried, and how many calls to wait before the next try. */
  since: number
  retryEvery: number
  lastWinner: 0 | 1
}

/** Runs `job(split)` choosing `split` by timing (see the file comment); returns the job's result. */
export type SplitChooser = <T>(kind: string, job: (split: boolean) => T) => T

/** The median of a short list. */
const middle = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const h = s.length >> 1
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2
}

/**
 * A chooser with its own memory of timings per kind (its only state; it decides who computes,
 * never what). `now` is the clock (default `performance.now`; tests pass their own).
 */
export const splitChooser = (now: () => number = () => performance.now()): SplitChooser => {
  const kinds = new Map<string, KindState>()
  const stateOf = (kind: string): KindState => {
    let s = kinds.get(kind)
    if (s === undefined) {
      s = { arms: [{ times: [], runs: 0 }, { times: [], runs: 0 }], since: 0, retryEvery: RETRY_FIRST, lastWinner: 1 }
      kinds.set(kind, s)
    }
    return s
  }
  /** Arm 1 splits, arm 0 does not. */
  const pick = (s: KindState): 0 | 1 => {
    const [one, split] = s.arms
    // Explore: alternate, splitting first, until both ways have a full window.
    if (one.runs < WINDOW || split.runs < WINDOW) return split.runs <= one.runs ? 1 : 0
    const winner: 0 | 1 = middle(split.times) < middle(one.times) ? 1 : 0
    if (winner !== s.lastWinner) {
      s.lastWinner = winner
      s.retryEvery = RETRY_FIRST
      s.since = 0
    }
    if (++s.since < s.retryEvery) return winner
    s.since = 0
    s.retryEvery = Math.min(RETRY_MAX, 2 * s.retryEvery)
    return winner === 1 ? 0 : 1
  }
  return (kind, job) => {
    const s = stateOf(kind)
    const arm = pick(s)
    const t0 = now()
    const out = job(arm === 1)
    const a = s.arms[arm]
    a.times.push(now() - t0)
    if (a.times.length > WINDOW) a.times.shift()
    a.runs++
    return out
  }
}

/**
 * Whole-network throughput of a compiled network (what `sbnkit bench <model.json>` reports):
 * runs per second, examples per second, multiply-accumulates per second (every MAC of every
 * product and convolution, as if computed densely), and the share of each step of the plan.
 * Times are medians over repeated runs in this process, with their min–max range.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Key } from '../dsl/random.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { Feed } from '../interpreters/ndarray.js'
import { batchSize } from '../interpreters/ndarray.js'
import type { Compiled } from '../interpreters/compiled/compiled.js'
import { describeStep } from '../interpreters/compiled/plan.js'

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

export interface BenchReport {
  readonly backend: string
  readonly mode: string
  readonly batch: number
  readonly runs: number
  /** Milliseconds per `run(feed)`, end to end (feed in, every pass, outputs out). */
  readonly msPerRun: Spread
  readonly examplesPerSecond: Spread
  /** Multiply-accumulates per run (products and convolutions, counted densely). */
  readonly macsPerRun: number
  readonly gmacPerSecond: Spread
  /** Each step of one pass: what it is and its median time. */
  readonly steps: readonly { readonly step: string; readonly ms: number; readonly share: number }[]
}

export interface BenchOptions {
  /** Timed runs (default 7); each is repeated until it lasts `minMs` (default 20). */
  readonly runs?: number
  readonly minMs?: number
  /**
   * Milliseconds the per-step breakdown may take in all (default 2000): each step's timing gets
   * an equal share of it, at most `minMs / 4`, so a plan of 100 000 steps is still timed in
   * seconds (each step then runs a few times, and its time is coarser).
   */
  readonly stepsMs?: number
  /** The key for sampling modes (default: none, which the mode network does not need). */
  readonly key?: Key
}

/** Median, min and max of samples (the benchmarks' summary of a contender). */
export const spread = (xs: readonly number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return { median: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, min: s[0]!, max: s[s.length - 1]! }
}

/** Milliseconds per call of `fn`, averaged over enough calls to last `minMs` (timer granularity then does not matter). */
export const timeIt = (fn: () => void, minMs: number): number => {
  let calls = 0
  const start = performance.now()
  let now = start
  do {
    fn()
    calls++
    now = performance.now()
  } while (now - start < minMs)
  return (now - start) / calls
}

/** Benchmarks a compiled network on a feed. */
export const benchNetwork = (compiled: Compiled, feed: Feed, opts: BenchOptions = {}): E.Either<RunError, BenchReport> => {
  const runs = opts.runs ?? 7
  const minMs = opts.minMs ?? 20
  const first = compiled.run(feed, opts.key)
  if (E.isLeft(first)) return first
  const batch = batchSize(feed) ?? 1
  const runOnce = (): void => {
    compiled.run(feed, opts.key)
  }
  runOnce()
  const times = Array.from({ length: runs }, () => timeIt(runOnce, minMs))
  const ex = compiled.executor
  const rounds = Math.max(3, runs >> 1)
  const stepMs = Math.min(minMs / 4, (opts.stepsMs ?? 2000) / Math.max(1, compiled.plan.steps.length * rounds))
  const steps = compiled.plan.steps.map((s, i) => ({
    step: describeStep(s),
    ms: spread(Array.from({ length: rounds }, () => timeIt(() => ex.step(i, opts.key), stepMs))).median,
  }))
  const total = steps.reduce((a, s) => a + s.ms, 0)
  const macs = compiled.macsPerExample * batch
  const passes = compiled.mode === 'ensemble' ? compiled.samples : 1
  return E.right({
    backend: compiled.backend,
    mode: compiled.mode,
    batch,
    runs,
    msPerRun: spread(times),
    examplesPerSecond: spread(times.map((ms) => (batch * 1000) / ms)),
    macsPerRun: macs * passes,
    gmacPerSecond: spread(times.map((ms) => (macs * passes) / ms / 1e6)),
    steps: steps.map((s) => ({ ...s, share: total > 0 ? s.ms / total : 0 })),
  })
}

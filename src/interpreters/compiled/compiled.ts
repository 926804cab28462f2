/**
 * The compiled interpreter's public types: the options of `compile`, and what it returns (the
 * plan, `run`, `infer`, the executor). In a file of their own so that the modules built around a
 * compiled network (bench.ts, run.ts) depend on its type, not on `compile` (no import cycle).
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { Key } from '../../dsl/random.js'
import type { RunError } from '../runErrors.js'
import type { Feed, NDArray } from '../ndarray.js'
import type { Executor } from './execute.js'
import type { Infer } from './infer.js'
import type { Artifact, BackendName } from './machine.js'
import type { Plan } from './plan.js'

export type CompiledMode = 'mode' | 'sample' | 'ensemble'

export interface CompileOptions {
  readonly backend: BackendName
  /**
   * `mode`: the deterministic network (every binarize is sign). `sample`: one stochastic pass
   * per run, drawn with the run's key exactly like the Monte Carlo interpreter. `ensemble`: the
   * mean over `samples` passes with pass keys foldIn(key, j).
   */
  readonly mode: CompiledMode
  /** Ensemble size (default 16). */
  readonly samples?: number
  /**
   * The outputs to compute (default: all). A run then needs only the inputs they read:
   * `compile(net, { …, outputs: ['output'] }).run({ x })` predicts without labels.
   */
  readonly outputs?: readonly string[]
  /**
   * Threads to run on (default 1): batches are split across `threads − 1` worker threads and the
   * calling one, over a shared memory (WebAssembly back end, Node ≥ 20.16), with the same bits.
   */
  readonly threads?: number
  /**
   * How a batch is split across the threads (default `'chunks'`: every thread claims chunks of
   * rows, large first and small last, until none are left, so a core shared with other work
   * does not hold the others up; `'adaptive'`: one range per thread, the calling thread's share
   * following the threads' observed speeds; `'even'`: equal row ranges). The results are the
   * same bits either way.
   */
  readonly rowSplit?: 'chunks' | 'adaptive' | 'even'
}

export interface Compiled {
  readonly backend: BackendName
  readonly mode: CompiledMode
  readonly plan: Plan
  /** Which implementation each kernel got, in `kernels` order. */
  readonly kernels: readonly { readonly kernel: string; readonly via: BackendName }[]
  /** The plan, one line per step: kernels and the fallbacks with their reasons. */
  readonly describe: () => string[]
  /** The generated module or source. */
  readonly artifact: Artifact
  /**
   * Runs the network on a feed. `key` is the pass key in `sample` mode and the run key in
   * `ensemble` mode (ignored in `mode`). Outputs are float64 NDArrays by output name; in
   * `ensemble` mode they are means over the samples, plus `predictive` (the mean predictive
   * distribution) when the network has a `loss` head.
   */
  readonly run: (feed: Feed, key?: Key, options?: RunOptions) => E.Either<RunError, Readonly<Record<string, NDArray>>>
  /**
   * Runs the network on typed arrays (float32, int8 or uint8 values, or packed bits) with the
   * outputs in the forms asked for (float64, float32, class indices, packed bits), optionally into
   * caller buffers: the same bits as `run`, without float64 copies (infer.ts, docs/compiled.md).
   */
  readonly infer: Infer
  /** The executor, for benchmarks that time single kernels (see bench.ts). */
  readonly executor: Executor
  /** Multiply-accumulates of one example's pass (products and convolutions, counted densely). */
  readonly macsPerExample: number
  /** Passes per run (the ensemble size, else 1). */
  readonly samples: number
  /** Threads a run uses (1: the calling thread only). */
  readonly threads: number
  /** Stops the worker threads (a no-op with one thread); the network cannot run afterwards. */
  readonly close: () => void
}

/** Options of one `run`. */
export interface RunOptions {
  /**
   * The index of the feed's first row in a larger set (default 0): the sampled passes draw as the
   * rows offset.. of that set run at once (per-example draws numbered over the whole set, weights
   * once per pass), so a set run in chunks gets the same bits as in one run.
   */
  readonly offset?: number
}

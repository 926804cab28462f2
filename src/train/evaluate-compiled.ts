/**
 * Evaluation through the compiled interpreter (`compile`, src/interpreters/compiled): the logits
 * of the mode network and of sampled networks, computed by bit-packed kernels instead of the
 * reference float64 loops, with exactly the reference's values (the compiled interpreter is
 * bit-identical to it, and shares the sampling rule and the Threefry keys with the Monte Carlo
 * interpreter), so `evaluate.ts` scores them with the same code and gets the same bits.
 *
 * With `interpreter: 'auto'` (the default) a plan with float64 products of real data
 * (`floatProducts`) is left to the reference path with the training kernels, which is faster
 * there. Where the compiled path cannot serve, the caller falls back to the reference path and is
 * told why:
 * - the compiler fails (no WebAssembly here, a rejected module): both predictors.
 *
 * Both run in chunks of rows with bounded memory. A sampled chunk is run with `offset` = the index
 * of its first row (`run(feed, key, { offset })`), so its activations draw the indices the whole
 * set would draw in one batch, and the weights are drawn once per pass as always: every chunking
 * gives the same bits.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Loss, Network } from '../dsl/node.js'
import { draw as drawDslError } from '../dsl/dslErrors.js'
import { typecheck } from '../dsl/typecheck.js'
import type { Key } from '../dsl/random.js'
import type { Compiled } from '../interpreters/compiled/index.js'
import { compile, drawCompileError } from '../interpreters/compiled/index.js'
import { productsOf } from '../interpreters/compiled/execute.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Rows per compiled mode run (any size gives the same bits; the conv preset's mode network takes about 23 kB a row, so about 3 MB). */
export const COMPILED_CHUNK = 128

/** Default memory of one compiled ensemble run (its rows per run follow from it). */
export const ENSEMBLE_BYTES = 256 * 2 ** 20

/** A compiled program computing a loss head's logits, in one mode. */
export interface LogitsProgram {
  /**
   * The logits of these rows (a sampled pass with `key` in sample mode, drawing as rows
   * offset.. of the whole set).
   */
  readonly logits: (feed: Feed, key?: Key, offset?: number) => E.Either<RunError, NDArray>
  /** Bytes of per-example buffers per row. */
  readonly bytesPerRow: number
  /**
   * Whether the plan multiplies real per-example data by weights in float64 (a `RealDense` kernel,
   * or a generic product): the first layer of an MLP on scaled pixels. Those run at a fraction of
   * the f32 SIMD training kernels' speed (measured: a 784→512→512→10 ensemble of 16 on 1 000
   * images, 36–40 s of CPU compiled against 2.7–3.6 s on the reference path with the fast kernels).
   */
  readonly floatProducts: boolean
}

// ---------------------------------------------------------------------------------------------
// Constructors

/** The network whose one output is the loss head's logits (so the compiled plan computes nothing else). */
const logitsNetwork = (net: Checked<Network>, l: Loss): E.Either<string, Checked<Network>> =>
  E.mapLeft(drawDslError)(typecheck({ outputs: { logits: l.logits }, params: net.params }))

const floatProducts = (c: Compiled): boolean =>
  productsOf(c.plan.steps).some((k) => k._tag === 'RealDense')
  || c.plan.steps.some((st) => st._tag === 'Generic' && st.label.startsWith('MatMul'))

const bytesPerRow = (c: Compiled): number =>
  c.plan.buffers.reduce((sum, b) => (b.perExample ? sum + b.bytes : sum), 0)

/**
 * The logits of `l` computed by the compiled interpreter (WebAssembly back end) in `mode`, or
 * why it cannot be built.
 * @example compiledLogits(net, l, 'mode') // right({ logits, bytesPerRow }) | left('compile: WebAssembly is not available here …')
 */
export const compiledLogits = (net: Checked<Network>, l: Loss, mode: 'mode' | 'sample'): E.Either<string, LogitsProgram> => {
  const sub = logitsNetwork(net, l)
  if (E.isLeft(sub)) return sub
  const c = compile(sub.right, { backend: 'wasm', mode })
  if (E.isLeft(c)) return E.left(drawCompileError(c.left))
  const program = c.right
  return E.right({
    logits: (feed, key, offset) => E.map((out: Readonly<Record<string, NDArray>>) => out['logits']!)(program.run(feed, key, { offset: offset ?? 0 })),
    bytesPerRow: bytesPerRow(program),
    floatProducts: floatProducts(program),
  })
}

/**
 * Rows per compiled ensemble run: as many of the `rows` as `budget` bytes of per-example buffers
 * hold (at least one). Large runs draw the per-pass weights fewer times.
 * @example ensembleChunk(program, 10_000, ENSEMBLE_BYTES) // 10 000 for a 784→512→512→10 MLP (about 16 kB a row)
 */
export const ensembleChunk = (p: LogitsProgram, rows: number, budget: number): number =>
  Math.max(1, Math.min(rows, Math.floor(budget / Math.max(1, p.bytesPerRow))))

/**
 * The compiled interpreter: a checked network → specialised loops over bit-packed data, through
 * the pipeline lower (lower.ts) → emit (emit-wasm.ts, emit-js.ts, jitless.ts: rule tables per
 * kernel) → build and instantiate (machine.ts). See docs/compiled.md.
 *
 * @example
 * const c = compile(net, { backend: 'wasm', mode: 'mode' })
 * if (E.isRight(c)) {
 *   const out = c.right.run(feed) // Either<RunError, Record<string, NDArray>>
 *   console.log(c.right.describe().join('\n'))
 * }
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { topoOrder } from '../algebra.js'
import { bind } from '../bind.js'
import type { RunError } from '../errors.js'
import type { Feed, NDArray } from '../ndarray.js'
import { selectOutputs } from '../outputs.js'
import { entriesOf } from './entries.js'
import type { Kernel } from './kernels.js'
import type { Infer } from './infer.js'
import { makeInfer } from './infer.js'
import { makePasses } from './passes.js'
import type { ThreadPool } from './threads/pool.js'
import { startPool } from './threads/pool.js'
import type { UnitPart } from './threads/units.js'
import { unitParts } from './threads/units.js'
import type { Executor } from './execute.js'
import { executor, kernelsOf } from './execute.js'
import { lower } from './lower.js'
import type { Artifact, BackendName, CompileError } from './machine.js'
import { build, wordBitsOf } from './machine.js'
import type { Plan } from './plan.js'
import { describeStep } from './plan.js'

export type { BackendName, CompileError, Artifact } from './machine.js'
export { drawCompileError } from './machine.js'
export type { Plan, Step } from './plan.js'
export type { Kernel } from './kernels.js'
export { benchNetwork } from './bench.js'
export type { Infer, InferInput, InferOptions, InferOutput, OutputForm, TypedValues } from './infer.js'
export type { PackedBits } from './packed.js'
export { packBits, unpackBits } from './packed.js'
export type { BenchOptions, BenchReport, Spread } from './bench.js'

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

/** MACs per example of every product and convolution reachable from the outputs. */
const macsOf = (net: Network): number =>
  topoOrder(Object.values(net.outputs)).reduce((sum, n) => {
    if (n._tag === 'MatMul') {
      const [m, k] = n.lhs.type.shape
      const cols = n.type.shape[1]
      return sum + (m === 'batch' ? 1 : Number(m)) * Number(k) * Number(cols)
    }
    if (n._tag === 'Conv2d') {
      const [, o, h, w] = n.type.shape
      const [, c, kh, kw] = n.kernel.type.shape
      return sum + Number(o) * Number(h) * Number(w) * Number(c) * Number(kh) * Number(kw)
    }
    return sum
  }, 0)

/** Compiles a checked network for one back end and mode. */
export const compile = (net: Checked<Network>, opts: CompileOptions): E.Either<CompileError, Compiled> => {
  // Output selection (src/interpreters/outputs.ts): compile the network cut down to the requested outputs.
  if (opts.outputs !== undefined) {
    const { outputs, ...rest } = opts
    const picked = selectOutputs(net, outputs)
    if (E.isLeft(picked))
      return E.left({ _tag: 'InvalidOption', option: 'outputs', expected: `names among ${Object.keys(net.outputs).map((n) => `"${n}"`).join(', ')}`, found: JSON.stringify(outputs) })
    return compile(picked.right, rest)
  }
  const samples = opts.samples ?? 16
  if (!['wasm', 'js', 'jitless'].includes(opts.backend))
    return E.left({ _tag: 'InvalidOption', option: 'backend', expected: "'wasm', 'js' or 'jitless'", found: String(opts.backend) })
  if (!['mode', 'sample', 'ensemble'].includes(opts.mode))
    return E.left({ _tag: 'InvalidOption', option: 'mode', expected: "'mode', 'sample' or 'ensemble'", found: String(opts.mode) })
  const threads = opts.threads ?? 1
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64))
    return E.left({ _tag: 'InvalidOption', option: 'threads', expected: 'an integer from 1 to 64', found: String(threads) })
  if (threads > 1 && opts.backend !== 'wasm')
    return E.left({ _tag: 'InvalidOption', option: 'threads', expected: "1 for backend '" + opts.backend + "' (threads need the wasm back end)", found: String(threads) })
  if (!(Number.isInteger(samples) && samples >= 1))
    return E.left({ _tag: 'InvalidOption', option: 'samples', expected: 'an integer ≥ 1', found: String(samples) })
  const lossHead = net.outputs['loss']
  const extra = opts.mode === 'ensemble' && lossHead?._tag === 'Loss' && net.outputs['predictive'] === undefined
  // In ensemble mode the logits of the loss head are an extra (hidden) output.
  const lowered = extra && lossHead?._tag === 'Loss'
    ? { ...net, outputs: { ...net.outputs, '#logits': lossHead.logits } } as unknown as Checked<Network>
    : net
  const plan = lower(lowered, { sampling: opts.mode !== 'mode', wordBits: wordBitsOf(opts.backend), eightBit: opts.backend === 'wasm' ? 'bytes' : 'planes' })
  const all = kernelsOf(plan.steps)
  const binaryInputs = [...new Set(topoOrder(Object.values(net.outputs)).flatMap((n) => (n._tag === 'Input' && n.type.dtype === 'binary' ? [n.name] : [])))]
  const entries = entriesOf(plan, opts.backend === 'wasm')
  const units = new Map<Kernel, readonly UnitPart[]>()
  if (threads > 1) for (const k of all) {
    const parts = unitParts(k, threads)
    if (parts !== undefined) units.set(k, parts)
  }
  const extraKernels = [...entries.kernels, ...[...units.values()].flatMap((ps) => ps.map((p) => p.kernel))]
  return E.chain((machine: Parameters<typeof executor>[1]): E.Either<CompileError, Compiled> => {
    let pool: ThreadPool | undefined
    if (threads > 1) {
      if (machine.shared === undefined) throw new Error('our bug: a threaded machine without shared memory')
      const started = startPool({ ...machine.shared, workers: threads - 1 })
      if (E.isLeft(started)) return E.left({ _tag: 'ThreadsUnavailable', message: started.left })
      pool = started.right
    }
    const ex = executor(plan, machine, extraKernels, pool === undefined ? undefined : { pool, threads, units })
    const passes = makePasses({ plan, executor: ex, mode: opts.mode, samples, lossHead: extra && lossHead?._tag === 'Loss' ? lossHead : undefined })
    const run = (feed: Feed, key?: Key, options?: RunOptions): E.Either<RunError, Readonly<Record<string, NDArray>>> => {
      const offset = options?.offset ?? 0
      if (!(Number.isSafeInteger(offset) && offset >= 0))
        return E.left({ _tag: 'InvalidOption', option: 'offset', expected: 'an integer ≥ 0 (the index of the feed\'s first row in the whole set)', found: String(offset) })
      const bound = bind(net, feed)
      if (E.isLeft(bound)) return bound
      // Binary inputs are packed as bits, which can only hold ±1 (the reference would multiply
      // any value it is given, so anything else cannot be reproduced).
      // v·v = 1 exactly for v = ±1 and for no other double (NaN included); one test instead of
      // `v !== 1 && v !== -1`, whose first branch is a coin flip on random signs (4× slower).
      for (const name of binaryInputs) {
        const data = feed[name]!.data
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!
          if (v * v !== 1)
            return E.left({ _tag: 'Unsupported', interpreter: 'compiled', what: `data.${name}[${i}] = ${v} for an input of dtype binary`, fix: 'feed ±1 values, or declare the input real' })
        }
      }
      try {
        ex.load(bound.right.feed, bound.right.batch)
      } catch (err) {
        if (!(err instanceof RangeError)) throw err
        return E.left({ _tag: 'Unsupported', interpreter: 'compiled', what: `a batch of ${bound.right.batch} (${err.message})`, fix: 'run the data in smaller batches' })
      }
      if (opts.mode !== 'mode' && plan.sites.length > 0 && key === undefined)
        return E.left({ _tag: 'InvalidOption', option: 'key', expected: `a PRNG key for ${opts.mode} mode`, found: 'none' })
      let ran: ReturnType<typeof passes.run>
      try {
        ran = passes.run(plan.steps, key, offset)
      } catch (err) {
        if (!(err instanceof RangeError)) throw err
        return E.left({ _tag: 'Unsupported', interpreter: 'compiled', what: err.message, fix: 'number the draws of a smaller set' })
      }
      if (E.isLeft(ran)) return ran
      const result: Record<string, NDArray> = {}
      for (const name of passes.names) result[name] = { shape: ran.right.shape(name), data: Float64Array.from(ran.right.values(name)) }
      return E.right(result)
    }
    const infer = makeInfer({ net, plan, entries, executor: ex, passes, wordBits: wordBitsOf(opts.backend), ensemble: opts.mode === 'ensemble' })
    return E.right({
      backend: opts.backend,
      mode: opts.mode,
      plan,
      kernels: all.map((k, i) => ({ kernel: `${k._tag} ${k.label}`, via: machine.how[i]! })),
      describe: () => [
        ...plan.steps.map(describeStep),
        ...(threads > 1 ? [`threads: ${threads} (batches split by rows)`] : []),
        ...[...units].map(([k, ps]) => `threads: split by units at batch 1: ${k._tag} ${k.label} (${ps.length} parts)`),
      ],
      artifact: machine.artifact,
      run,
      infer,
      executor: ex,
      macsPerExample: macsOf(net),
      samples: opts.mode === 'ensemble' ? samples : 1,
      threads,
      close: () => pool?.close(),
    })
  })(build([...all, ...extraKernels], opts.backend, threads > 1))
}

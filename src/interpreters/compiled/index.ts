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
import { topoOrder } from '../../dsl/fold.js'
import { selectOutputs } from '../outputs.js'
import { entriesOf } from './entries.js'
import type { Kernel } from './kernels.js'
import { makeInfer } from './infer.js'
import { makePasses } from './passes.js'
import type { ThreadPool } from '../../threads/pool.js'
import type { PoolStarter } from '../../threads/startThreads.js'
import { startThreads } from '../../threads/startThreads.js'
import type { UnitPart } from './threads/units.js'
import { unitParts } from './threads/units.js'
import { evenSplit, rowBalance } from './threads/rowSplit.js'
import { executor, productsOf } from './execute.js'
import { lower } from './lower.js'
import type { CompileError } from './machine.js'
import { build, wordBitsOf } from './machine.js'
import { describeStep } from './plan.js'
import { withOutput } from '../../dsl/rewrite.js'

export type { BackendName, CompileError, Artifact } from './machine.js'
export { drawCompileError } from './machine.js'
export type { Plan, Step } from './plan.js'
export type { Kernel } from './kernels.js'
export type { Infer, InferInput, InferOptions, InferOutput, OutputForm, TypedValues } from './infer.js'
export type { PackedBits } from './packedBits.js'
export { packBits, unpackBits } from './packedBits.js'
export { enableRelaxedSimd } from '../../wasm/relaxedFlag.js'
export type { RelaxedSimd, RelaxedSimdUnavailable } from '../../wasm/relaxedFlag.js'

import type { Compiled, CompileOptions } from './compiled.js'
import { makeRun } from './run.js'
import { InternalError } from '../../dsl/dslErrors.js'

export type { Compiled, CompiledMode, CompileOptions, RunOptions } from './compiled.js'

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
export const compile = (net: Checked<Network>, opts: CompileOptions): E.Either<CompileError, Compiled> => compileWith(startThreads)(net, opts)

/** `compile`, starting its thread pool with `start` (compileAsync.ts starts it on Web Workers). */
export const compileWith = (start: PoolStarter) => (net: Checked<Network>, opts: CompileOptions): E.Either<CompileError, Compiled> => {
  // Output selection (src/interpreters/outputs.ts): compile the network cut down to the requested outputs.
  if (opts.outputs !== undefined) {
    const { outputs, ...rest } = opts
    const picked = selectOutputs(net, outputs)
    if (E.isLeft(picked))
      return E.left({ _tag: 'InvalidOption', option: 'outputs', expected: `names among ${Object.keys(net.outputs).map((n) => `"${n}"`).join(', ')}`, found: JSON.stringify(outputs) })
    return compileWith(start)(picked.right, rest)
  }
  const samples = opts.samples ?? 16
  if (!['wasm', 'js', 'jitless'].includes(opts.backend))
    return E.left({ _tag: 'InvalidOption', option: 'backend', expected: "'wasm', 'js' or 'jitless'", found: String(opts.backend) })
  if (!['mode', 'sample', 'ensemble'].includes(opts.mode))
    return E.left({ _tag: 'InvalidOption', option: 'mode', expected: "'mode', 'sample' or 'ensemble'", found: String(opts.mode) })
  const threads = opts.threads ?? 1
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64))
    return E.left({ _tag: 'InvalidOption', option: 'threads', expected: 'an integer from 1 to 64', found: String(threads) })
  if (opts.rowSplit !== undefined && !['chunks', 'adaptive', 'even'].includes(opts.rowSplit))
    return E.left({ _tag: 'InvalidOption', option: 'rowSplit', expected: "'chunks', 'adaptive' or 'even'", found: String(opts.rowSplit) })
  if (threads > 1 && opts.backend !== 'wasm')
    return E.left({ _tag: 'InvalidOption', option: 'threads', expected: "1 for backend '" + opts.backend + "' (threads need the wasm back end)", found: String(threads) })
  if (!(Number.isInteger(samples) && samples >= 1))
    return E.left({ _tag: 'InvalidOption', option: 'samples', expected: 'an integer ≥ 1', found: String(samples) })
  const lossHead = net.outputs['loss']
  const extra = opts.mode === 'ensemble' && lossHead?._tag === 'Loss' && net.outputs['predictive'] === undefined
  // In ensemble mode the logits of the loss head are an extra (hidden) output.
  const lowered = extra && lossHead?._tag === 'Loss'
    ? withOutput(net, '#logits', lossHead.logits)
    : net
  const plan = lower(lowered, { sampling: opts.mode !== 'mode', wordBits: wordBitsOf(opts.backend), eightBit: opts.backend === 'wasm' ? 'bytes' : 'planes' })
  const all = productsOf(plan.steps)
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
      if (machine.shared === undefined) throw new InternalError('a threaded machine without shared memory')
      const started = start({ ...machine.shared, workers: threads - 1 })
      if (E.isLeft(started)) return E.left({ _tag: 'ThreadsUnavailable', message: started.left })
      pool = started.right
    }
    const balance = opts.rowSplit === 'even' ? evenSplit : opts.rowSplit === 'adaptive' ? rowBalance() : 'chunks'
    const ex = executor(plan, machine, extraKernels, pool === undefined ? undefined : { pool, threads, units, balance })
    const passes = makePasses({ plan, executor: ex, mode: opts.mode, samples, lossHead: extra && lossHead?._tag === 'Loss' ? lossHead : undefined })
    const run = makeRun({ net, plan, executor: ex, passes, mode: opts.mode, idle: new Set(entries.idle) })
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

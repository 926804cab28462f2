/**
 * The main job's second core. `npm start` trains on one thread; the work that does not feed the
 * training runs beside it on a worker thread (startWorker.ts): the gradient lab, which is
 * independent of the training, and each epoch's validation pass, which only reads the
 * parameters at the epoch's end. A job is plain data and `runJob` is the one function both
 * threads run, so a result is the same bits wherever it was computed; if the worker cannot start
 * or fails, the jobs run on the calling thread instead (`inThread`), with the same results.
 */
import * as E from 'fp-ts/lib/Either.js'
import { Worker } from 'node:worker_threads'
import { workerSource } from '../threads/workerSource.js'
import { decodeModel, drawModelErrors } from '../dsl/codec.js'
import { encodeModel } from '../dsl/codec/encode.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { foldIn, key, keyOfWords } from '../dsl/random.js'
import type { GradevalReport } from '../estimators/analysis/lab.js'
import { gradeval } from '../estimators/analysis/lab.js'
import { gradevalPreset } from '../estimators/analysis/preset.js'
import type { Estimator } from '../estimators/estimator.js'
import { arm, mismatchedSt, reinforce, st } from '../estimators/estimator.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import type { RunError } from '../interpreters/runErrors.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { Evaluation } from '../train/evaluate.js'
import { evaluateSet, memberProbabilities } from '../train/evaluate.js'
import type { TrainData, TrainHooks } from '../train/loop.js'
import { runKeys } from '../train/loop.js'
import type { Settings } from './trainSetup.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The estimators of the main job's gradient lab, in the order of its table. */
export const LAB_ESTIMATORS: readonly Estimator[] = [st(), reinforce(), arm(), mismatchedSt('identity'), mismatchedSt('hardtanh')]

/** A network as model-file text with its parameters' exact bits beside it (`encodeModel` with a side file). */
export interface ModelText {
  readonly json: string
  readonly side: Uint8Array
}

/** What a thread can be asked to do (structured-cloneable). */
export type SideJob = GradevalJob | EvaluateJob | MembersJob
export interface GradevalJob { readonly _tag: 'Gradeval'; readonly draws: number }
export interface EvaluateJob {
  readonly _tag: 'Evaluate'; readonly model: ModelText; readonly set: 'validation' | 'test'; readonly members: number; readonly key: readonly [number, number]
}

/** Sampled members `from`..`members − 1` of an evaluation (`memberProbabilities`). */
export interface MembersJob { readonly _tag: 'Members'; readonly of: EvaluateJob; readonly from: number }

export type SideResult<J extends SideJob> =
  E.Either<string, J extends GradevalJob ? GradevalReport : J extends MembersJob ? Float64Array[] : Evaluation>

/** What `runJob` reads: the held-out sets and the kernels of the evaluations. */
export interface JobContext {
  readonly data: Pick<TrainData, 'validation' | 'test'>
  readonly kernels: MatrixProducts
}

/** Runs jobs in order and hands out their results; `close` ends its thread, when it has one. */
export interface Side {
  readonly run: <J extends SideJob>(job: J) => Promise<SideResult<J>>
  /** Where the jobs run: 'worker' or 'main thread (…why…)'. */
  readonly where: () => string
  readonly close: () => Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Constructors

const SIDE_FILE = 'params.bin'

/**
 * A network as text plus its parameters' bytes: the structure is small and the float64 values
 * travel as bytes, so a decoded copy computes exactly what this one does.
 * @example decodeText(modelText(net)) // right(a network equal to net)
 */
export const modelText = (net: Checked<Network>): ModelText => {
  const { json, side } = encodeModel(net, { sideFile: SIDE_FILE, threshold: 0 })
  return { json, side: side ?? new Uint8Array(0) }
}

/** The network of `modelText`. */
export const decodeText = (m: ModelText): E.Either<string, Checked<Network>> =>
  E.mapLeft(drawModelErrors)(decodeModel(JSON.parse(m.json), (name) => (name === SIDE_FILE ? m.side : undefined)))

/**
 * An evaluation job: `net` scored on a held-out set by its mode network and `members` sampled ones.
 * @example evaluateJob(net, 'validation', 2, foldIn(runKeys(0).eval, 3)) // the loop's validation after epoch 4
 */
export const evaluateJob = (net: Checked<Network>, set: 'validation' | 'test', members: number, k: Key): EvaluateJob =>
  ({ _tag: 'Evaluate', model: modelText(net), set, members, key: [k[0], k[1]] })

// ---------------------------------------------------------------------------------------------
// Rules

/** The gradient lab of the main job (MATH.md §7 preset, key 0). */
const lab = (draws: number): E.Either<string, GradevalReport> => {
  const preset = gradevalPreset(0)
  if (E.isLeft(preset)) return E.left('the gradeval preset failed to build')
  return E.mapLeft(drawRunError)(gradeval(preset.right.net, preset.right.feed, { estimators: LAB_ESTIMATORS, draws, key: key(0) }))
}

/**
 * One job's result: the same function on either thread.
 * @example runJob({ _tag: 'Gradeval', draws: 8 }, ctx) // right(the lab's report)
 */
export const runJob = <J extends SideJob>(job: J, ctx: JobContext): SideResult<J> => {
  // A generic parameter does not narrow: the union does.
  const j: SideJob = job
  if (j._tag === 'Gradeval') return lab(j.draws) as SideResult<J>
  const ev = j._tag === 'Members' ? j.of : j
  const set = ctx.data[ev.set]
  if (set === undefined) return E.left(`there is no ${ev.set} set`) as SideResult<J>
  const net = decodeText(ev.model)
  if (E.isLeft(net)) return net as SideResult<J>
  const opts = { members: ev.members, key: keyOfWords(ev.key[0], ev.key[1]), products: ctx.kernels }
  const r: E.Either<RunError, Evaluation | Float64Array[]> = j._tag === 'Members' ? memberProbabilities(net.right, set, opts, j.from) : evaluateSet(net.right, set, opts)
  return E.mapLeft(drawRunError)(r) as SideResult<J>
}

/**
 * Jobs run on the calling thread, one at a time when asked for (the serial path).
 * @example await inThread(ctx, 'no worker').run({ _tag: 'Gradeval', draws: 8 })
 */
export const inThread = (ctx: JobContext, why: string): Side => ({
  run: (job) => Promise.resolve(runJob(job, ctx)),
  where: () => `main thread (${why})`,
  close: () => Promise.resolve(),
})

/**
 * The validation of a run moved to `side`: a checkpoint hook for `train`/`trainAnnealed` that
 * posts, at each epoch's end, the pass the loop would run on its validation set (the same
 * network, `members` and key: `foldIn(runKeys(seed).eval, epoch)`, src/train/loop.ts), and the
 * results in epoch order once they are all in. Train without a validation set meanwhile (and so
 * without early stopping, which needs the scores at once).
 * @example const v = validateBeside(side, 0, 2); await train(net, noValidation, config, { checkpoint: v.checkpoint }); await v.results()
 */
export const validateBeside = (side: Side, seed: number, members: number): {
  readonly checkpoint: NonNullable<TrainHooks['checkpoint']>
  readonly results: () => Promise<E.Either<string, Evaluation[]>>
} => {
  const posted: Promise<SideResult<EvaluateJob>>[] = []
  const k = runKeys(seed).eval
  return {
    checkpoint: (c) => {
      // c.state.epoch epochs are done: the loop's validation of epoch index c.state.epoch − 1.
      posted.push(side.run(evaluateJob(c.net, 'validation', members, foldIn(k, c.state.epoch - 1))))
      return Promise.resolve(E.right(undefined))
    },
    results: async () => E.sequenceArray(await Promise.all(posted)) as E.Either<string, Evaluation[]>,
  }
}

/** What the worker needs to rebuild the context: the run's settings (it loads the same data) and the kernels' name. */
export interface WorkerSetup {
  readonly settings: Settings
  readonly cacheDir: string | false
  readonly kernels: 'fast' | 'reference'
}

/**
 * Jobs run in order on a worker thread; if it cannot start or fails, they run on the calling
 * thread (`ctx`), with the same results.
 * @example const side = onWorker({ settings, cacheDir, kernels: 'fast' }, ctx)
 */
export const onWorker = (setup: WorkerSetup, ctx: JobContext): Side => {
  let fallback: Side | undefined
  const pending = new Map<number, { readonly job: SideJob; readonly resolve: (r: E.Either<string, unknown>) => void }>()
  let next = 0
  let worker: Worker | undefined
  const fail = (why: string): void => {
    if (fallback !== undefined) return
    fallback = inThread(ctx, `the worker thread failed: ${why}`)
    void worker?.terminate()
    worker = undefined
    // Every job the worker had not answered runs here, in the order given.
    for (const [, p] of [...pending].sort(([a], [b]) => a - b)) p.resolve(runJob(p.job, ctx))
    pending.clear()
  }
  const source = workerSource(import.meta.url, 'startWorker')
  if (E.isLeft(source)) fail(source.left)
  else
    try {
      worker = new Worker(source.right, { eval: true, workerData: setup })
      worker.unref()
      worker.on('message', (m: { readonly id: number; readonly result: E.Either<string, unknown> }) => {
        const p = pending.get(m.id)
        pending.delete(m.id)
        p?.resolve(m.result)
      })
      worker.on('error', (e) => fail(e instanceof Error ? e.message : String(e)))
      worker.on('exit', (code) => fail(`its thread exited (code ${code})`))
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e))
    }
  return {
    run: <J extends SideJob>(job: J): Promise<SideResult<J>> => {
      if (fallback !== undefined || worker === undefined) return (fallback ?? inThread(ctx, 'no worker')).run(job)
      const id = next++
      const w = worker
      return new Promise((resolve) => {
        pending.set(id, { job, resolve: resolve as (r: E.Either<string, unknown>) => void })
        w.postMessage({ id, job })
      })
    },
    where: () => fallback?.where() ?? 'worker thread',
    close: async () => {
      const w = worker
      fallback ??= inThread(ctx, 'closed')
      worker = undefined
      await w?.terminate()
    },
  }
}

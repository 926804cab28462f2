/**
 * The training loop: minibatch gradient estimates (any estimator, per site if wanted) fed to the
 * recipe's optimizer for latent weights and a base optimizer for real parameters, batch-norm
 * running statistics, evaluation of the mode network and a K-sample ensemble on validation after
 * every epoch, early stopping, and the test evaluation at the end.
 *
 * A run is a pure function of (network, data, config): the shuffle of epoch e is a permutation
 * drawn with foldIn(K_shuffle, e), the gradient draw of optimizer step t (counted over the whole
 * run) uses foldIn(K_step, t), the validation ensemble after epoch e uses foldIn(K_eval, e), with
 * K_purpose = siteKey(key(seed), 'train:<purpose>'). The learning rate is a function of the step
 * counter. So a run resumed from a checkpoint (`TrainerState`, written at any step boundary)
 * continues bit-identically. Only the hooks touch the world: progress, log lines, checkpoints.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { foldIn, key, siteKey } from '../dsl/random.js'
import { permutation } from '../data/prng.js'
import { prepareGradient } from '../estimators/gradient.js'
import type { RunError } from '../interpreters/runErrors.js'
import type { Dataset, Evaluation } from './evaluate.js'
import { evaluateSet } from './evaluate.js'
import type { EpochRecord, LogRecord } from './log.js'
import type { ConfigError, TrainConfig, TrainData } from './config.js'
import { checkConfig, fingerprint, productsOf, resumeMismatches } from './config.js'
import { withBatchNormMode, withParams } from './modes.js'
import type { OptimizerState, Tensors } from './optimizers.js'
import type { Routing, RoutingError } from './routing.js'
import { initRouted, route, standardRules, stepRoutedInPlace } from './routing.js'
import { learningRate, withTotal } from './schedules.js'
import { tick } from './tick.js'
import { chanceLoss, explodingLoss, explodingMinibatch, hopelessLoss } from './divergence.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { availableCores, ThreadFailure } from '../threads/pool.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { GradientResult, PreparedGradient } from '../estimators/result.js'
import type { Team } from './parallel/team.js'
import { startTeam, TornStep } from './parallel/team.js'
import { BAD_GRADIENT, BAD_PARAMETER } from './parallel/barrier.js'
import type { TeamGradient } from './parallel/teamData.js'

// ---------------------------------------------------------------------------------------------
// Model

export type { TrainConfig, TrainData } from './config.js'

/** Everything besides the parameters that a resumed run needs, at a step boundary. */
export interface TrainerState {
  /** Epochs completed. */
  readonly epoch: number
  /** Optimizer steps done in the epoch in progress (0 at an epoch boundary). */
  readonly step: number
  /** Optimizer steps done since the start of the run. */
  readonly globalStep: number
  /** One state per routing rule (latent weights first, then real parameters). */
  readonly optimizer: readonly OptimizerState[]
  /** REINFORCE's running mean of the minibatch losses. */
  readonly baseline: number
  /** Sum of the minibatch losses of the epoch in progress. */
  readonly epochLoss: number
  /** Sum and count of the minibatch losses since the last step record. */
  readonly sinceLog: { readonly sum: number; readonly count: number }
  /** The best validation score so far (`validationScore`), with its epoch (1-based) and parameters. */
  readonly best?: { readonly epoch: number; readonly score: number; readonly params: Tensors }
  /** Epochs since the best one. */
  readonly sinceBest: number
  readonly history: readonly EpochRecord[]
  /** The settings that determine the trajectory, to refuse a resume under different ones. */
  readonly config: Readonly<Record<string, string | number>>
}

export interface Checkpoint {
  /** The network in inference mode with the current parameters. */
  readonly net: Checked<Network>
  readonly state: TrainerState
  /** Whether these parameters are the new best on validation. */
  readonly best: boolean
}

export interface StepInfo {
  readonly epoch: number
  readonly step: number
  readonly steps: number
  readonly globalStep: number
  /** Mean minibatch loss of the epoch so far. */
  readonly loss: number
  readonly lr: number
}

export interface TrainHooks {
  readonly onStep?: (s: StepInfo) => void
  readonly onLog?: (r: LogRecord) => void | Promise<void>
  /** Stores a checkpoint; a Left (a full disk) stops the run with that message. */
  readonly checkpoint?: (c: Checkpoint) => Promise<E.Either<string, void>>
  /** Polled before every step; true stops the run at that boundary (after a checkpoint). */
  readonly shouldStop?: () => boolean
  /** Milliseconds, for the `seconds` of epoch records only (default performance.now). */
  readonly clock?: () => number
  /** One-line notes for the user's log, each said once (an evaluation falling back to the reference interpreter). */
  readonly onNote?: (message: string) => void
}

export type TrainError =
  | ConfigError
  | { readonly _tag: 'Routing'; readonly error: RoutingError }
  | { readonly _tag: 'Diverged'; readonly epoch: number; readonly step: number; readonly globalStep: number; readonly what: string }
  | { readonly _tag: 'CheckpointFailed'; readonly epoch: number; readonly step: number; readonly message: string }
  | { readonly _tag: 'ResumeMismatch'; readonly fields: readonly (readonly [string, string, string])[] }
  | {
    readonly _tag: 'ThreadFailed'; readonly worker: number; readonly reason: string; readonly epoch: number; readonly step: number
    /** Whether a checkpoint of the last finished step was written before stopping. */
    readonly checkpoint: boolean
  }

export interface TrainResult {
  readonly outcome: 'completed' | 'early-stopped' | 'interrupted'
  /** The returned network (inference mode): the best parameters on validation, else the last. */
  readonly net: Checked<Network>
  readonly parameters: 'best' | 'last'
  /** The network with the last parameters. */
  readonly last: Checked<Network>
  readonly state: TrainerState
  readonly test?: Evaluation
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * The keys of a run; every draw of training derives from one of them.
 * @example const { step } = runKeys(0); const k = foldIn(step, 17) // the draw of optimizer step 17
 */
export const runKeys = (seed: number): { readonly shuffle: Key; readonly step: Key; readonly eval: Key; readonly test: Key } => {
  const root = key(seed)
  return {
    shuffle: siteKey(root, 'train:shuffle'),
    step: siteKey(root, 'train:step'),
    eval: siteKey(root, 'train:eval'),
    test: siteKey(root, 'train:test'),
  }
}

/** The first non-finite value of named tensors, as `<name>[i] = NaN`, or undefined. */
const nonFinite = (ts: Tensors, what: string): string | undefined => {
  for (const [name, a] of Object.entries(ts)) {
    // x − x is 0 for every finite x and NaN otherwise: one branch-free pass, then find the culprit.
    let acc = 0
    for (let i = 0; i < a.length; i++) acc += a[i]! - a[i]!
    if (acc === 0) continue
    const i = a.findIndex((v) => !Number.isFinite(v))
    return `${what} ${name}[${i}] is ${a[i]}`
  }
  return undefined
}

/** Running averages of batch-norm statistics, in place: r ← (1 − m)·r + m·batch. */
const updateRunning = (params: Tensors, stats: Readonly<Record<string, { varName: string; momentum: number; mean: Float64Array; variance: Float64Array }>>): void => {
  const blend = (r: Float64Array, batch: Float64Array, m: number): void => {
    for (let i = 0; i < r.length; i++) r[i] = (1 - m) * r[i]! + m * batch[i]!
  }
  for (const [meanName, s] of Object.entries(stats)) {
    blend(params[meanName]!, s.mean, s.momentum)
    blend(params[s.varName]!, s.variance, s.momentum)
  }
}

/** Fresh copies of named tensors (the loop owns and overwrites its buffers; callers get copies). */
const copyTensors = (ts: Tensors): Record<string, Float64Array> => Object.fromEntries(Object.entries(ts).map(([k, v]) => [k, v.slice()]))
const copyState = (s: OptimizerState): OptimizerState => ({ step: s.step, slots: Object.fromEntries(Object.entries(s.slots).map(([k, v]) => [k, v.map((a) => a.slice())])) })

/**
 * What early stopping watches: the validation accuracy of the mode network (default) or of the
 * ensemble, or the negated loss when accuracy does not exist (a squared loss). Higher is better;
 * only a strict improvement counts.
 * @example validationScore({ examples: 10, mode: { loss: 0.3, accuracy: 0.9 }, ensemble: { loss: 0.2, accuracy: 0.95, members: 16 } }) // 0.9
 */
export const validationScore = (v: Evaluation, select: 'mode' | 'ensemble' = 'mode'): number => {
  const s = select === 'mode' ? v.mode : v.ensemble
  return Number.isFinite(s.accuracy) ? s.accuracy : -s.loss
}

/** REINFORCE's baseline: the mean of the losses so far for 100 steps, then an average with weight 1/100. */
const nextBaseline = (b: number, loss: number, t: number): number => b + (loss - b) * Math.max(0.01, 1 / (t + 1))

const usesBaseline = (c: TrainConfig): boolean =>
  [c.estimator, c.weightEstimator, ...Object.values(c.sites ?? {})].some((e) => e.kind === 'reinforce' && e.baseline)

// ---------------------------------------------------------------------------------------------
// The loop

/**
 * A fresh trainer state for a run of `net` under `config`.
 * @example initialState(routing, net, config).globalStep // 0
 */
export const initialState = (routing: Routing, net: Checked<Network>, config: TrainConfig): TrainerState => ({
  epoch: 0, step: 0, globalStep: 0, optimizer: initRouted(routing, net.params), baseline: 0, epochLoss: 0,
  sinceLog: { sum: 0, count: 0 }, sinceBest: 0, history: [], config: fingerprint(config),
})

/**
 * Trains `net` on `data`; with `resume`, continues from a checkpoint of the same run (the
 * network must then carry the checkpoint's parameters).
 * @example
 * const r = await train(net, { train: feedDataset(feed) }, config)
 */
export const train = async (
  net: Checked<Network>, data: TrainData, config: TrainConfig, hooks: TrainHooks = {}, resume?: TrainerState,
): Promise<E.Either<TrainError, TrainResult>> => {
  const bad = checkConfig(net, data, config)
  if (bad !== undefined) return E.left(bad)
  // Threads: the threaded form of the kernels (the same bits), owned by this run and closed at its end.
  const choice = productsOf(config)
  const threads = config.threads ?? availableCores()
  const parts = config.parts ?? 1
  const threaded = threads > 1 ? choice.threaded?.(threads) : undefined
  if (threaded !== undefined && E.isLeft(threaded)) hooks.onNote?.(`training on one thread: ${drawRunError(threaded.left)}`)
  const owned = threaded !== undefined && E.isRight(threaded) ? threaded.right : undefined
  let team: Team | undefined
  try {
    if (parts > 1) {
      // Data parallelism: the passes run in replicas over whole parts (train/parallel/team.ts), each on
      // one-thread kernels; the threaded kernels, if any, serve the evaluations between epochs.
      const sample = data.train.rows(permutation(data.train.size, foldIn(runKeys(config.seed).shuffle, 0)).subarray(0, 1))
      const routing = routingOf(net, config)
      // A routing error is trainOn's to report.
      if (E.isLeft(routing)) return await trainOn(owned ?? choice.products, undefined, net, data, config, hooks, resume)
      const started = await startTeam({
        net, gradient: gradientOf(config), products: { name: choice.name, kernels: choice.products }, parts, threads, batchSize: config.batchSize, sample,
        routing: routing.right,
      })
      if (E.isLeft(started)) return E.left({ _tag: 'Run', error: started.left })
      team = started.right
    }
    return await trainOn(owned ?? choice.products, team, net, data, config, hooks, resume)
  } finally {
    team?.close()
    owned?.close()
  }
}

/** Which optimizer updates which parameter of the network in training mode. */
const routingOf = (net: Checked<Network>, config: TrainConfig): E.Either<RoutingError, Routing> => {
  const trainNet = withBatchNormMode(net, 'train')
  return route(trainNet, standardRules(trainNet, { latent: config.recipe.optimizer, real: config.optimizer }))
}

/** The gradient options of a run, as plain data (what a data-parallel worker rebuilds). */
const gradientOf = (config: TrainConfig): TeamGradient => ({
  estimator: config.estimator, weights: config.weightEstimator, sites: config.sites ?? {},
  latent: config.recipe.latent, weightSampling: config.recipe.weightSampling,
})

/** `train` with the kernels chosen (and the data-parallel team, with parts ≥ 2). */
const trainOn = async (
  kernels: MatrixProducts, team: Team | undefined, net: Checked<Network>, data: TrainData, config: TrainConfig, hooks: TrainHooks, resume: TrainerState | undefined,
): Promise<E.Either<TrainError, TrainResult>> => {
  const trainNet = withBatchNormMode(net, 'train')
  const evalNet = withBatchNormMode(net, 'inference')
  const routingE = routingOf(net, config)
  if (E.isLeft(routingE)) return E.left({ _tag: 'Routing', error: routingE.left })
  const routing = routingE.right
  /** The tensors of `ts` that no optimizer of the routing steps (batch-norm running statistics). */
  const unrouted = (ts: Tensors): Tensors => Object.fromEntries(Object.entries(ts).filter(([name]) => routing.assignment[name] === undefined))
  if (resume !== undefined) {
    const fields = resumeMismatches(resume.config, fingerprint(config))
    if (fields.length > 0) return E.left({ _tag: 'ResumeMismatch', fields })
    if (resume.optimizer.length !== routing.rules.length)
      return E.left({ _tag: 'ResumeMismatch', fields: [['optimizer states', String(resume.optimizer.length), String(routing.rules.length)]] })
  }
  const keys = runKeys(config.seed)
  const clock = hooks.clock ?? (() => performance.now())
  const schedule = withTotal(config.schedule, config.epochs)
  const n = data.train.size
  const steps = Math.ceil(n / config.batchSize)
  const gradOpts = gradientOf(config)
  const baselined = usesBaseline(config)
  const chance = chanceLoss(net)
  // The loop steps its own buffers in place (no allocation per step) and hands out copies.
  let state = resume === undefined ? initialState(routing, net, config) : { ...resume, optimizer: resume.optimizer.map(copyState) }
  // With a team, its arrays: each step hands them to its workers.
  const params = team?.params ?? copyTensors(net.params)
  const snapshot = (): TrainerState => ({ ...state, optimizer: state.optimizer.map(copyState) })
  const noted = new Set<string>()
  const onNote = (m: string): void => {
    if (!noted.has(m)) hooks.onNote?.(m)
    noted.add(m)
  }
  const evaluate = (set: Dataset, k: Key, p: Tensors): E.Either<RunError, Evaluation> =>
    evaluateSet(withParams(evalNet, p), set, {
      members: config.ensemble, key: k, ...(config.evalChunk === undefined ? {} : { chunk: config.evalChunk }), products: kernels,
      ...(config.evaluation === undefined ? {} : { interpreter: config.evaluation }), onNote,
    })
  const save = async (best: boolean): Promise<TrainError | undefined> => {
    if (hooks.checkpoint === undefined) return undefined
    const r = await hooks.checkpoint({ net: withParams(evalNet, copyTensors(params)), state: snapshot(), best })
    return E.isLeft(r) ? { _tag: 'CheckpointFailed', epoch: state.epoch, step: state.step, message: r.left } : undefined
  }
  /** A worker thread failed: checkpoint the last finished step (the parameters are untouched), then the error. */
  const threadFailed = async (err: unknown): Promise<TrainError> => {
    if (!(err instanceof ThreadFailure)) throw err
    // A failure inside the split optimizer step (TornStep) leaves parameters no step produced: not saved.
    const torn = err instanceof TornStep
    const failed = torn ? undefined : await save(false)
    return failed ?? { _tag: 'ThreadFailed', worker: err.worker, reason: err.reason, epoch: state.epoch, step: state.step, checkpoint: !torn && hooks.checkpoint !== undefined }
  }
  const stopEarly = (): boolean => config.patience !== undefined && state.sinceBest >= config.patience
  let outcome: TrainResult['outcome'] = 'completed'
  let started = clock()
  while (state.epoch < config.epochs && !stopEarly()) {
    const perm = permutation(n, foldIn(keys.shuffle, state.epoch))
    let lr = learningRate(schedule, config.lr, state.epoch + state.step / steps)
    for (let k = state.step; k < steps; k++) {
      if (hooks.shouldStop?.() === true) {
        const failed = await save(false)
        if (failed !== undefined) return E.left(failed)
        return E.right(finish('interrupted'))
      }
      const where = { epoch: state.epoch, step: k, globalStep: state.globalStep }
      // The step key also seeds data augmentation, so a resumed run augments identically.
      const feed = data.train.rows(perm.subarray(k * config.batchSize, Math.min(n, (k + 1) * config.batchSize)), foldIn(keys.step, state.globalStep))
      const stepKey = foldIn(keys.step, state.globalStep)
      const base = baselined ? state.baseline : 0
      const pass = (products: MatrixProducts, rows: Feed): E.Either<RunError, GradientResult> =>
        E.map((run: PreparedGradient) => run(stepKey, base))(prepareGradient(withParams(trainNet, params), rows, { ...gradOpts, products }))
      let passed: E.Either<RunError, GradientResult>
      try {
        passed = team === undefined ? pass(kernels, feed) : team.step(feed, stepKey, base, pass)
      } catch (err) {
        return E.left(await threadFailed(err))
      }
      if (E.isLeft(passed)) return E.left({ _tag: 'Run', error: passed.left })
      const r = passed.right
      // A split optimizer step checks the routed gradients and parameters by its chunks, on every
      // thread (train/parallel/optimizer.ts): here only the rest. A finding names its first
      // culprit as the whole check would.
      const splitChecks = team?.splits() === true
      const gradOf = (): string | undefined => nonFinite(r.grad, 'the gradient of')
      const badGrad = Number.isFinite(r.loss)
        ? explodingMinibatch(state.globalStep, state.baseline, r.loss) ?? (splitChecks ? (nonFinite(unrouted(r.grad), '') === undefined ? undefined : gradOf()) : gradOf())
        : `the minibatch loss is ${r.loss}`
      if (badGrad !== undefined) return E.left({ _tag: 'Diverged', ...where, what: badGrad })
      lr = learningRate(schedule, config.lr, state.epoch + k / steps)
      let optimizer: readonly OptimizerState[]
      let bad = 0
      try {
        if (team === undefined) optimizer = stepRoutedInPlace(routing, params, r.grad, state.optimizer, lr)
        else ({ states: optimizer, bad } = team.optimizeChecked(r.grad, state.optimizer, lr))
      } catch (err) {
        return E.left(await threadFailed(err))
      }
      if ((bad & BAD_GRADIENT) !== 0) return E.left({ _tag: 'Diverged', ...where, what: gradOf() ?? 'the gradient is not finite' })
      updateRunning(params, r.batchStats)
      // The gradients are spent: the kernels may write later results into them (train/fast/recycle.ts).
      kernels.release?.(Object.values(r.grad))
      const badParam = !splitChecks || (bad & BAD_PARAMETER) !== 0 || nonFinite(unrouted(params), '') !== undefined ? nonFinite(params, 'the updated parameter') : undefined
      if (badParam !== undefined) return E.left({ _tag: 'Diverged', ...where, what: badParam })
      const sinceLog = { sum: state.sinceLog.sum + r.loss, count: state.sinceLog.count + 1 }
      const globalStep = state.globalStep + 1
      const logNow = (config.logEvery ?? 0) > 0 && globalStep % config.logEvery! === 0
      state = {
        ...state, step: k + 1, globalStep, optimizer, epochLoss: state.epochLoss + r.loss,
        baseline: nextBaseline(state.baseline, r.loss, state.globalStep), sinceLog: logNow ? { sum: 0, count: 0 } : sinceLog,
      }
      hooks.onStep?.({ epoch: state.epoch, step: k + 1, steps, globalStep, loss: state.epochLoss / (k + 1), lr })
      if (logNow) await hooks.onLog?.({ type: 'step', epoch: state.epoch, step: globalStep, loss: sinceLog.sum / sinceLog.count, lr })
      await tick()
    }
    // The end of an epoch: validation, early-stopping bookkeeping, log, checkpoint.
    let validation: E.Either<RunError, Evaluation> | undefined
    try {
      validation = data.validation === undefined ? undefined : evaluate(data.validation, foldIn(keys.eval, state.epoch), params)
    } catch (err) {
      return E.left(await threadFailed(err))
    }
    if (validation !== undefined && E.isLeft(validation)) return E.left({ _tag: 'Run', error: validation.left })
    const v = validation?.right
    const epoch = state.epoch + 1
    const score = v === undefined ? undefined : validationScore(v, config.select)
    const improved = score !== undefined && (state.best === undefined || score > state.best.score)
    const best = improved ? { epoch, score, params: copyTensors(params) } : state.best
    const record: EpochRecord = {
      type: 'epoch', epoch, step: state.globalStep, trainLoss: state.epochLoss / steps, lr,
      ...(v === undefined ? {} : { validation: v }), ...(best === undefined ? {} : { bestEpoch: best.epoch }),
      seconds: (clock() - started) / 1000,
    }
    const exploding = explodingLoss(state.history, record.trainLoss) ?? hopelessLoss(state.history, record.trainLoss, chance)
    if (exploding !== undefined) return E.left({ _tag: 'Diverged', epoch: state.epoch, step: steps - 1, globalStep: state.globalStep - 1, what: exploding })
    state = {
      ...state, epoch, step: 0, epochLoss: 0, sinceBest: v === undefined ? 0 : improved ? 0 : state.sinceBest + 1,
      history: [...state.history, record], ...(best === undefined ? {} : { best }),
    }
    await hooks.onLog?.(record)
    const failed = await save(improved)
    if (failed !== undefined) return E.left(failed)
    started = clock()
  }
  if (stopEarly() && state.epoch < config.epochs) outcome = 'early-stopped'
  const result = finish(outcome)
  if (data.test === undefined) return E.right(result)
  let test: E.Either<RunError, Evaluation>
  try {
    test = evaluate(data.test, keys.test, result.net.params)
  } catch (err) {
    return E.left(await threadFailed(err))
  }
  if (E.isLeft(test)) return E.left({ _tag: 'Run', error: test.left })
  await hooks.onLog?.({ type: 'test', epoch: state.epoch, step: state.globalStep, parameters: result.parameters, test: test.right })
  return E.right({ ...result, test: test.right })

  function finish(how: TrainResult['outcome']): TrainResult {
    const last = withParams(evalNet, copyTensors(params))
    const fromBest = state.best !== undefined
    return { outcome: how, net: fromBest ? withParams(evalNet, state.best!.params) : last, parameters: fromBest ? 'best' : 'last', last, state: snapshot() }
  }
}

/**
 * One line per error: what happened and where.
 * @example drawTrainError(e, drawRunError, drawRoutingError) // 'training diverged at epoch 2, step 5 (…): the minibatch loss is NaN; …'
 */
export const drawTrainError = (e: TrainError, drawRun: (r: RunError) => string, drawRouting: (r: RoutingError) => string): string => {
  switch (e._tag) {
    case 'InvalidConfig':
      return `option ${e.option}: expected ${e.expected}, found ${e.found}`
    case 'Run':
      return drawRun(e.error)
    case 'Routing':
      return `routing parameters to optimizers: ${drawRouting(e.error)}`
    case 'Diverged':
      return `training diverged at epoch ${e.epoch + 1}, step ${e.step + 1} (optimizer step ${e.globalStep + 1} of the run): ${e.what}; nothing was written for this step (try a smaller learning rate)`
    case 'CheckpointFailed':
      return `cannot write the checkpoint after epoch ${e.epoch}${e.step > 0 ? `, step ${e.step}` : ''}: ${e.message}; any earlier checkpoint is left as it was`
    case 'ThreadFailed':
      return `worker thread ${e.worker} of the training kernels failed in epoch ${e.epoch + 1}, after ${e.step} step${e.step === 1 ? '' : 's'} of it: ${e.reason}; ${e.checkpoint ? 'a checkpoint of the last finished step was written: resume from it (with one thread if it happens again)' : 'nothing was saved for this step (no checkpoint hook, or parameters left half updated): resume from the last checkpoint'}`
    case 'ResumeMismatch':
      return `cannot resume: the checkpoint was made with other settings (${e.fields.map(([f, saved, given]) => `${f}: checkpoint ${saved}, now ${given}`).join('; ')}); resume with the checkpoint's settings`
  }
}

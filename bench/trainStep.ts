/**
 * The training step that `npm run bench:train` times, shared with the peers that compare
 * against it: a preset network (`mlp:512,512`, `conv:16,32`) with Bernoulli ±1 weights drawn
 * once per batch and passed through to η unchanged (the `mirror` latent rule), batch norm in
 * training mode before each logistic binary activation when asked, matched ST (factor 2σ′(a)),
 * softmax cross-entropy and plain SGD stepped in place — the step `sbnkit train` takes with
 * `--recipe` defaults and `--optimizer sgd`.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../src/dsl/node.js'
import { foldIn, key } from '../src/dsl/random.js'
import { prepareGradient } from '../src/estimators/gradient.js'
import type { Feed } from '../src/interpreters/ndarray.js'
import type { MatrixProducts } from '../src/interpreters/reference/ops.js'
import { sgd } from '../src/train/optimizers.js'
import type { Preset } from '../src/train/presets.js'
import { parsePreset, presetNetwork } from '../src/train/presets.js'
import { withBatchNormMode } from '../src/train/modes.js'
import { xorshift } from './stats.js'
import { startTeam } from '../src/train/parallel/team.js'
import type { GradientResult } from '../src/estimators/result.js'
import { st } from '../src/estimators/estimator.js'
import { drawRunError } from '../src/interpreters/runErrors.js'
import { initRouted, route, standardRules } from '../src/train/routing.js'

export const STEP_BATCH = 64
const LR = 0.01

export interface StepSetup {
  readonly preset: string
  readonly batchNorm: boolean
  readonly kernels: MatrixProducts
  readonly batch?: number
  readonly seed?: number
}

/** The preset's network in training mode (batch statistics), or a readable reason it is not one. */
export const stepNetwork = (presetText: string, batchNorm: boolean, seed = 0): E.Either<string, { readonly preset: Preset; readonly net: Checked<Network> }> => {
  const p = parsePreset(presetText)
  if (E.isLeft(p)) return p
  const inputShape = p.right.kind === 'mlp' ? [784] : [1, 28, 28]
  const net = presetNetwork(p.right, { inputShape, classes: 10, batchNorm, key: key(seed) })
  if (E.isLeft(net)) return E.left(`our bug: the preset network does not typecheck: ${JSON.stringify(net.left)}`)
  return E.right({ preset: p.right, net: withBatchNormMode(net.right, 'train') })
}

/** `count` batches of random pixels j/255 (xorshift, seeded) with labels 0–9, in the preset's layout. */
export const randomBatches = (preset: Preset, batch: number, count: number, seed = 1): Feed[] => {
  const next = xorshift(seed)
  const shape = preset.kind === 'mlp' ? [batch, 784] : [batch, 1, 28, 28]
  return Array.from({ length: count }, () => ({
    x: { shape, data: Float64Array.from({ length: batch * 784 }, () => Math.floor(next() * 256) / 255) },
    y: { shape: [batch], data: Float64Array.from({ length: batch }, () => Math.floor(next() * 10)) },
  }))
}

/**
 * A stepper: each call takes one SGD step on the next batch (cycling), with parameters and
 * running statistics carried in its own buffers; returns the minibatch loss.
 */
export const stepper = (setup: StepSetup): E.Either<string, () => number> => {
  const made = stepNetwork(setup.preset, setup.batchNorm, setup.seed ?? 0)
  if (E.isLeft(made)) return made
  const { preset, net } = made.right
  const batches = randomBatches(preset, setup.batch ?? STEP_BATCH, 8)
  const params: Record<string, Float64Array> = Object.fromEntries(Object.entries(net.params).map(([k, v]) => [k, v.slice()]))
  const opt = sgd()
  let state = opt.init(params)
  let b = 0
  return E.right(() => {
    const live = { ...net, params } as Checked<Network>
    const prepared = prepareGradient(live, batches[b % batches.length]!, { products: setup.kernels })
    if (E.isLeft(prepared)) throw new Error(`our bug: ${JSON.stringify(prepared.left)}`)
    const r = prepared.right(foldIn(key(7), b))
    const grads: Record<string, Float64Array> = {}
    for (const [name, g] of Object.entries(r.grad)) if (!(name in r.batchStats) && !isRunningVar(r, name)) grads[name] = g
    state = opt.stepInPlace(pick(params, Object.keys(grads)), grads, state, LR)
    for (const [meanName, st] of Object.entries(r.batchStats)) {
      const m = params[meanName]!
      const v = params[st.varName]!
      for (let i = 0; i < m.length; i++) {
        m[i] = (1 - st.momentum) * m[i]! + st.momentum * st.mean[i]!
        v[i] = (1 - st.momentum) * v[i]! + st.momentum * st.variance[i]!
      }
    }
    // Spent, as in train(): the kernels may write later results into them.
    setup.kernels.release?.(Object.values(r.grad))
    b++
    return r.loss
  })
}

/**
 * `stepper` with data parallelism (src/train/parallel/): the minibatch cut into `parts`, the
 * passes over `threads` replicas on one-thread `kernels` (named `fast`, which the workers
 * rebuild). The steps are the same bits for any `threads`. Close it when done.
 */
export const teamStepper = async (
  setup: StepSetup & { readonly parts: number; readonly threads: number; readonly phases?: boolean; readonly spin?: number },
): Promise<E.Either<string, { readonly step: () => number; readonly close: () => void; readonly phases: () => readonly Float64Array[] }>> => {
  const made = stepNetwork(setup.preset, setup.batchNorm, setup.seed ?? 0)
  if (E.isLeft(made)) return made
  const { preset, net } = made.right
  const batch = setup.batch ?? STEP_BATCH
  const batches = randomBatches(preset, batch, 8)
  const gradient = { estimator: st(), weights: st(), sites: {}, latent: 'mirror', weightSampling: 'per-pass' } as const
  const opt = sgd()
  const routing = route(net, standardRules(net, { latent: opt, real: opt }))
  if (E.isLeft(routing)) return E.left(`our bug: ${JSON.stringify(routing.left)}`)
  const team = await startTeam({
    routing: routing.right,
    net, gradient, products: { name: 'fast', kernels: setup.kernels }, parts: setup.parts, threads: setup.threads, batchSize: batch, sample: batches[0]!,
    ...(setup.phases === true ? { phases: true } : {}), ...(setup.spin === undefined ? {} : { spin: setup.spin }),
  })
  if (E.isLeft(team)) return E.left(drawRunError(team.left))
  const params = team.right.params
  let states = initRouted(routing.right, params)
  let b = 0
  const step = (): number => {
    const live = { ...net, params } as Checked<Network>
    const r = team.right.step(batches[b % batches.length]!, foldIn(key(7), b), 0, (products, rows): GradientResult => {
      const prepared = prepareGradient(live, rows, { ...gradient, products })
      if (E.isLeft(prepared)) throw new Error(`our bug: ${JSON.stringify(prepared.left)}`)
      return prepared.right(foldIn(key(7), b))
    })
    // Split over the replicas by element ranges (src/train/parallel/optimizer.ts): the same bits as one SGD step.
    states = team.right.optimize(r.grad, states, LR)
    for (const [meanName, s] of Object.entries(r.batchStats)) {
      const m = params[meanName]!
      const v = params[s.varName]!
      for (let i = 0; i < m.length; i++) {
        m[i] = (1 - s.momentum) * m[i]! + s.momentum * s.mean[i]!
        v[i] = (1 - s.momentum) * v[i]! + s.momentum * s.variance[i]!
      }
    }
    // Spent, as in train(): the kernels may write later results into them.
    setup.kernels.release?.(Object.values(r.grad))
    b++
    return r.loss
  }
  return E.right({ step, close: team.right.close, phases: team.right.phases })
}

const isRunningVar = (r: { readonly batchStats: Readonly<Record<string, { readonly varName: string }>> }, name: string): boolean =>
  Object.values(r.batchStats).some((s) => s.varName === name)

const pick = (t: Record<string, Float64Array>, names: readonly string[]): Record<string, Float64Array> =>
  Object.fromEntries(names.map((n) => [n, t[n]!]))

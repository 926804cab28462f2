/**
 * The work of a data-parallel step that does not shrink with the rows, split over the replicas
 * (train/parallel/optimizer.ts, rows.ts): the optimizer stepped by element ranges is the whole
 * step bit for bit; an optimizer without a spec is stepped whole; the long sums added by element
 * ranges give the same bits on any number of threads.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import { foldIn, key } from '../../src/dsl/random.js'
import { st } from '../../src/estimators/estimator.js'
import { prepareGradient } from '../../src/estimators/gradient.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { fastProducts } from '../../src/train/fast/index.js'
import { perParameterLr } from '../../src/train/fanInLr.js'
import type { Checkpoint } from '../../src/train/loop.js'
import { drawTrainError, train } from '../../src/train/loop.js'
import { withBatchNormMode, withParams } from '../../src/train/modes.js'
import type { Optimizer, Tensors } from '../../src/train/optimizers.js'
import { adam, clipped, initSlots, sgd, withCopies } from '../../src/train/optimizers.js'
import { optimizerOf, sharedSlots, splitRoutingOf, stepRange } from '../../src/train/parallel/optimizer.js'
import { startTeam, watchTeams } from '../../src/train/parallel/team.js'
import { presetNetwork } from '../../src/train/presets.js'
import type { Routing } from '../../src/train/routing.js'
import { drawRoutingError, initRouted, route, standardRules } from '../../src/train/routing.js'
import { right, sameBits, task, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

const specced: readonly (readonly [string, Optimizer])[] = [
  ['adam', adam()],
  ['adam with decoupled decay', adam({ weightDecay: 0.01, decoupled: true })],
  ['sgd with Nesterov momentum and decay', sgd({ momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['plain sgd', sgd()],
  ['clipped sgd with momentum', clipped(sgd({ momentum: 0.5 }), -1, 1)],
  ['perParameterLr(adam)', perParameterLr(adam(), { a: 0.25 })],
]

/** One rule owning parameters `a` and `b`. */
const oneRule = (optimizer: Optimizer): Routing => ({ assignment: { a: 0, b: 0 }, rules: [{ match: { kind: 'latent' }, optimizer }] })

describe('the optimizer step split by element ranges', () => {
  for (const [what, opt] of specced)
    it(`law: ${what} stepped by ranges over R replicas ≡ the whole step, bit for bit (parameters and slots)`, () => {
      const vec = (n: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs))
      const arb = fc.record({ na: fc.integer({ min: 0, max: 9 }), nb: fc.integer({ min: 1, max: 9 }) })
        .chain(({ na, nb }) => fc.record({ a: vec(na), b: vec(nb), ga: vec(na), gb: vec(nb), replicas: fc.integer({ min: 1, max: 4 }), steps: fc.integer({ min: 1, max: 3 }) }))
      fc.assert(fc.property(arb, ({ a, b, ga, gb, replicas, steps }) => {
        const grads: Tensors = { a: ga, b: gb }
        const whole = { a: a.slice(), b: b.slice() }
        let state = opt.init(whole)
        const split = splitRoutingOf(oneRule(opt), { a, b })!
        const params = { a: a.slice(), b: b.slice() }
        const slots = sharedSlots(new SharedArrayBuffer(8 * Math.max(1, split.values)), split, { a: a.length, b: b.length })
        const rebuilt = [optimizerOf(split.rules[0]!.spec)]
        for (let t = 0; t < steps; t++) {
          for (let r = 0; r < replicas; r++) stepRange(rebuilt, split, params, grads, slots, [t], 0.1, r, replicas)
          state = opt.stepInPlace(whole, grads, state, 0.1)
        }
        expect(sameBits(params, whole)).toBe(true)
        for (const name of ['a', 'b']) state.slots[name]!.forEach((s, j) => expect(sameBits({ s }, { s: slots[0]![name]![j]! })).toBe(true))
      }), { seed: 10, numRuns: 60 })
    })

  it('optimizerOf rebuilds every spec into an optimizer of the same name', () => {
    for (const [, opt] of specced) expect(optimizerOf(opt.spec!).name).toBe(opt.name)
  })

  // Not elementwise: every element's step depends on the whole gradient's norm.
  const normalized: Optimizer = withCopies('normalized-sgd', (p) => initSlots(p, 0), (params, grads, state, lr) => {
    let norm = 0
    for (const g of Object.values(grads)) for (const v of g) norm += v * v
    const scale = lr / Math.max(1e-12, Math.sqrt(norm))
    for (const [name, theta] of Object.entries(params)) for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - scale * grads[name]![i]!
    return { step: state.step + 1, slots: state.slots }
  })

  it('an optimizer without a spec is not split (the calling thread steps it whole)', () => {
    expect(splitRoutingOf(oneRule(normalized), { a: new Float64Array(3), b: new Float64Array(2) })).toBeUndefined()
    expect(splitRoutingOf(oneRule(perParameterLr(normalized, { a: 2 })), { a: new Float64Array(3), b: new Float64Array(2) })).toBeUndefined()
  })

  it('law: training with an optimizer without a spec on 2 threads ≡ 1 thread, bit for bit', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const run = async (threads: number) => {
      const r = await train(net, tinyData(), tinyConfig({ parts: 2, threads, evaluation: 'reference', batchSize: 10, optimizer: normalized }))
      if (E.isLeft(r)) throw new Error(drawTrainError(r.left, drawRunError, drawRoutingError))
      return r.right
    }
    expect(sameBits((await run(2)).last.params, (await run(1)).last.params)).toBe(true)
  }, 60000)
})

describe('long sums added by element ranges', () => {
  /** `steps` data-parallel steps (pass, then the routed adam step) with every sum of ≥ 1 value split; the parameters after them. */
  const steps = async (net: Checked<Network>, batches: readonly Feed[], parts: number, threads: number, latent: 'mirror' | 'st-gd' = 'mirror'): Promise<Tensors> => {
    const trainNet = withBatchNormMode(net, 'train')
    const routing = right(route(trainNet, standardRules(trainNet, { latent: adam(), real: perParameterLr(adam(), { 'head.W': 0.5 }) })))
    const gradient = { estimator: st(), weights: st(), sites: {}, latent, weightSampling: 'per-pass' } as const
    const kernels = right(fastProducts())
    const team = right(await startTeam({
      net: trainNet, gradient, products: { name: 'fast', kernels }, parts, threads, batchSize: batches[0]!.x!.shape[0]!, sample: batches[0]!, routing, splitFrom: 1,
    }))
    try {
      let states = initRouted(routing, team.params)
      for (const [t, batch] of batches.entries()) {
        const k = foldIn(key(9), t)
        const r = team.step(batch, k, 0, (products, rows) => {
          const prepared = prepareGradient(withParams(trainNet, team.params), rows, { ...gradient, products })
          if (E.isLeft(prepared)) throw new Error(drawRunError(prepared.left))
          return prepared.right(k)
        })
        states = team.optimize(r.grad, states, 0.05)
      }
      return Object.fromEntries(Object.entries(team.params).map(([name, v]) => [name, v.slice()]))
    } finally {
      team.close()
    }
  }

  it('law: parts 3 with every sum split on 2 and 3 threads ≡ 1 thread, bit for bit (an MLP with batch norm; the last batch smaller)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const batches = [task(10), task(10, 50), task(4, 100)]
    const one = await steps(net, batches, 3, 1)
    for (const threads of [2, 3]) expect(sameBits(await steps(net, batches, 3, threads), one), `${threads} threads`).toBe(true)
  }, 60000)

  it('law: parts 2 under st-gd (weight gradients that are not deferred: sums over parts) on 2 threads ≡ 1 thread, bit for bit', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const batches = [task(10), task(7, 50)]
    expect(sameBits(await steps(net, batches, 2, 2, 'st-gd'), await steps(net, batches, 2, 1, 'st-gd'))).toBe(true)
  }, 60000)

  it('law: parts 2 with every sum split on 2 threads ≡ 1 thread, bit for bit (a conv net with batch norm and pooling)', async () => {
    const net = right(presetNetwork({ kind: 'conv', channels: [4, 6] }, { inputShape: [1, 8, 8], classes: 3, key: key(5), batchNorm: true }))
    const images = (n: number, offset: number): Feed => ({
      x: { shape: [n, 1, 8, 8], data: Float64Array.from({ length: n * 64 }, (_, i) => (Math.sin(0.37 * (i + offset * 64)) + 1) / 2) },
      y: { shape: [n], data: Float64Array.from({ length: n }, (_, e) => (e * 7 + offset) % 3) },
    })
    const batches = [images(6, 0), images(6, 10)]
    expect(sameBits(await steps(net, batches, 2, 2), await steps(net, batches, 2, 1))).toBe(true)
  }, 60000)
})

describe('a failure inside the split optimizer step', () => {
  it('ends the run with ThreadFailed and no checkpoint of the half-updated parameters; the last checkpoint resumes to the whole run', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const config = tinyConfig({ parts: 2, threads: 2, evaluation: 'reference', batchSize: 10 })
    const whole = await train(net, tinyData(), { ...config, threads: 1 })
    const saved: Checkpoint[] = []
    let steps = 0
    let inject: ((w: number, how: 'throw in the optimizer') => void) | undefined
    const stop = watchTeams((t) => { inject = t.injectFailure })
    const r = await train(net, tinyData(), config, {
      onStep: () => {
        if (++steps === 7) inject!(1, 'throw in the optimizer')
      },
      checkpoint: async (c) => (saved.push(c), E.right(undefined)),
    })
    stop()
    // Epoch 1 has 5 steps (48 rows by 10) and ends with a checkpoint; step 8 (the 3rd of epoch 2) fails in its optimizer step.
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'ThreadFailed', worker: 1, epoch: 1, step: 2, checkpoint: false })
    if (E.isRight(r) || E.isLeft(whole)) return
    expect(drawTrainError(r.left, drawRunError, drawRoutingError)).toMatch(/during the optimizer step: the parameters are partly updated\); nothing was saved for this step/)
    expect(saved.map((c) => c.state.globalStep)).toEqual([5])
    const resumed = await train(saved[0]!.net, tinyData(), { ...config, threads: 1 }, {}, saved[0]!.state)
    expect(E.isRight(resumed) && sameBits(resumed.right.last.params, whole.right.last.params)).toBe(true)
  }, 60000)
})

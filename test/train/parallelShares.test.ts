/**
 * The work between the meetings of a data-parallel step shared by the replicas (`shareOf`, a
 * fixed even range each): the weight draws, the long sums by elements, the rows of a deferred
 * weight gradient and the optimizer step. Whichever replica computes an element, it is the same
 * arithmetic, so N threads ≡ 1 thread bit for bit, on widths with fewer units than replicas
 * too; a resume on another thread count continues the same run; a worker that fails ends the
 * step with an error, never a hang; the split optimizer step's non-finite checks.
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
import { ThreadFailure } from '../../src/threads/pool.js'
import { fastProducts } from '../../src/train/fast/index.js'
import { perParameterLr } from '../../src/train/fanInLr.js'
import { withBatchNormMode, withParams } from '../../src/train/modes.js'
import type { OptimizerState, Tensors } from '../../src/train/optimizers.js'
import { adam, sgd } from '../../src/train/optimizers.js'
import { startTeam, TornStep } from '../../src/train/parallel/team.js'
import { initRouted, route, standardRules } from '../../src/train/routing.js'
import { drawTrainError, train } from '../../src/train/loop.js'
import { drawRoutingError } from '../../src/train/routing.js'
import { BAD_GRADIENT } from '../../src/train/parallel/barrier.js'
import { right, sameBits, task, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

/** An adam routing with the head's rate, the gradient options of the default step. */
const setupOf = (net: Checked<Network>) => {
  const trainNet = withBatchNormMode(net, 'train')
  const routing = right(route(trainNet, standardRules(trainNet, { latent: adam(), real: perParameterLr(sgd({ momentum: 0.9 }), { 'head.W': 0.5 }) })))
  const gradient = { estimator: st(), weights: st(), sites: {}, latent: 'mirror', weightSampling: 'per-pass' } as const
  return { trainNet, routing, gradient }
}

/** Team steps over `batches` from `params` and `states` (undefined: the network's and fresh), every sum split by elements (`splitFrom` 1). */
const steps = async (net: Checked<Network>, batches: readonly Feed[], first: number, parts: number, threads: number, from?: { readonly params: Tensors; readonly states: readonly OptimizerState[] }) => {
  const { trainNet, routing, gradient } = setupOf(from === undefined ? net : withParams(net, from.params))
  const kernels = right(fastProducts())
  const team = right(await startTeam({
    net: trainNet, gradient, products: { name: 'fast', kernels }, parts, threads, batchSize: Math.max(...batches.map((b) => b.x!.shape[0]!)), sample: batches[0]!, routing, splitFrom: 1,
  }))
  try {
    let states = from?.states ?? initRouted(routing, team.params)
    for (const [i, batch] of batches.entries()) {
      const k = foldIn(key(9), first + i)
      const r = team.step(batch, k, 0, (products, rows) => {
        const prepared = prepareGradient(withParams(trainNet, team.params), rows, { ...gradient, products })
        if (E.isLeft(prepared)) throw new Error(drawRunError(prepared.left))
        return prepared.right(k)
      })
      states = team.optimize(r.grad, states, 0.05)
    }
    const copy = (ts: Tensors): Tensors => Object.fromEntries(Object.entries(ts).map(([name, v]) => [name, v.slice()]))
    return { params: copy(team.params), states: states.map((s) => ({ step: s.step, slots: Object.fromEntries(Object.entries(s.slots).map(([n, v]) => [n, v.map((x) => x.slice())])) })) }
  } finally {
    team.close()
  }
}

describe('the work between meetings shared by the replicas', () => {
  it('law: N threads ≡ 1 thread, bit for bit, with every sum split by elements (generated widths: odd, fewer units than threads; batch 1)', async () => {
    const cases = fc.sample(fc.record({
      h1: fc.integer({ min: 1, max: 11 }), h2: fc.integer({ min: 1, max: 7 }), parts: fc.integer({ min: 2, max: 3 }),
      rows: fc.constantFrom(1, 2, 5, 9), bn: fc.boolean(),
    }), { seed: 1102, numRuns: 4 })
    for (const { h1, h2, parts, rows, bn } of cases) {
      const net = tinyNet({ kind: 'mlp', hidden: [h1, h2] }, bn)
      const batches = [task(rows), task(rows, 50), task(Math.max(1, rows - 1), 100)]
      const one = await steps(net, batches, 0, parts, 1)
      for (const threads of [2, 3]) {
        const many = await steps(net, batches, 0, parts, threads)
        expect(sameBits(many.params, one.params), `hidden ${h1},${h2}, parts ${parts}, ${rows} rows, ${threads} threads`).toBe(true)
      }
    }
  }, 120000)

  it('law: a run resumed on another thread count ≡ the uninterrupted run on one thread, bit for bit (parameters and optimizer slots)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const batches = [task(10), task(10, 50), task(10, 100), task(7, 150)]
    const whole = await steps(net, batches, 0, 3, 1)
    const half = await steps(net, batches.slice(0, 2), 0, 3, 2)
    const resumed = await steps(net, batches.slice(2), 2, 3, 3, half)
    expect(sameBits(resumed.params, whole.params)).toBe(true)
    resumed.states.forEach((s, i) => {
      expect(s.step).toBe(whole.states[i]!.step)
      for (const [name, slots] of Object.entries(s.slots)) expect(sameBits(Object.fromEntries(slots.map((v, j) => [j, v])), Object.fromEntries(whole.states[i]!.slots[name]!.map((v, j) => [j, v])))).toBe(true)
    })
  }, 60000)

  for (const how of ['throw', 'exit', 'throw in the optimizer'] as const)
    it(`a worker that fails (${how}) in a step with every sum split ends it with ThreadFailure${how === 'throw in the optimizer' ? ' (TornStep)' : ''}, never a hang`, async () => {
      const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
      const { trainNet, routing, gradient } = setupOf(net)
      const kernels = right(fastProducts())
      const batch = task(12)
      const team = right(await startTeam({ net: trainNet, gradient, products: { name: 'fast', kernels }, parts: 2, threads: 2, batchSize: 12, sample: batch, routing, splitFrom: 1 }))
      const run = (t: number) => {
        const k = foldIn(key(3), t)
        const r = team.step(batch, k, 0, (products, rows) => right(prepareGradient(withParams(trainNet, team.params), rows, { ...gradient, products }))(k))
        return team.optimize(r.grad, initRouted(routing, team.params), 0.05)
      }
      try {
        run(0)
        team.injectFailure(1, how)
        let caught: unknown
        try {
          run(1)
        } catch (err) {
          caught = err
        }
        expect(caught).toBeInstanceOf(ThreadFailure)
        expect(caught instanceof TornStep).toBe(how === 'throw in the optimizer')
        expect((caught as ThreadFailure).worker).toBe(1)
      } finally {
        team.close()
      }
    }, 60000)
})

describe('the non-finite checks in the split optimizer step', () => {
  it('a non-finite gradient: no replica updates anything (parameters and slots unchanged, bit for bit), and the step says so', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const { trainNet, routing, gradient } = setupOf(net)
    const kernels = right(fastProducts())
    const batch = task(12)
    const team = right(await startTeam({ net: trainNet, gradient, products: { name: 'fast', kernels }, parts: 2, threads: 2, batchSize: 12, sample: batch, routing }))
    try {
      const pass = () => team.step(batch, key(4), 0, (products, rows) => right(prepareGradient(withParams(trainNet, team.params), rows, { ...gradient, products }))(key(4)))
      const r = pass()
      expect(team.splits()).toBe(true)
      const before = Object.fromEntries(Object.entries(team.params).map(([n, v]) => [n, v.slice()]))
      const states = initRouted(routing, team.params)
      const poisoned = { ...r.grad, 'head.W': r.grad['head.W']!.map((v, i) => (i === 7 ? NaN : v)) }
      const got = team.optimizeChecked(poisoned, states, 0.05)
      expect(got.bad & BAD_GRADIENT).toBe(BAD_GRADIENT)
      expect(got.states).toBe(states)
      expect(sameBits(team.params, before)).toBe(true)
      // A second optimizer step needs a pass first; a finite gradient steps with nothing to report.
      expect(() => team.optimizeChecked(r.grad, states, 0.05)).toThrow(/without a gradient pass/)
      expect(team.optimizeChecked(pass().grad, states, 0.05).bad).toBe(0)
    } finally {
      team.close()
    }
  }, 60000)

  it('law: a run that diverges on 2 threads (parts 2) ends with the error of 1 thread, after the same checkpoints', async () => {
    // Epoch 1 at lr 0.1; from epoch 2 the rate is infinite and the first update overflows.
    const run = async (threads: number) => {
      const saved: number[] = []
      const r = await train(tinyNet({ kind: 'mlp', hidden: [13, 9] }, true), tinyData(), tinyConfig({ parts: 2, threads, evaluation: 'reference', batchSize: 10, optimizer: sgd(), lr: 0.1, schedule: { kind: 'step', every: 1, gamma: Infinity }, epochs: 3 }), {
        checkpoint: async (c) => (saved.push(c.state.globalStep), E.right(undefined)),
      })
      if (E.isRight(r)) throw new Error('expected a divergence')
      return { error: drawTrainError(r.left, drawRunError, drawRoutingError), saved }
    }
    const one = await run(1)
    expect(one.error).toMatch(/^training diverged at epoch 2, step 1 .*: the updated parameter .* is (-?Infinity|NaN)/)
    expect(await run(2)).toEqual(one)
  }, 60000)
})


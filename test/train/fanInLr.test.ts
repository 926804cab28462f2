/**
 * Learning rates scaled by fan-in (src/train/fanInLr.ts): the wrapper is its inner optimizer at
 * scaled rates, bit for bit; the presets' real head gets 1/√fan-in; and with it the standard
 * recipe's first steps on a wide MLP keep the loss near its initial value instead of overshooting.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import { fillUnit } from '../../src/dsl/random.js'
import { feedDataset } from '../../src/train/evaluate.js'
import { fanInScales, perParameterLr } from '../../src/train/fanInLr.js'
import { train } from '../../src/train/loop.js'
import type { Optimizer, OptimizerState, Tensors } from '../../src/train/optimizers.js'
import { adam, clipped, sgd } from '../../src/train/optimizers.js'
import { paramKinds } from '../../src/train/routing.js'
import { presetNetwork } from '../../src/train/presets.js'
import { STANDARD_RECIPE, standardConfig, standardConfigFor } from '../../src/train/standard.js'
import { right } from './loopFixtures.js'

const run = (opt: Optimizer, params: Tensors, grads: readonly Tensors[], lr: number): { params: Tensors; state: OptimizerState } => {
  let p = params
  let state = opt.init(params)
  for (const g of grads) ({ params: p, state } = opt.step(p, g, state, lr))
  return { params: p, state }
}

describe('perParameterLr', () => {
  const inners: readonly Optimizer[] = [sgd({ momentum: 0.9 }), adam(), clipped(adam(), -1, 1)]
  const arbCase = fc.integer({ min: 1, max: 5 }).chain((n) => {
    const vec = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs))
    return fc.record({ a: vec, b: vec, ga: vec, gb: vec, steps: fc.integer({ min: 1, max: 4 }), s: fc.double({ min: 1e-3, max: 4, noNaN: true }) })
  })

  it('law: with every factor 1 it is the inner optimizer, bit for bit', () => {
    for (const inner of inners)
      fc.assert(fc.property(arbCase, ({ a, b, ga, gb, steps }) => {
        const grads = Array.from({ length: steps }, (_, k) => ({ a: ga.map((g) => g * (k + 1)), b: gb }))
        const x = run(perParameterLr(inner, {}), { a, b }, grads, 0.1)
        const y = run(inner, { a, b }, grads, 0.1)
        for (const k of ['a', 'b']) expect([...x.params[k]!]).toEqual([...y.params[k]!])
        expect(x.state.step).toBe(steps)
      }), { numRuns: 30 })
  })

  it('law: a parameter of factor s steps as the inner optimizer at rate lr·s, the others at lr, sharing one step count', () => {
    for (const inner of inners)
      fc.assert(fc.property(arbCase, ({ a, b, ga, gb, steps, s }) => {
        const grads = Array.from({ length: steps }, (_, k) => ({ a: ga.map((g) => g - k), b: gb.map((g) => g * (k + 1)) }))
        const both = run(perParameterLr(inner, { a: s }), { a, b }, grads, 0.1)
        const onlyA = run(inner, { a }, grads, 0.1 * s)
        const onlyB = run(inner, { b }, grads, 0.1)
        expect([...both.params['a']!]).toEqual([...onlyA.params['a']!])
        expect([...both.params['b']!]).toEqual([...onlyB.params['b']!])
        expect(both.state.step).toBe(steps)
      }), { numRuns: 30 })
  })

  it('rejects a factor that is not finite and > 0', () => {
    expect(() => perParameterLr(adam(), { w: 0 })).toThrow(/factor of "w" must be finite and > 0, found 0/)
  })
})

describe('fanInScales', () => {
  it('gives the real head of mlp:1024,1024 the factor 1/√1024 and biases and batch-norm parameters none', () => {
    const net = right(presetNetwork({ kind: 'mlp', hidden: [1024, 1024] }, { inputShape: [784], classes: 10, batchNorm: true, key: key(0) }))
    const scales = fanInScales(net)
    const kinds = paramKinds(net)
    const real = Object.keys(kinds).filter((n) => kinds[n] === 'real')
    const scaledReal = real.filter((n) => scales[n] !== undefined)
    expect(scaledReal).toHaveLength(1)
    expect(scales[scaledReal[0]!]).toBe(1 / 32)
  })

  it('keeps the standard recipe\'s first steps on mlp:1024,1024 near the initial loss (without it the loss overshoots)', async () => {
    // 96 random 784-pixel images with random labels: nothing to learn, so the loss should stay
    // near its initial value; an overshooting head drives it far above.
    const n = 96
    const x = fillUnit(key(1), 0, new Float64Array(n * 784))
    const y = Float64Array.from(fillUnit(key(2), 0, new Float64Array(n)), (u) => Math.floor(10 * u))
    const data = { train: feedDataset({ x: { shape: [n, 784], data: x }, y: { shape: [n], data: y } }) }
    const net = right(presetNetwork({ kind: 'mlp', hidden: [1024, 1024] }, { inputShape: [784], classes: 10, batchNorm: true, key: key(3) }))
    const config = right(standardConfig({ batchSize: 32, epochs: 1, ensemble: 1, schedule: { kind: 'constant' }, threads: 1 }))
    const losses = async (optimizer: Optimizer): Promise<number[]> => {
      const out: number[] = []
      const r = await train(net, data, { ...config, optimizer }, { onStep: (st) => { out.push(st.loss) } })
      expect(r._tag).toBe('Right')
      return out
    }
    const scaled = await losses(perParameterLr(config.optimizer, fanInScales(net)))
    const plain = await losses(config.optimizer)
    expect(scaled).toHaveLength(3)
    expect(Math.max(...scaled)).toBeLessThan(Math.log(10) + 2)
    expect(Math.max(...plain)).toBeGreaterThan(Math.log(10) + 4)
  })

  it('standardConfigFor(net) is standardConfig with the fan-in rate applied: the same losses, bit for bit', async () => {
    expect(STANDARD_RECIPE.fanInLr).toBe(true)
    const n = 48
    const x = fillUnit(key(4), 0, new Float64Array(n * 20))
    const y = Float64Array.from(fillUnit(key(5), 0, new Float64Array(n)), (u) => Math.floor(3 * u))
    const data = { train: feedDataset({ x: { shape: [n, 20], data: x }, y: { shape: [n], data: y } }) }
    const net = right(presetNetwork({ kind: 'mlp', hidden: [12] }, { inputShape: [20], classes: 3, batchNorm: true, key: key(6) }))
    const overrides = { batchSize: 16, epochs: 1, ensemble: 1, threads: 1 }
    const losses = async (config: Parameters<typeof train>[2]): Promise<number[]> => {
      const out: number[] = []
      const r = await train(net, data, config, { onStep: (st) => { out.push(st.loss) } })
      expect(r._tag).toBe('Right')
      return out
    }
    const plain = right(standardConfig(overrides))
    const whole = await losses(right(standardConfigFor(net, overrides)))
    expect(whole).toEqual(await losses({ ...plain, optimizer: perParameterLr(plain.optimizer, fanInScales(net)) }))
    expect(whole).not.toEqual(await losses(plain))
  })
})

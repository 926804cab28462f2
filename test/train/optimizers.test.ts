/**
 * SGD and Adam against steps computed by hand, purity (inputs never change), and the exact
 * round trip of optimizer state through its JSON form (a resumed run is bit-identical).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { bop } from '../../src/train/optim/bop.js'
import type { Optimizer, OptimizerState, Tensors } from '../../src/train/optimizers.js'
import { adam, clipped, decodeState, encodeState, sgd } from '../../src/train/optimizers.js'

const t = (...xs: number[]): Float64Array => Float64Array.from(xs)
const one = (opt: Optimizer, theta: number[], g: number[], lr: number): Float64Array => {
  const params = { w: t(...theta) }
  return opt.step(params, { w: t(...g) }, opt.init(params), lr).params['w']!
}
/** Runs `grads.length` steps from `theta`; returns every intermediate parameter vector. */
const run = (opt: Optimizer, theta: Tensors, grads: readonly Tensors[], lr: number, state: OptimizerState = opt.init(theta)) => {
  let params = theta
  let st = state
  const trace: Tensors[] = []
  for (const g of grads) {
    const r = opt.step(params, g, st, lr)
    params = r.params
    st = r.state
    trace.push(params)
  }
  return { params, state: st, trace }
}
const expectClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-15): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)))
}

describe('sgd', () => {
  it('plain step θ − lr·g', () => {
    expectClose(one(sgd(), [1, -2], [0.5, 0.25], 0.1), [0.95, -2.025])
  })
  it('L2 weight decay adds λθ to the gradient', () => {
    // g + λθ = 0.5 + 0.1·1 = 0.6 and 0.25 + 0.1·(−2) = 0.05
    expectClose(one(sgd({ weightDecay: 0.1 }), [1, -2], [0.5, 0.25], 0.1), [0.94, -2.005])
  })
  it('momentum: v ← μv + g, θ ← θ − lr·v (first step equals plain SGD)', () => {
    const opt = sgd({ momentum: 0.9 })
    const { trace } = run(opt, { w: t(1) }, [{ w: t(0.5) }, { w: t(-0.2) }, { w: t(0.1) }], 0.1)
    // v1 = 0.5 → 0.95; v2 = 0.45 − 0.2 = 0.25 → 0.925; v3 = 0.225 + 0.1 = 0.325 → 0.8925
    expectClose(trace.map((p) => p['w']![0]!), [0.95, 0.925, 0.8925])
  })
  it('nesterov: θ ← θ − lr·(g + μv)', () => {
    const opt = sgd({ momentum: 0.9, nesterov: true })
    const { trace } = run(opt, { w: t(1) }, [{ w: t(0.5) }, { w: t(-0.2) }], 0.1)
    // v1 = 0.5, step 0.5 + 0.45 = 0.95 → 0.905; v2 = 0.25, step −0.2 + 0.225 = 0.025 → 0.9025
    expectClose(trace.map((p) => p['w']![0]!), [0.905, 0.9025])
  })
  it('names carry the hyper-parameters', () => {
    expect([sgd(), sgd({ momentum: 0.9 }), sgd({ momentum: 0.9, nesterov: true, weightDecay: 1e-4 })].map((o) => o.name))
      .toMatchInlineSnapshot(`
        [
          "sgd",
          "sgd(momentum=0.9)",
          "sgd(momentum=0.9,nesterov,wd=0.0001)",
        ]
      `)
  })
})

describe('adam', () => {
  it('two steps by hand, with bias correction', () => {
    const { trace } = run(adam(), { w: t(1) }, [{ w: t(0.5) }, { w: t(-0.2) }], 0.1)
    // t=1: m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 0.00025; m̂ = 0.05/0.1 = 0.5, v̂ = 0.00025/0.001 = 0.25
    const theta1 = 1 - (0.1 * 0.5) / (Math.sqrt(0.25) + 1e-8)
    // t=2: m = 0.045 − 0.02 = 0.025, v = 0.999·0.00025 + 0.001·0.04 = 0.00028975;
    // m̂ = 0.025/(1 − 0.81) = 0.025/0.19, v̂ = 0.00028975/(1 − 0.998001) = 0.00028975/0.001999
    const theta2 = theta1 - (0.1 * (0.025 / 0.19)) / (Math.sqrt(0.00028975 / 0.001999) + 1e-8)
    expectClose(trace.map((p) => p['w']![0]!), [theta1, theta2], 1e-14)
    expect(theta2).toBeCloseTo(0.9 - 0.1 * 0.3456, 4) // ≈ 0.86544, a sanity check of the formulas
  })
  it('bias correction makes the first step lr·g/(|g| + ε) whatever the gradient scale', () => {
    fc.assert(fc.property(fc.double({ min: 1e-6, max: 1e3, noNaN: true }), fc.boolean(), (mag, neg) => {
      const g = neg ? -mag : mag
      const w = one(adam(), [0], [g], 0.01)[0]!
      expect(Math.abs(w - (-0.01 * g) / (mag + 1e-8))).toBeLessThanOrEqual(1e-17)
    }))
  })
  it('coupled weight decay feeds g + λθ to the moments; decoupled (AdamW) subtracts lr·λθ outside', () => {
    // coupled: g' = 0.5 + 0.1·2 = 0.7, first step lr·0.7/(0.7 + ε)
    expectClose(one(adam({ weightDecay: 0.1 }), [2], [0.5], 0.1), [2 - (0.1 * 0.7) / (0.7 + 1e-8)])
    expectClose(one(adam({ weightDecay: 0.1, decoupled: true }), [2], [0.5], 0.1), [2 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.1 * 2)])
  })
  it('names carry the hyper-parameters', () => {
    expect([adam(), adam({ beta1: 0.5, eps: 1e-6, weightDecay: 0.01, decoupled: true })].map((o) => o.name)).toMatchInlineSnapshot(`
      [
        "adam(0.9,0.999)",
        "adam(0.5,0.999,eps=0.000001,decoupled-wd=0.01)",
      ]
    `)
  })
})

describe('every optimizer', () => {
  const optimizers: readonly Optimizer[] = [
    sgd(), sgd({ momentum: 0.9, nesterov: true, weightDecay: 0.01 }), adam(), adam({ weightDecay: 0.1, decoupled: true }),
    clipped(sgd({ momentum: 0.5 }), -1, 1), bop({ gamma: 0.1, threshold: 0 }),
  ]
  const arbCase = fc.integer({ min: 1, max: 6 }).chain((n) => {
    const vec = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs))
    return fc.record({ a: vec, b: vec, ga: vec, gb: vec, steps: fc.integer({ min: 1, max: 4 }) })
  })

  it('law: purity — params, grads and state are unchanged by a step', () => {
    for (const opt of optimizers)
      fc.assert(fc.property(arbCase, ({ a, b, ga, gb, steps }) => {
        const params = { a, b }
        const grads = { a: ga, b: gb }
        let state = opt.init(params)
        for (let k = 0; k < steps; k++) state = opt.step(params, grads, state, 0.1).state
        const snapshot = JSON.stringify([encodeState(state), [...a], [...b], [...ga], [...gb]])
        const r = opt.step(params, grads, state, 0.1)
        expect(JSON.stringify([encodeState(state), [...a], [...b], [...ga], [...gb]])).toBe(snapshot)
        expect(r.params['a']).not.toBe(a)
        expect(r.state.step).toBe(state.step + 1)
      }), { numRuns: 30 })
  })

  it('law: state round trip — stopping, encoding to JSON text and resuming gives bit-identical parameters', () => {
    for (const opt of optimizers)
      fc.assert(fc.property(arbCase, ({ a, b, ga, gb, steps }) => {
        const grads = Array.from({ length: steps + 2 }, (_, k) => ({ a: ga.map((g) => g * (k + 1)), b: gb.map((g) => g - k) }))
        const straight = run(opt, { a, b }, grads, 0.05)
        const half = run(opt, { a, b }, grads.slice(0, steps), 0.05)
        const decoded = decodeState(JSON.parse(JSON.stringify(encodeState(half.state))))
        if (E.isLeft(decoded)) throw new Error(decoded.left)
        const resumed = run(opt, half.params, grads.slice(steps), 0.05, decoded.right)
        for (const k of ['a', 'b']) expect([...resumed.params[k]!]).toEqual([...straight.params[k]!])
        expect(resumed.state.step).toBe(straight.state.step)
      }), { numRuns: 20 })
  })

  it('law: stepInPlace ≡ step bit for bit (params and state)', () => {
    for (const opt of optimizers)
      fc.assert(fc.property(arbCase, ({ a, b, ga, gb, steps }) => {
        const grads = Array.from({ length: steps }, (_, k) => ({ a: ga.map((g) => g / (k + 1)), b: gb.map((g) => g + k) }))
        const pure = run(opt, { a, b }, grads, 0.05)
        const own = { a: a.slice(), b: b.slice() }
        let state = opt.init(own)
        for (const g of grads) state = opt.stepInPlace(own, g, state, 0.05)
        for (const k of ['a', 'b'] as const) expect([...own[k]]).toEqual([...pure.params[k]!])
        expect(encodeState(state)).toEqual(encodeState(pure.state))
      }), { numRuns: 20 })
  })

  it('a step on a subset of the parameters carries the other slots over', () => {
    const opt = adam()
    const state = opt.init({ a: t(1), b: t(2) })
    const r = opt.step({ a: t(1) }, { a: t(0.5) }, state, 0.1)
    expect(Object.keys(r.params)).toEqual(['a'])
    expect(r.state.slots['b']).toBe(state.slots['b'])
  })

  it('a missing gradient or a state built for other parameters is a caller bug and throws', () => {
    const opt = sgd({ momentum: 0.9 })
    expect(() => opt.step({ w: t(1) }, {}, opt.init({ w: t(1) }), 0.1)).toThrowErrorMatchingInlineSnapshot(`[RangeError: optimizer step: no gradient for parameter "w"]`)
    expect(() => opt.step({ w: t(1, 2) }, { w: t(1, 2) }, opt.init({ w: t(1) }), 0.1)).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: optimizer step: the state has no 1 slot(s) of 2 values for "w" (was it initialised with other parameters?)]`,
    )
  })
})

describe('state codec', () => {
  it('round trip is exact for every float64, including −0, NaN, ±Infinity and subnormals', () => {
    fc.assert(fc.property(fc.array(fc.double(), { maxLength: 20 }), fc.nat(1000), (xs, step) => {
      const state: OptimizerState = { step, slots: { 'dense1.W': [Float64Array.from(xs), Float64Array.from(xs.slice().reverse())], empty: [] } }
      const back = decodeState(JSON.parse(JSON.stringify(encodeState(state))))
      if (E.isLeft(back)) throw new Error(back.left)
      expect(back.right.step).toBe(step)
      expect(Object.keys(back.right.slots)).toEqual(['dense1.W', 'empty'])
      back.right.slots['dense1.W']!.forEach((s, j) => s.forEach((v, i) => expect(Object.is(v, state.slots['dense1.W']![j]![i])).toBe(true)))
    }))
  })
  it('the encoded form is small, readable JSON', () => {
    expect(JSON.stringify(encodeState({ step: 1, slots: { w: [t(0.5)] } }))).toMatchInlineSnapshot(`"{"step":1,"slots":{"w":["AAAAAAAA4D8="]}}"`)
  })
  it('bad input is an error naming the field', () => {
    const bad = [null, { step: -1, slots: {} }, { step: 1 }, { step: 1, slots: { w: 'AAAA' } }, { step: 1, slots: { w: ['AAAA'] } }, { step: 1, slots: { w: ['not base64!'] } }]
    expect(bad.map((b) => E.getOrElseW((e: string) => e)(decodeState(b)))).toMatchInlineSnapshot(`
      [
        "optimizer state: expected an object {"step", "slots"}, found null",
        "optimizer state.step: expected a non-negative integer, found -1",
        "optimizer state.slots: expected an object from parameter names to arrays of base64 strings, found nothing",
        "optimizer state.slots.w: expected an array of base64 strings, found "AAAA"",
        "optimizer state.slots.w[0]: expected base64 of float64 values (a multiple of 8 bytes), found "AAAA"",
        "optimizer state.slots.w[0]: expected base64 of float64 values (a multiple of 8 bytes), found "not base64!"",
      ]
    `)
  })
})

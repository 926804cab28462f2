/**
 * Bernoulli weights in the gradient interpreter (MATH.md §1, §4): the two latent conventions
 * (`mirror`: ∂f/∂w passed straight to η; `st-gd`: times 2p_w(η)), and the weight sampling
 * granularity (`per-pass` default, `per-example`, `mode` = sign(η)).
 */
import { describe, expect, it } from 'vitest'
import type { Noise } from '../../src/dsl/noise.js'
import { logistic } from '../../src/dsl/noise.js'
import type { Key } from '../../src/dsl/random.js'
import { foldIn, key } from '../../src/dsl/random.js'
import { deterministicSt, mismatchedSt, reinforce, st } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import type { BitSource } from '../../src/estimators/sites.js'
import { keyedSource } from '../../src/estimators/sites.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { stFactor } from '../../src/dsl/distributions.js'
import type { SbnCase, SbnSpec } from '../laws/sbn.js'
import { buildSbn } from '../laws/sbn.js'
import { addScaled, bitsFor, expectGradsClose, jointStates, unwrap, zerosLike } from './fixtures.js'
import { netOf, probOf } from './tiny.js'

const L1 = logistic(1)
const spec = (binary: boolean, noise: Noise = L1): SbnSpec => ({
  inputs: 1, widths: [2], binaryWeights: [binary], noise, weightNoise: L1, head: 'logistic', classes: 2, skip: false,
})
/** 1 input → 2 units with Bernoulli weights η = (0.8, −0.6) → a logistic head; 2 examples. */
const tiny: SbnCase = {
  spec: spec(true),
  params: { 'l1.W': Float64Array.of(0.8, -0.6), 'l1.b': Float64Array.of(0.1, -0.2), 'head.W': Float64Array.of(0.7, -1.1), 'head.b': Float64Array.of(0.2) },
  feed: { x: { shape: [2, 1], data: Float64Array.of(0.5, -1) }, y: { shape: [2, 1], data: Float64Array.of(1, -1) } },
}
const net = netOf(tiny)
const eta = tiny.params['l1.W']!
const factor = stFactor(L1)

describe('latent conventions', () => {
  it('MATH.md §4 golden: η = 0.8, ∂f/∂w = 0.3, ε = 0.1: mirror step gives 0.77, st-gd step gives 0.787165418208782', () => {
    // f = 0.3·w: one weight read by x = 1, a head of weight 0.3 and the output differentiated.
    const one = buildSbn({ ...spec(true), widths: [1], noise: { family: 'none' } }, {
      'l1.W': Float64Array.of(0.8), 'l1.b': Float64Array.of(0), 'head.W': Float64Array.of(0.3), 'head.b': Float64Array.of(0),
    })
    const feed = { x: { shape: [1, 1], data: Float64Array.of(1) }, y: { shape: [1, 1], data: Float64Array.of(1) } }
    // x = sign(w) is the deterministic sign, so f = 0.3·sign(w) = 0.3·w.
    for (let k = 0; k < 10; k++) {
      const step = (latent: 'mirror' | 'st-gd'): number =>
        0.8 - 0.1 * unwrap(gradient(one, feed, { key: key(k), latent, output: 'output' })).grad['l1.W']![0]!
      expect(Math.abs(step('mirror') - 0.77)).toBeLessThanOrEqual(1e-15)
      expect(Math.abs(step('st-gd') - 0.787165418208782)).toBeLessThanOrEqual(1e-15)
    }
  })

  it('law: for the same key, st-gd = 2p_w(η) · mirror at the latent parameters, and every other gradient is equal', () => {
    for (let k = 0; k < 20; k++) {
      const m = unwrap(gradient(net, tiny.feed, { key: key(k), latent: 'mirror' }))
      const s = unwrap(gradient(net, tiny.feed, { key: key(k), latent: 'st-gd' }))
      expect([m.latent, s.latent]).toEqual(['mirror', 'st-gd'])
      expectGradsClose(s.grad, { 'l1.W': m.grad['l1.W']!.map((g, i) => factor(eta[i]!) * g) }, 1e-15, ['l1.W'])
      expectGradsClose(s.grad, m.grad, 0, ['l1.b', 'head.W', 'head.b'])
    }
  })

  it('regression: mismatched ST at a weight site uses its own factor under st-gd (hardtanh: 1 on |η| ≤ 1), not the matched 2p_w(η)', () => {
    const wide: SbnCase = { ...tiny, params: { ...tiny.params, 'l1.W': Float64Array.of(0.8, -1.6) } }
    const n = netOf(wide)
    const m = unwrap(gradient(n, wide.feed, { key: key(3), weights: mismatchedSt('hardtanh'), latent: 'mirror' }))
    const s = unwrap(gradient(n, wide.feed, { key: key(3), weights: mismatchedSt('hardtanh'), latent: 'st-gd' }))
    expect(s.estimators['l1.W']).toBe('mismatched:hardtanh')
    expectGradsClose(s.grad, { 'l1.W': Float64Array.of(m.grad['l1.W']![0]!, 0) }, 1e-15, ['l1.W'])
  })
})

describe('weight sampling', () => {
  /** A source that records which pass keys drew each site. */
  const recording = (): { source: BitSource; passes: Map<string, Key[]> } => {
    const passes = new Map<string, Key[]>()
    return { passes, source: (pass, site, count) => (passes.set(site, [...(passes.get(site) ?? []), pass]), keyedSource(pass, site, count)) }
  }
  const three = { x: { shape: [3, 1], data: Float64Array.of(0.5, -1, 0.25) }, y: { shape: [3, 1], data: Float64Array.of(1, -1, 1) } }

  it('per-pass (default) draws the weights once for the whole batch; per-example once per example, from distinct keys', () => {
    const a = recording()
    unwrap(gradient(net, three, { key: key(5), source: a.source }))
    expect(a.passes.get('l1.W')).toHaveLength(1)
    const b = recording()
    unwrap(gradient(net, three, { key: key(5), source: b.source, weightSampling: 'per-example' }))
    const keys = b.passes.get('l1.W')!
    expect(keys.map((k) => k.join(','))).toEqual([0, 1, 2].map((n) => foldIn(key(5), n).join(',')))
  })

  it('law: per-example sampling estimates the same objective — E[REINFORCE] with per-example weights = exact gradient', () => {
    // Each example draws its own weights and units from pass foldIn(key, n): enumerate all of them.
    const k = key(9)
    const one = (n: number): SbnCase => ({ ...tiny, feed: { x: { shape: [1, 1], data: tiny.feed.x!.data.slice(n, n + 1) }, y: { shape: [1, 1], data: tiny.feed.y!.data.slice(n, n + 1) } } })
    const mean = zerosLike(net.params)
    const sites = [0, 1].flatMap((n) => [[`${n}:l1.W`, 2], [`${n}:l1.act`, 2]] as const)
    for (const s of jointStates(sites)) {
      const prob = [0, 1].reduce((p, n) => p * probOf(one(n), { 'l1.W': s[`${n}:l1.W`]!, 'l1.act': s[`${n}:l1.act`]! }), 1)
      const source: BitSource = (pass, site) => Uint32Array.from(s[`${pass.join(',') === foldIn(k, 0).join(',') ? 0 : 1}:${site}`]!, bitsFor)
      const g = unwrap(gradient(net, tiny.feed, { key: k, estimator: reinforce(), weights: reinforce(), latent: 'st-gd', weightSampling: 'per-example', source }))
      addScaled(mean, g.grad, prob)
    }
    expectGradsClose(mean, unwrap(exact(net, tiny.feed, { grad: true })).grad!, 1e-12)
  })

  it('mode uses w = sign(η): the gradient is the real-weight network\'s at W = sign(η) (mirror), times 2p_w(η) (st-gd)', () => {
    const twin = buildSbn(spec(false), { ...tiny.params, 'l1.W': eta.map(Math.sign) })
    for (let k = 0; k < 10; k++) {
      const real = unwrap(gradient(twin, tiny.feed, { key: key(k) }))
      const mirror = unwrap(gradient(net, tiny.feed, { key: key(k), weightSampling: 'mode' }))
      expect(mirror.loss).toBe(real.loss)
      expectGradsClose(mirror.grad, real.grad, 1e-15)
      const stGd = unwrap(gradient(net, tiny.feed, { key: key(k), weightSampling: 'mode', latent: 'st-gd' }))
      expectGradsClose(stGd.grad, { 'l1.W': real.grad['l1.W']!.map((g, i) => factor(eta[i]!) * g) }, 1e-15, ['l1.W'])
    }
  })

  it('mode with deterministic activations is deterministic: every key gives the same gradient', () => {
    const det = { weightSampling: 'mode', estimator: deterministicSt('tanh') } as const
    const first = unwrap(gradient(net, tiny.feed, { key: key(0), ...det })).grad
    for (let k = 1; k < 10; k++) expect(unwrap(gradient(net, tiny.feed, { key: key(k), ...det })).grad).toEqual(first)
    // …while per-pass weights with sampled activations are not.
    expect(unwrap(gradient(net, tiny.feed, { key: key(1), estimator: st() })).grad).not.toEqual(unwrap(gradient(net, tiny.feed, { key: key(2), estimator: st() })).grad)
  })
})

/**
 * Noise annealing (src/train/anneal.ts): the geometric scales, `withNoiseScale` as a pure rewrite,
 * and `trainAnnealed` against `train`: no annealing is the plain run bit for bit, and an annealed
 * run is the plain run of each epoch's rescaled network continued from the previous state.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { none, showNoise } from '../../src/dsl/noise.js'
import type { Network } from '../../src/dsl/node.js'
import { topoOrder } from '../../src/dsl/fold.js'
import { annealScale, trainAnnealed, withNoiseScale } from '../../src/train/anneal.js'
import { train } from '../../src/train/loop.js'
import { withParams } from '../../src/train/modes.js'
import { withTotal } from '../../src/train/schedules.js'
import { right, sameBits, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

const noisesOf = (net: Network): string[] =>
  topoOrder(Object.values(net.outputs)).flatMap((n) => (n._tag === 'Binarize' ? [`${n.site}=${showNoise(n.noise)}`] : []))

describe('annealScale', () => {
  it('is geometric from 1 to the final scale', () => {
    expect([0, 1, 2].map((e) => annealScale({ final: 0.25 }, e, 3))).toEqual([1, 0.5, 0.25])
    expect(annealScale({ final: 0.3 }, 0, 1)).toBe(0.3)
  })
  it('law: scales decrease monotonically and stay in [final, 1]', () => {
    fc.assert(fc.property(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 2, max: 40 }), (final, epochs) => {
      const s = Array.from({ length: epochs }, (_, e) => annealScale({ final }, e, epochs))
      return s[0] === 1 && s.every((x, i) => x >= final - 1e-15 && x <= 1 && (i === 0 || x <= s[i - 1]!))
    }), { seed: 11 })
  })
})

describe('withNoiseScale', () => {
  it('scales every stochastic site (weights and units) and keeps the rest', () => {
    const net = tinyNet({ kind: 'mlp', hidden: [5, 4] }, true)
    expect(noisesOf(withNoiseScale(net, 0.5))).toEqual(noisesOf(net).map((s) => s.replace('logistic(1)', 'logistic(0.5)')))
    expect(withNoiseScale(net, 1)).toBe(net)
    expect(withNoiseScale(net, 0.5).params).toBe(net.params)
  })
  it('scales only the weight sites, or only the unit sites, when asked', () => {
    const net = tinyNet({ kind: 'mlp', hidden: [5, 4] }, true)
    expect(noisesOf(withNoiseScale(net, 0.5, 'weights'))).toEqual(['layer1.W=logistic(0.5)', 'layer1.act=logistic(1)', 'layer2.W=logistic(0.5)', 'layer2.act=logistic(1)'])
    expect(noisesOf(withNoiseScale(net, 0.5, 'units'))).toEqual(['layer1.W=logistic(1)', 'layer1.act=logistic(0.5)', 'layer2.W=logistic(1)', 'layer2.act=logistic(0.5)'])
  })
  it('law: scaling by a then by b is scaling by a·b when the products are exact (powers of two)', () => {
    const net = tinyNet()
    fc.assert(fc.property(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 }), (i, j) =>
      JSON.stringify(noisesOf(withNoiseScale(withNoiseScale(net, 2 ** i), 2 ** j))) === JSON.stringify(noisesOf(withNoiseScale(net, 2 ** (i + j))))), { seed: 3 })
  })
  it('leaves a deterministic site (noise none) the sign', () => {
    const signs = withNoiseScale(replaceNoise(tinyNet()), 0.5)
    expect(noisesOf(signs).length).toBeGreaterThan(0)
    expect(noisesOf(signs).every((s) => s.endsWith('=none'))).toBe(true)
  })
})

/** The same network with every binarize's noise set to none (a deterministic network). */
const replaceNoise = <N extends Network>(net: N): N => {
  const map = new Map<unknown, unknown>()
  const copy = (n: Network['outputs'][string]): Network['outputs'][string] => {
    const seen = map.get(n)
    if (seen !== undefined) return seen as typeof n
    const fields: Record<string, unknown> = { ...n }
    for (const [k, v] of Object.entries(n)) if (v !== null && typeof v === 'object' && '_tag' in v) fields[k] = copy(v as typeof n)
    if (n._tag === 'Binarize') fields['noise'] = none
    map.set(n, fields)
    return fields as unknown as typeof n
  }
  return { ...net, outputs: Object.fromEntries(Object.entries(net.outputs).map(([k, v]) => [k, copy(v)])) }
}

describe('trainAnnealed', () => {
  it('law: with final scale 1 it is train(), bit for bit', async () => {
    const config = tinyConfig({ epochs: 3, schedule: { kind: 'cosine' } })
    const a = right(await trainAnnealed(tinyNet(), tinyData(), config, { final: 1 }))
    const b = right(await train(tinyNet(), tinyData(), { ...config, schedule: withTotal(config.schedule, 3) }))
    expect(sameBits(a.last.params, b.last.params)).toBe(true)
    expect(a.test).toEqual(b.test)
  })
  it('law: epoch e trains the network with noise ×s_e, continuing the state of epoch e − 1', async () => {
    const config = tinyConfig({ epochs: 2 })
    const net = tinyNet()
    const a = right(await trainAnnealed(net, tinyData(), config, { final: 0.5 }))
    const { test: _, ...noTest } = tinyData()
    const first = right(await train(net, noTest, { ...config, epochs: 1 }))
    const second = right(await train(withParams(withNoiseScale(net, 0.5), first.last.params), tinyData(), config, {}, first.state))
    expect(sameBits(a.last.params, second.last.params)).toBe(true)
    expect(noisesOf(a.last)).toEqual(noisesOf(withNoiseScale(net, 0.5)))
  })
})

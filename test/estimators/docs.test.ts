/**
 * The examples of docs/estimators.md run here, verbatim: each ```ts block of the page (without
 * its import lines) equals one `// doc-example` region of this file, and the results its comments
 * state are checked below. The page's imports name the package entry points; each imported name
 * must be exported by the module that entry point maps to.
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { dense, logisticNll, sbinary, squaredError } from '../../src/dsl/composites.js'
import { logistic, normal } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import {
  arm, concrete, deterministicSt, disarm, exactGradient, gumbelSt, meanfield, mismatchedSt, muprop, parseEstimator, psa, reinforce, st,
} from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import type { BitSource } from '../../src/estimators/sites.js'
import { exact } from '../../src/interpreters/exact/index.js'

// doc-example 1
const x = input('x', ['batch', 2])
const y = input('y', ['batch', 1], 'binary')
const logits = pipe(x, dense(3, { name: 'layer1' }), sbinary(logistic(1)), dense(1, { name: 'head' }))
const checked = typecheck({
  outputs: { output: logits, loss: logisticNll(y)(logits) },
  params: {
    'layer1.W': Float64Array.of(1, 0.3, -1.2, -0.5, 0.8, 0.4),
    'layer1.b': Float64Array.of(0.1, -0.2, 0.3),
    'head.W': Float64Array.of(0.7, -1.1, 0.4),
    'head.b': Float64Array.of(0.2),
  },
})
if (E.isLeft(checked)) throw new Error('the network is well formed')
const net = checked.right
const feed = { x: { shape: [1, 2], data: Float64Array.of(0.5, -1) }, y: { shape: [1, 1], data: Float64Array.of(1) } }

const sample = gradient(net, feed, { key: key(42), estimator: st() })
// Right: grad['layer1.W'] (6 values, shape [2, 3]), grad['layer1.b'], grad['head.W'], grad['head.b'];
// estimators: { 'layer1.act': 'st' }; latent: 'mirror'
const truth = exact(net, feed, { grad: true })
// Right: grad['layer1.b'] = [-0.10314194, 0.18997333, -0.05524827], the exact ∂L/∂b
// end

// doc-example 2
const catalogue = [
  st(), mismatchedSt('hardtanh'), deterministicSt('identity'), reinforce(), arm(), concrete(0.5), meanfield(), exactGradient(),
]
const labels = catalogue.map((estimator) => {
  const r = gradient(net, feed, { key: key(7), estimator })
  return E.isRight(r) ? r.right.estimators['layer1.act'] : 'error'
})
// ['st', 'mismatched:hardtanh', 'det:identity', 'reinforce', 'arm', 'concrete:0.5', 'meanfield', 'exact']
const fromCli = parseEstimator('hardtanh')
// { kind: 'st', forward: 'sample', backward: uniform(1), label: 'mismatched:hardtanh' }
// end

// doc-example 3
// f = 0.3·w for one Bernoulli weight with η = 0.8 (input 1, a fixed head weight 0.3).
const w = pipe(input('u', ['batch', 1]), dense(1, { name: 'w', weights: 'binary', bias: false }))
const f = dense(1, { name: 'head', bias: false })(w)
const weightNet = typecheck({
  outputs: { output: f, loss: squaredError(input('t', ['batch', 1]))(f) },
  params: { 'w.W': Float64Array.of(0.8), 'head.W': Float64Array.of(0.3) },
})
if (E.isLeft(weightNet)) throw new Error('the network is well formed')
const one = { u: { shape: [1, 1], data: Float64Array.of(1) }, t: { shape: [1, 1], data: Float64Array.of(0) } }
const step = (latent: 'mirror' | 'st-gd'): number => {
  const r = gradient(weightNet.right, one, { key: key(0), latent, output: 'output' })
  return E.isRight(r) ? 0.8 - 0.1 * r.right.grad['w.W']![0]! : NaN
}
// step('mirror') = 0.77 (mirror descent); step('st-gd') = 0.787165418208782 (times 2p_w(0.8))
// end

// doc-example 4
const mixed = gradient(net, feed, {
  key: key(3),
  estimator: mismatchedSt(normal(0.5)),
  sites: { 'layer1.act': arm() },
})
// Right: estimators = { 'layer1.act': 'arm' }: the per-site choice wins
// end

// doc-example 5
const F = (v: number): number => 1 / (1 + Math.exp(-v)) // logistic(1)
const a = [1.1, -0.85, -0.7] // layer1's pre-activations on the example
const mean = [0, 0, 0]
for (let s = 0; s < 8; s++) {
  const state = [0, 1, 2].map((j) => ((s >> j) & 1 ? 1 : -1))
  const prob = state.reduce<number>((q, xj, j) => q * F(xj * a[j]!), 1)
  const source: BitSource = () => Uint32Array.from(state, (xj) => (xj === 1 ? 0 : 0xffffffff))
  const r = gradient(net, feed, { key: key(0), source })
  if (E.isRight(r)) r.right.grad['layer1.b']!.forEach((g, j) => (mean[j]! += prob * g))
}
// mean = [-0.08795465, 0.15474011, -0.05947191]: E[ST], not the exact [-0.10314194, 0.18997333, -0.05524827]
// end

// doc-example 6
const newcomers = [psa(), muprop(), disarm(), gumbelSt(0.5), reinforce({ baseline: 'loo', samples: 4 })]
const newLabels = newcomers.map((estimator) => {
  const r = gradient(net, feed, { key: key(7), estimator })
  return E.isRight(r) ? r.right.estimators['layer1.act'] : 'error'
})
// ['psa', 'muprop', 'disarm', 'gumbel-st:0.5', 'reinforce:loo:4']
const psaMean = [0, 0, 0]
for (let s = 0; s < 8; s++) {
  const state = [0, 1, 2].map((j) => ((s >> j) & 1 ? 1 : -1))
  const prob = state.reduce<number>((q, xj, j) => q * F(xj * a[j]!), 1)
  const source: BitSource = () => Uint32Array.from(state, (xj) => (xj === 1 ? 0 : 0xffffffff))
  const r = gradient(net, feed, { key: key(0), estimator: psa(), source })
  if (E.isRight(r)) r.right.grad['layer1.b']!.forEach((g, j) => (psaMean[j]! += prob * g))
}
// psaMean = [-0.10314194, 0.18997333, -0.05524827]: with one hidden layer PSA is unbiased
// end

const near = (got: ArrayLike<number>, want: readonly number[], tol: number): void =>
  want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(tol))

describe('docs/estimators.md', () => {
  const doc = readFileSync(new URL('../../docs/estimators.md', import.meta.url), 'utf8')
  const self = readFileSync(new URL(import.meta.url), 'utf8')
  const body = (code: string): string => code.split('\n').filter((l) => !l.startsWith('import ')).join('\n').trim()
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => body(m[1]!))
  const regions = [...self.matchAll(/^\/\/ doc-example \d+\n([\s\S]*?)^\/\/ end$/gm)].map((m) => body(m[1]!))

  it('every example of the page is a region of this file, verbatim and in order', () => {
    expect(blocks).toHaveLength(6)
    expect(blocks).toEqual(regions)
  })

  it('the names the page imports exist in the entry points they name', async () => {
    const entries: Record<string, readonly string[]> = {
      'sbnkit/dsl': ['../../src/dsl/index.js'],
      'sbnkit/estimators': ['../../src/estimators/index.js'],
      'sbnkit/interpreters': ['../../src/interpreters/index.js'],
    }
    for (const [, names, from] of doc.matchAll(/^import \{ ([^}]+) \} from '(sbnkit\/[a-z]+)'$/gm)) {
      const modules = await Promise.all(entries[from!]!.map((m) => import(m) as Promise<Record<string, unknown>>))
      for (const name of names!.split(',').map((n) => n.trim())) expect(modules.some((m) => name in m), `${name} from ${from}`).toBe(true)
    }
  })

  it('example 1: the quick start gives an ST sample with every shape, and the exact gradient', () => {
    if (E.isLeft(sample) || E.isLeft(truth)) throw new Error('expected Right')
    expect(sample.right.shapes).toEqual({ 'layer1.W': [2, 3], 'layer1.b': [3], 'head.W': [3, 1], 'head.b': [1] })
    expect(sample.right.grad['layer1.W']).toHaveLength(6)
    expect([sample.right.estimators, sample.right.latent]).toEqual([{ 'layer1.act': 'st' }, 'mirror'])
    near(truth.right.grad!['layer1.b']!, [-0.10314194, 0.18997333, -0.05524827], 5e-9)
  })

  it('example 2: the catalogue\'s labels and a CLI name', () => {
    expect(labels).toEqual(['st', 'mismatched:hardtanh', 'det:identity', 'reinforce', 'arm', 'concrete:0.5', 'meanfield', 'exact'])
    expect(fromCli).toEqual({ kind: 'st', forward: 'sample', backward: { family: 'uniform', scale: 1 }, label: 'mismatched:hardtanh' })
  })

  it('example 3: the MATH.md §4 golden steps', () => {
    expect(Math.abs(step('mirror') - 0.77)).toBeLessThanOrEqual(1e-15)
    expect(Math.abs(step('st-gd') - 0.787165418208782)).toBeLessThanOrEqual(1e-15)
  })

  it('example 4: the per-site choice wins', () => {
    expect(E.isRight(mixed) && mixed.right.estimators).toEqual({ 'layer1.act': 'arm' })
  })

  it('example 5: E[ST] by enumerating the 8 states', () => {
    near(mean, [-0.08795465, 0.15474011, -0.05947191], 5e-9)
  })

  it('example 6: the newer estimators\' labels, and E[PSA] = the exact gradient on one hidden layer', () => {
    expect(newLabels).toEqual(['psa', 'muprop', 'disarm', 'gumbel-st:0.5', 'reinforce:loo:4'])
    near(psaMean, [-0.10314194, 0.18997333, -0.05524827], 5e-9)
  })
})

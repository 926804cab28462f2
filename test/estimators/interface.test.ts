/**
 * The gradient interpreter's contract, for every estimator of the catalogue: each gradient has
 * its parameter's shape, a fixed key gives identical gradients, different keys give different
 * samples; labels say what ran at each site (mismatched and deterministic ST are named so);
 * per-site choices take precedence; misuse is an error value with a clear message.
 */
import { describe, expect, it } from 'vitest'
import { normal } from '../../src/dsl/noise.js'
import { key } from '../../src/dsl/random.js'
import type { Estimator } from '../../src/estimators/estimator.js'
import {
  arm, concrete, deterministicSt, exactGradient, meanfield, mismatchedSt, parseEstimator, proxies, reinforce, st,
} from '../../src/estimators/estimator.js'
import type { Proxy } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { buildSbn } from '../laws/sbn.js'
import { unwrap } from './fixtures.js'

/** 2 inputs → 3 units with Bernoulli weights → 2 units → 3 classes; normal(1) noise (a logistic twin for ARM); 2 examples. */
const net = buildSbn(
  { inputs: 2, widths: [3, 2], binaryWeights: [true, false], noise: normal(1), weightNoise: normal(1), head: 'softmax', classes: 3, skip: false },
  {
    'l1.W': Float64Array.of(0.5, -0.3, 0.8, -0.6, 0.2, 0.1), 'l1.b': Float64Array.of(0.1, -0.2, 0.3),
    'l2.W': Float64Array.of(0.4, -0.7, 0.9, 0.3, -0.5, 0.6), 'l2.b': Float64Array.of(-0.1, 0.2),
    'head.W': Float64Array.of(0.3, -0.2, 0.5, -0.4, 0.6, 0.1), 'head.b': Float64Array.of(0, 0.1, -0.1),
  },
)
const logisticNet = buildSbn(
  { inputs: 2, widths: [3, 2], binaryWeights: [true, false], noise: { family: 'logistic', scale: 1 }, weightNoise: { family: 'logistic', scale: 1 }, head: 'softmax', classes: 3, skip: false },
  net.params,
)
const feed = { x: { shape: [2, 2], data: Float64Array.of(0.5, -1, -0.3, 0.7) }, y: { shape: [2], data: Float64Array.of(2, 0) } }
const shapes = { 'l1.W': [2, 3], 'l1.b': [3], 'l2.W': [3, 2], 'l2.b': [2], 'head.W': [2, 3], 'head.b': [3] }

const proxyNames = Object.keys(proxies) as Proxy[]
const catalogue: Estimator[] = [
  st(), ...proxyNames.map(deterministicSt), ...proxyNames.map((p) => mismatchedSt(p)), mismatchedSt(normal(0.5)),
  reinforce(), arm(), concrete(0.5), meanfield(), exactGradient(),
]
/** ARM needs logistic noise; every other estimator runs on the normal-noise network. */
const run = (e: Estimator, k: number) =>
  unwrap(gradient(e.kind === 'arm' ? logisticNet : net, feed, { key: key(k), estimator: e, weights: e, latent: 'st-gd' }))

describe('every estimator of the catalogue', () => {
  it.each(catalogue.map((e) => [e.label, e] as const))('%s: every gradient has its parameter\'s shape; a fixed key gives identical gradients', (_, e) => {
    const r = run(e, 7)
    expect(r.shapes).toEqual(shapes)
    for (const [name, shape] of Object.entries(shapes)) expect(r.grad[name]).toHaveLength(shape.reduce((a, b) => a * b, 1))
    for (const g of Object.values(r.grad)) expect(g.every(Number.isFinite)).toBe(true)
    expect(run(e, 7)).toEqual(r)
  })

  it('different keys give different ST samples and gradients on a stochastic network', () => {
    const seen = new Set(Array.from({ length: 10 }, (_, k) => JSON.stringify(Object.values(run(st(), k).grad).map((g) => [...g]))))
    expect(seen.size).toBe(10)
  })
})

describe('labels', () => {
  it('name what ran at each site: mismatched and deterministic ST are labelled as such', () => {
    const r = unwrap(gradient(net, feed, { key: key(0), estimator: mismatchedSt('hardtanh'), weights: deterministicSt('identity'), sites: { 'l2.act': st() } }))
    expect(r.estimators).toEqual({ 'l1.W': 'det:identity', 'l1.act': 'mismatched:hardtanh', 'l2.act': 'st' })
    expect(mismatchedSt(normal(0.5)).label).toBe('mismatched:normal(0.5)')
    for (const e of catalogue.filter((c) => c.kind === 'st')) {
      if (e.kind !== 'st') continue
      const matched = e.forward === 'sample' && e.backward === 'matched'
      expect(e.label === 'st', e.label).toBe(matched)
      if (e.forward === 'mode') expect(e.label.startsWith('det:'), e.label).toBe(true)
      else if (!matched) expect(e.label.startsWith('mismatched:'), e.label).toBe(true)
    }
  })

  it('parseEstimator reads the command-line names (a bare proxy samples and back-propagates the proxy)', () => {
    const names = ['st', 'identity', 'hardtanh', 'tanh', 'approxsign', 'det:identity', 'det:approxsign', 'mismatched:tanh', 'reinforce', 'arm', 'concrete:0.1', 'meanfield', 'exact']
    expect(Object.fromEntries(names.map((n) => [n, parseEstimator(n)?.label]))).toEqual({
      st: 'st', identity: 'mismatched:identity', hardtanh: 'mismatched:hardtanh', tanh: 'mismatched:tanh', approxsign: 'mismatched:approxsign',
      'det:identity': 'det:identity', 'det:approxsign': 'det:approxsign', 'mismatched:tanh': 'mismatched:tanh', reinforce: 'reinforce',
      arm: 'arm', 'concrete:0.1': 'concrete:0.1', meanfield: 'meanfield', exact: 'exact',
    })
    expect(parseEstimator('hardtanh')).toEqual({ kind: 'st', forward: 'sample', backward: proxies.hardtanh, label: 'mismatched:hardtanh' })
    expect(parseEstimator('det:tanh')).toMatchObject({ kind: 'st', forward: 'mode', backward: proxies.tanh })
    for (const bad of ['', 'foo', 'st:1', 'det', 'det:relu', 'concrete', 'concrete:0', 'concrete:-1', 'concrete:x', 'arm:2'])
      expect(parseEstimator(bad), bad).toBeUndefined()
  })
})

describe('per-site choice', () => {
  it('`sites` overrides `weights` and `estimator`; choosing per site equals choosing globally when all sites agree', () => {
    const det = deterministicSt('identity')
    const perSite = unwrap(gradient(net, feed, { key: key(1), estimator: st(), weights: det, sites: { 'l1.act': det, 'l2.act': det } }))
    const global = unwrap(gradient(net, feed, { key: key(1), estimator: det, weights: det }))
    expect(perSite).toEqual(global)
    const mixed = unwrap(gradient(net, feed, { key: key(1), estimator: st(), weights: det, sites: { 'l2.act': det } }))
    expect(mixed.estimators).toEqual({ 'l1.W': 'det:identity', 'l1.act': 'st', 'l2.act': 'det:identity' })
    expect(mixed.grad).not.toEqual(global.grad)
  })
})

describe('errors are values', () => {
  const message = (r: ReturnType<typeof gradient>): string => (r._tag === 'Left' ? drawRunError(r.left) : 'no error')

  it('ARM at a non-logistic site', () => {
    expect(message(gradient(net, feed, { key: key(0), estimator: arm() }))).toBe(
      'arm: site l1.act with normal noise is not supported; ARM needs logistic noise; use reinforce or st there')
  })

  it('the exact estimator at a single site, or for an output other than the loss', () => {
    expect(message(gradient(net, feed, { key: key(0), sites: { 'l2.act': exactGradient() } }))).toBe(
      'gradient: the exact estimator at a single site (l2.act) is not supported; use exactGradient() as the estimator of the whole network')
    expect(message(gradient(net, feed, { key: key(0), estimator: exactGradient(), output: 'output' }))).toBe(
      'exact: differentiating an output other than the loss is not supported; use the loss output')
  })

  it('an unknown output', () => {
    expect(message(gradient(net, feed, { key: key(0), output: 'eta' }))).toBe(
      'network: expected an output "eta" (the output to differentiate), found outputs "output", "loss"')
  })
})

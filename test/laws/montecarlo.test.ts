/**
 * Statistical laws of the Monte Carlo interpreter against the exact one, and of the sampling
 * rule against the noise cdf.
 *
 * Why these cannot flake: every key and every random network is fixed by a seed, so each test is
 * deterministic. The 4σ bounds only say how the seeds were accepted: for a *correct*
 * implementation a given seed fails a 4σ check with probability ≈ 6e-5 (two-sided normal tail),
 * so a failure means a bug, not bad luck.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { logistic, normal, triangular, uniform } from '../../src/dsl/noise.js'
import { binarize, input } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { forward, monteCarlo } from '../../src/interpreters/montecarlo/index.js'
import { passKey } from '../../src/interpreters/reference/sampling.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import { predictive } from '../../src/interpreters/reference/ops.js'
import { checked } from '../interpreters/fixtures.js'
import type { SbnSpec } from './sbn.js'
import { arbCase, buildSbn } from './sbn.js'

const right = <A>(e: E.Either<import('../../src/interpreters/runErrors.js').RunError, A>): A => {
  if (E.isLeft(e)) throw new Error(drawRunError(e.left))
  return e.right
}

describe('Monte Carlo interpreter against the exact interpreter', () => {
  it('law: monte carlo mean → exact expectation (|mean − L| ≤ 4·stderr, n = 3000)', () => {
    // The sample mean of n i.i.d. pass losses has standard deviation σ/√n, estimated by stderr;
    // 1e-12 allows for rounding when the loss is deterministic (σ = 0, e.g. saturated uniform noise).
    const cases = fc.sample(arbCase({ maxWeightBits: 4 }), { seed: 31337, numRuns: 8 })
    cases.forEach((c, i) => {
      const net = buildSbn(c.spec, c.params)
      const L = right(exact(net, c.feed)).loss
      const mc = right(monteCarlo(net, c.feed, { samples: 3000, key: key(1000 + i) }))
      expect(mc.stderr).toBeGreaterThan(0)
      expect(Math.abs(mc.mean - L), `case ${i}: mean ${mc.mean} ± ${mc.stderr} vs exact ${L}`).toBeLessThanOrEqual(4 * mc.stderr + 1e-12)
    })
  })

  it('law: the mode network is the exact loss of the deterministic twin (every noise → none)', () => {
    const cases = fc.sample(arbCase({ maxWeightBits: 4 }), { seed: 99, numRuns: 20 })
    for (const c of cases) {
      const twin: SbnSpec = { ...c.spec, noise: { family: 'none' }, weightNoise: { family: 'none' } }
      const deterministic = right(exact(buildSbn(twin, c.params), c.feed)).loss
      const mc = right(monteCarlo(buildSbn(c.spec, c.params), c.feed, { samples: 2, key: key(5) }))
      expect(mc.mode.loss).toBeCloseTo(deterministic, 14)
    }
  })

  it('law: the ensemble is the average of the first K sampled predictive distributions', () => {
    const c = fc.sample(arbCase({ maxWeightBits: 2 }), { seed: 7, numRuns: 1 })[0]!
    const net = buildSbn(c.spec, c.params)
    const k = key(11)
    const mc = right(monteCarlo(net, c.feed, { samples: 10, key: k, ensemble: 4 }))
    expect(mc.ensemble.members).toBe(4)
    const logits = net.outputs['output']!
    const op = c.spec.head === 'softmax' ? 'softmax-ce' : 'logistic-nll'
    const avg = new Float64Array(mc.ensemble.predictive.data.length)
    for (let j = 0; j < 4; j++) {
      const ev = right(forward(net, c.feed, { mode: 'sample', key: passKey(k, j) }))
      predictive(op, ev.values.get(logits)!).data.forEach((p, i) => (avg[i]! += p / 4))
    }
    avg.forEach((p, i) => expect(mc.ensemble.predictive.data[i]).toBeCloseTo(p, 15))
  })
})

describe('the sampling rule against the noise cdf', () => {
  /** One unit x = sign(a − Z) per example; n examples all with pre-activation a. */
  const unit = (noise: Noise): Checked<Network> => checked({ outputs: { x: binarize(input('a', ['batch', 1]), noise, 'unit') }, params: {} })
  const N = 40_000

  const noises: readonly Noise[] = [logistic(1), logistic(0.5), normal(1), normal(2), uniform(1), triangular(1.5)]
  for (const noise of noises)
    it(`law: P(x = +1) frequency is within 4·√(F(1 − F)/n) of F(a), ${noise.family}(${'scale' in noise ? noise.scale : ''})`, () => {
      // Each of the n units is an independent Bernoulli(F(a)) (up to 2^−32), so the frequency has
      // standard deviation √(F(1−F)/n); F ∈ {0, 1} (beyond a bounded support) must be exact.
      const net = unit(noise)
      const F = noiseFns(noise).cdf
      ;[-3, -1, -0.4, 0, 0.25, 0.9, 2.5].forEach((a, i) => {
        const feed = { a: { shape: [N, 1], data: new Float64Array(N).fill(a) } }
        const ev = right(forward(net, feed, { mode: 'sample', key: key(2024 + i) }))
        const xs = ev.values.get(net.outputs['x']!)!.data
        const plus = xs.filter((v) => v === 1).length
        expect(plus + xs.filter((v) => v === -1).length).toBe(N)
        const p = F(a)
        expect(Math.abs(plus / N - p), `a = ${a}: ${plus / N} vs F = ${p}`).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / N))
      })
    })
})

/**
 * Laws of the exact interpreter against an independent brute-force enumeration (`bruteForce.ts`,
 * plain loops over every weight and hidden state using only the noise cdf), on random tiny dense
 * SBNs: 1–2 hidden layers of 1–3 units, real or Bernoulli weights, any noise family and scale,
 * softmax or logistic head, 1–4 examples.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ExactOptions, ExactResult } from '../../src/interpreters/exact/index.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { bruteForce } from './bruteForce.js'
import type { SbnCase } from './sbn.js'
import { arbCase, buildSbn, showCase } from './sbn.js'

const run = (c: SbnCase, opts: ExactOptions): ExactResult => {
  const r = exact(buildSbn(c.spec, c.params), c.feed, opts)
  if (E.isLeft(r)) throw new Error(`${drawRunError(r.left)}\n${showCase(c)}`)
  return r.right
}

// Sums of at most 2^6 · 2^6 terms of size ≤ ~10 in float64: rounding stays far below 1e-12.
const TOL = 1e-12

const agrees = (c: SbnCase, r: ExactResult): void => {
  const b = bruteForce(c)
  const why = showCase(c)
  expect(Math.abs(r.loss - b.loss), why).toBeLessThanOrEqual(TOL)
  b.perExample.forEach((v, e) => expect(Math.abs(r.perExample[e]! - v), why).toBeLessThanOrEqual(TOL))
  const width = b.predictive[0]!.length
  b.predictive.forEach((row, e) => row.forEach((q, j) => expect(Math.abs(r.predictive.data[e * width + j]! - q), why).toBeLessThanOrEqual(TOL)))
}

describe('exact interpreter ≡ independent brute-force enumeration (to 1e-12)', () => {
  it('law: layer messages (method "chain") equal the brute force on random chains', () => {
    fc.assert(fc.property(arbCase(), (c) => {
      const r = run(c, { method: 'chain' })
      expect(r.method).toBe('chain')
      agrees(c, r)
    }), { seed: 20261126, numRuns: 120 })
  })

  it('law: joint enumeration (method "enumeration") equals the brute force on random chains', () => {
    fc.assert(fc.property(arbCase({ maxWeightBits: 4 }), (c) => {
      const r = run(c, { method: 'enumeration' })
      expect(r.method).toBe('enumeration')
      agrees(c, r)
    }), { seed: 20261127, numRuns: 60 })
  })

  it('law: on a non-chain DAG (skip connection S₁ → head) auto chooses enumeration and equals the brute force', () => {
    fc.assert(fc.property(arbCase({ skip: true, maxWeightBits: 4 }), (c) => {
      const r = run(c, {})
      expect(r.method).toBe('enumeration')
      agrees(c, r)
    }), { seed: 20261128, numRuns: 40 })
  })

  it('law: auto chooses layer messages on chains', () => {
    fc.assert(fc.property(arbCase({ maxWeightBits: 2 }), (c) => {
      expect(run(c, {}).method).toBe('chain')
    }), { seed: 20261129, numRuns: 20 })
  })

  it('law: the predictive distribution sums to 1 per example and the enumerated mass is 1', () => {
    fc.assert(fc.property(arbCase({ maxWeightBits: 3 }), fc.constantFrom('chain' as const, 'enumeration' as const), (c, method) => {
      const r = run(c, { method })
      const n = r.mass.length
      r.mass.forEach((m) => expect(Math.abs(m - 1)).toBeLessThanOrEqual(TOL))
      if (c.spec.head === 'softmax') {
        const k = r.predictive.data.length / n
        for (let e = 0; e < n; e++) {
          const row = r.predictive.data.subarray(e * k, (e + 1) * k)
          expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(TOL)
          row.forEach((p) => expect(p).toBeGreaterThanOrEqual(0))
        }
      } else {
        // One logit: predictive[e] = P(y = +1), the other class has 1 − P.
        expect(r.predictive.shape).toEqual([n])
        r.predictive.data.forEach((p) => expect(p >= 0 && p <= 1).toBe(true))
      }
    }), { seed: 20261130, numRuns: 40 })
  })

  it('method "chain" on a non-chain DAG is refused with a clear error', () => {
    const c = fc.sample(arbCase({ skip: true, maxWeightBits: 0 }), { seed: 1, numRuns: 1 })[0]!
    const r = exact(buildSbn(c.spec, c.params), c.feed, { method: 'chain' })
    expect(E.isLeft(r) && drawRunError(r.left)).toMatchInlineSnapshot(`"exact: layer messages on a network whose stochastic activations do not form a chain is not supported; use method "enumeration" or "auto""`)
  })
})

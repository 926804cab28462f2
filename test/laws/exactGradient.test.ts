/**
 * Law: the exact gradient equals central finite differences of the exact expected loss along
 * random unit directions in the space of all parameters (real weights, biases, and the latent
 * parameters of Bernoulli weights), for both methods of the exact interpreter.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ExactResult } from '../../src/interpreters/exact/index.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { SbnCase, SpecOptions } from './sbn.js'
import { arbCase, buildSbn, showCase } from './sbn.js'

type Method = 'chain' | 'enumeration' | 'auto'

const run = (c: SbnCase, params: Record<string, Float64Array>, method: Method, grad: boolean): ExactResult => {
  const r = exact(buildSbn(c.spec, params), c.feed, { method, grad })
  if (E.isLeft(r)) throw new Error(drawRunError(r.left))
  return r.right
}

/** θ + t·d, parameter by parameter. */
const shifted = (params: Record<string, Float64Array>, d: Record<string, Float64Array>, t: number): Record<string, Float64Array> =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.map((x, i) => x + t * d[k]![i]!)]))

/** A random unit direction over every parameter (uniform components, normalised). */
const arbDirection = (c: SbnCase): fc.Arbitrary<Record<string, Float64Array>> => {
  const names = Object.keys(c.params)
  const total = names.reduce((a, k) => a + c.params[k]!.length, 0)
  return fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: total, maxLength: total })
    .filter((v) => v.some((x) => Math.abs(x) > 0.1))
    .map((v) => {
      const norm = Math.hypot(...v)
      let at = 0
      return Object.fromEntries(names.map((k) => {
        const n = c.params[k]!.length
        const part = Float64Array.from(v.slice(at, at + n), (x) => x / norm)
        at += n
        return [k, part]
      }))
    })
}

const checkDirection = (c: SbnCase, d: Record<string, Float64Array>, method: Method, h: number, tol: number): void => {
  const r = run(c, c.params, method, true)
  let slope = 0
  for (const [k, g] of Object.entries(r.grad!)) g.forEach((v, i) => (slope += v * d[k]![i]!))
  const fd = (run(c, shifted(c.params, d, h), method, false).loss - run(c, shifted(c.params, d, -h), method, false).loss) / (2 * h)
  expect(Math.abs(fd - slope), `${method}: fd ${fd} vs g·d ${slope}\n${showCase(c)}`).toBeLessThanOrEqual(tol * (1 + Math.abs(r.loss) + Math.abs(slope)))
}

const law = (opts: SpecOptions, method: Method, h: number, tol: number, seed: number, numRuns: number) =>
  fc.assert(fc.property(arbCase(opts).chain((c) => fc.tuple(fc.constant(c), arbDirection(c))), ([c, d]) => checkDirection(c, d, method, h, tol)), { seed, numRuns })

describe('exact gradient ≡ central finite differences of the exact loss', () => {
  // Smooth noises (logistic, normal): L is C^∞ in θ. Central differences err by h²/6·|L‴| (≤ 2e-11
  // for |L‴| ≤ 1e3 at h = 1e-5) plus rounding ≈ ε·|L|·κ/h ≤ 1e-16·1e2/1e-5 = 1e-9 (κ: cancellation
  // in sums of up to 2^12 terms); 1e-7·(1 + |L| + |g·d|) is above both, while any wrong term of the
  // gradient shows up at ≥ 1e-4.
  const H = 1e-5
  const TOL = 1e-7
  for (const method of ['chain', 'enumeration'] as const) {
    it(`law (${method}): g·d = (L(θ + hd) − L(θ − hd))/2h for logistic and normal noise`, () =>
      law({ families: ['logistic', 'normal'], maxWeightBits: method === 'chain' ? 6 : 4 }, method, H, TOL, 77 + (method === 'chain' ? 0 : 1), 40))
  }
  it('law (auto, skip connection): g·d matches finite differences on a non-chain DAG', () =>
    law({ families: ['logistic', 'normal'], skip: true, maxWeightBits: 3 }, 'auto', H, TOL, 79, 25))

  // Uniform noise makes F piecewise linear and triangular noise makes p piecewise linear, so L has
  // kinks (of L′ resp. L″). Away from them the O(h²) bound holds; a smaller h = 1e-7 shrinks the
  // chance that a kink lies within h·|∂a/∂t| ≤ 1e-6 of one of the ≤ ~10⁴ pre-activations to ~1e-3
  // per network (fixed seed: deterministic). Rounding is then ε·|L|·κ/h ≤ 1e-7, so tolerance 1e-5.
  it('law: g·d matches finite differences for uniform and triangular noise (away from the kinks)', () =>
    law({ families: ['uniform', 'triangular'], maxWeightBits: 4 }, 'auto', 1e-7, 1e-5, 80, 40))
})

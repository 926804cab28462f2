import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Noise, ProperNoise } from '../../src/dsl/noise.js'
import { logistic, none, normal, triangular, uniform } from '../../src/dsl/noise.js'
import { bits, key, siteKey } from '../../src/dsl/random.js'
import { noiseFns, stFactor } from '../../src/dsl/distributions.js'
import { signFromBits, signsInto, threshold } from '../../src/interpreters/reference/sampling.js'

const EPS = Number.EPSILON
const families = (s: number): readonly ProperNoise[] =>
  [logistic(s), uniform(s), triangular(s), normal(s)] as ProperNoise[]
const name = (n: Noise): string => (n.family === 'none' ? 'none' : `${n.family}(${n.scale})`)

// MATH.md §2 at a = 0.3, plus (marked *) the entries the table leaves out, computed independently
// with mpmath at 30 digits.
const golden: ReadonlyArray<readonly [Noise, { F: number; mean: number; st: number }]> = [
  [logistic(1), { F: 0.574442516811659, mean: 0.148885033623318, st: 0.488916623381492 }],
  [logistic(0.5), { F: 0.645656306225795 /* * */, mean: 0.291312612451591, st: 0.915136961826629 }],
  [triangular(1), { F: 0.755, mean: 0.51, st: 1.4 }],
  [uniform(1), { F: 0.65 /* * */, mean: 0.3, st: 1 }],
  [normal(1), { F: 0.617911422188953, mean: 0.235822844377905 /* * */, st: 0.762775630921048 }],
]

describe('noise families: MATH.md §2', () => {
  it.each(golden)('golden values of %o at a = 0.3 (1e-9)', (n, g) => {
    const f = noiseFns(n)
    expect(f.cdf(0.3)).toBeCloseTo(g.F, 9)
    expect(2 * f.cdf(0.3) - 1).toBeCloseTo(g.mean, 9)
    expect(2 * f.pdf(0.3)).toBeCloseTo(g.st, 9)
    expect(stFactor(n)(0.3)).toBeCloseTo(g.st, 9)
  })

  // The proxies of the table: hardtanh, tanh(a), tanh(a/2); erf is checked by the golden values.
  it('law: 2F − 1 is the proxy of each row', () => {
    fc.assert(fc.property(fc.double({ min: -30, max: 30, noNaN: true }), (a) => {
      expect(2 * noiseFns(uniform(1)).cdf(a) - 1).toBeCloseTo(Math.max(-1, Math.min(1, a)), 15)
      expect(2 * noiseFns(logistic(0.5)).cdf(a) - 1).toBeCloseTo(Math.tanh(a), 15)
      expect(2 * noiseFns(logistic(1)).cdf(a) - 1).toBeCloseTo(Math.tanh(a / 2), 15)
      const tri = Math.max(-1, Math.min(1, a))
      expect(2 * noiseFns(triangular(1)).cdf(a) - 1).toBeCloseTo(tri >= 0 ? 2 * tri - tri * tri : 2 * tri + tri * tri, 15)
    }))
  })

  it('none: the step cdf, the improper density ½, identity ST', () => {
    const f = noiseFns(none)
    expect([f.cdf(-1e-300), f.cdf(0), f.cdf(-0), f.cdf(2)]).toEqual([0, 1, 1, 1])
    expect([f.pdf(-5), f.pdf(0), f.icdf(0.3), f.sample(0.9)]).toEqual([0.5, 0.5, 0, 0])
    expect(stFactor(none)(123)).toBe(1)
  })

  it('logistic does not overflow for large |a|', () => {
    const f = noiseFns(logistic(1))
    expect([f.cdf(-1000), f.cdf(1000), f.pdf(1000), f.pdf(-1000)]).toEqual([0, 1, 0, 0])
    expect(f.cdf(-700) / Math.exp(-700)).toBeCloseTo(1, 14) // the lower tail keeps relative accuracy
  })

  // References for Φ and Φ^−1 computed with mpmath (50–400 digits) from the same float64 inputs.
  it.each([
    [-37.5, 4.6053530095819548438e-308], [-20.3, 6.4292444676984392981e-92], [-10.1, 2.7621094717645067829e-24],
    [-5.5, 1.8989562465887719384e-8], [-1, 0.15865525393145705141], [1.7, 0.95543453724145696051],
    [4, 0.99996832875816688008],
  ])('normal cdf Φ(%d) to 1e-15 absolute and 1e-13 relative', (z, ref) => {
    const F = noiseFns(normal(1)).cdf(z)
    expect(Math.abs(F - ref)).toBeLessThanOrEqual(1e-15)
    expect(Math.abs(F - ref) / ref).toBeLessThanOrEqual(1e-13)
  })

  it.each([
    [1e-300, -37.047096299361199237], [1e-100, -21.273453560965324295], [1e-10, -6.3613409024040562047],
    [0.025, -1.9599639845400542118], [0.3, -0.52440051270804081597], [0.5000000000001, 2.5074076986292619969e-13],
    [0.75, 0.6744897501960817432], [0.975, 1.9599639845400538556], [1 - 2 ** -40, 7.0477002566644087254],
  ])('normal icdf Φ⁻¹(%d) to 1e-14 relative', (p, ref) => {
    expect(Math.abs(noiseFns(normal(1)).icdf(p) - ref)).toBeLessThanOrEqual(1e-14 * Math.abs(ref))
  })

  it('icdf at the ends of (0, 1) and outside', () => {
    for (const n of families(2)) {
      const f = noiseFns(n)
      const end = n.family === 'uniform' || n.family === 'triangular' ? 2 : Infinity
      expect([f.icdf(0), f.icdf(1)]).toEqual([-end, end])
      expect([f.icdf(-0.1), f.icdf(1.5), f.icdf(NaN)]).toEqual([NaN, NaN, NaN])
    }
  })
})

describe.each([0.5, 1, 3])('laws at scale %d', (s) => {
  // Interior points where the density is not negligible, so the laws are well conditioned.
  const interior = (n: ProperNoise): fc.Arbitrary<number> =>
    fc.double({ min: -1, max: 1, noNaN: true }).map((t) => t * s * (n.family === 'logistic' ? 20 : n.family === 'normal' ? 6 : 0.999))

  it.each(families(s).map((n) => [name(n), n] as const))('%s: icdf ∘ cdf = id', (_, n) => {
    const f = noiseFns(n)
    // F carries a rounding error of ≤ 4ε (absolute), which icdf turns into ≤ 4ε/p(a) in a; the
    // inverse adds a few ulps of a: tolerance 16ε(|a| + 1/p(a)).
    fc.assert(fc.property(interior(n), (a) => {
      expect(Math.abs(f.icdf(f.cdf(a)) - a)).toBeLessThanOrEqual(16 * EPS * (Math.abs(a) + 1 / f.pdf(a)))
    }))
  })

  it.each(families(s).map((n) => [name(n), n] as const))('%s: pdf = d cdf / da', (_, n) => {
    const f = noiseFns(n)
    // Central difference with h = 1e-6·s: truncation h²·max|p''|/6 ≤ 1e-12/s (|p''| ≤ 0.5/s³, and 0
    // for the piecewise-linear densities away from their kinks); rounding 2ε/(2h) ≤ 2.3e-10/s.
    // So tolerance 1e-9/s; points within 2h of a kink (0, ±s) are skipped.
    const h = 1e-6 * s
    const kinks = n.family === 'uniform' ? [-s, s] : n.family === 'triangular' ? [-s, 0, s] : []
    fc.assert(fc.property(interior(n), (a) => {
      fc.pre(kinks.every((k) => Math.abs(a - k) > 2 * h))
      expect(Math.abs((f.cdf(a + h) - f.cdf(a - h)) / (2 * h) - f.pdf(a))).toBeLessThanOrEqual(1e-9 / s)
    }))
  })

  it.each(families(s).map((n) => [name(n), n] as const))('%s: symmetry F(−a) = 1 − F(a), p(−a) = p(a)', (_, n) => {
    const f = noiseFns(n)
    fc.assert(fc.property(fc.double({ min: -50 * s, max: 50 * s, noNaN: true }), (a) => {
      expect(Math.abs(f.cdf(-a) - (1 - f.cdf(a)))).toBeLessThanOrEqual(2 * EPS)
      expect(f.pdf(-a)).toBe(f.pdf(a))
    }))
  })

  it.each(families(s).map((n) => [name(n), n] as const))('%s: scale rule F_s(a) = F(a/s), p_s = p(a/s)/s, F_s⁻¹ = s·F⁻¹', (_, n) => {
    const f = noiseFns(n)
    const unit = noiseFns({ family: n.family, scale: 1 })
    fc.assert(fc.property(fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), (z, p) => {
      expect(f.cdf(z * s)).toBeCloseTo(unit.cdf(z), 15)
      expect(f.pdf(z * s) * s).toBeCloseTo(unit.pdf(z), 14)
      expect(f.icdf(p)).toBeCloseTo(s * unit.icdf(p), 13)
    }))
  })

  it.each(families(s).map((n) => [name(n), n] as const))('%s: a bounded or tiny tail gives a deterministic unit', (_, n) => {
    const f = noiseFns(n)
    const far = n.family === 'uniform' || n.family === 'triangular' ? s : 40 * s
    expect([threshold(f.cdf(-far)), threshold(f.cdf(far))]).toEqual([0, 2 ** 32])
  })
})

describe('the sampling rule: +1 iff u < T(F(a)), T(F) = floor(F·2^32)', () => {
  it('threshold', () => {
    expect([threshold(0), threshold(1), threshold(0.5), threshold(2 ** -32), threshold(1 - 2 ** -53)])
      .toEqual([0, 2 ** 32, 2 ** 31, 1, 2 ** 32 - 1])
  })

  it('extreme draws and deterministic cases', () => {
    expect(signFromBits(0, -1, uniform(1))).toBe(-1) // F = 0: T = 0, no u is below it
    expect(signFromBits(2 ** 32 - 1, 1, uniform(1))).toBe(1) // F = 1: T = 2^32, every u is below it
    expect(signFromBits(2 ** 31 - 1, 0, logistic(1))).toBe(1)
    expect(signFromBits(2 ** 31, 0, logistic(1))).toBe(-1)
    expect([signFromBits(0, -0.1, none), signFromBits(0, 0, none), signFromBits(0, -0, none), signFromBits(0, NaN, none)])
      .toEqual([-1, 1, 1, -1])
  })

  const n = 100_000
  it.each(families(1).flatMap((nz) => [-1.5, -0.3, 0, 0.5, 1.2].map((a) => [name(nz), a, nz] as const)))(
    '%s at a = %d: the frequency of +1 is within 4σ of F(a)', (_, a, nz) => {
      const k = siteKey(key(1234), `${name(nz)}@${a}`)
      let plus = 0
      for (let i = 0; i < n; i++) if (signFromBits(bits(k, i), a, nz) === 1) plus++
      const F = noiseFns(nz).cdf(a)
      // plus/n has sd σ = √(F(1−F)/n) (so the ±1 mean has 2σ); 4σ fails with probability 6e−5.
      expect(Math.abs(plus / n - F)).toBeLessThanOrEqual(4 * Math.sqrt((F * (1 - F)) / n))
    })

  it('law: signsInto ≡ signFromBits(bits(k, start + i), pre[i]) across chunk boundaries', () => {
    const k = siteKey(key(9), 'h1')
    const pre = Float64Array.from({ length: 9000 }, (_, i) => Math.sin(i) * 3)
    for (const nz of [...families(0.7), none]) {
      const out = signsInto(k, 12345, pre, nz, new Float64Array(pre.length))
      const want = Array.from(pre, (a, i) => signFromBits(bits(k, 12345 + i), a, nz))
      expect(Array.from(out)).toEqual(want)
    }
  })

  it('signsInto may write over its input', () => {
    const k = key(2)
    const pre = Float64Array.from([0.3, -2, 0, 5])
    const expected = signsInto(k, 0, pre, logistic(1), new Float64Array(4))
    expect(signsInto(k, 0, pre, logistic(1), pre)).toEqual(expected)
  })
})

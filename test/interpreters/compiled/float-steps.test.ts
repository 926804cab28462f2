/**
 * The float64 loops of the generic steps (float-steps.ts) against the reference kernels they
 * replace, bit for bit (Object.is, so −0 and NaN count), on fast-check-generated geometries:
 * any channel count, kernel, stride, padding and padding value, odd sizes, ±1 and real weights.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { NDArray } from '../../../src/interpreters/ndarray.js'
import { elementwise } from '../../../src/interpreters/reference/ops.js'
import { batchNorm, conv2d, pool } from '../../../src/interpreters/reference/spatial.js'
import { addInto, batchNormInto, conv2dInto, poolInto } from '../../../src/interpreters/compiled/float-steps.js'

const sameBits = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]))

/** Values with ties, zeros of both signs and, sometimes, a NaN (pooling and sums must agree on them too). */
const arbValue = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1, -1, 0.5) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
)
const arbArray = (shape: readonly number[]): fc.Arbitrary<NDArray> =>
  fc.array(arbValue, { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
    .map((v) => ({ shape, data: Float64Array.from(v) }))

const arbConv = fc.record({
  n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 3 }), o: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
  kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
  ph: fc.integer({ min: 0, max: 2 }), pw: fc.integer({ min: 0, max: 2 }),
  padValue: fc.constantFrom(0, 1, -1, 0.25),
  binary: fc.boolean(),
}).filter((g) => g.h + 2 * g.ph >= g.kh && g.w + 2 * g.pw >= g.kw)
  .chain((g) => fc.tuple(
    fc.constant(g),
    arbArray([g.n, g.c, g.h, g.w]),
    g.binary
      ? fc.array(fc.constantFrom(1, -1), { minLength: g.o * g.c * g.kh * g.kw, maxLength: g.o * g.c * g.kh * g.kw }).map((v) => ({ shape: [g.o, g.c, g.kh, g.kw], data: Float64Array.from(v) }))
      : arbArray([g.o, g.c, g.kh, g.kw]),
  ))

describe('float64 generic steps ≡ the reference kernels (bit-exact)', () => {
  it('law: conv2dInto ≡ conv2d for any geometry, padding value and weights', () => {
    fc.assert(fc.property(arbConv, ([g, x, k]) => {
      const ref = conv2d(x, k, [g.sh, g.sw], [g.ph, g.pw], g.padValue)
      const out = new Float64Array(ref.data.length).fill(7) // stale values must be overwritten
      conv2dInto(x, k, [g.sh, g.sw], [g.ph, g.pw], g.padValue, out)
      expect(sameBits(out, ref.data)).toBe(true)
    }), { seed: 1001, numRuns: 200 })
  })

  it('law: poolInto ≡ pool(…).out for max and average windows', () => {
    const arbPool = fc.record({
      n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 7 }), w: fc.integer({ min: 1, max: 7 }),
      kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
      op: fc.constantFrom('max' as const, 'avg' as const),
    }).filter((g) => g.h >= g.kh && g.w >= g.kw).chain((g) => fc.tuple(fc.constant(g), arbArray([g.n, g.c, g.h, g.w])))
    fc.assert(fc.property(arbPool, ([g, x]) => {
      const ref = pool(g.op, x, [g.kh, g.kw], [g.sh, g.sw]).out
      const out = new Float64Array(ref.data.length)
      poolInto(g.op, x, [g.kh, g.kw], [g.sh, g.sw], out)
      expect(sameBits(out, ref.data)).toBe(true)
    }), { seed: 1002, numRuns: 200 })
  })

  it('law: addInto ≡ elementwise add, per-channel biases on either side and other broadcasts', () => {
    const arbAdd = fc.record({ n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 1, max: 4 }), w: fc.integer({ min: 1, max: 4 }), form: fc.integer({ min: 0, max: 3 }), left: fc.boolean() })
      .chain((g) => {
        const small = [[g.c, 1, 1], [1, g.c, 1, 1], [g.w], [g.n, g.c, g.h, g.w]][g.form]!
        return fc.tuple(fc.constant(g), arbArray([g.n, g.c, g.h, g.w]), arbArray(small))
      })
    fc.assert(fc.property(arbAdd, ([g, big, small]) => {
      const [a, b] = g.left ? [big, small] : [small, big]
      const ref = elementwise(a, b, (x, y) => x + y)
      const out = new Float64Array(ref.data.length)
      addInto(a, b, out)
      expect(sameBits(out, ref.data)).toBe(true)
    }), { seed: 1003, numRuns: 200 })
  })

  it('law: batchNormInto ≡ batchNorm on NCHW and [N, C] tensors', () => {
    const arbBn = fc.record({ n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 4 }), hw: fc.constantFrom([], [1, 1], [2, 3]) })
      .chain((g) => fc.tuple(fc.constant(g), arbArray([g.n, g.c, ...g.hw]), arbArray([g.c]), arbArray([g.c]), arbArray([g.c]),
        fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: g.c, maxLength: g.c })))
    fc.assert(fc.property(arbBn, ([, x, gamma, beta, mean, v]) => {
      const p = { gamma, beta, mean, variance: { shape: [v.length], data: Float64Array.from(v) } }
      const ref = batchNorm(x, p, 1e-5)
      const out = new Float64Array(ref.data.length)
      batchNormInto(x, p, 1e-5, out)
      expect(sameBits(out, ref.data)).toBe(true)
    }), { seed: 1004, numRuns: 200 })
  })
})

/**
 * Laws of the WebAssembly SIMD kernels against the float64 reference loops: real products
 * within the single-precision rounding bound, ±1 × ±1 products exactly, on shapes that are not
 * multiples of the blocking, for several blockings, with the memory growing between calls.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { referenceProducts } from '../../../src/interpreters/reference/ops.js'
import type { Blocking } from '../../../src/train/fast/emit-gemm.js'
import { defaultBlocking } from '../../../src/train/fast/emit-gemm.js'
import { wasmProducts, wasmSupport } from '../../../src/train/fast/wasm-gemm.js'
import type { Case } from './products.js'
import { U32, arbCase, ops, worstRatio } from './products.js'

const productsOf = (opts: Parameters<typeof wasmProducts>[0]): MatrixProducts => {
  const k = wasmProducts(opts)
  if (E.isLeft(k)) throw new Error(`the test host must have WebAssembly SIMD: ${JSON.stringify(k.left)}`)
  return k.right
}

// The fused multiply-add variant only where the engine has relaxed SIMD (Node ≥ 22, or Node 20
// with --experimental-wasm-relaxed-simd); it rounds once per step, within the same bound.
const hasFma = E.isRight(wasmSupport({ ...defaultBlocking, fma: true }))
const blockings: readonly Blocking[] = [
  defaultBlocking,
  { mr: 6, nr: 8, unroll: 1, fma: false },
  { mr: 1, nr: 4, unroll: 3, fma: false },
  { mr: 5, nr: 12, unroll: 2, fma: false },
  ...(hasFma ? [{ ...defaultBlocking, fma: true }, { mr: 2, nr: 16, unroll: 2, fma: true }] : []),
]

const isSigns = (xs: Float64Array): boolean => xs.every((v) => v === 1 || v === -1)
const bothSigns = (c: Case): boolean => isSigns(c.a.data) && isSigns(c.b.data)

describe('wasm kernels', () => {
  it('the test host has WebAssembly SIMD', () => {
    expect(E.isRight(wasmSupport())).toBe(true)
  })

  for (const blocking of blockings) {
    const kernels = productsOf({ blocking })
    const label = `${blocking.mr}×${blocking.nr}, unroll ${blocking.unroll}${blocking.fma ? ', fma' : ''}`
    for (const op of ops) {
      it(`${op} ≡ reference within (γ_{k+2}(2⁻²⁴) + γ_k(2⁻⁵³))·Σ|aᵢbᵢ| (${label})`, () => {
        fc.assert(fc.property(arbCase(op), (c) => {
          const got = kernels[op](c.a, c.b)
          expect(got.shape).toEqual(referenceProducts[op](c.a, c.b).shape)
          expect(worstRatio(c, got, U32)).toBeLessThanOrEqual(1)
        }), { seed: 6061, numRuns: 60 })
      })
    }
  }

  const kernels = productsOf({})
  for (const op of ops) {
    it(`${op} of ±1 × ±1 ≡ reference exactly (XOR + popcount)`, () => {
      fc.assert(fc.property(arbCase(op).filter(bothSigns), (c) => {
        expect(kernels[op](c.a, c.b)).toEqual(referenceProducts[op](c.a, c.b))
      }), { seed: 6062, numRuns: 40 })
    })
  }

  it('the float path also takes ±1 × ±1 exactly when bits are off (small sums are exact in f32)', () => {
    const noBits = productsOf({ bits: false })
    fc.assert(fc.property(fc.constantFrom(...ops).chain(arbCase).filter(bothSigns), (c) => {
      expect(noBits[c.op](c.a, c.b)).toEqual(referenceProducts[c.op](c.a, c.b))
    }), { seed: 6063, numRuns: 40 })
  })

  it('training-size products (64×784·784×512 and transposes), after and before small ones', () => {
    const rnd = (n: number, signs: boolean, seed: number): Float64Array => {
      let s = seed
      return Float64Array.from({ length: n }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0
        return signs ? (s & 0x10000 ? 1 : -1) : s / 2 ** 31 - 1
      })
    }
    const x = { shape: [64, 784], data: rnd(64 * 784, false, 1) }
    const w = { shape: [784, 512], data: rnd(784 * 512, true, 2) }
    const g = { shape: [64, 512], data: rnd(64 * 512, false, 3) }
    const cases: Case[] = [
      { op: 'matmul', a: { shape: [1, 1], data: Float64Array.of(3) }, b: { shape: [1, 1], data: Float64Array.of(0.5) }, k: 1 },
      { op: 'matmul', a: x, b: w, k: 784 },
      { op: 'matmulNT', a: g, b: w, k: 512 },
      { op: 'matmulTN', a: x, b: g, k: 64 },
      { op: 'matmulTN', a: { shape: [2, 1], data: Float64Array.of(1, 2) }, b: { shape: [2, 3], data: Float64Array.of(1, 2, 3, 4, 5, 6) }, k: 2 },
    ]
    for (const c of cases) expect(worstRatio(c, kernels[c.op](c.a, c.b), U32)).toBeLessThanOrEqual(1)
  })

  it('law: matmulTNInto writes matmulTN\'s values bit for bit (real and ±1 operands, empty ones), over whatever the target held', () => {
    fc.assert(fc.property(arbCase('matmulTN'), (c) => {
      const want = kernels.matmulTN(c.a, c.b).data
      const out = new Float64Array(want.length).fill(Number.NaN)
      kernels.matmulTNInto!(c.a, c.b, out)
      expect(out).toEqual(want)
    }), { seed: 6064, numRuns: 60 })
    const out = Float64Array.of(7, 7, 7, 7)
    kernels.matmulTNInto!({ shape: [0, 2], data: new Float64Array(0) }, { shape: [0, 2], data: new Float64Array(0) }, out)
    expect(out).toEqual(new Float64Array(4))
  })

  it('empty products are zeros of the right shape', () => {
    const e = (r: number, c: number) => ({ shape: [r, c], data: new Float64Array(r * c) })
    expect(kernels.matmul(e(2, 0), e(0, 3))).toEqual({ shape: [2, 3], data: new Float64Array(6) })
    expect(kernels.matmulNT(e(0, 4), e(3, 4))).toEqual({ shape: [0, 3], data: new Float64Array(0) })
    expect(kernels.matmulTN(e(0, 2), e(0, 5))).toEqual({ shape: [2, 5], data: new Float64Array(10) })
  })
})

/**
 * Laws of convolution on the training kernels. The reference convolution is a patch matrix
 * (im2col) times the kernel; it must equal the tap-by-tap definition (the oracle below), and the
 * fast kernels must equal the reference: within the single-precision rounding bound for real
 * operands, exactly for ±1 × ±1 (XOR + popcount), on fast-check geometries (strides, padding,
 * padding values, odd sizes, channel counts that are not multiples of any vector or word width).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { windowOut } from '../../../src/dsl/shape.js'
import type { NDArray } from '../../../src/interpreters/ndarray.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { conv2d, conv2dBackward } from '../../../src/interpreters/reference/spatial.js'
import { jsProducts } from '../../../src/train/fast/js-gemm.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { U32, U64, gamma } from './products.js'

interface Geometry {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number; readonly o: number
  readonly kh: number; readonly kw: number; readonly stride: [number, number]; readonly padding: [number, number]; readonly padValue: number
}
interface Conv extends Geometry { readonly x: NDArray; readonly k: NDArray; readonly g: NDArray }

const small = (max: number) => fc.integer({ min: 1, max })
const arbGeometry: fc.Arbitrary<Geometry> = fc
  .record({
    n: small(3), c: small(5), h: small(9), w: small(9), o: small(6), kh: small(4), kw: small(4),
    stride: fc.tuple(small(3), small(3)), padding: fc.tuple(fc.nat(2), fc.nat(2)), padValue: fc.constantFrom(0, 1, -1, 0.5),
  })
  .filter((g) => windowOut(g.h, g.kh, g.stride[0], g.padding[0]) >= 1 && windowOut(g.w, g.kw, g.stride[1], g.padding[1]) >= 1)

const outShape = (g: Geometry): [number, number, number, number] =>
  [g.n, g.o, windowOut(g.h, g.kh, g.stride[0], g.padding[0]), windowOut(g.w, g.kw, g.stride[1], g.padding[1])]

// Reals: 0, or of magnitude ≥ 2⁻²⁰, so every product is a normal f32 (a relative bound cannot cover underflow).
const real = fc.double({ min: -4, max: 4, noNaN: true }).map((v) => (Math.abs(v) < 2 ** -20 ? 0 : v))
const values = (n: number, signs: boolean) =>
  fc.array(signs ? fc.constantFrom(1, -1) : real, { minLength: n, maxLength: n }).map((v) => Float64Array.from(v))

/** A convolution problem; `signs`: x and k are ±1 (and the padding value too). */
const arbConv = (signs: boolean): fc.Arbitrary<Conv> =>
  arbGeometry
    .map((g) => (signs ? { ...g, padValue: g.padValue === 0 || g.padValue === 0.5 ? 1 : g.padValue } : g))
    .chain((g) => {
      const out = outShape(g)
      return fc.tuple(values(g.n * g.c * g.h * g.w, signs), values(g.o * g.c * g.kh * g.kw, signs), values(out.reduce((a, b) => a * b, 1), false))
        .map(([x, k, go]) => ({ ...g, x: { shape: [g.n, g.c, g.h, g.w], data: x }, k: { shape: [g.o, g.c, g.kh, g.kw], data: k }, g: { shape: out, data: go } }))
    })

/** The definition, tap by tap, summed in the order (ic, ky, kx) per output (and (b, oy, ox) per kernel tap). */
const oracle = (p: Conv): { readonly out: Float64Array; readonly gx: Float64Array; readonly gk: Float64Array } => {
  const [, , ho, wo] = outShape(p)
  const out = new Float64Array(p.n * p.o * ho * wo)
  const gx = new Float64Array(p.x.data.length)
  const gk = new Float64Array(p.k.data.length)
  for (let b = 0; b < p.n; b++)
    for (let oc = 0; oc < p.o; oc++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          const oi = ((b * p.o + oc) * ho + oy) * wo + ox
          for (let ic = 0; ic < p.c; ic++)
            for (let ky = 0; ky < p.kh; ky++)
              for (let kx = 0; kx < p.kw; kx++) {
                const iy = oy * p.stride[0] - p.padding[0] + ky
                const ix = ox * p.stride[1] - p.padding[1] + kx
                const ki = ((oc * p.c + ic) * p.kh + ky) * p.kw + kx
                const inside = iy >= 0 && iy < p.h && ix >= 0 && ix < p.w
                const xi = ((b * p.c + ic) * p.h + iy) * p.w + ix
                const xv = inside ? p.x.data[xi]! : p.padValue
                out[oi]! += p.k.data[ki]! * xv
                gk[ki]! += p.g.data[oi]! * xv
                if (inside) gx[xi]! += p.g.data[oi]! * p.k.data[ki]!
              }
        }
  return { out, gx, gk }
}

const abs = (a: NDArray): NDArray => ({ shape: a.shape, data: a.data.map(Math.abs) })

/** Worst |got − want| / (rel · scale) (0 when equal; ±0 count as equal). */
const worst = (got: Float64Array, want: Float64Array, scale: Float64Array, rel: number): number => {
  let r = 0
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!)
    if (e > 0) r = Math.max(r, e / (rel * scale[i]!))
  }
  return r
}

const run = (p: Conv, k: MatrixProducts) => {
  const fwd = conv2d(p.x, p.k, p.stride, p.padding, p.padValue, k)
  const back = conv2dBackward(p.x, p.k, p.g, p.stride, p.padding, p.padValue, k)
  return { out: fwd.data, gx: back.input.data, gk: back.kernel.data }
}

/** Σ|terms| of every output, input-gradient and kernel-gradient sum (the scale of their rounding). */
const scales = (p: Conv) => oracle({ ...p, x: abs(p.x), k: abs(p.k), g: abs(p.g), padValue: Math.abs(p.padValue) })

const wasm = (opts: Parameters<typeof wasmProducts>[0] = {}): MatrixProducts => {
  const k = wasmProducts(opts)
  if (E.isLeft(k)) throw new Error(`the test host must have WebAssembly SIMD: ${JSON.stringify(k.left)}`)
  return k.right
}

describe('convolution on kernels', () => {
  it('reference im2col convolution ≡ the tap-by-tap definition (forward and kernel gradient bit-exact, input gradient to γ(taps·o)(2⁻⁵³)·Σ|terms|)', () => {
    fc.assert(fc.property(arbConv(false), (p) => {
      const want = oracle(p)
      const got = run(p, { matmul: refMatmul, matmulNT: refNT, matmulTN: refTN })
      expect(worst(got.out, want.out, want.out, 1)).toBe(0)
      expect(worst(got.gk, want.gk, want.gk, 1)).toBe(0)
      // The input gradient sums the same terms in another order: each order is within γ_j(u)·Σ|terms|.
      const s = scales(p)
      expect(worst(got.gx, want.gx, s.gx, 2 * gamma(p.o * p.kh * p.kw, U64))).toBeLessThanOrEqual(1)
    }), { seed: 1010, numRuns: 80 })
  })

  // Other blockings too: padded depths (unroll > 1) and panel widths that do not divide the patch rows.
  const odd = wasm({ blocking: { mr: 5, nr: 12, unroll: 2, fma: false } })
  const thin = wasm({ blocking: { mr: 1, nr: 4, unroll: 3, fma: false }, bits: false })
  for (const [name, kernels, u] of [
    ['wasm f32', wasm(), U32], ['wasm f32 (no bits)', wasm({ bits: false }), U32], ['wasm f32 (5×12, unroll 2)', odd, U32],
    ['wasm f32 (1×4, unroll 3, no bits)', thin, U32], ['js f64', jsProducts, U64],
  ] as const) {
    it(`${name} convolution ≡ reference within (γ_{j+2}(u) + γ_j(2⁻⁵³))·Σ|terms|, j the terms of each sum`, () => {
      fc.assert(fc.property(arbConv(false), (p) => {
        const want = oracle(p)
        const got = run(p, kernels)
        const s = scales(p)
        const [, , ho, wo] = outShape(p)
        const bound = (j: number): number => gamma(j + 2, u) + gamma(j, U64)
        const taps = p.c * p.kh * p.kw
        expect(worst(got.out, want.out, s.out, bound(taps))).toBeLessThanOrEqual(1)
        expect(worst(got.gk, want.gk, s.gk, bound(p.n * ho * wo))).toBeLessThanOrEqual(1)
        // Each patch gradient sums o terms in the kernel, col2im adds ≤ kh·kw of them in float64.
        expect(worst(got.gx, want.gx, s.gx, bound(p.o) + gamma(p.o * p.kh * p.kw, U64) * 2)).toBeLessThanOrEqual(1)
      }), { seed: 2020, numRuns: 60 })
    })
  }

  it('wasm convolution over several chunks of examples (more than 1 024 patch rows) ≡ reference within the same bounds', () => {
    const kernels = wasm()
    // Stride 1 and at least 16×16 outputs: at most 4 examples per chunk, so 5–7 examples make 2 or more chunks.
    const big = fc.record({ n: fc.integer({ min: 5, max: 7 }), c: small(3), h: fc.integer({ min: 18, max: 21 }), w: fc.integer({ min: 18, max: 21 }), o: small(5), kh: small(3), kw: small(3),
      stride: fc.constant<[number, number]>([1, 1]), padding: fc.tuple(fc.nat(1), fc.nat(1)), padValue: fc.constantFrom(0, -1, 0.5) })
    fc.assert(fc.property(big.chain((g) => {
      const out = outShape(g)
      return fc.tuple(values(g.n * g.c * g.h * g.w, false), values(g.o * g.c * g.kh * g.kw, false), values(out.reduce((a, b) => a * b, 1), false))
        .map(([x, k, go]): Conv => ({ ...g, x: { shape: [g.n, g.c, g.h, g.w], data: x }, k: { shape: [g.o, g.c, g.kh, g.kw], data: k }, g: { shape: out, data: go } }))
    }), (p) => {
      const want = oracle(p)
      const got = run(p, kernels)
      const s = scales(p)
      const [, , ho, wo] = outShape(p)
      const bound = (j: number): number => gamma(j + 2, U32) + gamma(j, U64)
      expect(worst(got.out, want.out, s.out, bound(p.c * p.kh * p.kw))).toBeLessThanOrEqual(1)
      expect(worst(got.gk, want.gk, s.gk, bound(p.n * ho * wo))).toBeLessThanOrEqual(1)
      expect(worst(got.gx, want.gx, s.gx, bound(p.o) + gamma(p.o * p.kh * p.kw, U64) * 2)).toBeLessThanOrEqual(1)
    }), { seed: 2121, numRuns: 12 })
  })

  it('wasm convolution of ±1 input and a real kernel takes the f32 path (≡ reference within the bound)', () => {
    const kernels = wasm()
    fc.assert(fc.property(arbConv(true).chain((p) => values(p.k.data.length, false).map((k) => ({ ...p, k: { shape: p.k.shape, data: k } }))), (p) => {
      const got = conv2d(p.x, p.k, p.stride, p.padding, p.padValue, kernels)
      const bound = gamma(p.c * p.kh * p.kw + 2, U32) + gamma(p.c * p.kh * p.kw, U64)
      expect(worst(got.data, oracle(p).out, scales(p).out, bound)).toBeLessThanOrEqual(1)
    }), { seed: 3131, numRuns: 40 })
  })

  it('wasm convolution of ±1 input and ±1 kernel (±1 padding) ≡ reference exactly (XOR + popcount)', () => {
    const kernels = wasm()
    fc.assert(fc.property(arbConv(true), (p) => {
      const got = conv2d(p.x, p.k, p.stride, p.padding, p.padValue, kernels)
      expect(worst(got.data, oracle(p).out, new Float64Array(got.data.length).fill(1), 1)).toBe(0)
    }), { seed: 3030, numRuns: 80 })
  })

  it('wasm convolution of ±1 input and ±1 kernel with channel counts around and past 32 (several channel words) ≡ reference exactly', () => {
    const kernels = wasm()
    const wide = fc.record({
      n: small(2), c: fc.constantFrom(31, 32, 33, 47, 64, 65), h: small(6), w: small(6), o: small(5), kh: small(3), kw: small(3),
      stride: fc.tuple(small(2), small(2)), padding: fc.tuple(fc.nat(1), fc.nat(1)), padValue: fc.constantFrom(1, -1),
    }).filter((g) => windowOut(g.h, g.kh, g.stride[0], g.padding[0]) >= 1 && windowOut(g.w, g.kw, g.stride[1], g.padding[1]) >= 1)
    const problems = wide.chain((g) => fc.tuple(values(g.n * g.c * g.h * g.w, true), values(g.o * g.c * g.kh * g.kw, true))
      .map(([x, k]): Conv => ({ ...g, x: { shape: [g.n, g.c, g.h, g.w], data: x }, k: { shape: [g.o, g.c, g.kh, g.kw], data: k }, g: { shape: outShape(g), data: new Float64Array(outShape(g).reduce((a, b) => a * b, 1)) } })))
    fc.assert(fc.property(problems, (p) => {
      const got = conv2d(p.x, p.k, p.stride, p.padding, p.padValue, kernels)
      expect(Array.from(got.data)).toEqual(Array.from(oracle(p).out))
    }), { seed: 3232, numRuns: 40 })
  })
})

// The reference products, spelled out so that this file's oracle is independent of ops.ts.
const refMatmul: MatrixProducts['matmul'] = (a, b) => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j]! += a.data[i * k + p]! * b.data[p * n + j]!
  return { shape: [m, n], data: out }
}
const refNT: MatrixProducts['matmulNT'] = (a, b) => {
  const [m, n] = a.shape as [number, number]
  const k = b.shape[0]!
  const out = new Float64Array(m * k)
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      let s = 0
      for (let j = 0; j < n; j++) s += a.data[i * n + j]! * b.data[p * n + j]!
      out[i * k + p] = s
    }
  return { shape: [m, k], data: out }
}
const refTN: MatrixProducts['matmulTN'] = (a, b) => {
  const [m, k] = a.shape as [number, number]
  const n = b.shape[1]!
  const out = new Float64Array(k * n)
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[p * n + j]! += a.data[i * k + p]! * b.data[i * n + j]!
  return { shape: [k, n], data: out }
}

/**
 * Laws of the convolution jobs (gemmConv.ts on emit-conv.ts): the WebAssembly gathers, col2im and
 * packing are transcriptions of the single-precision definition, so the kernels equal it bit for
 * bit (not merely within a rounding bound), and splitting a product by ranges of examples over
 * threads changes who computes an element, never its value: 2 and 3 threads ≡ 1 thread.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { windowOut } from '../../../src/dsl/shape.js'
import type { NDArray } from '../../../src/interpreters/ndarray.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import type { ThreadedProducts } from '../../../src/train/threads/threadedProducts.js'
import { threadedProducts } from '../../../src/train/threads/threadedProducts.js'

interface Conv {
  readonly n: number; readonly c: number; readonly h: number; readonly w: number; readonly o: number; readonly kh: number; readonly kw: number
  readonly stride: [number, number]; readonly padding: [number, number]; readonly padValue: number
  readonly x: NDArray; readonly k: NDArray; readonly g: NDArray
}

const small = (max: number) => fc.integer({ min: 1, max })
const real = fc.double({ min: -4, max: 4, noNaN: true }).map((v) => (Math.abs(v) < 2 ** -20 ? 0 : v))
const values = (n: number, signs: boolean) => fc.array(signs ? fc.constantFrom(1, -1) : real, { minLength: n, maxLength: n }).map((v) => Float64Array.from(v))

/** A problem of up to `maxN` examples and `maxC` input channels (`outs`: the output channels); `signs`: x, k and the padding value are ±1. */
const arbConv = (signs: boolean, maxN = 5, maxHW = 9, maxC = 4, outs: fc.Arbitrary<number> = small(6)): fc.Arbitrary<Conv> =>
  fc.record({
    n: small(maxN), c: small(maxC), h: small(maxHW), w: small(maxHW), o: outs, kh: small(3), kw: small(3),
    stride: fc.tuple(small(2), small(2)), padding: fc.tuple(fc.nat(2), fc.nat(2)), padValue: signs ? fc.constantFrom(1, -1) : fc.constantFrom(0, -1, 0.3),
  })
    .filter((p) => windowOut(p.h, p.kh, p.stride[0], p.padding[0]) >= 1 && windowOut(p.w, p.kw, p.stride[1], p.padding[1]) >= 1)
    .chain((p) => {
      const ho = windowOut(p.h, p.kh, p.stride[0], p.padding[0])
      const wo = windowOut(p.w, p.kw, p.stride[1], p.padding[1])
      return fc.tuple(values(p.n * p.c * p.h * p.w, signs), values(p.o * p.c * p.kh * p.kw, signs), values(p.n * p.o * ho * wo, false)).map(([x, k, g]) => ({
        ...p, x: { shape: [p.n, p.c, p.h, p.w], data: x }, k: { shape: [p.o, p.c, p.kh, p.kw], data: k }, g: { shape: [p.n, p.o, ho, wo], data: g },
      }))
    })

const f = Math.fround

/**
 * The single-precision definition the kernels compute: each output and each kernel-gradient
 * entry a sequential f32 sum of f32 products (taps in (ic, ky, kx) order, patch rows in
 * (b, oy, ox) order), each patch gradient the same over output channels, folded into the input
 * gradient by float64 adds in row, then tap, order.
 */
const f32Definition = (p: Conv) => {
  const ho = p.g.shape[2]!, wo = p.g.shape[3]!
  const depth = p.c * p.kh * p.kw
  const out = new Float64Array(p.g.data.length)
  const gk = new Float64Array(p.k.data.length)
  const gx = new Float64Array(p.x.data.length)
  const cell = (b: number, oy: number, ox: number, t: number): number => {
    const ic = Math.floor(t / (p.kh * p.kw)), ky = Math.floor(t / p.kw) % p.kh, kx = t % p.kw
    const iy = oy * p.stride[0] - p.padding[0] + ky, ix = ox * p.stride[1] - p.padding[1] + kx
    return iy >= 0 && iy < p.h && ix >= 0 && ix < p.w ? ((b * p.c + ic) * p.h + iy) * p.w + ix : -1
  }
  const patch = (b: number, oy: number, ox: number, t: number): number => { const i = cell(b, oy, ox, t); return f(i < 0 ? p.padValue : p.x.data[i]!) }
  const gOf = (b: number, oc: number, oy: number, ox: number): number => f(p.g.data[((b * p.o + oc) * ho + oy) * wo + ox]!)
  for (let b = 0; b < p.n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        for (let oc = 0; oc < p.o; oc++) {
          let acc = 0
          for (let t = 0; t < depth; t++) acc = f(acc + f(f(p.k.data[oc * depth + t]!) * patch(b, oy, ox, t)))
          out[((b * p.o + oc) * ho + oy) * wo + ox] = acc
        }
        for (let t = 0; t < depth; t++) {
          let acc = 0
          for (let oc = 0; oc < p.o; oc++) acc = f(acc + f(gOf(b, oc, oy, ox) * f(p.k.data[oc * depth + t]!)))
          const i = cell(b, oy, ox, t)
          if (i >= 0) gx[i]! += acc
        }
      }
  for (let oc = 0; oc < p.o; oc++)
    for (let t = 0; t < depth; t++) {
      let acc = 0
      for (let b = 0; b < p.n; b++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) acc = f(acc + f(gOf(b, oc, oy, ox) * patch(b, oy, ox, t)))
      gk[oc * depth + t] = acc
    }
  return { out, gk, gx }
}

const run = (k: MatrixProducts, p: Conv) => {
  const out = k.conv2d!(p.x, p.k, p.stride, p.padding, p.padValue).data
  const back = k.conv2dBackward!(p.x, p.k, p.g, p.stride, p.padding, p.padValue, true)
  return { out, gk: back.kernel.data, gx: back.input.data }
}

/** Equal element by element (±0 equal: a sum may end on either zero). */
const same = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => v === b[i])

const right = <T>(e: E.Either<unknown, T>): T => {
  if (E.isLeft(e)) throw new Error(`the test host must have WebAssembly SIMD and threads: ${JSON.stringify(e.left)}`)
  return e.right
}

const opened: ThreadedProducts[] = []
afterAll(() => opened.forEach((k) => k.close()))
const threaded = (threads: number): ThreadedProducts => {
  const k = right(threadedProducts({ threads, splitAbove: 0 }))
  opened.push(k)
  return k
}

describe('convolution jobs', () => {
  const one = right(wasmProducts())

  it('law: wasm convolution ≡ its single-precision definition, bit for bit (forward, kernel and input gradients)', () => {
    fc.assert(fc.property(arbConv(false), (p) => {
      const want = f32Definition(p)
      const got = run(one, p)
      expect(same(got.out, want.out), 'forward').toBe(true)
      expect(same(got.gk, want.gk), 'kernel gradient').toBe(true)
      expect(same(got.gx, want.gx), 'input gradient').toBe(true)
    }), { seed: 4040, numRuns: 40 })
  })

  it('law: a value that is not ±1 among ±1 inputs sends the forward product to the f32 path (≡ the definition)', () => {
    fc.assert(fc.property(arbConv(true), fc.nat(), (p, at) => {
      const x = p.x.data.slice()
      if (x.length > 1) x[1 + (at % (x.length - 1))] = 0.5
      const q = { ...p, x: { shape: p.x.shape, data: x } }
      expect(same(run(one, q).out, f32Definition(q).out)).toBe(true)
    }), { seed: 4141, numRuns: 40 })
  })

  it('law: the kernel gradient over several chunks of examples (wide inputs: 2¹⁷ f32 of panels per chunk) ≡ the definition, bit for bit', () => {
    // c up to 48 and 6×6 to 10×10 outputs: a chunk holds a few examples, so 8–10 examples make several chunks.
    const wide = arbConv(false, 10, 10, 48).filter((p) => p.n >= 8 && p.c >= 24 && p.g.shape[2]! * p.g.shape[3]! >= 36)
    fc.assert(fc.property(wide, (p) => {
      const want = f32Definition(p)
      for (const k of [one, two, three]) expect(same(run(k, p).gk, want.gk), 'kernel gradient').toBe(true)
    }), { seed: 4343, numRuns: 8 })
  })

  it('law: g packed by the GEMM\'s SIMD packers (output channels a multiple of 4, output sizes a multiple of 4) ≡ the definition, bit for bit, on 1, 2 and 3 threads', () => {
    // With the default blocking (mr = 4) these geometries take pack_rm4 (kernel gradient) and pack_dm4 (input gradient) instead of conv_pack_g.
    const whole = arbConv(false, 6, 12, 4, fc.constantFrom(4, 8, 12)).filter((p) => (p.g.shape[2]! * p.g.shape[3]!) % 4 === 0)
    fc.assert(fc.property(whole, (p) => {
      const want = f32Definition(p)
      for (const k of [one, two, three]) {
        const got = run(k, p)
        expect(same(got.gk, want.gk), 'kernel gradient').toBe(true)
        expect(same(got.gx, want.gx), 'input gradient').toBe(true)
      }
    }), { seed: 4444, numRuns: 25 })
  })

  const [two, three] = [threaded(2), threaded(3)]
  for (const [name, signs, maxN, maxHW] of [['real operands', false, 7, 9], ['±1 operands (XOR–popcount forward)', true, 7, 9], ['several chunks of 1 024 patch rows', false, 9, 20]] as const) {
    it(`law: 2 and 3 threads ≡ 1 thread, bit for bit (${name})`, () => {
      fc.assert(fc.property(arbConv(signs, maxN, maxHW), (p) => {
        const want = run(one, p)
        for (const k of [two, three]) {
          const got = run(k, p)
          expect(same(got.out, want.out) && same(got.gk, want.gk) && same(got.gx, want.gx)).toBe(true)
        }
      }), { seed: 4242, numRuns: maxHW > 9 ? 6 : 25 })
      expect(two.started() && three.started()).toBe(true)
    })
  }
})

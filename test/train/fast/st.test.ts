/**
 * Law: the training kernels' logistic ST factor (`st_logistic`, fdlibm's exponential in
 * WebAssembly, emit-st.ts) equals the reference rule `stFactorTimes` bit for bit: on wide random
 * pre-activations, on the edges of fdlibm's argument reduction (½ln2, 1.5·ln2, 2⁻²⁸, the 708
 * limit past which a pair goes back to JavaScript, underflow), ±0, ±∞ and NaN, for every scale,
 * for odd lengths, and split over two threads; and a whole conv-net gradient is the same bits
 * with it as without it.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { stFactorTimes } from '../../../src/dsl/distributions.js'
import type { Checked, Network } from '../../../src/dsl/node.js'
import type { Noise } from '../../../src/dsl/noise.js'
import { key } from '../../../src/dsl/random.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { threadedProducts } from '../../../src/train/threads/threadedProducts.js'
import { withBatchNormMode } from '../../../src/train/modes.js'
import { presetNetwork } from '../../../src/train/presets.js'

const kernels = wasmProducts()
if (E.isLeft(kernels)) throw new Error('the test host must have WebAssembly SIMD')
const wasmSt = kernels.right.stFactorTimes!

const half = Math.LN2 / 2
/** The neighbouring doubles of a positive double. */
const step = (v: number, by: bigint): number => new Float64Array(BigInt64Array.of(new BigInt64Array(Float64Array.of(v).buffer)[0]! + by).buffer)[0]!
const nextUp = (v: number): number => step(v, 1n)
const nextDown = (v: number): number => step(v, -1n)
const edges = [half, nextUp(half), nextDown(half), 0.34657287, 0.3465730, 1.5 * Math.LN2, 1.0397205, 1.03972054, 2 ** -28, nextUp(2 ** -28), nextDown(2 ** -28),
  707.9, 708, nextDown(708), 709.78, 745.1, 746, 1e300, 1, 0.5, 2, 20, 40]
const special = [...edges, ...edges.map((v) => -v), 0, -0, Infinity, -Infinity, NaN, 2 ** -1074, -(2 ** -1060)]
const bits = (v: Float64Array): number[] => Array.from(new Uint32Array(v.buffer, v.byteOffset, 2 * v.length))

describe('logistic ST factor in WebAssembly', () => {
  it('≡ stFactorTimes bit for bit on wide and special pre-activations, every scale, odd lengths', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.double({ min: -60, max: 60, noNaN: true }), fc.double({ noNaN: true }), fc.constantFrom(...special)), { minLength: 1, maxLength: 41 }),
      fc.constantFrom(0.1, 0.5, 1, 1 / 3, 3, 1000), fc.integer({ min: 1, max: 1 << 20 }),
      (xs, scale, gSeed) => {
        const a = Float64Array.from(xs)
        const g = Float64Array.from(xs, (_, i) => Math.sin(gSeed + i) * 4)
        const n: Noise = { family: 'logistic', scale }
        expect(bits(wasmSt(n, a, g)!)).toEqual(bits(stFactorTimes(n, a, g)))
      },
    ), { seed: 4141, numRuns: 300 })
  })

  it('≡ stFactorTimes on a million units between ±24 (the whole reduction range), in one call', () => {
    const a = Float64Array.from({ length: 1_000_001 }, (_, i) => 24 * Math.sin(i * 0.7071 + 0.3) * Math.cos(i * 1e-5))
    const g = Float64Array.from(a, (v, i) => 1 - (i % 7) / 3)
    const n: Noise = { family: 'logistic', scale: 1 }
    const got = new BigInt64Array(wasmSt(n, a, g)!.buffer)
    const want = new BigInt64Array(stFactorTimes(n, a, g).buffer)
    let differ = 0
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differ++
    expect(differ).toBe(0)
  })

  it('other noise families are left to the JavaScript rule (undefined)', () => {
    const a = Float64Array.of(0.5, -1)
    expect(wasmSt({ family: 'normal', scale: 1 }, a, a)).toBeUndefined()
    expect(wasmSt({ family: 'none' }, a, a)).toBeUndefined()
  })

  it('two threads ≡ one thread, bit for bit (units split over the pool)', () => {
    const two = threadedProducts({ threads: 2, splitAbove: 1 })
    if (E.isLeft(two)) throw new Error(JSON.stringify(two.left))
    try {
      const a = Float64Array.from({ length: 40_001 }, (_, i) => 30 * Math.sin(i * 1.3) + (i % 97 === 0 ? 800 : 0))
      const g = Float64Array.from(a, (_, i) => Math.cos(i))
      const n: Noise = { family: 'logistic', scale: 0.7 }
      expect(bits(two.right.stFactorTimes!(n, a, g)!)).toEqual(bits(stFactorTimes(n, a, g)))
    } finally {
      two.right.close()
    }
  })

  it('a conv net with batch norm: the gradient with the kernel ST factor ≡ without it, bit for bit', () => {
    const made = presetNetwork({ kind: 'conv', channels: [3, 5] }, { inputShape: [1, 12, 12], classes: 4, batchNorm: true, key: key(2) })
    if (E.isLeft(made)) throw new Error(JSON.stringify(made.left))
    const net = withBatchNormMode(made.right, 'train') as Checked<Network>
    const feed = { x: { shape: [4, 1, 12, 12], data: Float64Array.from({ length: 576 }, (_, i) => (i * 37 % 256) / 255) }, y: { shape: [4], data: Float64Array.of(0, 1, 2, 3) } }
    const run = (products: MatrixProducts) => {
      const p = prepareGradient(net, feed, { products })
      if (E.isLeft(p)) throw new Error(JSON.stringify(p.left))
      return p.right(key(5))
    }
    const { stFactorTimes: _, ...without } = kernels.right
    const a = run(kernels.right)
    const b = run(without)
    for (const [name, g] of Object.entries(b.grad)) expect(bits(a.grad[name]!)).toEqual(bits(g))
  })
})

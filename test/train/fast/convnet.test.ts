/**
 * Law: a whole training gradient of a binary conv net with batch norm (the `conv` preset, batch
 * statistics) through the fast kernels has the reference's forward pass bit for bit, and its
 * gradients within single-precision rounding of the reference's.
 *
 * The data make every forward product exact in f32: pixels on the 2⁻⁸ grid times ±1 weights
 * (sums of 9 terms), ±1 × ±1 in the second convolution (XOR–popcount) and ±1 activations times
 * head weights on the 2⁻⁸ grid; so both runs draw the same activations and the same loss. Only
 * the reverse products round (each within (γ_{k+2}(2⁻²⁴) + γ_k(2⁻⁵³))·Σ|terms|, the op-level
 * laws of conv.test.ts and wasm-gemm.test.ts); through this net's few layers and batch norm's
 * rescaling that stays far below 2⁻¹² of the largest gradient entry, the bound checked here.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { key } from '../../../src/dsl/random.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { referenceProducts } from '../../../src/interpreters/reference/ops.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { withBatchNormMode } from '../../../src/train/modes.js'
import { presetNetwork } from '../../../src/train/presets.js'

const N = 5
const made = presetNetwork({ kind: 'conv', channels: [3, 5] }, { inputShape: [1, 12, 12], classes: 4, batchNorm: true, key: key(1) })
if (E.isLeft(made)) throw new Error(JSON.stringify(made.left))
const base = withBatchNormMode(made.right, 'train')
const wasm = wasmProducts()
if (E.isLeft(wasm)) throw new Error('the test host must have WebAssembly SIMD')

const grid = (n: number, lo: number, hi: number) =>
  fc.array(fc.integer({ min: lo * 256, max: hi * 256 }), { minLength: n, maxLength: n }).map((v) => Float64Array.from(v, (t) => t / 256))

const run = (net: Checked<Network>, x: Float64Array, y: Float64Array, kernels: MatrixProducts, seed: number) => {
  const p = prepareGradient(net, { x: { shape: [N, 1, 12, 12], data: x }, y: { shape: [N], data: y } }, { products: kernels })
  if (E.isLeft(p)) throw new Error(JSON.stringify(p.left))
  return p.right(key(seed))
}

describe('conv net gradient on the fast kernels', () => {
  it('fast ≡ reference: forward bit for bit, every gradient within 2⁻¹² of the largest gradient entry', () => {
    fc.assert(fc.property(
      grid(N * 144, 0, 1), grid(base.params['head.W']!.length, -1, 1),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: N, maxLength: N }), fc.nat(1000),
      (x, headW, labels, seed) => {
        const net = { ...base, params: { ...base.params, 'head.W': headW } } as Checked<Network>
        const y = Float64Array.from(labels)
        const ref = run(net, x, y, referenceProducts, seed)
        const fast = run(net, x, y, wasm.right, seed)
        expect(fast.perExample).toEqual(ref.perExample)
        // One scale for the whole net: a cancelling sum (the bias of a convolution followed by
        // batch norm has an exactly zero gradient) keeps the rounding of its terms, whose size is
        // that of the net's gradients, not of the ~0 result.
        let scale = 0
        for (const g of Object.values(ref.grad)) for (const v of g) scale = Math.max(scale, Math.abs(v))
        for (const [name, g] of Object.entries(ref.grad)) {
          const got = fast.grad[name]!
          for (let i = 0; i < g.length; i++) expect(Math.abs(got[i]! - g[i]!)).toBeLessThanOrEqual(scale * 2 ** -12)
        }
      }), { seed: 7070, numRuns: 12 })
  })
})

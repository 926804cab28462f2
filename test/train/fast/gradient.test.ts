/**
 * Law: a whole training gradient through `prepareGradient` with the fast kernels equals the
 * reference gradient within a bound propagated through the backward pass of a binary MLP.
 *
 * The data are chosen so that the forward pass is exact in single precision (pixels j/256 times
 * ±1 weights, ±1 activations times head weights on a 2⁻⁸ grid: every partial sum is a short
 * dyadic number), so both runs draw the same activations and the same loss; only the backward
 * products round. The bound then follows the chain of the backward pass (below).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { mlp, softmaxCrossEntropy } from '../../../src/dsl/composites.js'
import { initParams } from '../../../src/dsl/init.js'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { input } from '../../../src/dsl/primitives.js'
import { key } from '../../../src/dsl/random.js'
import { typecheck } from '../../../src/dsl/typecheck.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { GradientResult } from '../../../src/estimators/gradient.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { referenceProducts } from '../../../src/interpreters/reference/ops.js'
import { jsProducts } from '../../../src/train/fast/js-gemm.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { U32, U64, gamma } from './products.js'

const N = 6
const D0 = 19
const D1 = 17
const D2 = 13
const C = 3

const x = input('x', ['batch', D0])
const y = input('y', ['batch'], 'index')
const logits = pipe(x, mlp({ hidden: [D1, D2], outputs: C, weights: 'binary' }))
const outputs = { output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) }
const shapes = initParams(outputs, key(0))

const grid = (n: number, min: number, max: number, scale: number) =>
  fc.array(fc.integer({ min: min * scale, max: max * scale }), { minLength: n, maxLength: n }).map((v) => Float64Array.from(v, (t) => t / scale))
const reals = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n }).map((v) => Float64Array.from(v))

/** A network with random latent weights and biases, head weights on the 2⁻⁸ grid in [−1, 1], and a batch. */
const arbSetup = fc.record({
  params: fc.record(Object.fromEntries(Object.entries(shapes).map(([name, v]) => [name, name === 'head.W' ? grid(v.length, -1, 1, 256) : reals(v.length)]))),
  x: grid(N * D0, 0, 1, 256),
  y: fc.array(fc.integer({ min: 0, max: C - 1 }), { minLength: N, maxLength: N }).map((v) => Float64Array.from(v)),
  seed: fc.nat(),
})

const gradientWith = (net: Checked<Network>, feed: Parameters<typeof prepareGradient>[1], kernels: MatrixProducts, seed: number): GradientResult => {
  const prepared = prepareGradient(net, feed, { products: kernels })
  if (E.isLeft(prepared)) throw new Error(JSON.stringify(prepared.left))
  return prepared.right(key(seed))
}

/**
 * Bounds on |fast − reference| per parameter, for kernels of unit roundoff `u` (plus the float64
 * reference's own error). Γ(k) = γ_{k+3}(u) + γ_{k+3}(2⁻⁵³): k multiply-adds, two input
 * roundings and one elementwise float64 step, in each run. With g_ℓ = (softmax − onehot)/N,
 * |g_ℓ| ≤ 1/N and Σ_c|g_ℓ| ≤ 2/N; |head.W| ≤ 1; the matched-ST factor 2σ(1−σ) ≤ 1/2; |x| ≤ 1:
 *   e(head.W) = Γ(N)·N·(1/N)              g_ℓ is exact (exact forward)
 *   e(g_h2)   = Γ(C)·2/N                  g_h2 = g_ℓ·head.Wᵀ, |g_h2| ≤ 2/N
 *   e(g_a2)   = e(g_h2)/2                 |g_a2| ≤ 1/N
 *   e(layer2.W) = Γ(N)·N·(1/N + e(g_a2)) + N·e(g_a2),   e(layer2.b) = N·e(g_a2) + γ_N(2⁻⁵³)
 *   e(g_h1)   = Γ(D2)·D2·(1/N + e(g_a2)) + D2·e(g_a2)   |g_h1| ≤ D2/N
 *   e(g_a1)   = e(g_h1)/2                 |g_a1| ≤ D2/(2N)
 *   e(layer1.W) = Γ(N)·N·(D2/(2N) + e(g_a1)) + N·e(g_a1), e(layer1.b) = N·e(g_a1) + γ_N(2⁻⁵³)·D2/2
 */
const bounds = (u: number): Record<string, number> => {
  const G = (k: number): number => gamma(k + 3, u) + gamma(k + 3, U64)
  const eA2 = (G(C) * 2) / N / 2
  const eA1 = (G(D2) * D2 * (1 / N + eA2) + D2 * eA2) / 2
  return {
    'head.W': G(N),
    'head.b': 0,
    'layer2.W': G(N) * N * (1 / N + eA2) + N * eA2,
    'layer2.b': N * eA2 + gamma(N, U64),
    'layer1.W': G(N) * N * (D2 / (2 * N) + eA1) + N * eA1,
    'layer1.b': N * eA1 + (gamma(N, U64) * D2) / 2,
  }
}

const lawFor = (name: string, kernels: MatrixProducts, u: number): void => {
  const bound = bounds(u)
  it(`gradient with ${name} kernels ≡ reference gradient within the propagated bound; same samples and loss`, () => {
    fc.assert(fc.property(arbSetup, (s) => {
      const checked = typecheck({ outputs, params: s.params })
      if (E.isLeft(checked)) throw new Error(JSON.stringify(checked.left))
      const feed = { x: { shape: [N, D0], data: s.x }, y: { shape: [N], data: s.y } }
      const want = gradientWith(checked.right, feed, referenceProducts, s.seed)
      const got = gradientWith(checked.right, feed, kernels, s.seed)
      expect(got.perExample).toEqual(want.perExample)
      expect(Object.keys(got.grad).sort()).toEqual(Object.keys(bound).sort())
      for (const [param, g] of Object.entries(got.grad)) {
        const w = want.grad[param]!
        expect(g.length).toBe(w.length)
        let worst = 0
        for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!))
        expect(worst, param).toBeLessThanOrEqual(bound[param]!)
      }
    }), { seed: 6064, numRuns: 15 })
  })
}

describe('training gradient through prepareGradient', () => {
  const wasm = wasmProducts()
  if (E.isLeft(wasm)) throw new Error('the test host must have WebAssembly SIMD')
  lawFor('wasm (f32)', wasm.right, U32)
  lawFor('js (f64)', jsProducts, U64)
})

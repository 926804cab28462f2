/**
 * Recycled results on a conv net (src/train/fast/recycle.ts; the MLP's laws are in
 * recycle.test.ts): the convolutions, pooling, batch norm, bias adds and ST factors take their
 * large results from arrays a previous draw gave back. That changes where results live, never
 * their values, and nothing a draw returns is overwritten by a later one.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { key } from '../../../src/dsl/random.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { GradientResult } from '../../../src/estimators/result.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { withBatchNormMode } from '../../../src/train/modes.js'
import { presetNetwork } from '../../../src/train/presets.js'

describe('conv-net gradient draws with recycled results', () => {
  const N = 6
  const made = presetNetwork({ kind: 'conv', channels: [4, 6] }, { inputShape: [1, 16, 16], classes: 5, batchNorm: true, key: key(3) })
  if (E.isLeft(made)) throw new Error(JSON.stringify(made.left))
  const net: Checked<Network> = withBatchNormMode(made.right, 'train')
  const wasm = wasmProducts()
  if (E.isLeft(wasm)) throw new Error('the test host must have WebAssembly SIMD')
  // The same kernels without recycling: every result a fresh array.
  const { alloc: _alloc, release: _release, ...plain } = wasm.right
  const feed = (seed: number) => ({
    x: { shape: [N, 1, 16, 16], data: Float64Array.from({ length: N * 256 }, (_, i) => ((i * 37 + seed * 11) % 256) / 255) },
    y: { shape: [N], data: Float64Array.from({ length: N }, (_, i) => (i + seed) % 5) },
  })
  const draws = (products: MatrixProducts): GradientResult[] =>
    [0, 1, 2, 0].map((s) => {
      const p = prepareGradient(net, feed(s), { products })
      if (E.isLeft(p)) throw new Error(JSON.stringify(p.left))
      return p.right(key(40 + s))
    })

  it('law: draws with recycled results ≡ draws with fresh arrays, bit for bit, and earlier results are not overwritten by later draws', () => {
    const withArena = draws(wasm.right)
    const fresh = draws(plain)
    withArena.forEach((r, i) => {
      const f = fresh[i]!
      expect(r.loss).toBe(f.loss)
      expect(r.perExample).toEqual(f.perExample)
      for (const [name, g] of Object.entries(f.grad)) expect(r.grad[name]).toEqual(g)
      for (const [name, s] of Object.entries(f.batchStats)) expect(r.batchStats[name]!.variance).toEqual(s.variance)
    })
    // Draws 0 and 3 are the same draw: the same bits, however many draws came between.
    for (const [name, g] of Object.entries(withArena[0]!.grad)) expect(withArena[3]!.grad[name]).toEqual(g)
  })
})

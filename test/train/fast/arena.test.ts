/**
 * The per-draw arena of the fast kernels (src/train/fast/arena.ts): it changes where large
 * results live, never their values, and nothing it hands out inside a draw escapes the draw.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { key } from '../../../src/dsl/random.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { GradientResult } from '../../../src/estimators/result.js'
import type { MatrixProducts } from '../../../src/interpreters/reference/ops.js'
import { ARENA_MIN, passArena } from '../../../src/train/fast/arena.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { withBatchNormMode } from '../../../src/train/modes.js'
import { presetNetwork } from '../../../src/train/presets.js'

describe('passArena', () => {
  it('hands out fresh zeroed arrays outside a scope, and below ARENA_MIN elements', () => {
    const a = passArena()
    const x = a.alloc(ARENA_MIN)
    expect(x.every((v) => v === 0)).toBe(true)
    expect(a.alloc(ARENA_MIN)).not.toBe(x)
    a.scoped(() => expect(a.alloc(ARENA_MIN - 1)).not.toBe(a.alloc(ARENA_MIN - 1)))
  })

  it('gives distinct buffers within a scope and reuses them in the next, releasing only at the outermost scope', () => {
    const a = passArena()
    const [p, q] = a.scoped(() => [a.alloc(ARENA_MIN), a.scoped(() => a.alloc(ARENA_MIN))] as const)
    expect(p).not.toBe(q)
    const again = a.scoped(() => [a.alloc(ARENA_MIN), a.alloc(ARENA_MIN), a.alloc(ARENA_MIN)])
    expect(new Set(again).has(p) && new Set(again).has(q)).toBe(true)
    expect(new Set(again).size).toBe(3)
  })

  it('drops buffers of a length unused for two scopes', () => {
    const a = passArena()
    const p = a.scoped(() => a.alloc(ARENA_MIN))
    a.scoped(() => a.alloc(ARENA_MIN + 1))
    a.scoped(() => a.alloc(ARENA_MIN + 1))
    expect(a.scoped(() => a.alloc(ARENA_MIN))).not.toBe(p)
  })

  it('releases its buffers when the scope throws', () => {
    const a = passArena()
    let p: Float64Array | undefined
    expect(() => a.scoped(() => { p = a.alloc(ARENA_MIN); throw new Error('boom') })).toThrow('boom')
    expect(a.scoped(() => a.alloc(ARENA_MIN))).toBe(p)
  })
})

describe('gradient draws with the arena', () => {
  const N = 6
  const made = presetNetwork({ kind: 'conv', channels: [4, 6] }, { inputShape: [1, 16, 16], classes: 5, batchNorm: true, key: key(3) })
  if (E.isLeft(made)) throw new Error(JSON.stringify(made.left))
  const net: Checked<Network> = withBatchNormMode(made.right, 'train')
  const wasm = wasmProducts()
  if (E.isLeft(wasm)) throw new Error('the test host must have WebAssembly SIMD')
  // The same kernels without the arena: every result a fresh array.
  const { alloc: _alloc, scoped: _scoped, ...plain } = wasm.right
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

  it('law: draws with the arena ≡ draws with fresh arrays, bit for bit, and earlier results are not overwritten by later draws', () => {
    // The first activation (6·4·16·16 = 6 144 values) is above ARENA_MIN, so the arena is used.
    expect(N * 4 * 16 * 16).toBeGreaterThanOrEqual(ARENA_MIN)
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

/**
 * Laws of the one XOR–popcount emitter (src/wasm/popcount.ts): every form it emits (unrolled,
 * looped with a known length, looped with a run-time length) computes popcount(x XOR w) of two
 * packed rows exactly, and `signDot` turns it into the ±1 dot product of the rows' values.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { packRows, rowWords64, signDot as signDotJs } from '../../src/wasm/bitLayout.js'
import type { Code, WasmFunction } from '../../src/wasm/code.js'
import { func, get, i32c, set } from '../../src/wasm/code.js'
import { op } from '../../src/wasm/opcodes.js'
import { assemble } from '../../src/wasm/module.js'
import { signDot, xorPopcount } from '../../src/wasm/popcount.js'
import { wasmApi } from '../../src/wasm/runtime.js'

const WA = wasmApi()!

/** `dot(x, w[, words]) → i32`: the emitter's dot for a constant length, or a run-time one. */
const dotFunction = (name: string, words: number | 'run-time', n?: number): WasmFunction =>
  func(name, words === 'run-time' ? ['i32', 'i32', 'i32'] : ['i32', 'i32'], ['i32'], (p, local) => {
    const pairsEnd = local('i32')
    const odd = local('i32')
    const pop: Code = xorPopcount({ x: p[0]!, w: p[1]!, words: words === 'run-time' ? { pairsEnd, odd } : words, local })
    const setup: Code = words === 'run-time'
      ? [set(pairsEnd, [get(p[0]!), get(p[2]!), i32c(-2), op.i32_and, i32c(3), op.i32_shl, op.i32_add]), set(odd, [get(p[2]!), i32c(1), op.i32_and])]
      : []
    return [setup, n === undefined ? pop : signDot(i32c(n), pop)]
  })

const instantiate = (fns: readonly WasmFunction[]): { mem: { buffer: ArrayBufferLike }; exports: Readonly<Record<string, unknown>> } => {
  const mem = new WA.Memory({ initial: 8 })
  const exports = new WA.Instance(new WA.Module(assemble(fns)), { env: { mem } }).exports
  return { mem, exports }
}

const popcount32 = (v: number): number => {
  let c = 0
  for (let x = v >>> 0; x !== 0; x &= x - 1) c++
  return c
}

describe('src/wasm/popcount: the one XOR–popcount emitter', () => {
  // Unrolled without groups (3), unrolled with a fence-free group and a tail (13), unrolled
  // whole groups (64), looped groups and a tail (77), and the run-time loop at all of these.
  const sizes = [1, 3, 8, 13, 64, 77, 200]

  it('law: popcount(x XOR w) ≡ the bit count of the XOR, for constant and run-time word counts', () => {
    const fns = [...sizes.map((w) => dotFunction(`s${w}`, w)), dotFunction('dyn', 'run-time')]
    const { mem, exports } = instantiate(fns)
    fc.assert(fc.property(fc.constantFrom(...sizes), fc.integer(), (words, seed) => {
      const u32 = new Uint32Array(mem.buffer)
      let s = seed | 1
      const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) | 0)
      for (let i = 0; i < 4 * words; i++) u32[i] = next()
      let want = 0
      for (let i = 0; i < 2 * words; i++) want += popcount32(u32[i]! ^ u32[2 * words + i]!)
      const xAt = 0
      const wAt = 8 * words
      expect((exports[`s${words}`] as (x: number, w: number) => number)(xAt, wAt)).toBe(want)
      expect((exports['dyn'] as (x: number, w: number, n: number) => number)(xAt, wAt, words)).toBe(want)
    }), { seed: 77, numRuns: 200 })
  })

  it('law: signDot(n, popcount) ≡ Σ xᵢ·wᵢ of ±1 rows packed in the bit layout (padding bits zero)', () => {
    const arb = fc.integer({ min: 1, max: 300 }).chain((n) =>
      fc.tuple(fc.constant(n), fc.array(fc.constantFrom(1, -1), { minLength: 2 * n, maxLength: 2 * n })))
    fc.assert(fc.property(arb, ([n, xs]) => {
      const words = rowWords64(n)
      const { mem, exports } = instantiate([dotFunction('dot', words, n), dotFunction('dyn', 'run-time')])
      const rows = new Int32Array(mem.buffer, 0, 4 * words)
      packRows(xs, 2, n, 64, rows)
      let want = 0
      for (let i = 0; i < n; i++) want += xs[i]! * xs[n + i]!
      expect((exports['dot'] as (x: number, w: number) => number)(0, 8 * words)).toBe(want)
      expect(signDotJs(n, (exports['dyn'] as (x: number, w: number, k: number) => number)(0, 8 * words, words))).toBe(want)
    }), { seed: 78, numRuns: 60 })
  })
})

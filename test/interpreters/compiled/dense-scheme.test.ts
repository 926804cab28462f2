/**
 * The binary dense product's popcount schemes (src/wasm/popcount.ts): the default `scalar` scheme
 * (one `i64.popcnt` per word; x's words in locals up to 64 words, else a fence store every four
 * words) and the former `mixed` one (two SIMD
 * words and six scalar per group of eight) count exactly. End to end, the compiled binary layer ≡
 * the reference, bit for bit, at batch 1 and above, on widths across every edge of the scalar
 * scheme: fewer than four words, a partial quad, the last fully unrolled row (64 words) and the
 * looped rows past it (eight words per iteration and a tail); at the emitter level, both schemes
 * with a fence, and the scalar one with x's words held in locals, ≡ the ±1 dot product on
 * generated rows.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { binarize, input, matmul, param } from '../../../src/dsl/primitives.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { packRows, rowWords64 } from '../../../src/wasm/bitLayout.js'
import type { WasmFunction } from '../../../src/wasm/code.js'
import { func, get, i32c, set } from '../../../src/wasm/code.js'
import { assemble } from '../../../src/wasm/module.js'
import type { DotScheme } from '../../../src/wasm/popcount.js'
import { loadWords, signDot, UNROLL_LIMIT, xorPopcount } from '../../../src/wasm/popcount.js'
import { wasmApi } from '../../../src/wasm/runtime.js'
import { build, checked, uniforms } from './nets.js'

const WA = wasmApi()!

// Input widths in bits: 1–3 words, a partial quad, whole quads; 64 words (4096, the batch-1 layer),
// the last unrolled row; 65–90 words, looped by eight with a tail of 0–7 words.
const arbWidth = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 4030, max: 4100 }), fc.integer({ min: 4101, max: 5760 }))

const arbShape = fc.record({
  inputWidth: arbWidth,
  width: fc.integer({ min: 1, max: 70 }),
  batch: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 5 })),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

const compare = (net: ReturnType<typeof checked>, feed: Feed): { got: number[]; want: number[]; plan: string[] } => {
  const c = compile(net, { backend: 'wasm', mode: 'mode' })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  const got = c.right.run(feed)
  if (E.isLeft(got)) throw new Error(drawRunError(got.left))
  const ref = forward(net, feed, { mode: 'mode' })
  if (E.isLeft(ref)) throw new Error(drawRunError(ref.left))
  const name = Object.keys(net.outputs)[0]!
  return { got: Array.from(got.right[name]!.data), want: Array.from(ref.right.values.get(net.outputs[name]!)!.data), plan: c.right.describe() }
}

const pm1 = (rnd: () => number, n: number): Float64Array => Float64Array.from({ length: n }, () => (rnd() < 0.5 ? -1 : 1))

describe('binary dense product, scalar popcount scheme ≡ reference', () => {
  it('law: a binary layer with its sign epilogue (bits) ≡ reference, batch 1 and above, widths across every quad, unroll and loop edge', () => {
    fc.assert(
      fc.property(arbShape, (s) => {
        const { net } = build({ input: 'binary', inputWidth: s.inputWidth, layers: [{ width: s.width, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: s.batch, seed: s.seed })
        const feed: Feed = { x: { shape: [s.batch, s.inputWidth], data: pm1(uniforms(s.seed + 1), s.batch * s.inputWidth) } }
        const { got, want, plan } = compare(net, feed)
        expect(got, JSON.stringify(s)).toEqual(want)
        expect(plan.some((l) => l.includes('kernel BinaryDense')), plan.join('\n')).toBe(true)
      }),
      { numRuns: 40, seed: 20261209 },
    )
  })

  it('law: the raw product x·sign(W) of ±1 inputs (the dot epilogue) ≡ reference, exactly', () => {
    fc.assert(
      fc.property(arbShape, (s) => {
        const rnd = uniforms(s.seed)
        const x = input('x', ['batch', s.inputWidth], 'binary')
        const y = matmul(x, binarize(param('W', [s.inputWidth, s.width]), { family: 'none' }, 'W'))
        const net = checked({ outputs: { y }, params: { W: Float64Array.from({ length: s.inputWidth * s.width }, () => rnd() * 2 - 1) } })
        const feed: Feed = { x: { shape: [s.batch, s.inputWidth], data: pm1(rnd, s.batch * s.inputWidth) } }
        const { got, want, plan } = compare(net, feed)
        expect(got, JSON.stringify(s)).toEqual(want)
        expect(plan.some((l) => l.includes('kernel BinaryDense')), plan.join('\n')).toBe(true)
      }),
      { numRuns: 25, seed: 20261210 },
    )
  })
})

/**
 * `dot(x, w, fence) → i32`: the emitter's ±1 dot of n features in `scheme`, with the fence slot at
 * `fence`; `locals`: x's words loaded into i64 locals first (`xWords`, rows of ≤ 64 words).
 */
const dotFunction = (name: string, n: number, scheme: DotScheme, locals = false): WasmFunction =>
  func(name, ['i32', 'i32', 'i32'], ['i32'], ([x, w, fence], local) => {
    const f = local('i32')
    const xWords = locals ? Array.from({ length: rowWords64(n) }, () => local('i64')) : undefined
    return [
      set(f, get(fence!)),
      xWords === undefined ? [] : loadWords(x!, xWords),
      signDot(i32c(n), xorPopcount({ x: x!, w: w!, words: rowWords64(n), local, fence: f, scheme, ...(xWords === undefined ? {} : { xWords }) })),
    ]
  })

describe('src/wasm/popcount: both constant-length schemes with a fence', () => {
  it('law: scalar ≡ scalar with x in locals ≡ mixed ≡ Σ xᵢ·wᵢ of ±1 rows, for widths of 1 to 90 words (odd word counts included)', () => {
    const arb = fc.tuple(fc.oneof(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 4000, max: 5760 })), fc.integer({ min: 1, max: 2 ** 30 }))
    fc.assert(fc.property(arb, ([n, seed]) => {
      const words = rowWords64(n)
      const mem = new WA.Memory({ initial: 1 })
      const fns = [dotFunction('scalar', n, 'scalar'), dotFunction('mixed', n, 'mixed'), ...(words <= UNROLL_LIMIT ? [dotFunction('locals', n, 'scalar', true)] : [])]
      const ex = new WA.Instance(new WA.Module(assemble(fns)), { env: { mem } }).exports
      const xs = pm1(uniforms(seed), 2 * n)
      packRows(xs, 2, n, 64, new Int32Array(mem.buffer, 0, 4 * words))
      let want = 0
      for (let i = 0; i < n; i++) want += xs[i]! * xs[n + i]!
      const fence = 16 * words
      for (const scheme of fns.map((f) => f.name)) expect((ex[scheme] as (x: number, w: number, f: number) => number)(0, 8 * words, fence), `${scheme} n=${n}`).toBe(want)
    }), { seed: 20261211, numRuns: 60 })
  })
})

/**
 * The batch binary dense kernel (kernels-wasm/dense-tiled.ts: tiles of rows × one unit, units
 * in descending order, rows past the last tile through the one-pair loop's code) ≡ the one-pair
 * loop of dense.ts, word for word, on generated shapes across every edge: rows not a multiple of
 * the tile (1 to 9 rows, tiles of 2, 3 and 4), units not a multiple of the 32-unit block (a
 * padding half-word), widths of 1 to 64 words (partial words included); thresholds that are
 * never, always or sometimes +1, and the dot epilogue. End to end, sampled layers at batch ≥ 2
 * ≡ Monte Carlo for the same key (the sample epilogue's draws follow the row and unit).
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { key } from '../../../src/dsl/random.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { BinaryDense } from '../../../src/interpreters/compiled/kernels.js'
import { binaryDense } from '../../../src/interpreters/compiled/kernels-wasm/dense.js'
import { tiledBinaryDense } from '../../../src/interpreters/compiled/kernels-wasm/dense-tiled.js'
import { rowBytes } from '../../../src/interpreters/compiled/layout.js'
import { packRows } from '../../../src/wasm/bitLayout.js'
import { assemble } from '../../../src/wasm/module.js'
import { wasmApi } from '../../../src/wasm/runtime.js'
import { build, uniforms } from './nets.js'

const WA = wasmApi()!

const arbShape = fc.record({
  rows: fc.integer({ min: 1, max: 9 }),
  k: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 3900, max: 4096 })),
  n: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 90, max: 100 })),
  tile: fc.constantFrom(2, 3, 4),
  epilogue: fc.constantFrom('sign' as const, 'dot' as const),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})
type Shape = typeof arbShape extends fc.Arbitrary<infer S> ? S : never

/** The one-pair loop's output bytes and the tiled kernel's, on the same random layer. */
const outputs = (s: Shape): { want: Int32Array; got: Int32Array } => {
  const stride = rowBytes(s.k, 64)
  const outBytes = s.epilogue === 'sign' ? s.rows * rowBytes(s.n, 64) : 8 * s.rows * s.n
  const at = { x: 64, w: 64 + s.rows * stride }
  const thr = at.w + s.n * stride
  const out = thr + 8 * s.n + 64
  const end = out + outBytes + 64
  const mem = new WA.Memory({ initial: Math.ceil(end / 65536) })
  const rnd = uniforms(s.seed)
  const pm1 = (count: number): Float64Array => Float64Array.from({ length: count }, () => (rnd() < 0.5 ? -1 : 1))
  packRows(pm1(s.rows * s.k), s.rows, s.k, 64, new Int32Array(mem.buffer, at.x, s.rows * stride / 4))
  packRows(pm1(s.n * s.k), s.n, s.k, 64, new Int32Array(mem.buffer, at.w, s.n * stride / 4))
  // (lo, span): never (0, 0), always (−2^31, 2^32 − 1), or an interval around a random dot.
  const t = new Int32Array(mem.buffer, thr, 2 * s.n)
  for (let j = 0; j < s.n; j++) {
    const kind = Math.floor(rnd() * 4)
    const lo = Math.round((rnd() * 2 - 1) * s.k)
    t.set(kind === 0 ? [0, 0] : kind === 1 ? [-(2 ** 31), -1] : [lo, Math.floor(rnd() * s.k)], 2 * j)
  }
  const kernel: BinaryDense = { _tag: 'BinaryDense', label: 'L', x: 0, w: 1, out: 2, k: s.k, width: s.k, n: s.n, epilogue: s.epilogue === 'sign' ? { kind: 'sign', thresholds: 3 } : { kind: 'dot' } }
  const fns = [{ ...binaryDense(kernel, 'scalar', true, false), name: 'pair' }, { ...tiledBinaryDense(kernel, s.tile), name: 'tiled' }]
  const ex = new WA.Instance(new WA.Module(assemble(fns, 1)), { env: { mem } }).exports
  const run = (name: string): Int32Array => {
    new Int32Array(mem.buffer, out, outBytes / 4).fill(-1)
    ;(ex[name] as (...a: number[]) => void)(s.rows, at.x, at.w, out, thr)
    return new Int32Array(mem.buffer, out, outBytes / 4).slice()
  }
  return { want: run('pair'), got: run('tiled') }
}

describe('batch binary dense kernel: tiles of rows ≡ the one-pair loop', () => {
  it('law: tiled ≡ one-pair, word for word (sign bits with their padding, or float64 dots), across every row, unit and word edge', () => {
    fc.assert(
      fc.property(arbShape, (s) => {
        const { want, got } = outputs(s)
        expect(Array.from(got), JSON.stringify(s)).toEqual(Array.from(want))
      }),
      { numRuns: 60, seed: 20261207 },
    )
  })

  it('law: a sampled binary layer (sample epilogue) ≡ Monte Carlo for the same key, batches 2 to 9', () => {
    const arb = fc.record({ width: fc.integer({ min: 1, max: 70 }), inputWidth: fc.integer({ min: 1, max: 300 }), batch: fc.integer({ min: 2, max: 9 }), seed: fc.integer({ min: 1, max: 2 ** 30 }) })
    fc.assert(
      fc.property(arb, (s) => {
        const { net } = build({ input: 'binary', inputWidth: s.inputWidth, layers: [{ width: s.width, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'logistic', scale: 3 } }], head: 0, loss: false, batch: s.batch, seed: s.seed })
        const rnd = uniforms(s.seed + 1)
        const feed: Feed = { x: { shape: [s.batch, s.inputWidth], data: Float64Array.from({ length: s.batch * s.inputWidth }, () => (rnd() < 0.5 ? -1 : 1)) } }
        const c = compile(net, { backend: 'wasm', mode: 'sample' })
        if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
        const k = key(s.seed)
        const got = c.right.run(feed, k)
        if (E.isLeft(got)) throw new Error(drawRunError(got.left))
        const ref = forward(net, feed, { mode: 'sample', key: k })
        if (E.isLeft(ref)) throw new Error(drawRunError(ref.left))
        const name = Object.keys(net.outputs)[0]!
        expect(Array.from(got.right[name]!.data), JSON.stringify(s)).toEqual(Array.from(ref.right.values.get(net.outputs[name]!)!.data))
        expect(c.right.describe().some((l) => l.includes('kernel BinaryDense')), c.right.describe().join('\n')).toBe(true)
      }),
      { numRuns: 25, seed: 20261208 },
    )
  })
})

/**
 * The 8-bit first layer (`ByteDense`: the nibble tables of kernels-wasm/bytes-nibbles.ts up to 4368
 * inputs, else the register-blocked byte masks of kernels-wasm/bytes.ts) against the
 * reference, bit for bit, on shapes chosen to cross every edge of its blocking: input widths not a
 * multiple of 16 and past one 16-bit flush (128 vectors = 2048 bytes), unit counts across blocks of
 * 32 and tiles of 4 with a tail, batches that leave a row past the last tile of 2, batch 1; the
 * sign (mode), sample and dot (a raw product as output) epilogues.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { binarize, input, matmul, param } from '../../../src/dsl/primitives.js'
import { key } from '../../../src/dsl/random.js'
import type { Key } from '../../../src/dsl/random.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { CompiledMode } from '../../../src/interpreters/compiled/index.js'
import { arbLayer, build, checked, uniforms } from './nets.js'

const arbShape = fc.record({
  // 1 … 2300 inputs: below one vector, across vectors, past one 16-bit flush (2048 bytes)
  inputWidth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2000, max: 2300 }), fc.integer({ min: 41, max: 999 })),
  width: fc.integer({ min: 1, max: 100 }),
  batch: fc.integer({ min: 1, max: 9 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

const outputs = (net: Checked<Network>, feed: Feed, mode: CompiledMode, k?: Key): { got: number[]; want: number[]; plan: string[] } => {
  const c = compile(net, { backend: 'wasm', mode })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  const got = c.right.run(feed, k)
  if (E.isLeft(got)) throw new Error(drawRunError(got.left))
  const ref = forward(net, feed, k === undefined ? { mode: 'mode' } : { mode: 'sample', key: k })
  if (E.isLeft(ref)) throw new Error(drawRunError(ref.left))
  const name = Object.keys(net.outputs)[0]!
  return { got: Array.from(got.right[name]!.data), want: Array.from(ref.right.values.get(net.outputs[name]!)!.data), plan: c.right.describe() }
}

describe('8-bit first layer (ByteDense, 2 × 4 tiles) ≡ reference', () => {
  it('law: tiled 8-bit product ≡ reference in the mode network and sampled passes (bit-exact; k, units, batch across every tile edge)', () => {
    fc.assert(
      fc.property(arbShape, arbLayer, fc.constantFrom<CompiledMode>('mode', 'sample'), (s, layer, mode) => {
        const { net, feed } = build({ input: 'uint8', inputWidth: s.inputWidth, layers: [{ ...layer, width: s.width }], head: 0, loss: false, batch: s.batch, seed: s.seed })
        const { got, want, plan } = outputs(net, feed, mode, mode === 'mode' ? undefined : key(s.seed))
        expect(got, JSON.stringify({ s, layer, mode })).toEqual(want)
        // sampled weights are drawn per pass, so that product takes the bit-planes instead
        if (mode === 'mode' || layer.weightNoise.family === 'none') expect(plan.some((l) => l.includes('kernel ByteDense')), plan.join('\n')).toBe(true)
      }),
      { numRuns: 40, seed: 20261207 },
    )
  })

  it('law: the raw product x·sign(W) from 8-bit inputs (the dot epilogue) ≡ reference (bit-exact)', () => {
    fc.assert(
      fc.property(arbShape, (s) => {
        const rnd = uniforms(s.seed)
        const x = input('x', ['batch', s.inputWidth])
        const y = matmul(x, binarize(param('W', [s.inputWidth, s.width]), { family: 'none' }, 'W'))
        const net = checked({ outputs: { y }, params: { W: Float64Array.from({ length: s.inputWidth * s.width }, () => rnd() * 2 - 1) } })
        const feed: Feed = { x: { shape: [s.batch, s.inputWidth], data: Float64Array.from({ length: s.batch * s.inputWidth }, () => Math.floor(rnd() * 256)) } }
        const { got, want, plan } = outputs(net, feed, 'mode')
        expect(got, JSON.stringify(s)).toEqual(want)
        expect(plan.some((l) => l.includes('kernel ByteDense')), plan.join('\n')).toBe(true)
      }),
      { numRuns: 25, seed: 20261208 },
    )
  })

  it('pinned: MNIST-sized 784 → 100 at batch 5 (49 vectors, 3 blocks with a rest of 4, a row past the tiles), every pixel 255', () => {
    const { net } = build({ input: 'uint8', inputWidth: 784, layers: [{ width: 100, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: 5, seed: 7 })
    const feed: Feed = { x: { shape: [5, 784], data: new Float64Array(5 * 784).fill(255) } }
    const { got, want } = outputs(net, feed, 'mode')
    expect(got).toEqual(want)
  })

  it('pinned: the 16-bit lanes at their largest (2100 pixels of 255, every weight +1: two flushes, 2100·255 per unit)', () => {
    const k = 2100
    const x = input('x', ['batch', k])
    const y = matmul(x, binarize(param('W', [k, 5]), { family: 'none' }, 'W'))
    const net = checked({ outputs: { y }, params: { W: new Float64Array(k * 5).fill(1) } })
    const feed: Feed = { x: { shape: [3, k], data: new Float64Array(3 * k).fill(255) } }
    const { got, want } = outputs(net, feed, 'mode')
    expect(got).toEqual(want)
    expect(got[0]).toBe(k * 255)
  })
})

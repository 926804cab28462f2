/**
 * `infer` with uint8 pixels into a real first convolution (entries.ts `ConvEntry`: the bytes
 * widened straight into the int16 grid by the convolution's twin, `RealConv.bytes`) ≡ `run` on
 * the same values as float64, bit for bit: generated geometries (odd image widths, so every tail
 * of the eight-pixel loads, channels, strides down, padding with an integer pad value, a
 * max-pool and a batch norm or not), batch 1–5, one thread and two; and a wrong length as a clear
 * error.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Node } from '../../../src/dsl/node.js'
import { none } from '../../../src/dsl/noise.js'
import { add, batchNormalization, binarize, conv2d, input, matmul, param, pool, reshape } from '../../../src/dsl/primitives.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { entriesOf } from '../../../src/interpreters/compiled/entries.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import { checked, uniforms } from './nets.js'

const arbSpec = fc.record({
  channels: fc.integer({ min: 1, max: 3 }),
  height: fc.integer({ min: 2, max: 12 }),
  width: fc.integer({ min: 1, max: 21 }),
  filters: fc.integer({ min: 1, max: 20 }),
  kernel: fc.integer({ min: 1, max: 3 }),
  strideY: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  padValue: fc.constantFrom(0, 0, -1, 255),
  pool: fc.boolean(),
  bn: fc.boolean(),
  batch: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})
type Spec = typeof arbSpec extends fc.Arbitrary<infer S> ? S : never

const build = (s: Spec) => {
  const rnd = uniforms(s.seed)
  const params: Record<string, Float64Array> = {}
  const values = (name: string, shape: readonly number[], f: () => number): Node => {
    params[name] = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f)
    return param(name, shape)
  }
  const k = Math.min(s.kernel, s.height + 2 * s.padding, s.width + 2 * s.padding)
  const w = binarize(values('c.W', [s.filters, s.channels, k, k], () => rnd() * 4 - 2), none, 'c.W')
  let a: Node = add(conv2d(input('x', ['batch', s.channels, s.height, s.width]), w, { stride: [s.strideY, 1], padding: s.padding, padValue: s.padValue }), values('c.b', [s.filters, 1, 1], () => rnd() * 200 - 100))
  let height = Math.floor((s.height + 2 * s.padding - k) / s.strideY) + 1
  let width = s.width + 2 * s.padding - k + 1
  if (s.pool && height >= 2 && width >= 2) {
    a = pool('max', a, 2)
    height = Math.floor(height / 2)
    width = Math.floor(width / 2)
  }
  if (s.bn)
    a = batchNormalization(a, {
      gamma: values('c.gamma', [s.filters], () => rnd() * 4 - 2), beta: values('c.beta', [s.filters], () => rnd() * 2 - 1),
      runningMean: values('c.mean', [s.filters], () => rnd() * 200 - 100), runningVar: values('c.var', [s.filters], () => rnd() * 900 + 0.01),
    } as never, 'inference')
  const features = s.filters * height * width
  const flat = reshape(binarize(a, none, 'c.act'), ['batch', features])
  const output = add(matmul(flat, values('head.W', [features, 3], () => rnd() * 2 - 1)), values('head.b', [3], () => rnd()))
  const pixels = Uint8Array.from({ length: s.batch * s.channels * s.height * s.width }, () => Math.floor(rnd() * 256))
  return { net: checked({ outputs: { features: flat, output }, params }), shape: [s.batch, s.channels, s.height, s.width], pixels }
}

describe('infer: uint8 pixels into a real first convolution', () => {
  it('law: infer(uint8) ≡ run(float64 of the same values), bit for bit, one thread and two', () => {
    let entered = 0
    fc.assert(fc.property(arbSpec, fc.constantFrom(1, 2), (s, threads) => {
      const { net, shape, pixels } = build(s)
      const c = compile(net, { backend: 'wasm', mode: 'mode', threads })
      if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
      if (entriesOf(c.right.plan, true).convs.has('x')) entered++
      const want = c.right.run({ x: { shape, data: Float64Array.from(pixels) } })
      // twice: the second call reuses the placed buffers and the cached steps
      for (let i = 0; i < 2; i++) {
        const got = c.right.infer({ x: { shape, data: pixels } })
        if (E.isLeft(want) || E.isLeft(got)) throw new Error(E.isLeft(want) ? drawRunError(want.left) : E.isLeft(got) ? drawRunError(got.left) : '')
        for (const name of ['features', 'output']) expect(Array.from(got.right[name]!.data), `${threads} threads ${name}`).toEqual(Array.from(want.right[name]!.data))
      }
      c.right.close()
    }), { numRuns: 60, seed: 1371 })
    expect(entered).toBeGreaterThan(40)
  })

  it('the conv:16,32 first layer takes the uint8 entry; float64 and int8 inputs keep the general path', () => {
    const { net, shape, pixels } = build({ channels: 1, height: 28, width: 28, filters: 16, kernel: 3, strideY: 1, padding: 1, padValue: 0, pool: true, bn: true, batch: 3, seed: 9 })
    const c = compile(net, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
    expect(entriesOf(c.right.plan, true).convs.get('x')?.n).toBe(784)
    const want = c.right.run({ x: { shape, data: Float64Array.from(pixels) } })
    const signed = Int8Array.from(pixels, (p) => p - 128)
    const wantSigned = c.right.run({ x: { shape, data: Float64Array.from(signed) } })
    if (E.isLeft(want) || E.isLeft(wantSigned)) throw new Error('run failed')
    for (const [data, w] of [[pixels, want.right], [Float64Array.from(pixels), want.right], [signed, wantSigned.right]] as const) {
      const got = c.right.infer({ x: { shape, data } })
      if (E.isLeft(got)) throw new Error(drawRunError(got.left))
      expect(Array.from(got.right['output']!.data), data.constructor.name).toEqual(Array.from(w['output']!.data))
    }
    // A uint8 image of the wrong length is a clear error, never a wrong answer.
    const short = c.right.infer({ x: { shape, data: pixels.subarray(1) } })
    expect(E.isLeft(short) && drawRunError(short.left)).toMatch(/data\.x has 2351 values, shape \[3, 1, 28, 28\] needs 2352/)
  })
})

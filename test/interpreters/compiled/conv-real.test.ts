/**
 * Convolutional networks end to end through the kernels: a real first convolution (`RealConv`:
 * the reference's float64 sums with a float sign epilogue), and a binarize of a max-pool with a
 * per-channel chain on either side (bias and scale before, batch norm of either sign and a
 * monotone op after: the convolution with the combined threshold, then `PoolOr`, AND on the
 * channels where the chain after the pool decreases). Law: compiled ≡ reference, bit for bit,
 * on every back end, on generated geometries (strides, padding and its value, odd sizes,
 * channel counts that are not multiples of the word width, more than 64 taps), for 8-bit and
 * real-valued pixels, and batches mixing integer images in [−255, 255] (the exact int16 path of
 * `RealConv`) with non-integer ones (its float64 path, chosen per example).
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network, Node, UnaryOp } from '../../../src/dsl/node.js'
import { none } from '../../../src/dsl/noise.js'
import { add, batchNormalization, binarize, conv2d, input, matmul, mul, param, pool, reshape, unary } from '../../../src/dsl/primitives.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import { checked, uniforms } from './nets.js'

interface Block {
  readonly filters: number
  readonly kernel: number
  readonly stride: number
  readonly padding: number
  readonly padValue: number
  readonly bias: 'none' | 'integer' | 'real'
  readonly scale: 'none' | 'negative' | 'positive'
  readonly pool: number
  readonly bn: boolean
  readonly unary: UnaryOp | 'none'
}

interface Spec {
  readonly channels: number
  readonly height: number
  readonly width: number
  /** `mixed`: integers in [−255, 255], and every second example has one value off by ½ (the int16 path per example). */
  readonly pixels: 'uint8' | 'real' | 'mixed'
  readonly blocks: readonly Block[]
  readonly batch: number
  readonly seed: number
}

const arbBlock = (first: boolean): fc.Arbitrary<Block> => fc.record({
  filters: fc.integer({ min: 1, max: 70 }),
  kernel: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  padValue: first ? fc.constantFrom(0, 0, 3, 255, 0.5, -1) : fc.constantFrom(-1, 0, 1),
  bias: fc.constantFrom('none' as const, 'integer' as const, 'real' as const),
  scale: fc.constantFrom('none' as const, 'none' as const, 'negative' as const, 'positive' as const),
  pool: fc.constantFrom(0, 2, 2, 3),
  bn: fc.boolean(),
  unary: fc.constantFrom<UnaryOp | 'none'>('none', 'none', 'tanh', 'neg', 'sigmoid', 'relu'),
})

const arbSpec: fc.Arbitrary<Spec> = fc.record({
  channels: fc.integer({ min: 1, max: 9 }),
  height: fc.integer({ min: 3, max: 11 }),
  width: fc.integer({ min: 3, max: 11 }),
  pixels: fc.constantFrom('uint8' as const, 'uint8' as const, 'real' as const, 'mixed' as const),
  blocks: fc.tuple(arbBlock(true), fc.array(arbBlock(false), { maxLength: 1 })).map(([a, rest]) => [a, ...rest]),
  batch: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

const build = (s: Spec): { readonly net: Checked<Network>; readonly feed: Feed } => {
  const rnd = uniforms(s.seed)
  const params: Record<string, Float64Array> = {}
  const values = (name: string, shape: readonly number[], f: () => number): Node => {
    params[name] = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f)
    return param(name, shape)
  }
  let h: Node = input('x', ['batch', s.channels, s.height, s.width])
  let [c, height, width] = [s.channels, s.height, s.width]
  s.blocks.forEach((l, i) => {
    const name = `c${i}`
    const k = Math.min(l.kernel, height + 2 * l.padding, width + 2 * l.padding)
    const w = binarize(values(`${name}.W`, [l.filters, c, k, k], () => rnd() * 4 - 2), none, `${name}.W`)
    let a: Node = conv2d(h, w, { stride: l.stride, padding: l.padding, padValue: l.padValue })
    height = Math.floor((height + 2 * l.padding - k) / l.stride) + 1
    width = Math.floor((width + 2 * l.padding - k) / l.stride) + 1
    if (l.bias !== 'none') a = add(a, values(`${name}.b`, [l.filters, 1, 1], () => (l.bias === 'integer' ? Math.round(rnd() * 40 - 20) : rnd() * 40 - 20)))
    if (l.scale !== 'none') a = mul(a, values(`${name}.s`, [l.filters, 1, 1], () => (l.scale === 'negative' ? -1 : 1) * (rnd() + 0.1)))
    const window = Math.min(l.pool, height, width)
    if (window >= 2) {
      a = pool('max', a, window)
      height = Math.floor(height / window)
      width = Math.floor(width / window)
    }
    if (l.bn)
      a = batchNormalization(a, {
        gamma: values(`${name}.gamma`, [l.filters], () => rnd() * 4 - 2),
        beta: values(`${name}.beta`, [l.filters], () => rnd() * 2 - 1),
        runningMean: values(`${name}.mean`, [l.filters], () => rnd() * 40 - 20),
        runningVar: values(`${name}.var`, [l.filters], () => rnd() * 90 + 0.01),
      } as never, 'inference')
    if (l.unary !== 'none') a = unary(l.unary, a)
    h = binarize(a, none, `${name}.act`)
    c = l.filters
  })
  const features = c * height * width
  const flat = reshape(h, ['batch', features])
  const output = add(matmul(flat, values('head.W', [features, 3], () => rnd() * 2 - 1)), values('head.b', [3], () => rnd()))
  const data = Float64Array.from({ length: s.batch * s.channels * s.height * s.width }, () =>
    s.pixels === 'uint8' ? Math.floor(rnd() * 256) : s.pixels === 'mixed' ? Math.floor(rnd() * 511) - 255 : rnd() * 300 - 20)
  const per = s.channels * s.height * s.width
  if (s.pixels === 'mixed') for (let e = 1; e < s.batch; e += 2) data[e * per + Math.floor(rnd() * per)]! += 0.5
  return { net: checked({ outputs: { features: flat, output }, params }), feed: { x: { shape: [s.batch, s.channels, s.height, s.width], data } } }
}

const agrees = (net: Checked<Network>, feed: Feed): void => {
  const want = forward(net, feed, { mode: 'mode' })
  if (E.isLeft(want)) throw new Error('reference failed')
  for (const backend of ['wasm', 'js', 'jitless'] as const) {
    const c = compile(net, { backend, mode: 'mode' })
    if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
    const got = c.right.run(feed)
    if (E.isLeft(got)) throw new Error(drawRunError(got.left))
    for (const [name, node] of Object.entries(net.outputs))
      expect(Array.from(got.right[name]!.data), `${backend} ${name}`).toEqual(Array.from(want.right.values.get(node)!.data))
  }
}

describe('compiled convolutional networks, mode', () => {
  it('law: a real first convolution and binarized max-pools with chains ≡ the reference, bit for bit', () => {
    fc.assert(fc.property(arbSpec, (s) => agrees(build(s).net, build(s).feed)), { numRuns: 60, seed: 1306 })
  })

  it('law: two and three threads ≡ the reference on the same generated networks (batches 1–7)', () => {
    fc.assert(fc.property(arbSpec, fc.integer({ min: 1, max: 7 }), fc.constantFrom(2, 3), (s, batch, threads) => {
      const { net, feed } = build({ ...s, batch })
      const want = forward(net, feed, { mode: 'mode' })
      const c = compile(net, { backend: 'wasm', mode: 'mode', threads })
      if (E.isLeft(c) || E.isLeft(want)) throw new Error(E.isLeft(c) ? drawCompileError(c.left) : 'reference failed')
      const got = c.right.run(feed)
      c.right.close()
      if (E.isLeft(got)) throw new Error(drawRunError(got.left))
      for (const [name, node] of Object.entries(net.outputs))
        expect(Array.from(got.right[name]!.data), `${threads} threads ${name}`).toEqual(Array.from(want.right.values.get(node)!.data))
    }), { numRuns: 8, seed: 1307 })
  })

  it('the conv blocks run as kernels: no float64 convolution, pooling or batch norm in the plan', () => {
    const block: Block = { filters: 16, kernel: 3, stride: 1, padding: 1, padValue: 0, bias: 'integer', scale: 'none', pool: 2, bn: true, unary: 'none' }
    const { net } = build({ channels: 1, height: 12, width: 12, pixels: 'uint8', blocks: [block, { ...block, filters: 33, padding: 0 }], batch: 2, seed: 7 })
    const c = compile(net, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
    const plan = c.right.describe()
    expect(plan.filter((l) => l.startsWith('generic ')).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['generic Add'])
    expect(plan.some((l) => l.startsWith('kernel RealConv'))).toBe(true)
    expect(plan.filter((l) => l.startsWith('kernel PoolOr')).length).toBe(2)
  })
})

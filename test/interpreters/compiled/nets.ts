/**
 * Arbitrary small networks for the compiled-interpreter laws, built with the public DSL:
 * a real, 8-bit or binary input, one to three binary dense layers (weights binarize(η, noise)),
 * each with an optional bias, per-unit scale, batch norm and elementwise op before its binarize,
 * then an optional real head and loss. Widths run from 1 to 70 (so across one and two 32- and
 * 64-bit words, never a multiple by design), batches from 1 to 4. Parameters come from a seeded
 * generator, and biases are often integers so that some pre-activations are exactly 0.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import type { Checked, Network, Node, UnaryOp } from '../../../src/dsl/node.js'
import type { Noise } from '../../../src/dsl/noise.js'
import { add, batchNormalization, binarize, constant, conv2d, input, loss, matmul, mul, param, pool, reshape, unary } from '../../../src/dsl/primitives.js'
import { typecheck } from '../../../src/dsl/typecheck.js'
import { drawAll } from '../../../src/dsl/dslErrors.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'

export interface LayerSpec {
  readonly width: number
  readonly weightNoise: Noise
  readonly bias: 'none' | 'integer' | 'real'
  readonly scale: 'none' | 'scalar' | 'per-unit'
  readonly batchNorm: 'none' | 'inference' | 'train'
  readonly unary: UnaryOp | 'none'
  readonly act: Noise
}

export interface NetSpec {
  readonly input: 'real' | 'uint8' | 'binary'
  readonly inputWidth: number
  readonly layers: readonly LayerSpec[]
  readonly head: number
  readonly loss: boolean
  readonly batch: number
  readonly seed: number
}

const arbNoise: fc.Arbitrary<Noise> = fc.oneof(
  fc.constant<Noise>({ family: 'none' }),
  fc.record({
    family: fc.constantFrom('logistic' as const, 'uniform' as const, 'triangular' as const, 'normal' as const),
    scale: fc.constantFrom(0.25, 1, 3, 40),
  }),
)

export const arbLayer: fc.Arbitrary<LayerSpec> = fc.record({
  width: fc.integer({ min: 1, max: 70 }),
  weightNoise: arbNoise,
  bias: fc.constantFrom('none' as const, 'integer' as const, 'real' as const),
  scale: fc.constantFrom('none' as const, 'none' as const, 'scalar' as const, 'per-unit' as const),
  batchNorm: fc.constantFrom('none' as const, 'none' as const, 'inference' as const, 'train' as const),
  unary: fc.constantFrom<UnaryOp | 'none'>('none', 'none', 'none', 'tanh', 'relu', 'sigmoid', 'hardtanh', 'neg', 'abs', 'exp', 'log'),
  act: arbNoise,
})

export const arbNet: fc.Arbitrary<NetSpec> = fc.record({
  input: fc.constantFrom('real' as const, 'uint8' as const, 'binary' as const),
  inputWidth: fc.integer({ min: 1, max: 70 }),
  layers: fc.array(arbLayer, { minLength: 1, maxLength: 3 }),
  head: fc.integer({ min: 0, max: 5 }),
  loss: fc.boolean(),
  batch: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

/** A xorshift32 stream of uniforms in [0, 1). */
export const uniforms = (seed: number): (() => number) => {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
}

export const checked = (net: Network): Checked<Network> => {
  const r = typecheck(net)
  if (E.isLeft(r)) throw new Error(drawAll([r.left]))
  return r.right
}

/** The network of a spec, and a feed for it. */
export const build = (s: NetSpec): { readonly net: Checked<Network>; readonly feed: Feed } => {
  const rnd = uniforms(s.seed)
  const params: Record<string, Float64Array> = {}
  const values = (name: string, size: number, f: () => number): Node => {
    params[name] = Float64Array.from({ length: size }, f)
    return param(name, [size])
  }
  const x: Node = input('x', ['batch', s.inputWidth], s.input === 'binary' ? 'binary' : 'real')
  let h: Node = x
  let width = s.inputWidth
  s.layers.forEach((l, i) => {
    const name = `l${i}`
    params[`${name}.W`] = Float64Array.from({ length: width * l.width }, () => rnd() * 4 - 2)
    const w = binarize(param(`${name}.W`, [width, l.width]), l.weightNoise, `${name}.W`)
    let a: Node = matmul(h, w)
    if (l.bias !== 'none') a = add(a, values(`${name}.b`, l.width, () => (l.bias === 'integer' ? Math.round(rnd() * 6 - 3) : rnd() * 6 - 3)))
    if (l.scale === 'scalar') a = mul(constant(rnd() < 0.5 ? -0.5 : 0.75), a)
    if (l.scale === 'per-unit') a = mul(a, values(`${name}.s`, l.width, () => rnd() * 4 - 2))
    if (l.batchNorm !== 'none') {
      a = batchNormalization(a, {
        gamma: values(`${name}.gamma`, l.width, () => rnd() * 4 - 2),
        beta: values(`${name}.beta`, l.width, () => rnd() * 2 - 1),
        runningMean: values(`${name}.mean`, l.width, () => rnd() * 4 - 2),
        runningVar: values(`${name}.var`, l.width, () => rnd() * 9 + 0.01),
      } as never, l.batchNorm)
    }
    if (l.unary !== 'none') a = unary(l.unary, a)
    h = binarize(a, l.act, `${name}.act`)
    width = l.width
  })
  const outputs: Record<string, Node> = { hidden: h }
  if (s.head > 0) {
    params['head.W'] = Float64Array.from({ length: width * s.head }, () => rnd() * 2 - 1)
    const logits = add(matmul(h, param('head.W', [width, s.head])), values('head.b', s.head, () => rnd() - 0.5))
    outputs['output'] = logits
    if (s.loss) outputs['loss'] = loss('softmax-ce', logits, input('y', ['batch'], 'index'))
  }
  const data = Float64Array.from({ length: s.batch * s.inputWidth }, () =>
    s.input === 'binary' ? (rnd() < 0.5 ? -1 : 1) : s.input === 'uint8' ? Math.floor(rnd() * 256) : rnd() * 8 - 4)
  const feed: Record<string, { shape: number[]; data: Float64Array }> = { x: { shape: [s.batch, s.inputWidth], data } }
  if (s.head > 0 && s.loss) feed['y'] = { shape: [s.batch], data: Float64Array.from({ length: s.batch }, () => Math.floor(rnd() * s.head)) }
  return { net: checked({ outputs, params }), feed }
}

// ---------------------------------------------------------------------------------------------
// Convolutional nets: a real NCHW input, binarized, then one or two binary convolutions (odd
// sizes, strides, padding with every padding value), an optional max-pool, a flatten into a
// binary dense layer, and a real head.

export interface ConvSpec {
  readonly filters: number
  readonly kernel: number
  readonly stride: number
  readonly padding: number
  readonly padValue: number
  readonly weightNoise: Noise
  readonly bias: boolean
  readonly batchNorm: boolean
  readonly act: Noise
  readonly pool: boolean
}

export interface ConvNetSpec {
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly inputNoise: Noise
  readonly convs: readonly ConvSpec[]
  readonly dense: number
  readonly batch: number
  readonly seed: number
}

const arbConv: fc.Arbitrary<ConvSpec> = fc.record({
  filters: fc.integer({ min: 1, max: 40 }),
  kernel: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  padValue: fc.constantFrom(-1, 0, 1, 0, 0.5),
  weightNoise: arbNoise,
  bias: fc.boolean(),
  batchNorm: fc.boolean(),
  act: arbNoise,
  pool: fc.boolean(),
})

export const arbConvNet: fc.Arbitrary<ConvNetSpec> = fc.record({
  channels: fc.integer({ min: 1, max: 70 }),
  height: fc.integer({ min: 3, max: 9 }),
  width: fc.integer({ min: 3, max: 9 }),
  inputNoise: arbNoise,
  convs: fc.array(arbConv, { minLength: 1, maxLength: 2 }),
  dense: fc.integer({ min: 0, max: 40 }),
  batch: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

export const buildConv = (s: ConvNetSpec): { readonly net: Checked<Network>; readonly feed: Feed } => {
  const rnd = uniforms(s.seed)
  const params: Record<string, Float64Array> = {}
  const values = (name: string, shape: readonly number[], f: () => number): Node => {
    params[name] = Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f)
    return param(name, shape)
  }
  let h: Node = binarize(input('x', ['batch', s.channels, s.height, s.width]), s.inputNoise, 'x.act')
  let [c, height, width] = [s.channels, s.height, s.width]
  s.convs.forEach((l, i) => {
    const name = `c${i}`
    const k = Math.min(l.kernel, height + 2 * l.padding, width + 2 * l.padding)
    const w = binarize(values(`${name}.W`, [l.filters, c, k, k], () => rnd() * 4 - 2), l.weightNoise, `${name}.W`)
    let a: Node = conv2d(h, w, { stride: l.stride, padding: l.padding, padValue: l.padValue })
    if (l.bias) a = add(a, values(`${name}.b`, [l.filters, 1, 1], () => Math.round(rnd() * 6 - 3)))
    if (l.batchNorm) {
      a = batchNormalization(a, {
        gamma: values(`${name}.gamma`, [l.filters], () => rnd() * 4 - 2),
        beta: values(`${name}.beta`, [l.filters], () => rnd() * 2 - 1),
        runningMean: values(`${name}.mean`, [l.filters], () => rnd() * 4 - 2),
        runningVar: values(`${name}.var`, [l.filters], () => rnd() * 9 + 0.01),
      } as never, 'inference')
    }
    h = binarize(a, l.act, `${name}.act`)
    height = Math.floor((height + 2 * l.padding - k) / l.stride) + 1
    width = Math.floor((width + 2 * l.padding - k) / l.stride) + 1
    c = l.filters
    if (l.pool && height >= 2 && width >= 2) {
      h = pool('max', h, 2)
      height = Math.floor(height / 2)
      width = Math.floor(width / 2)
    }
  })
  h = reshape(h, ['batch', c * height * width])
  let features = c * height * width
  const outputs: Record<string, Node> = { features: h }
  if (s.dense > 0) {
    const w = binarize(values('d.W', [features, s.dense], () => rnd() * 4 - 2), { family: 'none' }, 'd.W')
    h = binarize(add(matmul(h, w), values('d.b', [s.dense], () => Math.round(rnd() * 4 - 2))), s.convs[0]!.act, 'd.act')
    features = s.dense
    outputs['hidden'] = h
  }
  outputs['output'] = add(matmul(h, values('head.W', [features, 3], () => rnd() * 2 - 1)), values('head.b', [3], () => rnd()))
  const data = Float64Array.from({ length: s.batch * s.channels * s.height * s.width }, () => rnd() * 4 - 2)
  return { net: checked({ outputs, params }), feed: { x: { shape: [s.batch, s.channels, s.height, s.width], data } } }
}

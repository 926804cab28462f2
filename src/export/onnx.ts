/**
 * The deployed network as a standard ONNX graph (opset 13), for any ONNX runtime.
 *
 * The protobuf encoding is `onnx-proto`'s: the protobufjs code generated from the official
 * onnx.proto, so every field is the standard's and typed. Layer by layer (docs/export.md):
 *
 *     Sign        Where(GreaterOrEqual(x, 0), 1, −1)
 *     SignDense   MatMul(x, W) · d + c, then Sign(· + ½) on ±1 inputs (integer sums, exact in
 *                 float32) or Where(GreaterOrEqual(·, 0), 1, −1) on a real input (in double)
 *     SignConv    [Pad(padValue)] Conv(x, K) [MaxPool] · d + c, then the same
 *     MaxPool     MaxPool        Flatten   Flatten(axis 1)
 *     Linear      Cast(double) MatMul(x, W) [+ b], in double: the output
 *
 * The input is double, as sbnkit's; binary tensors are float32 ±1. ONNX's Sign(0) is 0 where
 * sbnkit's sign(0) is +1, hence the ½ (sums and biases are integers there) or the comparison.
 */
import onnxProto from 'onnx-proto'
import type { Deployed, Layer } from './deploy.js'

const { onnx } = onnxProto
type Tensor = InstanceType<typeof onnx.TensorProto>

/** The opset and IR version written. */
export const onnxOpset = 13
export const onnxIrVersion = 7

const FLOAT = onnx.TensorProto.DataType.FLOAT
const DOUBLE = onnx.TensorProto.DataType.DOUBLE
const INT64 = onnx.TensorProto.DataType.INT64

type Elem = 'float' | 'double'

interface Builder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[]
  readonly inits: Tensor[]
  readonly name: (hint: string) => string
}

const tensor = (name: string, elem: Elem | 'int64', dims: readonly number[], values: ArrayLike<number>): Tensor => {
  const bytes = elem === 'float' ? new Float32Array(values.length) : elem === 'double' ? new Float64Array(values.length) : new BigInt64Array(values.length)
  for (let i = 0; i < values.length; i++) {
    if (bytes instanceof BigInt64Array) bytes[i] = BigInt(values[i]!)
    else bytes[i] = values[i]!
  }
  // Typed arrays are little-endian on every platform a page or Node runs on, as raw_data wants.
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: elem === 'float' ? FLOAT : elem === 'double' ? DOUBLE : INT64, rawData: new Uint8Array(bytes.buffer) })
}

const ints = (name: string, values: readonly number[]) =>
  onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] })
const int = (name: string, value: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value })

/** Adds a node and returns its (single) output name. */
const op = (b: Builder, type: string, inputs: readonly string[], attributes: ReturnType<typeof ints>[] = []): string => {
  const out = b.name(type)
  b.nodes.push(onnx.NodeProto.create({ opType: type, input: [...inputs], output: [out], name: out, attribute: attributes }))
  return out
}
const init = (b: Builder, hint: string, elem: Elem | 'int64', dims: readonly number[], values: ArrayLike<number>): string => {
  const name = b.name(hint)
  b.inits.push(tensor(name, elem, dims, values))
  return name
}

/** ±1 as float32 from a comparison `s ≥ 0` (s of type `elem`). */
const signOf = (b: Builder, s: string, elem: Elem): string => {
  const zero = init(b, 'zero', elem, [], [0])
  return op(b, 'Where', [op(b, 'GreaterOrEqual', [s, zero]), init(b, 'plus_one', 'float', [], [1]), init(b, 'minus_one', 'float', [], [-1])])
}

/** d·s + c, then ±1: Sign(· + ½) for integer folds, a comparison otherwise. */
const threshold = (b: Builder, s: string, elem: Elem, l: Extract<Layer, { readonly fold: unknown }>, dims: readonly number[]): string => {
  const scaled = op(b, 'Mul', [s, init(b, `${l.label}.d`, elem, dims, l.fold.direction)])
  if (l.fold.integer) return op(b, 'Sign', [op(b, 'Add', [scaled, init(b, `${l.label}.c`, elem, dims, Array.from(l.fold.bias, (c) => c + 0.5))])])
  return signOf(b, op(b, 'Add', [scaled, init(b, `${l.label}.c`, elem, dims, l.fold.bias)]), elem)
}

const cast = (b: Builder, x: string, from: Elem, to: Elem): string =>
  from === to ? x : op(b, 'Cast', [x], [int('to', to === 'float' ? FLOAT : DOUBLE)])

type ConvLayer = Extract<Layer, { readonly _tag: 'SignConv' }>

/** Pads a [N, C, H, W] tensor with the layer's padding value when it is not ONNX's 0. */
const padded = (b: Builder, l: ConvLayer, x: string, elem: Elem): { readonly x: string; readonly pads: readonly number[] } => {
  const [ph, pw] = l.padding
  if (l.padValue === 0 || (ph === 0 && pw === 0)) return { x, pads: [ph, pw, ph, pw] }
  return { x: op(b, 'Pad', [x, init(b, 'pads', 'int64', [8], [0, 0, ph, pw, 0, 0, ph, pw]), init(b, 'pad_value', elem, [], [l.padValue])]), pads: [0, 0, 0, 0] }
}

/** The standard Conv in float32: exact on ±1 inputs (integer sums below 2^24). */
const convFloat = (b: Builder, l: ConvLayer, x: string): string => {
  const p = padded(b, l, x, 'float')
  const kernel = init(b, `${l.label}.W`, 'float', [l.o, l.c, l.kh, l.kw], l.weights)
  return op(b, 'Conv', [p.x, kernel], [ints('kernel_shape', [l.kh, l.kw]), ints('strides', l.stride), ints('pads', p.pads)])
}

/**
 * A convolution of a real input in double, as sbnkit computes it (ONNX runtimes commonly lack a
 * double Conv): the padded input's patches gathered by a constant index table, then one MatMul.
 */
const convDouble = (b: Builder, l: ConvLayer, x: string, shape: readonly number[]): string => {
  const [c, h, w] = shape as [number, number, number]
  const [ph, pw] = l.padding
  const hp = h + 2 * ph
  const wp = w + 2 * pw
  const ho = Math.floor((hp - l.kh) / l.stride[0]) + 1
  const wo = Math.floor((wp - l.kw) / l.stride[1]) + 1
  // A 0 pad too is written out by Pad here, so every patch lies inside the padded grid.
  const grid = ph === 0 && pw === 0 ? x : op(b, 'Pad', [x, init(b, 'pads', 'int64', [8], [0, 0, ph, pw, 0, 0, ph, pw]), init(b, 'pad_value', 'double', [], [l.padValue])])
  const flat = op(b, 'Flatten', [grid], [int('axis', 1)])
  const patch = l.c * l.kh * l.kw
  const index = new Array<number>(ho * wo * patch)
  for (let y = 0; y < ho; y++)
    for (let xx = 0; xx < wo; xx++)
      for (let ch = 0; ch < c; ch++)
        for (let dy = 0; dy < l.kh; dy++)
          for (let dx = 0; dx < l.kw; dx++)
            index[(y * wo + xx) * patch + (ch * l.kh + dy) * l.kw + dx] = (ch * hp + y * l.stride[0] + dy) * wp + xx * l.stride[1] + dx
  const patches = op(b, 'Gather', [flat, init(b, `${l.label}.patches`, 'int64', [ho * wo, patch], index)], [int('axis', 1)])
  // Kernel [O, C·kh·kw] transposed: [C·kh·kw, O].
  const kt = new Float64Array(patch * l.o)
  for (let o = 0; o < l.o; o++) for (let i = 0; i < patch; i++) kt[i * l.o + o] = l.weights[o * patch + i]!
  const sums = op(b, 'MatMul', [patches, init(b, `${l.label}.W`, 'double', [patch, l.o], kt)])
  const nchw = op(b, 'Transpose', [sums], [ints('perm', [0, 2, 1])])
  return op(b, 'Reshape', [nchw, init(b, 'shape', 'int64', [4], [0, l.o, ho, wo])])
}

/** One layer: (input name, its element type) → (output name, its element type). */
const layer = (b: Builder, l: Layer, x: string, elem: Elem, inShape: readonly number[]): readonly [string, Elem] => {
  switch (l._tag) {
    case 'Sign':
      return [signOf(b, x, elem), 'float']
    case 'SignDense': {
      const e: Elem = l.fold.integer ? 'float' : 'double'
      const s = op(b, 'MatMul', [cast(b, x, elem, e), init(b, `${l.label}.W`, e, [l.k, l.n], l.weights)])
      return [threshold(b, s, e, l, [l.n]), 'float']
    }
    case 'SignConv': {
      const s0 = l.fold.integer ? convFloat(b, l, cast(b, x, elem, 'float')) : convDouble(b, l, cast(b, x, elem, 'double'), inShape)
      const e: Elem = l.fold.integer ? 'float' : 'double'
      const s = l.pool === undefined ? s0 : op(b, 'MaxPool', [s0], [ints('kernel_shape', l.pool.window), ints('strides', l.pool.stride)])
      return [threshold(b, s, e, l, [l.o, 1, 1]), 'float']
    }
    case 'MaxPool':
      return [op(b, 'MaxPool', [x], [ints('kernel_shape', l.window), ints('strides', l.stride)]), elem]
    case 'Flatten':
      return [op(b, 'Flatten', [x], [int('axis', 1)]), elem]
    case 'Linear': {
      const out = op(b, 'MatMul', [cast(b, x, elem, 'double'), init(b, `${l.label}.W`, 'double', [l.k, l.n], l.weights)])
      return [l.bias === undefined ? out : op(b, 'Add', [out, init(b, `${l.label}.b`, 'double', [l.n], l.bias)]), 'double']
    }
  }
}

/** A layer's output shape per example. */
const outShape = (l: Layer, s: readonly number[]): readonly number[] => {
  const window = (h: number, k: number, st: number, p = 0): number => Math.floor((h + 2 * p - k) / st) + 1
  switch (l._tag) {
    case 'Sign':
      return s
    case 'SignDense':
    case 'Linear':
      return [l.n]
    case 'SignConv': {
      const h = window(s[1]!, l.kh, l.stride[0], l.padding[0])
      const w = window(s[2]!, l.kw, l.stride[1], l.padding[1])
      return l.pool === undefined ? [l.o, h, w] : [l.o, window(h, l.pool.window[0], l.pool.stride[0]), window(w, l.pool.window[1], l.pool.stride[1])]
    }
    case 'MaxPool':
      return [s[0]!, window(s[1]!, l.window[0], l.stride[0]), window(s[2]!, l.window[1], l.stride[1])]
    case 'Flatten':
      return [s.reduce((a, b) => a * b, 1)]
  }
}

const valueInfo = (name: string, elem: number, dims: readonly (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  })

/**
 * The ONNX model of a deployed network: input `d.input.name` (double, [batch, …]), output
 * `d.output` (double logits).
 * @example const bytes = E.map(encodeOnnx)(deploy(net)) // Either<ExportError, Uint8Array>
 */
export const encodeOnnx = (d: Deployed): Uint8Array => {
  const used = new Map<string, number>()
  const b: Builder = {
    nodes: [],
    inits: [],
    name: (hint) => {
      const n = (used.get(hint) ?? 0) + 1
      used.set(hint, n)
      return n === 1 ? hint : `${hint}_${n}`
    },
  }
  b.name(d.input.name)
  let x = d.input.name
  let elem: Elem = 'double'
  let shape: readonly number[] = d.input.shape
  for (const l of d.layers) {
    ;[x, elem] = layer(b, l, x, elem, shape)
    shape = outShape(l, shape)
  }
  // The last node's output is renamed to the network's output name.
  const last = b.nodes[b.nodes.length - 1]!
  last.output = [d.output]
  const outDims = ['batch', (d.layers[d.layers.length - 1] as Extract<Layer, { _tag: 'Linear' }>).n]
  const graph = onnx.GraphProto.create({
    name: 'sbnkit mode network',
    node: b.nodes,
    initializer: b.inits,
    input: [valueInfo(d.input.name, DOUBLE, ['batch', ...d.input.shape])],
    output: [valueInfo(d.output, elem === 'double' ? DOUBLE : FLOAT, outDims)],
  })
  const model = onnx.ModelProto.create({
    irVersion: onnxIrVersion,
    producerName: 'sbnkit',
    opsetImport: [{ domain: '', version: onnxOpset }],
    graph,
  })
  return onnx.ModelProto.encode(model).finish()
}

/**
 * A minimal ONNX model writer (protobuf wire format by hand, no dependency): enough of
 * ModelProto / GraphProto / NodeProto / TensorProto / ValueInfoProto to express the peers' layers
 * sign(x·W + c) in float32 (MatMul, Add, Sign) and in int8 (MatMulInteger, Add, Sign), chained into
 * MLPs (Cast) and convolutional networks (Conv, MaxPool, Flatten), with integer attributes.
 * Field numbers are those of onnx/onnx.proto.
 */

/** A message as a list of byte chunks (weights stay one chunk: no 64 MiB number arrays). */
type Bytes = Uint8Array[]

const size = (b: Bytes): number => b.reduce((n, c) => n + c.length, 0)
const varint = (v: number | bigint): Uint8Array => {
  let x = BigInt(v)
  const out: number[] = []
  do {
    const b = Number(x & 0x7fn)
    x >>= 7n
    out.push(x === 0n ? b : b | 0x80)
  } while (x !== 0n)
  return Uint8Array.from(out)
}
const key = (field: number, wire: 0 | 2): Uint8Array => varint((field << 3) | wire)
const int = (field: number, v: number): Bytes => [key(field, 0), varint(v)]
const len = (field: number, payload: Bytes): Bytes => [key(field, 2), varint(size(payload)), ...payload]
const str = (field: number, s: string): Bytes => len(field, [new TextEncoder().encode(s)])

/** ONNX TensorProto.DataType values. */
export const dtype = { float: 1, uint8: 2, int8: 3, int32: 6 } as const
export type DType = keyof typeof dtype

export interface Initializer {
  readonly name: string
  readonly type: DType
  readonly dims: readonly number[]
  readonly data: Float32Array | Uint8Array | Int8Array | Int32Array
}

/** A node attribute: an integer (`Cast` to, `Conv` group) or a list of integers (kernel_shape, pads, strides). */
export interface Attribute {
  readonly name: string
  readonly int?: number
  readonly ints?: readonly number[]
}

export interface OpNode {
  readonly op: string
  readonly inputs: readonly string[]
  readonly output: string
  readonly attributes?: readonly Attribute[]
}

export interface GraphSpec {
  readonly inputs: readonly { readonly name: string; readonly type: DType; readonly dims: readonly number[] }[]
  readonly output: { readonly name: string; readonly type: DType; readonly dims: readonly number[] }
  readonly initializers: readonly Initializer[]
  readonly nodes: readonly OpNode[]
}

const tensor = (t: Initializer): Bytes => [
  ...t.dims.flatMap((d) => int(1, d)),
  ...int(2, dtype[t.type]),
  ...str(8, t.name),
  ...len(9, [new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]),
]

const valueInfo = (v: GraphSpec['output']): Bytes => {
  const shape = v.dims.flatMap((d) => len(1, int(1, d)))
  const tensorType = [...int(1, dtype[v.type]), ...len(2, shape)]
  return [...str(1, v.name), ...len(2, len(1, tensorType))]
}

// AttributeProto: name 1, i 3, ints 8, type 20 (INT = 2, INTS = 7).
const attribute = (a: Attribute): Bytes =>
  a.ints !== undefined
    ? [...str(1, a.name), ...a.ints.flatMap((v) => int(8, v)), ...int(20, 7)]
    : [...str(1, a.name), ...int(3, a.int ?? 0), ...int(20, 2)]

/** The serialized ModelProto (IR version 8, default-domain opset 13). */
export const onnxModel = (g: GraphSpec): Uint8Array => {
  const nodes = g.nodes.flatMap((n, i) =>
    len(1, [...n.inputs.flatMap((x) => str(1, x)), ...str(2, n.output), ...str(3, `n${i}`), ...str(4, n.op), ...(n.attributes ?? []).flatMap((a) => len(5, attribute(a)))]))
  const graph = [
    ...nodes,
    ...str(2, 'sbnkit-peer'),
    ...g.initializers.flatMap((t) => len(5, tensor(t))),
    ...g.inputs.flatMap((v) => len(11, valueInfo(v))),
    ...len(12, valueInfo(g.output)),
  ]
  const opset = [...str(1, ''), ...int(2, 13)]
  const chunks = [...int(1, 8), ...str(2, 'sbnkit-bench'), ...len(7, graph), ...len(8, opset)]
  const out = new Uint8Array(size(chunks))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

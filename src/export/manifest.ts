/**
 * The manifest of a packed file (docs/export.md): a closed JSON record per layer, whose tensors
 * point into the file's data section. The io-ts codecs here are the manifest's definition; each
 * codec's name is the expectation an error quotes.
 */
import * as t from 'io-ts'
import { lossOps } from '../dsl/node.js'
import type { LossOp } from '../dsl/node.js'
import { finite, natural, nonEmpty, oneOf, strict } from '../dsl/codec/schema.js'

/** The format string of the manifest (its version is also in the header). */
export const packedFormat = 'sbnkit-packed/1'

// ---------------------------------------------------------------------------------------------
// Tensors: where a layer's numbers are in the data section

const positive = new t.Type<number, number, unknown>(
  'a positive integer',
  (u): u is number => Number.isInteger(u) && (u as number) > 0,
  (u, c) => (Number.isInteger(u) && (u as number) > 0 ? t.success(u as number) : t.failure(u, c)),
  t.identity,
)
const pair = t.readonly(t.tuple([positive, positive]), 'a pair of positive integers')
const natPair = t.readonly(t.tuple([natural, natural]), 'a pair of non-negative integers')

/** Packed ±1 rows (layout.ts with 32-bit words): `rows` rows of `width` bits, ⌈width/32⌉ words each. */
export const bitsRef = strict('a bits tensor', { dtype: oneOf(['bits'] as const), offset: natural, rows: positive, width: positive })
/** `length` numbers of one dtype, little-endian. */
export const numbersRef = <D extends string>(dtypes: readonly D[]) =>
  strict('a number tensor', { dtype: oneOf(dtypes), offset: natural, length: positive })

export type BitsRef = t.TypeOf<typeof bitsRef>
export type NumbersRef<D extends string = string> = { readonly dtype: D; readonly offset: number; readonly length: number }
export type TensorRef = BitsRef | NumbersRef

/** Bytes of a tensor in the data section. */
export const refBytes = (r: TensorRef): number =>
  r.dtype === 'bits' ? 4 * (r as BitsRef).rows * Math.ceil((r as BitsRef).width / 32) : (r as NumbersRef).length * dtypeBytes[r.dtype as keyof typeof dtypeBytes]

export const dtypeBytes = { i8: 1, i32: 4, f32: 4, f64: 8 } as const

// ---------------------------------------------------------------------------------------------
// Layers

const thresholds = {
  direction: numbersRef(['i8'] as const),
  bias: numbersRef(['i32', 'f64'] as const),
}

export const layerCodecs = {
  SignDense: strict('a SignDense layer', { op: oneOf(['SignDense'] as const), label: nonEmpty, k: positive, n: positive, weights: bitsRef, ...thresholds }),
  SignConv: strict(
    'a SignConv layer',
    {
      op: oneOf(['SignConv'] as const), label: nonEmpty, c: positive, o: positive, kh: positive, kw: positive,
      stride: pair, padding: natPair, padValue: finite, weights: bitsRef, ...thresholds,
    },
    { pool: strict('a pooling window', { window: pair, stride: pair }) },
  ),
  Sign: strict('a Sign layer', { op: oneOf(['Sign'] as const), label: nonEmpty }),
  MaxPool: strict('a MaxPool layer', { op: oneOf(['MaxPool'] as const), label: nonEmpty, window: pair, stride: pair }),
  Flatten: strict('a Flatten layer', { op: oneOf(['Flatten'] as const), label: nonEmpty }),
  Linear: strict(
    'a Linear layer',
    { op: oneOf(['Linear'] as const), label: nonEmpty, k: positive, n: positive, weights: t.union([bitsRef, numbersRef(['f32', 'f64'] as const)], 'a bits, f32 or f64 tensor') },
    { bias: numbersRef(['f32', 'f64'] as const) },
  ),
} as const

export type LayerRecord = { [K in keyof typeof layerCodecs]: t.TypeOf<(typeof layerCodecs)[K]> }[keyof typeof layerCodecs]

/** A layer: dispatched on `op`, so an error names the fields of the layer that was meant. */
export const layerCodec = new t.Type<LayerRecord, unknown, unknown>(
  `a layer (op ${Object.keys(layerCodecs).join(', ')})`,
  (u): u is LayerRecord => Object.values(layerCodecs).some((c) => c.is(u)),
  (u, c) => {
    const op = typeof u === 'object' && u !== null ? (u as { op?: unknown }).op : undefined
    const codec = typeof op === 'string' && Object.hasOwn(layerCodecs, op) ? layerCodecs[op as keyof typeof layerCodecs] : undefined
    if (codec === undefined) return t.failure(u, c)
    return codec.validate(u, c) as t.Validation<LayerRecord>
  },
  t.identity,
)

export const manifestCodec = strict(
  'a packed-file manifest',
  {
    format: oneOf([packedFormat] as const),
    input: strict('an input', { name: nonEmpty, shape: t.readonlyArray(positive, 'a shape (positive integers)'), dtype: oneOf(['real', 'binary'] as const) }),
    output: nonEmpty,
    layers: t.readonlyArray(layerCodec, 'an array of layers'),
    dataBytes: natural,
  },
  { loss: oneOf<LossOp>(lossOps) },
)

export type Manifest = t.TypeOf<typeof manifestCodec>

/**
 * Reading the packed format (packed.ts, docs/export.md): the header, the checksum, the manifest
 * and every tensor are checked before anything is built, and a file that fails a check is an
 * `ExportError` saying at which byte or manifest field, what was expected and what was found.
 * The result is a deployed network, a checked network, or a compiled one; all portable.
 */
import * as E from 'fp-ts/lib/Either.js'
import { report } from '../dsl/codec/modelErrors.js'
import { drawAll } from '../dsl/dslErrors.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Compiled, CompileError, CompileOptions } from '../interpreters/compiled/index.js'
import { compile } from '../interpreters/compiled/index.js'
import { crc32 } from '../io/crc32.js'
import type { Deployed, Layer } from './deploy.js'
import type { ExportError } from './exportErrors.js'
import { badPackedFile } from './exportErrors.js'
import type { BitsRef, LayerRecord, NumbersRef, TensorRef } from './manifest.js'
import { manifestCodec, packedFormat, refBytes } from './manifest.js'
import { toNetwork } from './network.js'
import { packedMagic, packedVersion } from './packed.js'

// ---------------------------------------------------------------------------------------------
// Decoding

const hex = (bytes: Uint8Array): string => JSON.stringify(String.fromCharCode(...bytes)).replace(/[\u007f-\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

/**
 * The deployed network in a packed file's bytes, or why they are not one.
 * @example decodePacked(bytes) // Either<ExportError, Deployed>
 */
export const decodePacked = (bytes: Uint8Array): E.Either<ExportError, Deployed> => {
  if (bytes.length < 16) return E.left(badPackedFile('the file', `at least 16 bytes (an ${packedFormat} header and checksum)`, `${bytes.length} bytes`))
  const magic = bytes.subarray(0, 4)
  if (String.fromCharCode(...magic) !== packedMagic) return E.left(badPackedFile('byte 0', `the magic "${packedMagic}" of an ${packedFormat} file`, hex(magic)))
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint16(4, true)
  if (version !== packedVersion) return E.left(badPackedFile('byte 4', `format version ${packedVersion}`, `version ${version}`))
  const m = view.getUint32(8, true)
  const start = Math.ceil((12 + m) / 8) * 8
  if (start + 4 > bytes.length) return E.left(badPackedFile('byte 8', `a manifest length that fits in the file's ${bytes.length} bytes (truncated?)`, `${m} bytes`))
  const stored = view.getUint32(bytes.length - 4, true)
  const actual = crc32(bytes.subarray(0, bytes.length - 4))
  if (stored !== actual)
    return E.left(badPackedFile(`byte ${bytes.length - 4}`, `the CRC-32 of the file's first ${bytes.length - 4} bytes, 0x${actual.toString(16).padStart(8, '0')} (the file is damaged or truncated)`, `0x${stored.toString(16).padStart(8, '0')}`))
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + m)))
  } catch (err) {
    return E.left(badPackedFile('the manifest (byte 12)', 'UTF-8 JSON', err instanceof Error ? err.message : String(err)))
  }
  const decoded = manifestCodec.decode(json)
  if (E.isLeft(decoded)) {
    const first = report('manifest', decoded.left)[0]
    return E.left(first?._tag === 'Structure' ? { _tag: 'BadManifest', path: first.path, message: first.message } : badPackedFile('the manifest', 'a valid manifest', 'an invalid one'))
  }
  const man = decoded.right
  const data = bytes.subarray(start, bytes.length - 4)
  if (man.dataBytes !== data.length) return E.left(badPackedFile('manifest.dataBytes', `the data section's ${data.length} bytes`, String(man.dataBytes)))
  const layers: Layer[] = []
  for (const [i, l] of man.layers.entries()) {
    const r = layerOf(l, data, `manifest.layers[${i}]`)
    if (E.isLeft(r)) return r
    layers.push(r.right)
  }
  return E.right({ input: man.input, layers, output: man.output, ...(man.loss === undefined ? {} : { loss: man.loss }) })
}

/**
 * The checked network of a packed file (every interpreter runs it).
 * @example E.map((net) => compile(net, { backend: 'wasm', mode: 'mode' }))(readPacked(bytes))
 */
export const readPacked = (bytes: Uint8Array): E.Either<ExportError, Checked<Network>> =>
  E.chain((d: Deployed) => E.mapLeft((e: Parameters<typeof drawAll>[0][number]) => badPackedFile('manifest.layers', 'layers whose shapes fit one another', drawAll([e])))(toNetwork(d)))(decodePacked(bytes))

/**
 * A packed file compiled for the compiled interpreter (mode `mode`: the deployed network is
 * deterministic), ready to `run({ [input]: x })`.
 * @example const c = loadPacked(bytes, 'wasm') // Either<ExportError | CompileError, Compiled>
 */
export const loadPacked = (bytes: Uint8Array, backend: CompileOptions['backend'] = 'wasm'): E.Either<ExportError | CompileError, Compiled> =>
  E.chainW((net: Checked<Network>) => compile(net, { backend, mode: 'mode' }))(readPacked(bytes))

// ---------------------------------------------------------------------------------------------
// Rules: one manifest layer → one deployed layer

type Read<A> = E.Either<ExportError, A>

const layerOf = (l: LayerRecord, data: Uint8Array, at: string): Read<Layer> => {
  switch (l.op) {
    case 'SignDense':
      return signDense(l, data, at)
    case 'SignConv':
      return signConv(l, data, at)
    case 'Sign':
    case 'Flatten':
      return E.right({ _tag: l.op, label: l.label })
    case 'MaxPool':
      return E.right({ _tag: 'MaxPool', label: l.label, window: l.window, stride: l.stride })
    case 'Linear': {
      const binary = l.weights.dtype === 'bits'
      const w = binary ? bitsOf(l.weights as BitsRef, l.n, l.k, data, `${at}.weights`) : numbersOf(l.weights as NumbersRef, l.k * l.n, data, `${at}.weights`)
      if (E.isLeft(w)) return w
      const weights = binary ? transpose(w.right, l.n, l.k) : w.right
      if (l.bias === undefined) return E.right({ _tag: 'Linear', label: l.label, k: l.k, n: l.n, weights, binaryWeights: binary })
      const b = numbersOf(l.bias, l.n, data, `${at}.bias`)
      return E.map((bias: Float64Array): Layer => ({ _tag: 'Linear', label: l.label, k: l.k, n: l.n, weights, binaryWeights: binary, bias }))(b)
    }
  }
}

const signDense = (l: Extract<LayerRecord, { op: 'SignDense' }>, data: Uint8Array, at: string): Read<Layer> => {
  const w = bitsOf(l.weights, l.n, l.k, data, `${at}.weights`)
  if (E.isLeft(w)) return w
  const fold = foldOf(l, l.n, data, at)
  if (E.isLeft(fold)) return fold
  return E.right({ _tag: 'SignDense', label: l.label, k: l.k, n: l.n, weights: transpose(w.right, l.n, l.k), fold: fold.right })
}

const signConv = (l: Extract<LayerRecord, { op: 'SignConv' }>, data: Uint8Array, at: string): Read<Layer> => {
  const rows = l.o * l.kh * l.kw
  const w = bitsOf(l.weights, rows, l.c, data, `${at}.weights`)
  if (E.isLeft(w)) return w
  const fold = foldOf(l, l.o, data, at)
  if (E.isLeft(fold)) return fold
  // Rows (o, dy, dx) of C bits → the kernel [O, C, kh, kw].
  const kernel = new Float64Array(rows * l.c)
  for (let o = 0; o < l.o; o++)
    for (let dy = 0; dy < l.kh; dy++)
      for (let dx = 0; dx < l.kw; dx++)
        for (let c = 0; c < l.c; c++) kernel[((o * l.c + c) * l.kh + dy) * l.kw + dx] = w.right[((o * l.kh + dy) * l.kw + dx) * l.c + c]!
  return E.right({
    _tag: 'SignConv', label: l.label, c: l.c, o: l.o, kh: l.kh, kw: l.kw, stride: l.stride, padding: l.padding, padValue: l.padValue,
    ...(l.pool === undefined ? {} : { pool: l.pool }), weights: kernel, fold: fold.right,
  })
}

const foldOf = (l: { readonly direction: NumbersRef; readonly bias: NumbersRef }, units: number, data: Uint8Array, at: string): Read<{ direction: Int8Array; bias: Float64Array; integer: boolean }> => {
  const d = numbersOf(l.direction, units, data, `${at}.direction`)
  if (E.isLeft(d)) return d
  const bad = d.right.findIndex((v) => v !== -1 && v !== 0 && v !== 1)
  if (bad >= 0) return E.left(badPackedFile(`${at}.direction[${bad}]`, '−1, 0 or 1', String(d.right[bad])))
  const b = numbersOf(l.bias, units, data, `${at}.bias`)
  return E.map((bias: Float64Array) => ({ direction: Int8Array.from(d.right), bias, integer: l.bias.dtype === 'i32' }))(b)
}

/** The tensor's bytes, checked to lie in the data section. */
const slice = (r: TensorRef, data: Uint8Array, at: string): Read<DataView> => {
  const n = refBytes(r)
  if (r.offset + n > data.length) return E.left(badPackedFile(`${at}.offset`, `a tensor of ${n} bytes inside the data section of ${data.length} bytes`, `bytes ${r.offset}..${r.offset + n}`))
  return E.right(new DataView(data.buffer, data.byteOffset + r.offset, n))
}

/** Packed rows → ±1 values, row-major [rows, width]. */
const bitsOf = (r: BitsRef, rows: number, width: number, data: Uint8Array, at: string): Read<Float64Array> => {
  if (r.rows !== rows || r.width !== width) return E.left(badPackedFile(at, `${rows} rows of ${width} bits`, `${r.rows} rows of ${r.width} bits`))
  return E.map((view: DataView) => {
    const stride = Math.ceil(width / 32)
    const out = new Float64Array(rows * width)
    for (let i = 0; i < rows; i++)
      for (let f = 0; f < width; f++) out[i * width + f] = (view.getInt32(4 * (i * stride + (f >>> 5)), true) >>> (f & 31)) & 1 ? 1 : -1
    return out
  })(slice(r, data, at))
}

const numbersOf = (r: NumbersRef, length: number, data: Uint8Array, at: string): Read<Float64Array> => {
  if (r.length !== length) return E.left(badPackedFile(`${at}.length`, String(length), String(r.length)))
  const v = slice(r, data, at)
  if (E.isLeft(v)) return v
  const view = v.right
  const out = new Float64Array(length)
  for (let i = 0; i < length; i++) {
    const x = r.dtype === 'i8' ? view.getInt8(i) : r.dtype === 'i32' ? view.getInt32(4 * i, true) : r.dtype === 'f32' ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true)
    if (!Number.isFinite(x)) return E.left(badPackedFile(`${at}[${i}]`, 'a finite number', String(x)))
    out[i] = x
  }
  return E.right(out)
}

/** [rows, cols] → [cols, rows]. */
const transpose = (v: Float64Array, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(v.length)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = v[i * cols + j]!
  return out
}

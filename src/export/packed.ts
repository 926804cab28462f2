/**
 * The packed format `sbnkit-packed/1` (docs/export.md): a deployed network in a few bytes per
 * thousand weights. Layout, all integers little-endian:
 *
 *     0      "SBNK"                      magic
 *     4      u16 version (1), u16 flags (0)
 *     8      u32 M, the manifest's length in bytes
 *     12     the manifest, UTF-8 JSON (manifest.ts), then zeros to a multiple of 8
 *     D      the data section: each tensor at an 8-byte-aligned offset relative to D
 *     end−4  u32 CRC-32 (IEEE, as zlib and PNG) of every byte before it
 *
 * Binary weights are stored 1 bit each in the bit layout of the compiled interpreter
 * (compiled/layout.ts, 32-bit words): a dense W [K, N] as N rows of K bits, a kernel
 * [O, C, kh, kw] as O·kh·kw rows of C bits. Thresholds are int8 directions and int32 (integer
 * sums) or float64 (real sums) biases; the real head is float32 (or float64 on request).
 *
 * Encoding and decoding are portable (no Node built-ins), so a page can load a model from bytes.
 */
import { packConvWeights, packDenseWeights } from '../interpreters/compiled/layout.js'
import { crc32 } from '../io/crc32.js'
import type { Deployed } from './deploy.js'
import type { BitsRef, LayerRecord, Manifest, NumbersRef } from './manifest.js'
import { dtypeBytes, packedFormat } from './manifest.js'

export { packedFormat } from './manifest.js'

/** The magic bytes "SBNK" and the version this module reads and writes. */
export const packedMagic = 'SBNK'
export const packedVersion = 1

export interface PackedOptions {
  /** How the real head is stored: float32 (default, as the summary counts it) or float64 (exact). */
  readonly real?: 'f32' | 'f64'
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * The bytes of a deployed network.
 * @example
 * const bytes = E.map((d: Deployed) => encodePacked(d))(deploy(net)) // Either<ExportError, Uint8Array>
 */
export const encodePacked = (d: Deployed, opts: PackedOptions = {}): Uint8Array => {
  const real = opts.real ?? 'f32'
  const chunks: { readonly at: number; readonly bytes: Uint8Array }[] = []
  let size = 0
  const put = (bytes: Uint8Array): number => {
    const at = size
    chunks.push({ at, bytes })
    size = Math.ceil((size + bytes.length) / 8) * 8
    return at
  }
  const bits = (words: Int32Array, rows: number, width: number): BitsRef =>
    ({ dtype: 'bits', offset: put(wordsLE(words)), rows, width })
  const numbers = <D extends keyof typeof dtypeBytes>(dtype: D, values: ArrayLike<number>): NumbersRef<D> =>
    ({ dtype, offset: put(numbersLE(dtype, values)), length: values.length })
  const layers = d.layers.map((l): LayerRecord => {
    switch (l._tag) {
      case 'SignDense':
        return {
          op: 'SignDense', label: l.label, k: l.k, n: l.n, weights: bits(packDenseWeights(l.weights, l.k, l.n, 32), l.n, l.k),
          direction: numbers('i8', l.fold.direction), bias: numbers(l.fold.integer ? 'i32' : 'f64', l.fold.bias),
        }
      case 'SignConv':
        return {
          op: 'SignConv', label: l.label, c: l.c, o: l.o, kh: l.kh, kw: l.kw, stride: l.stride, padding: l.padding, padValue: l.padValue,
          ...(l.pool === undefined ? {} : { pool: l.pool }),
          weights: bits(packConvWeights(l.weights, l.o, l.c, l.kh, l.kw, 32), l.o * l.kh * l.kw, l.c),
          direction: numbers('i8', l.fold.direction), bias: numbers(l.fold.integer ? 'i32' : 'f64', l.fold.bias),
        }
      case 'Sign':
      case 'Flatten':
        return { op: l._tag, label: l.label }
      case 'MaxPool':
        return { op: 'MaxPool', label: l.label, window: l.window, stride: l.stride }
      case 'Linear':
        return {
          op: 'Linear', label: l.label, k: l.k, n: l.n,
          weights: l.binaryWeights ? bits(packDenseWeights(l.weights, l.k, l.n, 32), l.n, l.k) : numbers(real, l.weights),
          ...(l.bias === undefined ? {} : { bias: numbers(real, l.bias) }),
        }
    }
  })
  const manifest: Manifest = {
    format: packedFormat, input: d.input, output: d.output, layers, dataBytes: size, ...(d.loss === undefined ? {} : { loss: d.loss }),
  }
  const json = new TextEncoder().encode(JSON.stringify(manifest))
  const start = Math.ceil((12 + json.length) / 8) * 8
  const out = new Uint8Array(start + size + 4)
  const view = new DataView(out.buffer)
  out.set(new TextEncoder().encode(packedMagic), 0)
  view.setUint16(4, packedVersion, true)
  view.setUint16(6, 0, true)
  view.setUint32(8, json.length, true)
  out.set(json, 12)
  for (const c of chunks) out.set(c.bytes, start + c.at)
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true)
  return out
}

const wordsLE = (words: Int32Array): Uint8Array => {
  const out = new Uint8Array(4 * words.length)
  const view = new DataView(out.buffer)
  words.forEach((w, i) => view.setInt32(4 * i, w, true))
  return out
}

const numbersLE = (dtype: keyof typeof dtypeBytes, values: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(dtypeBytes[dtype] * values.length)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (dtype === 'i8') view.setInt8(i, v)
    else if (dtype === 'i32') view.setInt32(4 * i, v, true)
    else if (dtype === 'f32') view.setFloat32(4 * i, v, true)
    else view.setFloat64(8 * i, v, true)
  }
  return out
}

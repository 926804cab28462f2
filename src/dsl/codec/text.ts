/**
 * The canonical text of a model file: a small JSON writer whose output is a function of the
 * value alone (so encode ∘ decode ∘ encode = encode, byte for byte), plus the side file's
 * float64 layout and checksum.
 *
 * Numbers are written with `String(x)`, the shortest decimal that reads back to the same float64,
 * except −0, which `JSON.stringify` would write as `0`: it is written `-0`, which `JSON.parse`
 * reads back as −0, so every float64 bit pattern of a finite value round-trips.
 */

export type Json = string | number | boolean | readonly Json[] | { readonly [key: string]: Json }

/** A finite number as JSON text that parses back to the identical float64 (−0 included). */
export const showNumber = (x: number): string => (Object.is(x, -0) ? '-0' : Number.isFinite(x) ? String(x) : 'null')

/** One-line JSON with a space after `:` and `,` (object keys in insertion order). */
export const inline = (v: Json): string => {
  if (typeof v === 'number') return showNumber(v)
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v)
  if (isArray(v)) return `[${v.map(inline).join(', ')}]`
  return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ')}}`
}
const isArray = (v: Json): v is readonly Json[] => Array.isArray(v)

/** Values per line in a long `values` array; short arrays stay on one line. */
export const valuesPerLine = 16

/**
 * A parameter's values as a JSON array: on one line when short, else one line per
 * `valuesPerLine` values, indented by `indent`.
 */
export const valuesText = (xs: Float64Array, indent: string): string => {
  if (xs.length <= valuesPerLine) return `[${Array.from(xs, showNumber).join(', ')}]`
  const lines: string[] = []
  for (let i = 0; i < xs.length; i += valuesPerLine)
    lines.push(indent + '  ' + Array.from(xs.subarray(i, i + valuesPerLine), showNumber).join(', '))
  return `[\n${lines.join(',\n')}\n${indent}]`
}

// ---------------------------------------------------------------------------------------------
// Side file: little-endian float64, independent of the host's byte order

export const bytesPerValue = 8

export const writeFloat64le = (into: Uint8Array, offset: number, xs: Float64Array): void => {
  const view = new DataView(into.buffer, into.byteOffset, into.byteLength)
  for (let i = 0; i < xs.length; i++) view.setFloat64(offset + i * bytesPerValue, xs[i]!, true)
}

export const readFloat64le = (from: Uint8Array, offset: number, count: number): Float64Array => {
  const view = new DataView(from.buffer, from.byteOffset, from.byteLength)
  const out = new Float64Array(count)
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + i * bytesPerValue, true)
  return out
}

/**
 * FNV-1a (32 bit) of the bytes, as 8 hex digits. Not cryptographic: it detects a side file that
 * belongs to another version of the model (say a checkpoint interrupted between its two renames).
 */
export const fnv1a32 = (bytes: Uint8Array): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return (h >>> 0).toString(16).padStart(8, '0')
}

/**
 * LEB128, the variable-length integer encoding of the WebAssembly binary format: 7 bits per byte,
 * least significant group first, the high bit set on every byte but the last. Unsigned for sizes
 * and indices; signed (two's complement, sign-extended from the last group) for constants.
 */

/** Unsigned LEB128 of a non-negative integer below 2^53. */
export const uleb = (value: number): number[] => {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`uleb: expected a non-negative safe integer, found ${value}`)
  const out: number[] = []
  let v = value
  do {
    const byte = v % 128
    v = Math.floor(v / 128)
    out.push(v === 0 ? byte : byte | 0x80)
  } while (v !== 0)
  return out
}

/** Signed LEB128 of an int32 (or any safe integer). */
export const sleb = (value: number): number[] => sleb64(BigInt(value))

/** Signed LEB128 of an int64 given as a bigint (values ≥ 2^63 are taken mod 2^64 as negative). */
export const sleb64 = (value: bigint): number[] => {
  let v = BigInt.asIntN(64, value)
  const out: number[] = []
  for (;;) {
    const byte = Number(v & 0x7fn)
    v >>= 7n
    // Done when the remaining bits are all copies of the sign bit of this byte.
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return out
  }
}

/** A UTF-8 name as the binary format stores it: its byte length, then the bytes. */
export const name = (s: string): number[] => {
  const bytes = [...new TextEncoder().encode(s)]
  return [...uleb(bytes.length), ...bytes]
}

/** A vector: its element count, then the concatenated encodings. */
export const vec = (items: readonly (readonly number[])[]): number[] => [...uleb(items.length), ...items.flat()]

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sleb, sleb64, uleb } from '../../src/wasm/leb128.js'

/** A reference decoder, written from the format's definition. */
const decode = (bytes: readonly number[], signed: boolean): bigint => {
  let result = 0n
  let shift = 0n
  for (const b of bytes) {
    result |= BigInt(b & 0x7f) << shift
    shift += 7n
    if ((b & 0x80) === 0) {
      if (signed && (b & 0x40) !== 0) result -= 1n << shift
      return result
    }
  }
  throw new Error('unterminated')
}

describe('LEB128', () => {
  it('known encodings (the WebAssembly spec and DWARF examples)', () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26])
    expect(uleb(0)).toEqual([0])
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78])
    expect(sleb(-1)).toEqual([0x7f])
    expect(sleb(63)).toEqual([0x3f])
    expect(sleb(64)).toEqual([0xc0, 0x00])
  })

  it('law: decode ∘ encode = id (unsigned, int32, int64), and only the last byte lacks the high bit', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (u, i, b) => {
        for (const [bytes, value, signed] of [[uleb(u), BigInt(u), false], [sleb(i), BigInt(i), true], [sleb64(b), b, true]] as const) {
          expect(decode(bytes, signed)).toBe(value)
          expect(bytes.slice(0, -1).every((x) => x >= 0x80) && bytes[bytes.length - 1]! < 0x80).toBe(true)
        }
      }),
    )
  })
})

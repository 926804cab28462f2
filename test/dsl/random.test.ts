import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Key } from '../../src/dsl/random.js'
import {
  bits, fillBits, fillUnit, foldIn, key, keyOfWords, seedKey, siteHash, siteKey, split, threefry2x32, toUnit,
} from '../../src/dsl/random.js'

const TWO32 = 2 ** 32

// A textbook Threefry-2x32-20, written independently of the unrolled int32 kernel: uint32 values,
// `(a + b) >>> 0`, a rotation table indexed by round, and the key schedule as an array.
const R = [13, 15, 26, 6, 17, 29, 16, 24]
const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0
const reference = (k: readonly [number, number], c: readonly [number, number]): [number, number] => {
  const ks = [k[0], k[1], (0x1bd11bda ^ k[0] ^ k[1]) >>> 0]
  let x0 = (c[0] + ks[0]!) >>> 0
  let x1 = (c[1] + ks[1]!) >>> 0
  for (let r = 0; r < 20; r++) {
    x0 = (x0 + x1) >>> 0
    x1 = (rotl(x1, R[r % 8]!) ^ x0) >>> 0
    if (r % 4 === 3) {
      const s = (r + 1) / 4
      x0 = (x0 + ks[s % 3]!) >>> 0
      x1 = (x1 + ks[(s + 1) % 3]! + s) >>> 0
    }
  }
  return [x0, x1]
}

const uint32 = fc.integer({ min: 0, max: TWO32 - 1 })
const anyKey = fc.tuple(uint32, uint32).map(([a, b]) => keyOfWords(a, b))

describe('Threefry-2x32-20', () => {
  // Random123 tests/kat_vectors, "threefry2x32 20": counter words, key words, output words.
  it.each([
    { ctr: [0x00000000, 0x00000000], k: [0x00000000, 0x00000000], out: [0x6b200159, 0x99ba4efe] },
    { ctr: [0xffffffff, 0xffffffff], k: [0xffffffff, 0xffffffff], out: [0x1cb996fc, 0xbb002be7] },
    { ctr: [0x243f6a88, 0x85a308d3], k: [0x13198a2e, 0x03707344], out: [0xc4923a9c, 0x483df7a0] },
  ] as const)('known answer $out', ({ ctr, k, out }) => {
    expect(threefry2x32(k, ctr)).toEqual(out)
    expect(reference(k, ctr)).toEqual(out)
  })

  it('law: the unrolled kernel ≡ the textbook rounds', () => {
    fc.assert(fc.property(fc.tuple(uint32, uint32), fc.tuple(uint32, uint32), (k, c) => {
      expect(threefry2x32(k, c)).toEqual(reference(k, c))
    }))
  })
})

describe('keys', () => {
  it('key(seed) = [floor(seed / 2^32), seed mod 2^32]', () => {
    expect([...key(0)]).toEqual([0, 0])
    expect([...key(42)]).toEqual([0, 42])
    expect([...key(TWO32 + 5)]).toEqual([1, 5])
    expect([...key(2 ** 53 - 1)]).toEqual([2 ** 21 - 1, TWO32 - 1])
  })

  it('rejects seeds outside the integers of [0, 2^53)', () => {
    for (const bad of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
      expect(() => key(bad)).toThrow(RangeError)
      expect(seedKey(bad)).toEqual(E.left(`a PRNG seed must be an integer in [0, 2^53), found ${bad}`))
    }
    expect(seedKey(7)).toEqual(E.right(key(7)))
  })

  it('split(k, n)[j] = Threefry(k, (j, 0xFFFFFFFF)); foldIn(k, d) = Threefry(k, (d, 0xFFFFFFFE))', () => {
    const k = key(3)
    const kids = split(k, 4)
    kids.forEach((c, j) => expect([...c]).toEqual(reference(k, [j, 0xffffffff])))
    expect([...foldIn(k, 9)]).toEqual(reference(k, [9, 0xfffffffe]))
    expect(split(k)).toEqual(kids.slice(0, 2)) // default n = 2, and a prefix of any larger split
    expect(split(k, 0)).toEqual([])
  })

  it('children, folded keys and the parent are all distinct', () => {
    const k = key(11)
    const all = [k, ...split(k, 100), ...Array.from({ length: 100 }, (_, d) => foldIn(k, d))]
    expect(new Set(all.map((x) => `${x[0]},${x[1]}`)).size).toBe(all.length)
  })

  it('rejects bad split counts and fold data', () => {
    expect(() => split(key(0), -1)).toThrow(RangeError)
    expect(() => split(key(0), 1.5)).toThrow(RangeError)
    expect(() => foldIn(key(0), TWO32)).toThrow(RangeError)
    expect(() => foldIn(key(0), -1)).toThrow(RangeError)
  })

  // FNV-1a, computed here with BigInt as an independent check of the Math.imul version.
  const fnv = (bytes: readonly number[]): number => {
    let h = 0x811c9dc5n
    for (const b of bytes) h = ((h ^ BigInt(b)) * 16777619n) % 2n ** 32n
    return Number(h)
  }

  it('siteHash is FNV-1a over UTF-8', () => {
    expect(siteHash('')).toBe(0x811c9dc5) // the published FNV-1a test vectors
    expect(siteHash('a')).toBe(0xe40c292c)
    expect(siteHash('foobar')).toBe(0xbf9cf968)
    expect(siteHash('é')).toBe(fnv([0xc3, 0xa9]))
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(siteHash(s)).toBe(fnv([...Buffer.from(s, 'utf8')]))
    }))
  })

  it('siteKey(k, s) = foldIn(k, siteHash(s))', () => {
    expect(siteKey(key(5), 'hidden1')).toEqual(foldIn(key(5), siteHash('hidden1')))
  })
})

describe('draws', () => {
  it('bits(k, i) = word (i mod 2) of Threefry(k, (floor(i/2) mod 2^32, floor(i/2^33)))', () => {
    const idx = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
    fc.assert(fc.property(anyKey, idx, (k, i) => {
      const block = Math.floor(i / 2)
      expect(bits(k, i)).toBe(reference(k, [block % TWO32, Math.floor(block / TWO32)])[i % 2])
    }))
  })

  it('law: determinism (same key and index, same bits)', () => {
    fc.assert(fc.property(fc.nat(), fc.nat(), (s, i) => {
      expect(bits(key(s), i)).toBe(bits(key(s), i))
    }))
  })

  it('law: fillBits ≡ bits, across odd starts, odd lengths and the 2^32-block carry', () => {
    const start = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 2 ** 33 - 8, max: 2 ** 33 + 8 }),
      fc.integer({ min: 2 ** 53 - 40, max: 2 ** 53 - 20 }))
    fc.assert(fc.property(anyKey, start, fc.integer({ min: 0, max: 19 }), (k, s, n) => {
      const out = fillBits(k, s, new Uint32Array(n))
      expect([...out]).toEqual(Array.from({ length: n }, (_, j) => bits(k, s + j)))
    }))
  })

  it('rejects indices outside [0, 2^53)', () => {
    expect(() => bits(key(0), -1)).toThrow(RangeError)
    expect(() => bits(key(0), 2 ** 53)).toThrow(RangeError)
    expect(() => fillBits(key(0), 2 ** 53 - 2, new Uint32Array(3))).toThrow(RangeError)
  })

  it('toUnit maps uint32 into the open interval (0, 1), exactly', () => {
    expect(toUnit(0)).toBe(2 ** -33)
    expect(toUnit(TWO32 - 1)).toBe(1 - 2 ** -33)
    expect(toUnit(2 ** 31)).toBe(0.5 + 2 ** -33)
    const k = key(1)
    const u = fillUnit(k, 3, new Float64Array(5))
    expect([...u]).toEqual([3, 4, 5, 6, 7].map((i) => toUnit(bits(k, i))))
  })
})

// Statistical quality, on fixed seeds (so never flaky). Each bound is set at a false-positive rate
// of ≤ 1e−6 under the hypothesis of independent uniform bits, from the χ² or normal distribution.
describe('statistical quality (fixed seeds)', () => {
  const n = 100_000
  const stream = (k: Key): Uint32Array => fillBits(k, 0, new Uint32Array(n))
  const corr = (a: Uint32Array, b: Uint32Array): number => {
    let sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0
    for (let i = 0; i < a.length; i++) {
      const x = toUnit(a[i]!), y = toUnit(b[i]!)
      sa += x; sb += y; sab += x * y; saa += x * x; sbb += y * y
    }
    const m = a.length
    return (sab - (sa * sb) / m) / Math.sqrt((saa - (sa * sa) / m) * (sbb - (sb * sb) / m))
  }
  const parent = key(20240601)
  const [c0, c1] = split(parent) as [Key, Key]
  const pairs: ReadonlyArray<readonly [string, Key, Key]> = [
    ['split children', c0, c1],
    ['foldIn(k, 0) and foldIn(k, 1)', foldIn(parent, 0), foldIn(parent, 1)],
    ['parent and child', parent, c0],
    ['adjacent seeds', key(0), key(1)],
    ['sites "a" and "b"', siteKey(parent, 'a'), siteKey(parent, 'b')],
  ]

  // Under independence r is ≈ N(0, 1/n), so |r| ≤ 4/√n fails with probability 6e−5 (a 4σ bound).
  it.each(pairs)('correlation of uniforms of %s is within 4/√n', (_, a, b) => {
    expect(Math.abs(corr(stream(a), stream(b)))).toBeLessThanOrEqual(4 / Math.sqrt(n))
  })

  // 4n bytes in 256 cells: χ² with 255 degrees of freedom; P(χ²₂₅₅ > 377.1) = P(χ²₂₅₅ < 161.7) = 1e−6.
  it.each([['key(0)', key(0)], ['a split child', c1], ['a site key', siteKey(parent, 'hidden1')]] as const)(
    'byte frequencies of %s pass χ²(255) in [161.7, 377.1]', (_, k) => {
      const counts = new Float64Array(256)
      for (const u of stream(k)) {
        counts[u & 255]!++; counts[(u >>> 8) & 255]!++; counts[(u >>> 16) & 255]!++; counts[u >>> 24]!++
      }
      const expected = (4 * n) / 256
      const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0)
      expect(chi2).toBeGreaterThan(161.7)
      expect(chi2).toBeLessThan(377.1)
    })

  // For each of the 32 bit positions, the pair (bit of x_i, bit of y_i) over n/2 disjoint pairs
  // falls in 4 equiprobable cells: χ²₃ per position, independent across positions, so the sum is
  // χ²₉₆; P(χ²₉₆ > 176.8) = P(χ²₉₆ < 43.8) = 1e−6.
  const bitPairChi2 = (x: Uint32Array, y: Uint32Array): number => {
    const m = x.length
    let chi2 = 0
    for (let b = 0; b < 32; b++) {
      const cells = [0, 0, 0, 0]
      for (let i = 0; i < m; i++) cells[(((x[i]! >>> b) & 1) << 1) | ((y[i]! >>> b) & 1)]!++
      chi2 += cells.reduce((s, c) => s + (c - m / 4) ** 2 / (m / 4), 0)
    }
    return chi2
  }
  const evens = (s: Uint32Array): Uint32Array => s.filter((_, i) => i % 2 === 0)
  const odds = (s: Uint32Array): Uint32Array => s.filter((_, i) => i % 2 === 1)

  it('bit pairs within a Threefry block (draws 2i, 2i+1) pass χ²(96) in [43.8, 176.8]', () => {
    const s = stream(key(77))
    const chi2 = bitPairChi2(evens(s), odds(s))
    expect(chi2).toBeGreaterThan(43.8)
    expect(chi2).toBeLessThan(176.8)
  })

  it.each(pairs)('bit pairs across the streams of %s pass χ²(96) in [43.8, 176.8]', (_, a, b) => {
    const chi2 = bitPairChi2(evens(stream(a)), evens(stream(b)))
    expect(chi2).toBeGreaterThan(43.8)
    expect(chi2).toBeLessThan(176.8)
  })
})

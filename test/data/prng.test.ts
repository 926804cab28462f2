import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { bits, key } from '../../src/dsl/random.js'
import { drawDataError } from '../../src/data/dataErrors.js'
import { normal, permutation, seededKey, stream } from '../../src/data/prng.js'

const keyOf = (seed: number, purpose = 'test') => {
  const k = seededKey(seed, purpose)
  if (E.isLeft(k)) throw new Error('bad seed')
  return k.right
}

describe('stream', () => {
  it('reads the key\'s draws bits(k, 0), bits(k, 1), … in order, across buffer refills', () => {
    const k = key(7)
    const s = stream(k)
    const read = Array.from({ length: 1100 }, () => s.uint32())
    expect(read).toEqual(Array.from({ length: 1100 }, (_, i) => bits(k, i)))
  })
  it('floats lie in [0, 1) with mean 1/2 (|mean − 1/2| ≤ 4σ, σ = √(1/12 / 20000) ≈ 0.0020)', () => {
    const s = stream(key(1))
    let sum = 0
    for (let i = 0; i < 20000; i++) {
      const u = s.float()
      expect(u >= 0 && u < 1).toBe(true)
      sum += u
    }
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / 20000))
  })
  it('normal draws have mean 0 and variance 1 (4σ: σ_mean = 1/√N, σ_var = √(2/N), N = 20000)', () => {
    const s = stream(key(2))
    const n = 20000
    const xs = Array.from({ length: n }, () => normal(s))
    const mean = xs.reduce((a, b) => a + b, 0) / n
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n))
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n))
  })
})

describe('seededKey', () => {
  it('separates purposes and rejects bad seeds as values', () => {
    expect(stream(keyOf(0, 'split')).uint32()).not.toBe(stream(keyOf(0, 'gradeval')).uint32())
    const bad = seededKey(-1, 'split', 'split.seed')
    expect(E.isLeft(bad) && drawDataError(bad.left)).toBe('split.seed: a PRNG seed must be an integer in [0, 2^53), found -1')
  })
})

describe('permutation', () => {
  it('law: is a permutation of 0..n−1, a pure function of the key', () => {
    fc.assert(
      fc.property(fc.nat({ max: 300 }), fc.nat({ max: 1000 }), (n, seed) => {
        const p = permutation(n, keyOf(seed))
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
        expect(permutation(n, keyOf(seed))).toEqual(p)
      }),
    )
  })
  it('is uniform on S₃: each of the 6 orders within 4σ of 1000 in 6000 seeds (σ = √(6000·(1/6)(5/6)) ≈ 28.9)', () => {
    const counts = new Map<string, number>()
    for (let seed = 0; seed < 6000; seed++) {
      const id = Array.from(permutation(3, keyOf(seed))).join('')
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    expect(counts.size).toBe(6)
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(4 * Math.sqrt(6000 * (1 / 6) * (5 / 6)))
  })
})

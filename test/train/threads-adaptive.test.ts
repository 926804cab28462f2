/**
 * The default threaded kernels choose by timing whether each kind of product or sampled site is
 * split (`threads/choose.ts`); the choice changes who computes, never what: 2 threads ≡ 1 thread
 * bit for bit on training-size products and sampled sites, through the calls that try both ways.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { ProperNoise } from '../../src/dsl/noise.js'
import { key } from '../../src/dsl/random.js'
import type { NDArray } from '../../src/interpreters/ndarray.js'
import { wasmProducts } from '../../src/train/fast/index.js'
import type { ThreadedProducts } from '../../src/train/threads/threadedProducts.js'
import { threadedProducts } from '../../src/train/threads/threadedProducts.js'

const right = <T>(e: E.Either<unknown, T>): T => {
  if (E.isLeft(e)) throw new Error(JSON.stringify(e.left))
  return e.right
}
const opened: ThreadedProducts[] = []
afterAll(() => opened.forEach((k) => k.close()))

/** Deterministic pseudo-random values (a linear congruential sequence), reals or ±1. */
const values = (r: number, c: number, seed: number, signs: boolean): NDArray => {
  let s = seed >>> 0
  const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32
  return { shape: [r, c], data: Float64Array.from({ length: r * c }, () => (signs ? (next() < 0.5 ? -1 : 1) : next() - 0.5)) }
}
const same = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]))

describe('adaptive thread splitting', () => {
  it('law: 2 threads (split chosen by timing) ≡ 1 thread, bit for bit, over the calls that try both ways', () => {
    const one = right(wasmProducts())
    const two = right(threadedProducts({ threads: 2 }))
    opened.push(two)
    const x = values(64, 300, 1, false), w = values(300, 256, 2, true), h = values(64, 256, 3, true), g = values(64, 256, 4, false)
    const eta = values(300, 256, 5, false).data
    const noise: ProperNoise = { family: 'logistic', scale: 1 }
    // Ten calls of each kind: three tries each way, then the chosen way.
    for (let r = 0; r < 10; r++) {
      expect(same(two.matmul(x, w).data, one.matmul(x, w).data), `x·W, call ${r}`).toBe(true)
      expect(same(two.matmulTN(x, g).data, one.matmulTN(x, g).data), `xᵀg, call ${r}`).toBe(true)
      expect(same(two.matmulNT(h, w).data, one.matmulNT(h, w).data), `h·Wᵀ (signs), call ${r}`).toBe(true)
      expect(same(two.signs!(noise, eta, key(r)), one.signs!(noise, eta, key(r))), `signs, call ${r}`).toBe(true)
    }
    expect(two.started()).toBe(true)
  })
})

/**
 * The literal arithmetic of the shape twins agrees with the runtime arithmetic it mirrors
 * (`windowOut`, `sizeOf`), and gives `number` where it must not compute (unknown or too large).
 * Every `assertType` is checked by tsc; every `expect` re-computes the same value at run time.
 */
import { describe, expect, it } from 'vitest'
import { sizeOf, windowOut } from '../../src/dsl/shape.js'
import type { IsNatural, Plus, Product, Times, Window } from '../../src/dsl/types/arith.js'
import { assertType } from './equal.js'
import type { Equal } from './equal.js'

describe('Window ≡ windowOut (floor((h + 2p − k)/s) + 1)', () => {
  it('on the sizes of common layers', () => {
    assertType<Equal<Window<28, 5, 1, 0>, 24>>()
    assertType<Equal<Window<28, 3, 1, 1>, 28>>()
    assertType<Equal<Window<28, 3, 2, 1>, 14>>()
    assertType<Equal<Window<32, 2, 2, 0>, 16>>()
    assertType<Equal<Window<224, 7, 2, 3>, 112>>()
    assertType<Equal<Window<999, 3, 2, 0>, 499>>()
    assertType<Equal<Window<999, 1, 7, 0>, 143>>()
    assertType<Equal<Window<999, 1, 500, 0>, 2>>()
    const cases: ReadonlyArray<readonly [number, number, number, number, number]> = [
      [28, 5, 1, 0, 24], [28, 3, 1, 1, 28], [28, 3, 2, 1, 14], [32, 2, 2, 0, 16], [224, 7, 2, 3, 112],
      [999, 3, 2, 0, 499], [999, 1, 7, 0, 143], [999, 1, 500, 0, 2],
    ]
    for (const [h, k, s, p, out] of cases) expect(windowOut(h, k, s, p)).toBe(out)
  })

  it('is 0 exactly when the window does not fit (the runtime "< 1")', () => {
    assertType<Equal<Window<3, 5, 1, 0>, 0>>()
    assertType<Equal<Window<3, 5, 1, 1>, 1>>()
    expect(windowOut(3, 5, 1, 0)).toBeLessThan(1)
    expect(windowOut(3, 5, 1, 1)).toBe(1)
  })

  it('gives number for unknown or large operands (left to typecheck)', () => {
    assertType<Equal<Window<number, 3, 1, 0>, number>>()
    assertType<Equal<Window<28, 3, number, 0>, number>>()
    assertType<Equal<Window<1000, 3, 1, 0>, number>>()
    // The padded size 500 + 2·250 reaches 1000: no tuple that long is built.
    assertType<Equal<Window<500, 3, 1, 250>, number>>()
    assertType<Equal<Window<28, 3, 0, 0>, number>>()
  })
})

describe('Times and Product ≡ sizeOf', () => {
  it('multiplies exactly, by decimal digits, at any size up to 2^53', () => {
    assertType<Equal<Times<7, 8>, 56>>()
    assertType<Equal<Times<0, 5>, 0>>()
    assertType<Equal<Times<784, 512>, 401408>>()
    assertType<Equal<Times<123456789, 98765>, 12193209765585>>()
    expect(784 * 512).toBe(401408)
    expect(123456789 * 98765).toBe(12193209765585)
  })

  it('gives number past 2^53 and for unknown operands', () => {
    assertType<Equal<Times<99999999, 999999999>, number>>()
    assertType<Equal<Times<number, 3>, number>>()
    assertType<Equal<Times<-2, 3>, number>>()
  })

  it('Product counts the batch axis as 1, like sizeOf', () => {
    assertType<Equal<Product<['batch', 512, 7, 7]>, 25088>>()
    assertType<Equal<Product<[28, 28]>, 784>>()
    assertType<Equal<Product<[]>, 1>>()
    assertType<Equal<Product<['batch', number]>, number>>()
    expect(sizeOf(['batch', 512, 7, 7])).toBe(25088)
    expect(sizeOf([28, 28])).toBe(784)
    expect(sizeOf([])).toBe(1)
  })
})

describe('Plus and IsNatural', () => {
  it('adds small naturals and refuses the rest', () => {
    assertType<Equal<Plus<3, 4>, 7>>()
    assertType<Equal<Plus<999, 999>, 1998>>()
    assertType<Equal<Plus<1000, 1>, number>>()
    assertType<Equal<IsNatural<-1>, false>>()
    assertType<Equal<IsNatural<1.5>, false>>()
    assertType<Equal<IsNatural<3 | 4>, false>>()
    assertType<Equal<IsNatural<number>, false>>()
    assertType<Equal<IsNatural<0>, true>>()
    expect(3 + 4).toBe(7)
  })
})

/**
 * The two-dimensional dataset of the gradient-accuracy protocol (MATH.md §7): class +1 is uniform
 * on [−π/2, π/2] × [0, 1]; class −1 is uniform on [−π/2, π/2] × [−1, 1] restricted to
 * x₂ < cos(x₁), drawn by rejection (acceptance rate (π + 2)/(2π) ≈ 0.82). The classes overlap on
 * 0 ≤ x₂ < cos(x₁), so no classifier is perfect, which keeps the expected loss and its gradient away
 * from degenerate values.
 *
 * Draw order (part of the definition): with s = stream(seededKey(seed, 'gradeval')), first the
 * `perClass` positive points, each x₁ = uniform(s, −π/2, π/2) then x₂ = uniform(s, 0, 1); then the
 * negative points, each candidate x₁ then x₂ = uniform(s, −1, 1), kept iff x₂ < cos(x₁). Rows are
 * in that order: the positives, then the negatives.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { DataError } from './dataErrors.js'
import { invalidData } from './dataErrors.js'
import { seededKey, stream, uniform } from './prng.js'

export interface GradevalOptions {
  /** Points per class (default 100, so 200 in all). */
  readonly perClass?: number
}

/** Whether a point lies in the support of class −1 (the rejection rule). */
export const inNegativeRegion = (x1: number, x2: number): boolean =>
  x1 >= -Math.PI / 2 && x1 <= Math.PI / 2 && x2 >= -1 && x2 < Math.cos(x1)

/** Whether a point lies in the support of class +1. */
export const inPositiveRegion = (x1: number, x2: number): boolean =>
  x1 >= -Math.PI / 2 && x1 <= Math.PI / 2 && x2 >= 0 && x2 <= 1

/**
 * The §7 dataset: `{ x: [2n, 2], y: [2n] }` with y = +1 for the first n rows and −1 for the rest
 * (the ±1 labels of logistic NLL), n = `perClass`.
 * @example gradevalData(0) // right({ x: shape [200, 2], y: shape [200] })
 */
export const gradevalData = (seed: number, options: GradevalOptions = {}): E.Either<DataError, Feed> => {
  const n = options.perClass ?? 100
  if (!(Number.isInteger(n) && n >= 1)) return E.left(invalidData('perClass', `expected a positive integer, found ${n}`))
  const k = seededKey(seed, 'gradeval')
  if (E.isLeft(k)) return k
  const s = stream(k.right)
  const half = Math.PI / 2
  const x = new Float64Array(4 * n)
  const y = new Float64Array(2 * n)
  for (let i = 0; i < n; i++) {
    x[2 * i] = uniform(s, -half, half)
    x[2 * i + 1] = uniform(s, 0, 1)
    y[i] = 1
  }
  for (let i = n; i < 2 * n; ) {
    const x1 = uniform(s, -half, half)
    const x2 = uniform(s, -1, 1)
    if (x2 < Math.cos(x1)) {
      x[2 * i] = x1
      x[2 * i + 1] = x2
      y[i] = -1
      i++
    }
  }
  return E.right({ x: { shape: [2 * n, 2], data: x }, y: { shape: [2 * n], data: y } })
}

/**
 * Shared arbitraries and error bounds for the kernel tests: random products (shapes that are
 * not multiples of any blocking, real or ±1 operands) and the rounding bound of a kernel.
 */
import fc from 'fast-check'
import type { NDArray } from '../../../src/interpreters/ndarray.js'
import { referenceProducts } from '../../../src/interpreters/reference/ops.js'

export type Op = 'matmul' | 'matmulNT' | 'matmulTN'
export const ops: readonly Op[] = ['matmul', 'matmulNT', 'matmulTN']

/** Unit roundoff of single (2⁻²⁴) and double (2⁻⁵³) precision. */
export const U32 = 2 ** -24
export const U64 = 2 ** -53

/** γ_j = j·u / (1 − j·u): the relative bound of j successive roundings (Higham, §3.1). */
export const gamma = (j: number, u: number): number => (j * u) / (1 - j * u)

// Sizes around and between every blocking tried (1, 2, 3, 4, 6, 8, 12, 16 …).
export const dim = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33, 65)

/**
 * Values: 0, or of magnitude in [2⁻²⁰, 2²⁰], so that every product is a normal f32 (no
 * underflow, whose absolute error a relative bound cannot cover).
 */
export const value = fc.double({ min: -(2 ** 20), max: 2 ** 20, noNaN: true }).map((v) => (Math.abs(v) < 2 ** -20 ? 0 : v))
export const sign = fc.constantFrom(1, -1)

const filled = (n: number, kind: 'real' | 'signs' | 'almost') =>
  fc.array(kind === 'real' ? value : sign, { minLength: n, maxLength: n }).chain((xs) =>
    // "almost": ±1 but one real value, which must send the product down the float path.
    kind === 'almost' ? fc.tuple(fc.nat(n - 1), value).map(([i, v]) => { const ys = Float64Array.from(xs); ys[i] = v === 1 || v === -1 ? 0.5 : v; return ys })
      : fc.constant(Float64Array.from(xs)))

export interface Case {
  readonly op: Op
  readonly a: NDArray
  readonly b: NDArray
  /** Inner (summed) dimension. */
  readonly k: number
}

const kind = fc.constantFrom('real' as const, 'signs' as const, 'signs' as const, 'almost' as const)

/** A product of `op` on random shapes and operands (each operand real, ±1, or ±1 but one value). */
export const arbCase = (op: Op): fc.Arbitrary<Case> =>
  fc.record({ m: dim, k: dim, n: dim, ka: kind, kb: kind }).chain(({ m, k, n, ka, kb }) => {
    const [as, bs] = op === 'matmul' ? [[m, k], [k, n]] : op === 'matmulNT' ? [[m, k], [n, k]] : [[k, m], [k, n]]
    return fc.tuple(filled(as[0]! * as[1]!, ka), filled(bs[0]! * bs[1]!, kb)).map(([a, b]) => ({
      op, k, a: { shape: as, data: a }, b: { shape: bs, data: b },
    }))
  })

/** Σ_p |A(i,p)·B(p,j)| for every output element: the scale of the rounding error of a dot product. */
export const absProduct = (c: Case): Float64Array => {
  const abs = (x: NDArray): NDArray => ({ shape: x.shape, data: x.data.map(Math.abs) })
  return referenceProducts[c.op](abs(c.a), abs(c.b)).data
}

/**
 * Worst ratio |kernel − reference| / bound over the output, with bound = (γ_{k+2}(u) + γ_k(2⁻⁵³))·Σ|ab|:
 * the kernel rounds both inputs to precision u (2 roundings) and then does k multiply-adds in
 * sequence (k roundings), the float64 reference does k; ≤ 1 means within the bound.
 */
export const worstRatio = (c: Case, got: NDArray, u: number): number => {
  const want = referenceProducts[c.op](c.a, c.b)
  const scale = absProduct(c)
  const bound = gamma(c.k + 2, u) + gamma(c.k, U64)
  let worst = 0
  for (let i = 0; i < want.data.length; i++) {
    const err = Math.abs(got.data[i]! - want.data[i]!)
    if (err > 0) worst = Math.max(worst, err / (bound * scale[i]!))
  }
  return worst
}

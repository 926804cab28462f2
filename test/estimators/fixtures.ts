/**
 * Helpers shared by the estimator laws: unwrapping results, forcing the states of stochastic
 * sites through a `BitSource`, enumerating joint states, a few hand-written forward pieces
 * (affine maps, state probabilities) that use no interpreter code, and grid-valued arbitraries.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { expect } from 'vitest'
import { dense, sbinary, squaredError } from '../../src/dsl/composites.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import type { RunError } from '../../src/interpreters/runErrors.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import type { BitSource } from '../../src/estimators/sites.js'
import { checked } from '../interpreters/fixtures.js'

export type Grads = Readonly<Record<string, Float64Array>>

/** The right value, or a thrown error with the rendered message (a test failure, not a law). */
export const unwrap = <A>(r: E.Either<RunError, A>): A => {
  if (E.isLeft(r)) throw new Error(drawRunError(r.left))
  return r.right
}

// ---------------------------------------------------------------------------------------------
// Forcing states

/**
 * The draw that forces state x under the sampling rule "x = +1 iff u < T(F(a))": u = 0 gives +1
 * whenever T ≥ 1 (F(a) ≥ 2⁻³²), u = 2³² − 1 gives −1 whenever T < 2³² (F(a) < 1 − 2⁻³²). The
 * arbitraries below keep every reachable state inside these bounds.
 */
export const bitsFor = (x: number): number => (x === 1 ? 0 : 0xffffffff)

/** A source under which every listed site takes the given ±1 states (row-major, as its tensor). */
export const forceStates = (states: Readonly<Record<string, readonly number[]>>): BitSource => (_pass, site, count) => {
  const s = states[site]
  if (s === undefined || s.length !== count) throw new Error(`forceStates: site ${site} wants ${count} draws, have ${s?.length ?? 'none'}`)
  return Uint32Array.from(s, bitsFor)
}

/** The 2ⁿ vectors of ±1 of length n; bit j of the index set ⇔ entry j is +1. */
export const signVectors = (n: number): number[][] =>
  Array.from({ length: 2 ** n }, (_, s) => Array.from({ length: n }, (__, j) => (Math.floor(s / 2 ** j) % 2 === 1 ? 1 : -1)))

/** Every joint state of several sites (name → number of units), as name → ±1 vector. */
export const jointStates = (sizes: ReadonlyArray<readonly [string, number]>): Array<Record<string, number[]>> => {
  const total = sizes.reduce((a, [, n]) => a + n, 0)
  return signVectors(total).map((v) => {
    const out: Record<string, number[]> = {}
    let o = 0
    for (const [name, n] of sizes) {
      out[name] = v.slice(o, o + n)
      o += n
    }
    return out
  })
}

/** P(x | a) for one unit: F(a) for +1 and F(−a) for −1 (accurate in both tails). */
export const stateProb = (noise: Noise, x: number, a: number): number => noiseFns(noise).cdf(x * a)

/** Π_i P(x_i | a_i). */
export const statesProb = (noise: Noise, xs: readonly number[], as: readonly number[]): number =>
  xs.reduce((p, x, i) => p * stateProb(noise, x, as[i]!), 1)

// ---------------------------------------------------------------------------------------------
// Hand-written forward pieces

/** Row n of x·W + b for x [rows, in] and W stored row-major [in, out]. */
export const affineRow = (x: ArrayLike<number>, n: number, inputs: number, W: ArrayLike<number>, b: ArrayLike<number> | undefined, out: number): number[] => {
  const a: number[] = []
  for (let j = 0; j < out; j++) {
    let s = b === undefined ? 0 : b[j]!
    for (let i = 0; i < inputs; i++) s += x[n * inputs + i]! * W[i * out + j]!
    a.push(s)
  }
  return a
}

/**
 * One unit with pre-activation a (x = 1, unit.W = 0.25, unit.b = a − 0.25) and noise `noise`,
 * a real head η = v·x + c (output `output`, site `unit.act`) and the squared loss (η − y)².
 */
export const oneUnit = (noise: Noise, a: number, v: number, c: number, y: number): { net: Checked<Network>; feed: Feed } => {
  const x = input('x', ['batch', 1])
  const eta = pipe(x, dense(1, { name: 'unit' }), sbinary(noise, { site: 'unit.act' }), dense(1, { name: 'f' }))
  const params = { 'unit.W': Float64Array.of(0.25), 'unit.b': Float64Array.of(a - 0.25), 'f.W': Float64Array.of(v), 'f.b': Float64Array.of(c) }
  const net = checked({ outputs: { output: eta, loss: squaredError(input('y', ['batch', 1]))(eta) }, params })
  return { net, feed: { x: { shape: [1, 1], data: Float64Array.of(1) }, y: { shape: [1, 1], data: Float64Array.of(y) } } }
}

// ---------------------------------------------------------------------------------------------
// Gradient arithmetic and comparison

export const zerosLike = (g: Grads): Record<string, Float64Array> =>
  Object.fromEntries(Object.entries(g).map(([k, v]) => [k, new Float64Array(v.length)]))

/** acc += w · g, parameter by parameter. */
export const addScaled = (acc: Record<string, Float64Array>, g: Grads, w: number): void => {
  for (const [k, v] of Object.entries(acc)) {
    const gk = g[k]
    if (gk === undefined) throw new Error(`addScaled: no gradient for ${k}`)
    for (let i = 0; i < v.length; i++) v[i]! += w * gk[i]!
  }
}

/** Largest absolute difference over the named parameters (default: every parameter of `expected`). */
export const maxDiff = (actual: Grads, expected: Grads, names: readonly string[] = Object.keys(expected)): number => {
  let m = 0
  for (const k of names) {
    const a = actual[k]
    const e = expected[k]
    if (a === undefined || e === undefined || a.length !== e.length) return Infinity
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - e[i]!))
  }
  return m
}

const show = (g: Grads, names: readonly string[]): string =>
  names.map((k) => `${k}=[${[...(g[k] ?? [])].map((v) => v.toPrecision(12)).join(', ')}]`).join(' ')

/** Asserts |actual − expected| ≤ tol for every entry of the named parameters, printing both. */
export const expectGradsClose = (actual: Grads, expected: Grads, tol: number, names: readonly string[] = Object.keys(expected)): void => {
  const d = maxDiff(actual, expected, names)
  expect(d, `max |diff| ${d}\n  actual   ${show(actual, names)}\n  expected ${show(expected, names)}`).toBeLessThanOrEqual(tol)
}

/** The concatenation of the named parameters' gradients. */
export const flat = (g: Grads, names: readonly string[]): number[] => names.flatMap((k) => [...(g[k] ?? [])])

export const cosine = (a: readonly number[], b: readonly number[]): number => {
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!
    aa += a[i]! * a[i]!
    bb += b[i]! * b[i]!
  }
  return ab / Math.sqrt(aa * bb)
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/**
 * Multiples of 1/den in [lo, hi]. Grid values keep sums of products exact and keep every
 * pre-activation either 0 or at least 1/den² away from it, so no cdf lands within 2⁻³² of a
 * breakpoint or of 0 and 1 where a state could not be forced (see the callers' ranges).
 */
export const gridValue = (lo: number, hi: number, den = 32): fc.Arbitrary<number> =>
  fc.integer({ min: Math.round(lo * den), max: Math.round(hi * den) }).map((k) => k / den)

export const gridArray = (n: number, lo: number, hi: number, den = 32): fc.Arbitrary<number[]> =>
  fc.array(gridValue(lo, hi, den), { minLength: n, maxLength: n })

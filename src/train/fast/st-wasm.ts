/**
 * The ST reverse rule of logistic sites on the training module (`MatrixProducts.stFactorTimes`):
 * the pre-activations and the incoming gradient copied into the kernels' memory, the factor
 * computed by `st_logistic` (`emit-st.ts`, fdlibm's exponential two units at a time) in ranges
 * of units over the runner's threads, and the result copied out. The pairs it lists (|a/s| ≥ 708,
 * NaN) are recomputed by the JavaScript rule itself, so the result is `stFactorTimes`' bit for
 * bit; other noise families are left to that rule (undefined).
 */
import type { Noise } from '../../dsl/noise.js'
import { stFactorTimes } from '../../dsl/distributions.js'
import type { Call, Runner } from '../../threads/jobs.js'
import { evenRanges } from '../../threads/jobs.js'
import type { WasmMemory } from '../../wasm/runtime.js'
import { growTo } from '../../wasm/memory.js'

export type StTimes = (noise: Noise, a: Float64Array, g: Float64Array) => Float64Array | undefined

/**
 * The rule on `memory` (grown on demand; shared with the products, which never run at the same
 * time), split over `runner`'s threads from `splitUnits` units on; results made by `copyOf` from
 * a view of the memory (the products' recycler).
 */
export const stOn = (
  memory: WasmMemory, runner: Runner, splitUnits: number, copyOf: (view: Float64Array) => Float64Array = (view) => new Float64Array(view),
): StTimes => (noise, a, g) => {
  const n = a.length
  if (noise.family !== 'logistic' || n === 0 || g.length !== n) return undefined
  const pairs = Math.ceil(n / 2)
  const parts = n < splitUnits ? 1 : Math.min(runner.threads, pairs)
  // Layout (bytes): a, g, out (whole pairs; an odd tail reads a zero), the scale, each part's count, the listed pairs.
  const aAt = 16
  const gAt = aAt + 16 * pairs
  const outAt = gAt + 16 * pairs
  const sAt = outAt + 16 * pairs
  const countAt = sAt + 8
  const listAt = countAt + 4 * Math.ceil(parts / 4) * 4
  growTo(memory, listAt + 4 * pairs, 'training ST factor')
  const f64 = new Float64Array(memory.buffer, aAt, 6 * pairs + 1)
  f64.set(a, 0)
  f64.set(g, 2 * pairs)
  if (n % 2 === 1) f64[n] = f64[2 * pairs + n] = 0
  f64[6 * pairs] = noise.scale
  const ranges = evenRanges(pairs, parts)
  runner.run(ranges.map(([p0, p1], t): Call[] =>
    p1 > p0 ? [['st_logistic', aAt + 16 * p0, gAt + 16 * p0, outAt + 16 * p0, p1 - p0, sAt, listAt + 4 * p0, countAt + 4 * t]] : []))
  const out = copyOf(new Float64Array(memory.buffer, outAt, n))
  const counts = new Int32Array(memory.buffer, countAt, parts)
  ranges.forEach(([p0], t) => {
    for (const p of new Int32Array(memory.buffer, listAt + 4 * p0, counts[t]!)) {
      const i = 2 * (p0 + p)
      const j = Math.min(n, i + 2)
      out.set(stFactorTimes(noise, a.subarray(i, j), g.subarray(i, j)), i)
    }
  })
  return out
}

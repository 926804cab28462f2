/**
 * The sampling rule of a training pass in WebAssembly: x = +1 iff u < floor(F(a/s)·2³²), with u
 * the draws `fillBits(key, 0, ·)` of the site's key. The draws come from the compiled back end's
 * Threefry kernel (`fillRandom`, the very code the compiled interpreter runs), so they are the
 * same bits; the comparison is decided in WebAssembly for logistic noise and in JavaScript's
 * exact rule (`signsFromBits`) for every other family and for the rare near-ties.
 *
 * Logistic comparison: four units at a time in single precision (`emit-logistic.ts`, whose error
 * budget keeps σ̃·2³² within about 4 500 units of σ·2³²). If u is farther than about 2¹⁴ from it
 * (|u·(1 + e) − 2³²·sel| > MARGIN_F32 = 2¹⁵) the answer is the exact rule's; otherwise the index
 * goes to a tie list that JavaScript decides with `signsFromBits`.
 * The result is therefore bit-identical to the rule for every input, by construction.
 */
import type { ProperNoise } from '../../dsl/noise.js'
import type { Key } from '../../dsl/random.js'
import { signsFromBits } from '../../interpreters/reference/sampling.js'
import { fillRandom } from '../../interpreters/compiled/kernels-wasm/threefry.js'
import type { WasmFunction } from '../../wasm/code.js'
import type { WasmMemory } from '../../wasm/runtime.js'
import { growTo } from '../../wasm/memory.js'
import type { Call, Runner } from '../../threads/jobs.js'
import { evenRanges } from '../../threads/jobs.js'
import type { SplitChooser } from '../../threads/choose.js'
import type { SiteId } from '../../dsl/node.js'
import { logisticSigns4 } from './emit-logistic.js'

/** The sampler's functions, assembled into the training module (`gemmModule`). */
export const samplerFunctions = (): WasmFunction[] => [
  fillRandom({ _tag: 'FillRandom', label: 'draws', out: 0, count: 1, perExample: true, site: 'training' as SiteId }),
  logisticSigns4(),
]

/**
 * ±1 by the sampling rule for pre-activations `a` and the draws `fillBits(key, offset, ·)`
 * (offset default 0): a fresh array, or `into` (of a's length), written.
 */
export type SampleSigns = (noise: ProperNoise, a: Float64Array, key: Key, offset?: number, into?: Float64Array) => Float64Array

/**
 * Units below which a site's logistic comparison stays on the calling thread (waking a worker
 * costs about as much as comparing this many); it changes who decides a unit, not the result.
 */
export const MIN_SPLIT_UNITS = 1 << 14

/**
 * The WebAssembly sampler on the training module's memory (grown on demand; it shares the space
 * with the products, which never run at the same time): the draws and the logistic comparison
 * in ranges of whole 32-unit groups over `runner`'s threads from `splitUnits` units on. Threefry
 * is counter-based (draw i depends only on the key and i), so a part's draws, started at its own
 * counter block, are the bits one call would draw there.
 * Results are made by `copyOf` from a view of the memory (the products' recycler, `recycle.ts`).
 * The host must have WebAssembly SIMD (Threefry runs on i32x4 lanes), which `wasmProducts` checks.
 */
export const samplerOn = (
  memory: WasmMemory, runner: Runner, splitUnits = MIN_SPLIT_UNITS, choose?: SplitChooser,
  copyOf: (view: Float64Array) => Float64Array = (view) => new Float64Array(view),
): SampleSigns => {
  const ensure = (bytes: number): void => void growTo(memory, bytes, 'training sampler')
  /** The signs with the draws and comparisons in `threads` parts (fewer if there are fewer groups). */
  const sampleIn = (noise: ProperNoise, a: Float64Array, key: Key, threads: number, offset: number, into: Float64Array | undefined): Float64Array => {
    const n = a.length
    // Layout: u (n u32 + 32 slack for the 32-draw groups), ties, pre, out (rounded up to whole
    // quads of units; the extra lanes read a zero pre-activation and their results are ignored),
    // then 1/scale (f64) and each part's tie count (i32).
    const quads = Math.ceil(n / 4)
    // Parts take whole groups of 32 units: a part's draws then start at a counter block of their
    // own and end where the next part's begin (the Threefry kernel writes whole groups of 32).
    const groups = Math.ceil(n / 32)
    const parts = Math.min(threads, groups)
    // (u starts 16 bytes in: an odd first draw writes its block's first word just before it.)
    const uAt = 16
    const tiesAt = uAt + Math.ceil(((n + 32) * 4) / 16) * 16
    const preAt = tiesAt + quads * 16
    const outAt = preAt + quads * 32
    const invAt = outAt + quads * 32
    const countAt = invAt + 8
    ensure(countAt + 4 * parts)
    const ranges = evenRanges(groups, parts).map(([g0, g1]) => [8 * g0, Math.min(quads, 8 * g1)] as const)
    // Draw i is word offset + i of the stream: Threefry block ⌊(offset + i)/2⌋, word (offset + i) mod 2.
    const draws = (q0: number, q1: number): Call =>
      ['random_draws', Math.min(n, 4 * q1) - 4 * q0, uAt + 16 * q0, key[0], key[1], Math.floor((offset + 4 * q0) / 2), (offset + 4 * q0) % 2]
    if (noise.family !== 'logistic') {
      runner.run(ranges.map(([q0, q1]): Call[] => (q1 > q0 ? [draws(q0, q1)] : [])))
      const out = into ?? new Float64Array(n)
      signsFromBits(new Uint32Array(memory.buffer, uAt, n), a, 0, noise, out, 0, n)
      return out
    }
    const preV = new Float64Array(memory.buffer, preAt, 4 * quads)
    preV.set(a)
    preV.fill(0, n)
    new Float64Array(memory.buffer, invAt, 1)[0] = 1 / noise.scale
    // Part t draws and decides quads [q0, q1): its units from 4·q0 on, its ties from tiesAt + 16·q0 (≤ 4 per quad).
    runner.run(ranges.map(([q0, q1], t): Call[] =>
      q1 > q0 ? [draws(q0, q1), ['logistic_signs4', preAt + 32 * q0, uAt + 16 * q0, outAt + 32 * q0, tiesAt + 16 * q0, q1 - q0, invAt, countAt + 4 * t]] : []))
    const u = new Uint32Array(memory.buffer, uAt, n)
    // `into`, or a recycled array, or one constructed from the view (without the zero-filling of `new Float64Array(n)`).
    const view = new Float64Array(memory.buffer, outAt, n)
    const out = into === undefined ? copyOf(view) : (into.set(view), into)
    const counts = new Int32Array(memory.buffer, countAt, parts)
    ranges.forEach(([q0, q1], t) => {
      const tie = new Uint32Array(memory.buffer, tiesAt + 16 * q0, q1 > q0 ? counts[t]! : 0)
      for (let j = 0; j < tie.length; j++) {
        const i = 4 * q0 + tie[j]!
        if (i >= n) continue
        signsFromBits(u.subarray(i, i + 1), a, i, noise, out, i, 1)
      }
    })
    return out
  }
  return (noise, a, key, offset = 0, into) => {
    const n = a.length
    if (into !== undefined && into.length !== n) throw new RangeError(`signs into ${into.length} values for ${n} pre-activations`)
    if (n === 0) return into ?? new Float64Array(0)
    if (Math.ceil((offset + n) / 2) > 2 ** 32) throw new RangeError(`draws past 2^33 (from ${offset})`)
    if (n < splitUnits || runner.threads === 1) return sampleIn(noise, a, key, 1, offset, into)
    if (choose === undefined) return sampleIn(noise, a, key, runner.threads, offset, into)
    return choose(`signs ${noise.family} ${n}`, (split) => sampleIn(noise, a, key, split ? runner.threads : 1, offset, into))
  }
}

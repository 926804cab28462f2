/**
 * The sampling rule of a training pass in WebAssembly: x = +1 iff u < floor(F(a/s)·2³²), with u
 * the draws `fillBits(key, 0, ·)` of the site's key. The draws come from the compiled back end's
 * Threefry kernel (`fillRandom`, the very code the compiled interpreter runs), so they are the
 * same bits; the comparison is decided in WebAssembly for logistic noise and in JavaScript's
 * exact rule (`signsFromBits`) for every other family and for the rare near-ties.
 *
 * Logistic comparison: σ̃(z)·2³² from a degree-10 polynomial 2^f (relative error < 3·10⁻¹³, so
 * |σ̃·2³² − σ·2³²| < 0.01; z = a·(1/s) instead of a/s moves it by far less). If u is farther than MARGIN = 4 from it the answer is the exact
 * rule's; otherwise the index goes to a tie list that JavaScript decides with `signsFromBits`.
 * The result is therefore bit-identical to the rule for every input, by construction.
 */
import type { ProperNoise } from '../../dsl/noise.js'
import type { Key } from '../../dsl/random.js'
import { signsFromBits } from '../../interpreters/reference/sampling.js'
import { fillRandom } from '../../interpreters/compiled/kernels-wasm/random.js'
import type { Code, WasmFunction } from '../../interpreters/compiled/wasm/code.js'
import { f64c, f64Load, forLoop, func, get, i32Store, i32c, set, simd, v128Load, v128Store, when } from '../../interpreters/compiled/wasm/code.js'
import type { SimdOp } from '../../interpreters/compiled/wasm/opcodes.js'
import { op } from '../../interpreters/compiled/wasm/opcodes.js'
import type { WasmMemory } from '../../interpreters/compiled/wasm/runtime.js'
import type { Call, Runner } from '../../threads/jobs.js'
import { evenRanges } from '../../threads/jobs.js'
import type { SiteId } from '../../dsl/node.js'

const MARGIN = 4
const TWO32 = 4294967296
const PAGE = 65536

const EXP_COEFFS = [1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1]
/** 2⁵² + 1023: adding an integer n ∈ [−1022, 1023] leaves n + 1023 in the low mantissa bits. */
const EXP_MAGIC = 2 ** 52 + 1023

/**
 * `logistic_signs(pre, u, out, ties, pairs, invAt, countAt)`, two units per iteration (f64x2):
 * out[i] = +1 if u[i] < σ̃(pre[i]·invScale)·2³² else −1, and the index of every unit within
 * MARGIN of its threshold listed in `ties` (JavaScript recomputes those exactly), their number
 * stored as an i32 at `countAt`; invScale is the f64 at `invAt`. Only i32 arguments, so that a
 * thread pool's call lists can carry them: the units split into ranges of pairs across threads.
 * σ̃ = 1/(1+e) for z ≥ 0 and e/(1+e) below, e = e^{−|z|} = 2ⁿ·e^f (|f| ≤ ln2/2, degree-10
 * Horner; −|z|·log₂e clamped at −1000, where σ̃·2³² is 0 to far better than the margin). 2ⁿ is
 * built in the exponent field: bits(n + 2⁵² + 1023) << 52. No branch depends on the random
 * outcome (a branch on it mispredicts half the time); the near-tie branch is rarely taken.
 * `pre`, `out` are f64 arrays, `u` and `ties` u32, by byte address; `pairs` = ⌈count/2⌉.
 */
const logisticSigns = (): WasmFunction =>
  func('logistic_signs', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], ([pre, u, out, ties, pairs, invAt, countAt], local) => {
    const i = local('i32'), nt = local('i32'), lane = local('i32')
    const z = local('v128'), t = local('v128'), n = local('v128'), f = local('v128'), e = local('v128'), approx = local('v128'), uv = local('v128')
    const invV = local('v128')
    const splat = (v: number): Code => [f64c(v), simd('f64x2_splat')]
    const bin = (name: SimdOp, x: Code, y: Code): Code => [x, y, simd(name)]
    const at = (base: number, log2: number): Code => [get(base), get(i), i32c(log2), op.i32_shl, op.i32_add]
    const addTie = (k: number): Code =>
      when([get(t), simd('f64x2_extract_lane'), k, f64c(0), op.f64_ne], [
        set(lane, [get(i), i32c(1), op.i32_shl, i32c(k), op.i32_add]),
        i32Store([get(ties!), get(nt), i32c(2), op.i32_shl, op.i32_add], get(lane)),
        set(nt, [get(nt), i32c(1), op.i32_add]),
      ])
    return [
      set(nt, i32c(0)),
      set(invV, [f64Load(get(invAt!)), simd('f64x2_splat')]),
      forLoop(i, i32c(0), get(pairs!), 1, [
        set(z, bin('f64x2_mul', v128Load(at(pre!, 4)), get(invV))),
        set(t, bin('f64x2_max', bin('f64x2_mul', [get(z), simd('f64x2_abs'), simd('f64x2_neg')], splat(Math.LOG2E)), splat(-1000))),
        set(n, [get(t), simd('f64x2_nearest')]),
        set(f, bin('f64x2_mul', bin('f64x2_sub', get(t), get(n)), splat(Math.LN2))),
        set(e, splat(1 / 3628800)),
        ...EXP_COEFFS.map((c) => set(e, bin('f64x2_add', bin('f64x2_mul', get(e), get(f)), splat(c)))),
        set(e, bin('f64x2_mul', get(e), [bin('f64x2_add', get(n), splat(EXP_MAGIC)), i32c(52), simd('i64x2_shl')])),
        set(approx, bin('f64x2_mul',
          bin('f64x2_div', [splat(1), get(e), bin('f64x2_ge', get(z), splat(0)), simd('v128_bitselect')], bin('f64x2_add', splat(1), get(e))),
          splat(TWO32))),
        set(uv, [[get(u!), get(i), i32c(3), op.i32_shl, op.i32_add], simd('v128_load64_zero'), 3, 0, simd('f64x2_convert_low_i32x4_u')]),
        v128Store(at(out!, 4), [splat(1), splat(-1), bin('f64x2_lt', get(uv), get(approx)), simd('v128_bitselect')]),
        // Near-ties: |u − σ̃·2³²| ≤ MARGIN in either lane (t reused as the lane mask).
        set(t, bin('f64x2_le', [bin('f64x2_sub', get(uv), get(approx)), simd('f64x2_abs')], splat(MARGIN))),
        when([get(t), simd('v128_any_true')], [addTie(0), addTie(1)]),
      ]),
      i32Store(get(countAt!), get(nt)),
    ]
  })

/** The sampler's functions, assembled into the training module (`gemmModule`). */
export const samplerFunctions = (): WasmFunction[] => [
  fillRandom({ _tag: 'FillRandom', label: 'draws', out: 0, count: 1, perExample: true, site: 'training' as SiteId }),
  logisticSigns(),
]

/** ±1 by the sampling rule for pre-activations `a` and the draws of `key`: a fresh array. */
export type SampleSigns = (noise: ProperNoise, a: Float64Array, key: Key) => Float64Array

/**
 * Units below which a site's logistic comparison stays on the calling thread (waking a worker
 * costs about as much as comparing this many); it changes who decides a unit, not the result.
 */
export const MIN_SPLIT_UNITS = 1 << 14

/**
 * The WebAssembly sampler on the training module's memory (grown on demand; it shares the space
 * with the products, which never run at the same time): the draws on the calling thread, the
 * logistic comparison in ranges of units over `runner`'s threads from `splitUnits` units on.
 * The host must have WebAssembly SIMD (Threefry runs on i32x4 lanes), which `wasmKernels` checks.
 */
export const samplerOn = (memory: WasmMemory, runner: Runner, splitUnits = MIN_SPLIT_UNITS): SampleSigns => {
  const ensure = (bytes: number): void => {
    const need = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE
    if (need > 0) memory.grow(need)
  }
  return (noise, a, key) => {
    const n = a.length
    const out = new Float64Array(n)
    if (n === 0) return out
    // Layout: u (n u32 + 32 slack for the 32-draw groups), ties, pre, out (rounded up to whole
    // f64x2 pairs; the extra lane reads a zero pre-activation and its result is ignored), then
    // 1/scale (f64) and each part's tie count (i32).
    const pairs = Math.ceil(n / 2)
    const parts = Math.min(n >= splitUnits ? runner.threads : 1, pairs)
    const uAt = 0
    const tiesAt = Math.ceil(((n + 32) * 4) / 16) * 16
    const preAt = tiesAt + Math.ceil((2 * pairs * 4) / 16) * 16
    const outAt = preAt + pairs * 16
    const invAt = outAt + pairs * 16
    const countAt = invAt + 8
    ensure(countAt + 4 * parts)
    runner.run([[['random_draws', n, uAt, key[0], key[1]]]])
    const u = new Uint32Array(memory.buffer, uAt, n)
    if (noise.family !== 'logistic') {
      signsFromBits(u, a, 0, noise, out, 0, n)
      return out
    }
    const preV = new Float64Array(memory.buffer, preAt, 2 * pairs)
    preV.set(a)
    if (n % 2 === 1) preV[n] = 0
    new Float64Array(memory.buffer, invAt, 1)[0] = 1 / noise.scale
    // Part t takes pairs [p0, p1): its units from 2·p0 on, its ties from tiesAt + 8·p0 (≤ 2 per pair).
    const ranges = evenRanges(pairs, parts)
    runner.run(ranges.map(([p0, p1], t): Call[] =>
      p1 > p0 ? [['logistic_signs', preAt + 16 * p0, uAt + 8 * p0, outAt + 16 * p0, tiesAt + 8 * p0, p1 - p0, invAt, countAt + 4 * t]] : []))
    out.set(new Float64Array(memory.buffer, outAt, n))
    const counts = new Int32Array(memory.buffer, countAt, parts)
    ranges.forEach(([p0, p1], t) => {
      const tie = new Uint32Array(memory.buffer, tiesAt + 8 * p0, p1 > p0 ? counts[t]! : 0)
      for (let j = 0; j < tie.length; j++) {
        const i = 2 * p0 + tie[j]!
        if (i >= n) continue
        signsFromBits(u.subarray(i, i + 1), a, i, noise, out, i, 1)
      }
    })
    return out
  }
}

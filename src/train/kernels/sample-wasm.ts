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
import { f64c, forLoop, func, get, i32Store, i32c, set, simd, v128Load, v128Store, when } from '../../interpreters/compiled/wasm/code.js'
import { assemble } from '../../interpreters/compiled/wasm/module.js'
import type { SimdOp } from '../../interpreters/compiled/wasm/opcodes.js'
import { op } from '../../interpreters/compiled/wasm/opcodes.js'
import type { WasmApi, WasmMemory } from '../../interpreters/compiled/wasm/runtime.js'
import type { SiteId } from '../../dsl/node.js'

const MARGIN = 4
const TWO32 = 4294967296
const PAGE = 65536

const EXP_COEFFS = [1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1]
/** 2⁵² + 1023: adding an integer n ∈ [−1022, 1023] leaves n + 1023 in the low mantissa bits. */
const EXP_MAGIC = 2 ** 52 + 1023

/**
 * `logistic_signs(pre, u, out, ties, pairs, invScale) → tieCount`, two units per iteration
 * (f64x2): out[i] = +1 if u[i] < σ̃(pre[i]·invScale)·2³² else −1, and the index of every unit
 * within MARGIN of its threshold listed in `ties` (JavaScript recomputes those exactly).
 * σ̃ = 1/(1+e) for z ≥ 0 and e/(1+e) below, e = e^{−|z|} = 2ⁿ·e^f (|f| ≤ ln2/2, degree-10
 * Horner; −|z|·log₂e clamped at −1000, where σ̃·2³² is 0 to far better than the margin). 2ⁿ is
 * built in the exponent field: bits(n + 2⁵² + 1023) << 52. No branch depends on the random
 * outcome (a branch on it mispredicts half the time); the near-tie branch is rarely taken.
 * `pre`, `out` are f64 arrays, `u` and `ties` u32, by byte address; `pairs` = ⌈count/2⌉.
 */
const logisticSigns = (): WasmFunction =>
  func('logistic_signs', ['i32', 'i32', 'i32', 'i32', 'i32', 'f64'], ['i32'], ([pre, u, out, ties, pairs, inv], local) => {
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
      set(invV, [get(inv!), simd('f64x2_splat')]),
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
      get(nt),
    ]
  })

type DrawFn = (rows: number, out: number, k0: number, k1: number) => void
type SignsFn = (pre: number, u: number, out: number, ties: number, count: number, inv: number) => number

/** ±1 by the sampling rule for pre-activations `a` and the draws of `key`: a fresh array. */
export type SampleSigns = (noise: ProperNoise, a: Float64Array, key: Key) => Float64Array

/**
 * The WebAssembly sampler on its own memory (grown on demand); the host must have WebAssembly
 * SIMD (Threefry runs on i32x4 lanes), which `wasmKernels` checks before building it.
 */
export const wasmSampler = (WA: WasmApi): SampleSigns => {
  const draw = fillRandom({ _tag: 'FillRandom', label: 'draws', out: 0, count: 1, perExample: true, site: 'training' as SiteId })
  const bytes = assemble([draw, logisticSigns()])
  const memory: WasmMemory = new WA.Memory({ initial: 1 })
  const exports = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } }).exports
  const drawFn = exports['random_draws'] as DrawFn
  const signsFn = exports['logistic_signs'] as SignsFn
  const ensure = (bytes: number): void => {
    const need = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE
    if (need > 0) memory.grow(need)
  }
  return (noise, a, key) => {
    const n = a.length
    const out = new Float64Array(n)
    if (n === 0) return out
    // Layout: u (n u32 + 32 slack for the 32-draw groups), ties, pre, out (rounded up to whole
    // f64x2 pairs; the extra lane reads a zero pre-activation and its result is ignored).
    const pairs = Math.ceil(n / 2)
    const uAt = 0
    const tiesAt = Math.ceil(((n + 32) * 4) / 16) * 16
    const preAt = tiesAt + Math.ceil((2 * pairs * 4) / 16) * 16
    const outAt = preAt + pairs * 16
    ensure(outAt + pairs * 16)
    drawFn(n, uAt, key[0], key[1])
    const u = new Uint32Array(memory.buffer, uAt, n)
    if (noise.family !== 'logistic') {
      signsFromBits(u, a, 0, noise, out, 0, n)
      return out
    }
    const preV = new Float64Array(memory.buffer, preAt, 2 * pairs)
    preV.set(a)
    if (n % 2 === 1) preV[n] = 0
    const ties = signsFn(preAt, uAt, outAt, tiesAt, pairs, 1 / noise.scale)
    out.set(new Float64Array(memory.buffer, outAt, n))
    const tie = new Uint32Array(memory.buffer, tiesAt, ties)
    for (let j = 0; j < ties; j++) {
      const i = tie[j]!
      if (i >= n) continue
      signsFromBits(u.subarray(i, i + 1), a, i, noise, out, i, 1)
    }
    return out
  }
}

/**
 * The sampling rule of a training pass in WebAssembly: x = +1 iff u < floor(F(a/s)·2³²), with u
 * the draws `fillBits(key, 0, ·)` of the site's key. The draws come from the compiled back end's
 * Threefry kernel (`fillRandom`, the very code the compiled interpreter runs), so they are the
 * same bits; the comparison is decided in WebAssembly for logistic noise and in JavaScript's
 * exact rule (`signsFromBits`) for every other family and for the rare near-ties.
 *
 * Logistic comparison: σ̃(z)·2³² from a degree-10 polynomial 2^f (relative error < 3·10⁻¹³, so
 * |σ̃·2³² − σ·2³²| < 0.01). If u is farther than MARGIN = 4 from it the answer is the exact
 * rule's; otherwise the index goes to a tie list that JavaScript decides with `signsFromBits`.
 * The result is therefore bit-identical to the rule for every input, by construction.
 */
import type { ProperNoise } from '../../dsl/noise.js'
import type { Key } from '../../dsl/random.js'
import { signsFromBits } from '../../interpreters/noise.js'
import { fillRandom } from '../../interpreters/compiled/kernels-wasm/random.js'
import type { Code, WasmFunction } from '../../interpreters/compiled/wasm/code.js'
import { f64Load, f64Store, f64c, forLoop, func, get, i32Load, i32Store, i32c, i64c, ifElse, set, when } from '../../interpreters/compiled/wasm/code.js'
import { assemble } from '../../interpreters/compiled/wasm/module.js'
import { op } from '../../interpreters/compiled/wasm/opcodes.js'
import type { WasmApi, WasmMemory } from '../../interpreters/compiled/wasm/runtime.js'
import type { SiteId } from '../../dsl/node.js'

const MARGIN = 4
const TWO32 = 4294967296
const PAGE = 65536

// Opcodes outside the shared table (core MVP f64 ops).
const F64_ABS = 0x99
const F64_NEAREST = 0x9e
const F64_DIV = 0xa3
const F64_CONVERT_I32_U = 0xb8
const I64_TRUNC_F64_S = 0xb0

/** e^x for x ≤ 0 (0 below −700), as the JavaScript fast path computes it: 2ⁿ · e^f, |f| ≤ ln2/2. */
const expNonPositive = (x: Code, t: number, n: number, f: number, e: number): Code => [
  set(t, [x, f64c(Math.LOG2E), op.f64_mul]),
  ifElse([get(t), f64c(-1000), op.f64_lt],
    set(e, f64c(0)),
    [
      set(n, [get(t), F64_NEAREST]),
      set(f, [get(t), get(n), op.f64_sub, f64c(Math.LN2), op.f64_mul]),
      set(e, f64c(1 / 3628800)),
      ...[1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1].map((c) => set(e, [get(e), get(f), op.f64_mul, f64c(c), op.f64_add])),
      // × 2ⁿ through the exponent field (n ≥ −1000 stays normal).
      set(e, [get(e), get(n), I64_TRUNC_F64_S, i64c(1023), op.i64_add, i64c(52), op.i64_shl, op.f64_reinterpret_i64, op.f64_mul]),
    ]),
]

/**
 * `logistic_signs(pre, u, out, ties, count, invScale) → tieCount`: out[i] = ±1 by the fast
 * comparison, and the undecided indices listed in `ties` (their out[i] is then recomputed). `pre` and `out` are f64 arrays,
 * `u` and `ties` u32 arrays, all given as byte addresses.
 */
const logisticSigns = (): WasmFunction =>
  func('logistic_signs', ['i32', 'i32', 'i32', 'i32', 'i32', 'f64'], ['i32'], ([pre, u, out, ties, count, inv], local) => {
    const i = local('i32'), nt = local('i32')
    const z = local('f64'), t = local('f64'), n = local('f64'), f = local('f64'), e = local('f64'), approx = local('f64'), ui = local('f64')
    const addr8 = (base: number): Code => [get(base), get(i), i32c(3), op.i32_shl, op.i32_add]
        return [
      set(nt, i32c(0)),
      forLoop(i, i32c(0), get(count!), 1, [
        set(z, [f64Load(addr8(pre!)), get(inv!), op.f64_mul]),
        expNonPositive([get(z), F64_ABS, op.f64_neg], t, n, f, e),
        // σ(z) = 1/(1+e) for z ≥ 0 and e/(1+e) below, with e = e^{−|z|}.
        set(approx, [
          f64c(1), get(e), [get(z), f64c(0), op.f64_ge], op.select,
          f64c(1), get(e), op.f64_add, F64_DIV, f64c(TWO32), op.f64_mul,
        ]),
        set(ui, [i32Load([get(u!), get(i), i32c(2), op.i32_shl, op.i32_add]), F64_CONVERT_I32_U]),
        // Branch-free on the random outcome (a branch on it mispredicts half the time); the
        // near-tie branch is rarely taken.
        f64Store(addr8(out!), [f64c(1), f64c(-1), [get(ui), get(approx), op.f64_lt], op.select]),
        when([get(ui), get(approx), op.f64_sub, F64_ABS, f64c(MARGIN), op.f64_le],
          [i32Store([get(ties!), get(nt), i32c(2), op.i32_shl, op.i32_add], get(i)), set(nt, [get(nt), i32c(1), op.i32_add])]),
      ]),
      get(nt),
    ]
  })

type DrawFn = (rows: number, out: number, k0: number, k1: number) => void
type SignsFn = (pre: number, u: number, out: number, ties: number, count: number, inv: number) => number

/** ±1 by the sampling rule for pre-activations `a` and the draws of `key`: a fresh array. */
export type SampleSigns = (noise: ProperNoise, a: Float64Array, key: Key) => Float64Array

/**
 * The WebAssembly sampler on its own memory (grown on demand), or undefined when the host has
 * no WebAssembly SIMD (Threefry runs on i32x4 lanes).
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
    // Layout: u (n u32 + 32 slack for the 32-draw groups), ties (n u32), pre (n f64), out (n f64).
    const uAt = 0
    const tiesAt = Math.ceil(((n + 32) * 4) / 8) * 8
    const preAt = tiesAt + Math.ceil((n * 4) / 8) * 8
    const outAt = preAt + n * 8
    ensure(outAt + n * 8)
    drawFn(n, uAt, key[0], key[1])
    const u = new Uint32Array(memory.buffer, uAt, n)
    if (noise.family !== 'logistic') {
      signsFromBits(u, a, 0, noise, out, 0, n)
      return out
    }
    new Float64Array(memory.buffer, preAt, n).set(a)
    const ties = signsFn(preAt, uAt, outAt, tiesAt, n, 1 / noise.scale)
    out.set(new Float64Array(memory.buffer, outAt, n))
    const tie = new Uint32Array(memory.buffer, tiesAt, ties)
    for (let j = 0; j < ties; j++) {
      const i = tie[j]!
      signsFromBits(u.subarray(i, i + 1), a, i, noise, out, i, 1)
    }
    return out
  }
}

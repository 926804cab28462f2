/**
 * The matched straight-through factor of logistic noise in WebAssembly, with the bits of the
 * reference rule `stFactorTimes` (dsl/distributions.ts):
 *
 *   out[i] = ((2·(e / ((1 + e)·(1 + e)))) / s)·g[i],  e = exp(−|a[i] / s|),
 *
 * two units at a time (f64x2). The exponential is fdlibm's `__ieee754_exp`, the algorithm of
 * V8's `Math.exp` (base/ieee754.cc), transcribed operation for operation for the arguments the
 * rule produces (x = −|a/s| ≤ 0): the reduction x = k·ln2 + r with k = 0 for |x| ≤ ½ln2,
 * k = −1 for |x| < 1.5·ln2 and k = trunc(x/ln2 − ½) beyond, the same polynomial, and the scaling
 * by 2ᵏ, which is exact for |x| < 708. A pair with a lane outside that range (or NaN) is listed
 * for the caller to recompute with the JavaScript rule; |x| < 2⁻²⁸ gives 1 + x as fdlibm does.
 * Every operation is an IEEE double operation in the same order, so the result is the rule's
 * bit for bit (`test/train/fast/st.test.ts` checks it against `Math.exp` itself).
 */
import type { Code, WasmFunction } from '../../wasm/code.js'
import { f64c, f64Load, forLoop, func, get, i32c, i32Store, set, simd, v128Load, v128Store, when } from '../../wasm/code.js'
import { op, valType } from '../../wasm/opcodes.js'

/** |x| from which a pair goes back to JavaScript: above it 2ᵏ·y may be subnormal (k < −1021). */
export const ST_WASM_LIMIT = 708

/** The block type of an `if` that leaves a v128. */
const V128 = valType.v128
/** A v128 of two equal f64 lanes. */
const f64x2c = (v: number): Code => [simd('v128_const'), ...new Uint8Array(new Float64Array([v, v]).buffer)]
/** The double whose high word is `hi` and low word 0 (fdlibm's thresholds on the high word). */
const fromHigh = (hi: number): number => new Float64Array(new Uint32Array([0, hi]).buffer)[0]!

const add = (a: Code, b: Code): Code => [a, b, simd('f64x2_add')]
const sub = (a: Code, b: Code): Code => [a, b, simd('f64x2_sub')]
const mul = (a: Code, b: Code): Code => [a, b, simd('f64x2_mul')]
const div = (a: Code, b: Code): Code => [a, b, simd('f64x2_div')]
/** Lanes of a where mask, else of b. */
const pick = (a: Code, b: Code, mask: Code): Code => [a, b, mask, simd('v128_bitselect')]

// fdlibm's constants (e_exp.c).
const LN2_HI = 6.93147180369123816490e-1
const LN2_LO = 1.90821492927058770002e-10
const INV_LN2 = 1.44269504088896338700
const P = [1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.65339022054652515390e-6, 4.13813679705723846039e-8] as const

/**
 * `st_logistic(a, g, out, pairs, sAt, list, countAt)`: out = the factor times g for `pairs` pairs
 * of f64 at byte addresses a, g, out (16-byte aligned), with the noise scale s the f64 at byte
 * `sAt`; the pairs to recompute are listed at byte `list` (i32 pair indices) and their count is
 * stored at byte `countAt` (i32 arguments only, as the thread pool passes them).
 */
export const stLogistic = (): WasmFunction =>
  func('st_logistic', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [a, g, out, pairs, sAt, list, countAt] = prm as [number, number, number, number, number, number, number]
    const s = local('f64'), i = local('i32'), at = local('i32'), count = local('i32'), unit = local('i32')
    const sv = local('v128'), x = local('v128'), ax = local('v128'), t = local('v128'), hi = local('v128'), lo = local('v128')
    const r = local('v128'), rr = local('v128'), c = local('v128'), e = local('v128'), d = local('v128')
    const poly = P.reduceRight<Code>((acc, p, j) => (j === P.length - 1 ? f64x2c(p) : add(f64x2c(p), mul(get(rr), acc))), [])
    // 2ᵗ for integral t in [−1021, 0]: the integer t + 1023 in the low mantissa bits of t + 1023 + 2⁵², shifted into the exponent.
    const twoTo = (tv: Code): Code => [add(add(tv, f64x2c(1023)), f64x2c(2 ** 52)), i32c(52), simd('i64x2_shl')]
    const body: Code = [
      set(x, v128Load(get(at))),
      // z = a/s (skipped when s = 1: the division is then exact), x = −|z|.
      set(ax, [get(unit), op.if, V128, get(x), op.else, div(get(x), get(sv)), op.end, simd('f64x2_abs')]),
      set(x, [get(ax), simd('f64x2_neg')]),
      when([[get(ax), f64x2c(ST_WASM_LIMIT), simd('f64x2_lt')], simd('i64x2_bitmask'), i32c(3), op.i32_ne], [
        i32Store([get(list), [get(count), i32c(4), op.i32_mul], op.i32_add], get(i)),
        set(count, [get(count), i32c(1), op.i32_add]),
      ]),
      // k: 0 for |x| ≤ ½ln2 (high word ≤ 0x3fd62e42), −1 below 1.5·ln2 (high word < 0x3ff0a2b2), else trunc(x/ln2 − ½).
      set(t, pick(
        [mul(get(x), f64x2c(INV_LN2)), f64x2c(0.5), simd('f64x2_sub'), simd('i32x4_trunc_sat_f64x2_s_zero'), simd('f64x2_convert_low_i32x4_s')],
        pick(f64x2c(-1), f64x2c(0), [get(ax), f64x2c(fromHigh(0x3fd62e43)), simd('f64x2_ge')]),
        [get(ax), f64x2c(fromHigh(0x3ff0a2b2)), simd('f64x2_ge')])),
      set(hi, sub(get(x), mul(get(t), f64x2c(LN2_HI)))),
      set(lo, mul(get(t), f64x2c(LN2_LO))),
      set(r, sub(get(hi), get(lo))),
      set(rr, mul(get(r), get(r))),
      set(c, sub(get(r), mul(get(rr), poly))),
      // y = 1 − ((lo − r·c/(2 − c)) − hi), times 2ᵏ; 1 + x below 2⁻²⁸.
      set(e, mul(sub(f64x2c(1), sub(sub(get(lo), div(mul(get(r), get(c)), sub(f64x2c(2), get(c)))), get(hi))), twoTo(get(t)))),
      set(e, pick(add(f64x2c(1), get(x)), get(e), [get(ax), f64x2c(2 ** -28), simd('f64x2_lt')])),
      // ((2·(e/((1 + e)·(1 + e))))/s)·g
      set(d, add(f64x2c(1), get(e))),
      set(e, mul(f64x2c(2), div(get(e), mul(get(d), get(d))))),
      set(e, [get(unit), op.if, V128, get(e), op.else, div(get(e), get(sv)), op.end]),
      v128Store([get(out), [get(at), get(a), op.i32_sub], op.i32_add], mul(get(e), v128Load([get(g), [get(at), get(a), op.i32_sub], op.i32_add]))),
      set(at, [get(at), i32c(16), op.i32_add]),
    ]
    return [
      set(s, f64Load(get(sAt))),
      set(sv, [get(s), simd('f64x2_splat')]),
      set(unit, [get(s), f64c(1), op.f64_eq]),
      set(count, i32c(0)),
      set(at, get(a)),
      forLoop(i, i32c(0), get(pairs), 1, body),
      i32Store(get(countAt), get(count)),
    ]
  })

/**
 * The logistic sampling comparison of `sample-wasm.ts`, four units per iteration in single
 * precision: out[i] = +1 if u[i] < σ̃(pre[i]·invScale)·2³² else −1, with σ̃ = sel/(1 + e) an f32
 * logistic (e ≈ e^{−|z|}, sel = 1 for z ≥ 0 and e below), decided without a division by the sign
 * of d = u·(1 + e) − sel·2³², computed as (u − 2³¹)·(1 + e) ∓ 2³¹·(1 − e); every unit with
 * |d| ≤ MARGIN_F32 is listed as a near-tie for JavaScript's exact rule. So the result is the
 * sampling rule bit for bit.
 *
 * Error budget, in units of 2⁻³² (of u): σ̃·2³² against σ(z)·2³² (z = pre·invScale in float64):
 * z rounded to f32 moves σ by at most σ(1−σ)·|z|·2⁻²⁴ ≤ 0.23·2⁻²⁴ (≈ 60 units); t = −|z|·log₂e
 * rounded to f32 (with log₂e) moves e by a relative |t|·2⁻²³ at most, which moves σ by at most
 * e^{−|z|}·|z|·1.45·2⁻²³ (< 300 units); the degree-5 Taylor polynomial of e^f on |f| ≤ ln2/2
 * (relative remainder < 3.4·10⁻⁶) and its f32 Horner steps (< 4·10⁻⁷) move σ by at most
 * σ(1−σ)·3.8·10⁻⁶ (< 4 100 units): below 4 500 in all. The rounding of d: u − 2³¹ converted to
 * f32 is off by at most 64 (×(1 + e) ≤ 2), 1 + e and 1 − e round by 2⁻²⁴ and 2⁻²⁵ against terms
 * of 2³¹, the product by half an ulp of 2³²: below 500 units of d in all, and d = (1 + e)·(u −
 * σ̃·2³²) with 1 ≤ 1 + e ≤ 2. So a unit outside the margin has |u − σ̃·2³²| > (2¹⁵ − 500)/2 ≈
 * 16 100, and |u − σ·2³²| > 11 600: it is decided as the exact rule decides it (whose threshold
 * is ⌊σ·2³²⌋). About 10⁻⁵ of the units fall inside and go to JavaScript. NaN pre-activations make d NaN: −1 and not a tie, as in the exact rule.
 * (Until the thirteenth session: a degree-6 polynomial, a division and an unsigned conversion;
 * 1.08–1.14 → 0.87–0.94 ms per 334 336 units on the Intel Xeon, the same signs.)
 */
import type { Code, WasmFunction } from '../../wasm/code.js'
import { f64Load, func, get, i32c, i32Store, set, when } from '../../wasm/code.js'
import { op } from '../../wasm/opcodes.js'
import { uleb } from '../../wasm/leb128.js'

export const MARGIN_F32 = 2 ** 15

/** SIMD sub-opcodes after 0xfd (core SIMD specification) that the shared table does not list. */
const sub = {
  v128_load: 0x00, v128_store: 0x0b, v128_const: 0x0c, i8x16_shuffle: 0x0d, v128_bitselect: 0x52,
  f32x4_demote_f64x2_zero: 0x5e, f64x2_promote_low_f32x4: 0x5f,
  f32x4_lt: 0x43, f32x4_le: 0x45, f32x4_ge: 0x46, i32x4_bitmask: 0xa4, i32x4_shl: 0xab, i32x4_add: 0xae,
  f32x4_abs: 0xe0, f32x4_neg: 0xe1, f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6, f32x4_max: 0xe9,
  f64x2_mul: 0xf2, i32x4_splat: 0x11, v128_xor: 0x51, f32x4_convert_i32x4_s: 0xfa, f64x2_splat: 0x14,
} as const
type Sub = keyof typeof sub
const fd = (name: Sub): Code => [0xfd, ...uleb(sub[name])]
const un = (name: Sub, a: Code): Code => [a, fd(name)]
const bin = (name: Sub, a: Code, b: Code): Code => [a, b, fd(name)]
const load = (addr: Code, offset = 0): Code => [addr, fd('v128_load'), 4, ...uleb(offset)]
const storeV = (addr: Code, value: Code, offset = 0): Code => [addr, value, fd('v128_store'), 4, ...uleb(offset)]
const f32x4c = (v: number): Code => [fd('v128_const'), ...new Uint8Array(new Float32Array([v, v, v, v]).buffer)]
/** Byte shuffle of a and b picking f32 lanes (0–3 from a, 4–7 from b). */
const lanes = (a: Code, b: Code, l: readonly [number, number, number, number]): Code =>
  [a, b, fd('i8x16_shuffle'), ...l.flatMap((k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3])]

/** Taylor coefficients of e^f, highest degree first (degree 5). */
const EXP5 = [1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]
/** 1.5·2²³: t + MAGIC rounds t to an integer (ties to even), which is then the low bits of its f32 word. */
const MAGIC = 12582912

/**
 * `logistic_signs4(pre, u, out, ties, quads, invAt, countAt)`: `pre` and `out` f64 arrays, `u`
 * and `ties` u32, byte addresses, `quads` = ⌈count/4⌉ (pre padded with zeros to whole quads);
 * invScale is the f64 at `invAt`, the number of ties is stored as an i32 at `countAt`. Only i32
 * arguments, so that a thread pool's call lists carry them: the units split into ranges of quads.
 */
export const logisticSigns4 = (): WasmFunction =>
  func('logistic_signs4', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], ([pre, u, out, ties, quads, invAt, countAt], local) => {
    const i = local('i32'), nt = local('i32'), mask = local('i32'), pa = local('i32'), pu = local('i32'), po = local('i32')
    const invV = local('v128'), z = local('v128'), t = local('v128'), n = local('v128'), f = local('v128'), e = local('v128')
    const approx = local('v128'), uf = local('v128'), s = local('v128'), r = local('v128')
    const addTie = (k: number): Code =>
      when([get(mask), i32c(1 << k), op.i32_and], [
        i32Store([get(ties!), get(nt), i32c(2), op.i32_shl, op.i32_add], [get(i), i32c(2), op.i32_shl, i32c(k), op.i32_add]),
        set(nt, [get(nt), i32c(1), op.i32_add]),
      ])
    const horner: Code[] = [set(e, f32x4c(EXP5[0]!))]
    for (const c of EXP5.slice(1)) horner.push(set(e, bin('f32x4_add', bin('f32x4_mul', get(e), get(f)), f32x4c(c))))
    return [
      set(nt, i32c(0)),
      set(invV, un('f64x2_splat', f64Load(get(invAt!)))),
      set(pa, get(pre!)), set(pu, get(u!)), set(po, get(out!)),
      set(i, i32c(0)),
      [op.block, 0x40, get(i), get(quads!), op.i32_ge_s, op.br_if, 0, op.loop, 0x40],
      set(z, lanes(un('f32x4_demote_f64x2_zero', bin('f64x2_mul', load(get(pa)), get(invV))),
        un('f32x4_demote_f64x2_zero', bin('f64x2_mul', load(get(pa), 16), get(invV))), [0, 1, 4, 5])),
      set(t, bin('f32x4_max', bin('f32x4_mul', un('f32x4_neg', un('f32x4_abs', get(z))), f32x4c(Math.LOG2E)), f32x4c(-125))),
      // n = nearest(t) by the magic number 1.5·2²³ (t ∈ [−125, 0]: r's low mantissa bits are n).
      set(r, bin('f32x4_add', get(t), f32x4c(MAGIC))),
      set(n, bin('f32x4_sub', get(r), f32x4c(MAGIC))),
      set(f, bin('f32x4_mul', bin('f32x4_sub', get(t), get(n)), f32x4c(Math.LN2))),
      ...horner,
      // 2ⁿ from its exponent field: (n + 127) << 23.
      set(e, bin('f32x4_mul', get(e), bin('i32x4_shl', bin('i32x4_add', get(r), [i32c(127), fd('i32x4_splat')]), i32c(23)))),
      // d = u·(1 + e) − 2³²·(z ≥ 0 ? 1 : e) = (u − 2³¹)·(1 + e) ∓ 2³¹·(1 − e): u < σ̃·2³² iff d < 0,
      // without a division, and u − 2³¹ converted as a signed integer (u with its top bit flipped).
      set(uf, un('f32x4_convert_i32x4_s', [load(get(pu)), [i32c(-0x80000000), fd('i32x4_splat')], fd('v128_xor')])),
      set(approx, bin('f32x4_add', bin('f32x4_mul', get(uf), bin('f32x4_add', f32x4c(1), get(e))),
        bin('f32x4_mul', [f32x4c(-2147483648), f32x4c(2147483648), bin('f32x4_ge', get(z), f32x4c(0)), fd('v128_bitselect')], bin('f32x4_sub', f32x4c(1), get(e))))),
      set(s, [f32x4c(1), f32x4c(-1), bin('f32x4_lt', get(approx), f32x4c(0)), fd('v128_bitselect')]),
      storeV(get(po), un('f64x2_promote_low_f32x4', get(s))),
      storeV(get(po), un('f64x2_promote_low_f32x4', lanes(get(s), get(s), [2, 3, 2, 3])), 16),
      set(mask, un('i32x4_bitmask', bin('f32x4_le', un('f32x4_abs', get(approx)), f32x4c(MARGIN_F32)))),
      when(get(mask), [addTie(0), addTie(1), addTie(2), addTie(3)]),
      set(pa, [get(pa), i32c(32), op.i32_add]), set(pu, [get(pu), i32c(16), op.i32_add]), set(po, [get(po), i32c(32), op.i32_add]),
      set(i, [get(i), i32c(1), op.i32_add]),
      [get(i), get(quads!), op.i32_lt_s, op.br_if, 0, op.end, op.end],
      i32Store(get(countAt!), get(nt)),
    ]
  })


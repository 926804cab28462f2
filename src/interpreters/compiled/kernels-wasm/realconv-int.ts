/**
 * The exact int16 path of `RealConv` in WebAssembly (realconv-grid.ts says when it is exact):
 *
 * - `intBounds`, once per call: each channel's float interval lo ≤ v ≤ hi as ⌈lo⌉ … ⌊hi⌋,
 *   clamped to int16 (every reachable sum lies strictly inside), splatted into two vectors;
 * - `intFill`, per example: the image into the padded int16 grid, checking that every value is an
 *   integer in [−255, 255] (else the float path runs for this example);
 * - `intConv`, per example: 8 output positions per vector, one int16 accumulator per channel, the
 *   ±1 weights baked in as adds and subtracts (blocks of 8 channels share each tap's load); then
 *   bit j = ⌈lo_j⌉ ≤ s ≤ ⌊hi_j⌋ by signed comparisons of the sides the sums can miss, shifted into
 *   the position's 16-bit group of channels (gacc = 2·gacc − mask, highest channel first), stored
 *   lane by lane into the channels-last rows (zeroed first, so the padding bits stay zero).
 */
import type { RealConv } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { GridLayout } from '../realconv-grid.js'
import { INT_VALUE_LIMIT } from '../realconv-grid.js'
import type { Code } from '../../../wasm/code.js'
import { doLoop, f64c, f64Load, get, i32c, i64c, i64Store, set, simd, store, v128i32, v128Load, v128Store, when } from '../../../wasm/code.js'
import type { ValType } from '../../../wasm/opcodes.js'
import { i32_trunc_sat_f64_s, op } from '../../../wasm/opcodes.js'
import { uleb } from '../../../wasm/leb128.js'
import { InternalError } from '../../../dsl/dslErrors.js'

type Local = (t: ValType) => number

/** max(lo, min(t, hi)) of an i32 local, left on the stack. */
const clamp = (t: number, lo: number, hi: number): Code => [
  set(t, [get(t), i32c(lo), get(t), i32c(lo), op.i32_gt_s, op.select]),
  get(t), i32c(hi), get(t), i32c(hi), op.i32_lt_s, op.select,
]

/**
 * The integer bounds of every channel at `bounds` (32 bytes per channel: ⌈lo⌉ − 1 then ⌊hi⌋ + 1,
 * with ⌈lo⌉ and ⌊hi⌋ clamped to ±(S + 1), realconv-grid.ts), from the float thresholds, for the
 * signed tests v > ⌈lo⌉ − 1 and ⌊hi⌋ + 1 > v (|values| ≤ S + 2 fit int16). A NaN bound (never
 * produced by the interval search) makes both tests false.
 */
export const intBounds = (k: RealConv, thresholds: number, bounds: number, local: Local): Code => {
  const s = INT_VALUE_LIMIT * k.c * k.kh * k.kw + 1
  const [tl, th, sp] = [local('i32'), local('i32'), local('i32')]
  const [lv, hv] = [local('f64'), local('f64')]
  return Array.from({ length: k.o }, (_, j) => {
    const at = 32 * (j >> 1) + 8 * (j & 1)
    return [
      set(lv, f64Load(get(thresholds), at)),
      set(hv, f64Load(get(thresholds), at + 16)),
      set(tl, [get(lv), op.f64_neg, op.f64_floor, op.f64_neg, ...i32_trunc_sat_f64_s]),
      set(tl, clamp(tl, -s, s)),
      set(th, [get(hv), op.f64_floor, ...i32_trunc_sat_f64_s]),
      set(th, clamp(th, -s, s)),
      // ⌈lo⌉ − 1 and ⌊hi⌋ + 1 for the signed tests v > ⌈lo⌉ − 1, ⌊hi⌋ + 1 > v; a NaN bound: s and −s, never.
      set(sp, [get(lv), get(lv), op.f64_eq, get(hv), get(hv), op.f64_eq, op.i32_and]),
      v128Store(get(bounds), [get(tl), i32c(1), op.i32_sub, i32c(s), get(sp), op.select, simd('i16x8_splat')], 32 * j),
      v128Store(get(bounds), [get(th), i32c(1), op.i32_add, i32c(-s), get(sp), op.select, simd('i16x8_splat')], 32 * j + 16),
    ]
  })
}

/**
 * The int16 grid of example `r` at `gi`, and `ok` = 1 iff every value is an integer in
 * [−255, 255] (NaN and ±∞ fail: their truncation does not convert back to them). Values go two
 * at a time through f64x2 (truncate, convert back, compare; |v| ≤ 255), the odd last one alone.
 */
export const intFill = (k: RealConv, lay: GridLayout, l: { readonly gi: number; readonly src: number; readonly ok: number }, local: Local): Code => {
  const [i, ic, iy, ix, da, t] = [local('i32'), local('i32'), local('i32'), local('i32'), local('i32'), local('i32')]
  const v = local('f64')
  const [padV, pv, pt, okv, lim] = [local('v128'), local('v128'), local('v128'), local('v128'), local('v128')]
  const pairs = k.iw >> 1
  const at = 2 * (k.ph * lay.wq + k.pw)
  const pair: Code = [
    set(pv, v128Load(get(l.src))),
    set(pt, [get(pv), simd('i32x4_trunc_sat_f64x2_s_zero')]),
    set(okv, [
      get(okv),
      get(pt), simd('f64x2_convert_low_i32x4_s'), get(pv), simd('f64x2_eq'), simd('v128_and'),
      get(pv), simd('f64x2_abs'), get(lim), simd('f64x2_le'), simd('v128_and'),
    ]),
    get(da), get(pt), get(pt), simd('i16x8_narrow_i32x4_s'), simd('v128_store32_lane'), 1, ...uleb(at), 0,
    set(l.src, [get(l.src), i32c(16), op.i32_add]),
    set(da, [get(da), i32c(4), op.i32_add]),
  ]
  const single: Code = [
    set(v, f64Load(get(l.src))),
    set(t, [get(v), ...i32_trunc_sat_f64_s]),
    set(l.ok, [
      get(l.ok),
      get(t), op.f64_convert_i32_s, get(v), op.f64_eq, op.i32_and,
      get(t), i32c(INT_VALUE_LIMIT), op.i32_add, i32c(2 * INT_VALUE_LIMIT), op.i32_le_u, op.i32_and,
    ]),
    store(op.i32_store16, 1, get(da), get(t), at),
    set(l.src, [get(l.src), i32c(8), op.i32_add]),
  ]
  return [
    set(padV, [i32c(k.pad), simd('i16x8_splat')]),
    set(lim, [f64c(INT_VALUE_LIMIT), simd('f64x2_splat')]),
    set(okv, v128i32([-1, -1, -1, -1])),
    doLoop(i, i32c(0), i32c(lay.intBytes), 16, v128Store([get(l.gi), get(i), op.i32_add], get(padV))),
    set(l.ok, i32c(1)),
    doLoop(ic, i32c(0), i32c(k.c), 1,
      doLoop(iy, i32c(0), i32c(k.ih), 1, [
        set(da, [get(l.gi), get(ic), i32c(2 * lay.hq * lay.wq), op.i32_mul, op.i32_add, get(iy), i32c(2 * lay.wq), op.i32_mul, op.i32_add]),
        pairs === 0 ? [] : doLoop(ix, i32c(0), i32c(pairs), 1, pair),
        k.iw % 2 === 1 ? single : [],
      ])),
    set(l.ok, [get(l.ok), get(okv), simd('i64x2_bitmask'), i32c(3), op.i32_eq, op.i32_and]),
  ]
}

/** A store of one lane of `value` (`v128.store16_lane` … `store64_lane`) at addr + offset. */
const storeLane = (name: 'v128_store16_lane' | 'v128_store32_lane' | 'v128_store64_lane', align: number, addr: Code, value: Code, offset: number, lane: number): Code =>
  [addr, value, simd(name), align, ...uleb(offset), lane]

/**
 * The int16 grid of example `r` at `gi` from uint8 values at `src` (`infer`'s entry: no check,
 * every uint8 is in range): the pad value everywhere, then each image row widened eight pixels
 * at a time (`v128.load8x8_u`), its last pixels stored by 64-, 32- and 16-bit lanes so that the
 * border keeps the pad value. Reads up to 7 bytes past the image (within the buffer's slack).
 */
export const byteFill = (k: RealConv, lay: GridLayout, l: { readonly gi: number; readonly src: number }, local: Local): Code => {
  const [i, ic, iy, da, sa] = [local('i32'), local('i32'), local('i32'), local('i32'), local('i32')]
  const padV = local('v128')
  const at = 2 * (k.ph * lay.wq + k.pw)
  const full = k.iw >> 3
  const tail = k.iw & 7
  const load8 = (offset: number): Code => [get(sa), simd('v128_load8x8_u'), 0, ...uleb(offset)]
  const tailStores: Code[] = []
  if (tail >= 4) tailStores.push(storeLane('v128_store64_lane', 3, get(da), load8(8 * full), at + 16 * full, 0))
  if (tail & 2) tailStores.push(storeLane('v128_store32_lane', 2, get(da), load8(8 * full), at + 16 * full + 2 * (tail & 4), (tail & 4) >> 1))
  if (tail & 1) tailStores.push(storeLane('v128_store16_lane', 1, get(da), load8(8 * full), at + 16 * full + 2 * (tail & 6), tail & 6))
  return [
    set(padV, [i32c(k.pad), simd('i16x8_splat')]),
    doLoop(i, i32c(0), i32c(lay.intBytes), 16, v128Store([get(l.gi), get(i), op.i32_add], get(padV))),
    set(sa, get(l.src)),
    doLoop(ic, i32c(0), i32c(k.c), 1,
      doLoop(iy, i32c(0), i32c(k.ih), 1, [
        set(da, [get(l.gi), get(ic), i32c(2 * lay.hq * lay.wq), op.i32_mul, op.i32_add, get(iy), i32c(2 * lay.wq), op.i32_mul, op.i32_add]),
        Array.from({ length: full }, (_, j) => v128Store(get(da), load8(8 * j), at + 16 * j)),
        tailStores,
        set(sa, [get(sa), i32c(k.iw), op.i32_add]),
      ])),
  ]
}

/** v128.store16_lane: lane `lane` of `value` at addr + offset. */
const store16Lane = (addr: Code, value: Code, offset: number, lane: number): Code => [addr, value, simd('v128_store16_lane'), 1, ...uleb(offset), lane]

/**
 * Shared partial sums: the taps of one (channel, dy) row form a group; a channel's sum over a
 * group is ± one of the group's sign patterns (normalised to a leading +), so each pattern used
 * by some output channel is summed once per vector (kw − 1 ops) and each channel adds c·kh of
 * them — for a 3×3 kernel on one channel, 16 channels, about 60 vector ops instead of 144.
 */
interface Patterns {
  /** Per group, its distinct patterns (signs of the kw taps, first +). */
  readonly groups: readonly (readonly (readonly boolean[])[])[]
  /** Per channel, per group: the pattern index and whether it is negated. */
  readonly uses: readonly (readonly { readonly pattern: number; readonly negate: boolean }[])[]
}

const patternsOf = (k: RealConv, signs: Int8Array): Patterns => {
  const taps = k.c * k.kh * k.kw
  const groups: boolean[][][] = Array.from({ length: k.c * k.kh }, () => [])
  const uses = Array.from({ length: k.o }, (_, j) =>
    groups.map((patterns, g) => {
      const raw = Array.from({ length: k.kw }, (_, dx) => signs[j * taps + g * k.kw + dx]! >= 0)
      const negate = !raw[0]!
      const pattern = raw.map((p) => p !== negate)
      let at = patterns.findIndex((q) => q.every((b, i) => b === pattern[i]))
      if (at < 0) at = patterns.push(pattern) - 1
      return { pattern: at, negate }
    }))
  return { groups, uses }
}

/** The output bits of example r (output rows from `oa`) from its int16 grid at `gi`. */
export const intConv = (k: RealConv, lay: GridLayout, l: { readonly gi: number; readonly oa: number; readonly bounds: number }, local: Local): Code => {
  const signs = k.signs
  if (signs === undefined) throw new InternalError('the int16 path of RealConv without its weights')
  const [y, xv, pa, oa] = [local('i32'), local('i32'), local('i32'), local('i32')]
  const { groups, uses } = patternsOf(k, signs)
  const sums = groups.map((ps) => ps.map(() => local('v128')))
  const tapV = Array.from({ length: k.kw }, () => local('v128'))
  const gacc = Array.from({ length: Math.ceil(k.o / 16) }, () => local('v128'))
  const acc = local('v128')
  const orb = rowBytes(k.o, 64)
  const zero = v128i32([0, 0, 0, 0])
  // Eight positions from pa (count of them real): every channel's bit into its group vector.
  const vector = (count: number): Code => {
    const patternSums = groups.map((ps, g) => {
      const [ic, dy] = [Math.floor(g / k.kh), g % k.kh]
      return [
        tapV.map((t, dx) => set(t, v128Load(get(pa), 2 * ((ic * lay.hq + dy) * lay.wq + dx)))),
        ps.map((pattern, q) => set(sums[g]![q]!, [get(tapV[0]!), pattern.slice(1).map((plus, dx) => [get(tapV[dx + 1]!), simd(plus ? 'i16x8_add' : 'i16x8_sub')])])),
      ]
    })
    // Channel j's mask (all ones where its bit is set): only the sides its sums can miss
    // (`RealConv.open`), each one signed comparison; then, channels from the highest of a group
    // of 16 down, gacc = 2·gacc − mask puts channel j at bit j mod 16 (no constants, no OR).
    const open = k.open ?? new Uint8Array(k.o)
    const maskOf = (j: number): Code => {
      const [lower, upper] = [(open[j]! & 1) === 0, (open[j]! & 2) === 0]
      const above: Code = [get(acc), v128Load(get(l.bounds), 32 * j), simd('i16x8_gt_s')]
      const below: Code = [v128Load(get(l.bounds), 32 * j + 16), get(acc), simd('i16x8_gt_s')]
      return lower && upper ? [above, below, simd('v128_and')] : lower ? above : upper ? below : v128i32([-1, -1, -1, -1])
    }
    const channels = uses.map((u, j) => {
      const first = u.findIndex((x) => !x.negate)
      const order = first < 0 ? u.map((_, g) => g) : [first, ...u.map((_, g) => g).filter((g) => g !== first)]
      const sum: Code = order.map((g, i) => {
        const term = get(sums[g]![u[g]!.pattern]!)
        if (i > 0) return [term, simd(u[g]!.negate ? 'i16x8_sub' : 'i16x8_add')]
        return u[g]!.negate ? [zero, term, simd('i16x8_sub')] : term
      })
      const g = gacc[j >> 4]!
      return [set(acc, sum), set(g, [get(g), get(g), simd('i16x8_add'), maskOf(j), simd('i16x8_sub')])]
    }).reverse()
    const stores: Code[] = []
    for (let p = 0; p < count; p++) for (let wd = 0; wd < orb / 8; wd++) stores.push(i64Store(get(oa), i64c(0), p * orb + 8 * wd))
    for (let g = 0; g < gacc.length; g++) for (let p = 0; p < count; p++) stores.push(store16Lane(get(oa), get(gacc[g]!), p * orb + 2 * g, p))
    return [gacc.map((a) => set(a, zero)), patternSums, channels, stores]
  }
  const full = Math.floor(k.wo / 8)
  const rest = k.wo % 8
  return doLoop(y, i32c(0), i32c(k.ho), 1, [
    set(pa, [get(l.gi), get(y), i32c(2 * k.sh * lay.wq), op.i32_mul, op.i32_add]),
    set(oa, [get(l.oa), get(y), i32c(k.wo * orb), op.i32_mul, op.i32_add]),
    full === 0 ? [] : doLoop(xv, i32c(0), i32c(full), 1, [
      vector(8),
      set(pa, [get(pa), i32c(16), op.i32_add]),
      set(oa, [get(oa), i32c(8 * orb), op.i32_add]),
    ]),
    rest === 0 ? [] : vector(rest),
  ])
}

/** Runs `code` only when the call has rows (the bounds live in the first example's scratch). */
export const withRows = (rows: number, code: Code): Code => when([get(rows), i32c(0), op.i32_gt_s], code)

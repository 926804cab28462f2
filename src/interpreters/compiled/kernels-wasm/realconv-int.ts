/**
 * The exact int16 path of `RealConv` in WebAssembly (realconv-grid.ts says when it is exact):
 *
 * - `intBounds`, once per call: each channel's float interval lo ≤ v ≤ hi as ⌈lo⌉ … ⌊hi⌋,
 *   clamped to int16 (every reachable sum lies strictly inside), splatted into two vectors;
 * - `intFill`, per example: the image into the padded int16 grid, checking that every value is an
 *   integer in [−255, 255] (else the float path runs for this example);
 * - `intConv`, per example: 8 output positions per vector, one int16 accumulator per channel, the
 *   ±1 weights baked in as adds and subtracts (blocks of 8 channels share each tap's load); then
 *   bit j = ⌈lo_j⌉ ≤ s ≤ ⌊hi_j⌋ ANDed with 1 << (j mod 16) and ORed into the position's 16-bit
 *   group of channels, stored lane by lane into the channels-last rows (zeroed first, so the
 *   padding bits stay zero).
 */
import type { RealConv } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { GridLayout } from '../realconv-grid.js'
import type { Code } from '../wasm/code.js'
import { doLoop, f64Load, get, i32c, i64c, i64Store, load, set, simd, store, v128i32, v128Load, v128Store, when } from '../wasm/code.js'
import type { ValType } from '../wasm/opcodes.js'
import { i32_trunc_sat_f64_s, op } from '../wasm/opcodes.js'
import { uleb } from '../wasm/leb128.js'
import { InternalError } from '../../../dsl/dslErrors.js'

/** Channels summed at once (accumulators live with one loaded tap). */
const BLOCK = 8

type Local = (t: ValType) => number

/** min(max(t, −32768), 32767) of an i32 local. */
const clampI16 = (t: number): Code => [
  set(t, [get(t), i32c(-32768), get(t), i32c(-32768), op.i32_gt_s, op.select]),
  get(t), i32c(32767), get(t), i32c(32767), op.i32_lt_s, op.select,
]

/** The integer bounds of every channel at `bounds` (32 bytes per channel), from the float thresholds. */
export const intBounds = (k: RealConv, thresholds: number, bounds: number, local: Local): Code => {
  const t = local('i32')
  const lv = local('f64')
  // A NaN bound (never produced by the interval search) would compare false: an empty interval.
  const bound = (addr: number, offset: number, upper: boolean, empty: number): Code => [
    set(lv, f64Load(get(addr), offset)),
    set(t, [get(lv), upper ? op.f64_floor : [op.f64_neg, op.f64_floor, op.f64_neg], ...i32_trunc_sat_f64_s]),
    clampI16(t), i32c(empty), get(lv), get(lv), op.f64_eq, op.select,
    simd('i16x8_splat'),
  ]
  return Array.from({ length: k.o }, (_, j) => {
    const at = 32 * (j >> 1) + 8 * (j & 1)
    return [
      v128Store(get(bounds), bound(thresholds, at, false, 32767), 32 * j),
      v128Store(get(bounds), bound(thresholds, at + 16, true, -32768), 32 * j + 16),
    ]
  })
}

/**
 * The int16 grid of example `r` at `gi`, and `ok` = 1 iff every value is an integer in
 * [−255, 255] (NaN and ±∞ fail: their truncation does not convert back to them).
 */
export const intFill = (k: RealConv, lay: GridLayout, l: { readonly gi: number; readonly src: number; readonly ok: number }, local: Local): Code => {
  const [i, ic, iy, ix, da, t] = [local('i32'), local('i32'), local('i32'), local('i32'), local('i32'), local('i32')]
  const v = local('f64')
  const padV = local('v128')
  return [
    set(padV, [i32c(k.pad), simd('i16x8_splat')]),
    doLoop(i, i32c(0), i32c(lay.intBytes), 16, v128Store([get(l.gi), get(i), op.i32_add], get(padV))),
    set(l.ok, i32c(1)),
    doLoop(ic, i32c(0), i32c(k.c), 1,
      doLoop(iy, i32c(0), i32c(k.ih), 1, [
        set(da, [get(l.gi), get(ic), i32c(2 * lay.hq * lay.wq), op.i32_mul, op.i32_add, get(iy), i32c(2 * lay.wq), op.i32_mul, op.i32_add]),
        doLoop(ix, i32c(0), i32c(k.iw), 1, [
          set(v, f64Load(get(l.src))),
          set(t, [get(v), ...i32_trunc_sat_f64_s]),
          set(l.ok, [
            get(l.ok),
            get(t), op.f64_convert_i32_s, get(v), op.f64_eq, op.i32_and,
            get(t), i32c(255), op.i32_add, i32c(510), op.i32_le_u, op.i32_and,
          ]),
          store(op.i32_store16, 1, get(da), get(t), 2 * (k.ph * lay.wq + k.pw)),
          set(l.src, [get(l.src), i32c(8), op.i32_add]),
          set(da, [get(da), i32c(2), op.i32_add]),
        ]),
      ])),
  ]
}

/** v128.store16_lane: lane `lane` of `value` at addr + offset. */
const store16Lane = (addr: Code, value: Code, offset: number, lane: number): Code => [addr, value, simd('v128_store16_lane'), 1, ...uleb(offset), lane]

/** The output bits of example r (output rows from `oa`) from its int16 grid at `gi`. */
export const intConv = (k: RealConv, lay: GridLayout, l: { readonly gi: number; readonly oa: number; readonly bounds: number }, local: Local): Code => {
  const signs = k.signs
  if (signs === undefined) throw new InternalError('our bug: the int16 path of RealConv without its weights')
  const [y, xv, pa, oa] = [local('i32'), local('i32'), local('i32'), local('i32')]
  const groups = Math.ceil(k.o / 16)
  const gacc = Array.from({ length: groups }, () => local('v128'))
  const accs = Array.from({ length: Math.min(BLOCK, k.o) }, () => local('v128'))
  const tv = local('v128')
  const taps = k.c * k.kh * k.kw
  const orb = rowBytes(k.o, 64)
  const zero = v128i32([0, 0, 0, 0])
  // Eight positions from pa (count of them real): every channel's bit into its group vector.
  const vector = (count: number): Code => {
    const blocks: Code[] = []
    for (let j0 = 0; j0 < k.o; j0 += BLOCK) {
      const n = Math.min(BLOCK, k.o - j0)
      const sums: Code[] = []
      for (let ic = 0; ic < k.c; ic++)
        for (let dy = 0; dy < k.kh; dy++)
          for (let dx = 0; dx < k.kw; dx++) {
            const t = (ic * k.kh + dy) * k.kw + dx
            sums.push(set(tv, v128Load(get(pa), 2 * ((ic * lay.hq + dy) * lay.wq + dx))))
            for (let q = 0; q < n; q++) {
              const plus = signs[(j0 + q) * taps + t]! >= 0
              sums.push(t === 0
                ? set(accs[q]!, plus ? get(tv) : [zero, get(tv), simd('i16x8_sub')])
                : set(accs[q]!, [get(accs[q]!), get(tv), simd(plus ? 'i16x8_add' : 'i16x8_sub')]))
            }
          }
      const bits = Array.from({ length: n }, (_, q) => {
        const j = j0 + q
        const bit = 1 << (j % 16)
        return set(gacc[j >> 4]!, [
          get(gacc[j >> 4]!),
          get(accs[q]!), v128Load(get(l.bounds), 32 * j), simd('i16x8_ge_s'),
          get(accs[q]!), v128Load(get(l.bounds), 32 * j + 16), simd('i16x8_le_s'),
          simd('v128_and'), v128i32([bit | (bit << 16), bit | (bit << 16), bit | (bit << 16), bit | (bit << 16)]), simd('v128_and'),
          simd('v128_or'),
        ])
      })
      blocks.push(sums, bits)
    }
    const stores: Code[] = []
    for (let p = 0; p < count; p++) for (let wd = 0; wd < orb / 8; wd++) stores.push(i64Store(get(oa), i64c(0), p * orb + 8 * wd))
    for (let g = 0; g < groups; g++) for (let p = 0; p < count; p++) stores.push(store16Lane(get(oa), get(gacc[g]!), p * orb + 2 * g, p))
    return [gacc.map((a) => set(a, zero)), blocks, stores]
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

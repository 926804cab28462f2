/**
 * Packing 8-bit inputs into bit-planes in WebAssembly (layout.ts `planesBytes`): for each
 * example, 64 values at a time are split into eight i64 words (bit p of each value into plane
 * p), and the value sum is stored after the planes. Returns 1 iff every value is an integer in
 * [0, 255] (tested branch-free with f64 comparisons), else 0 and the planes are not used.
 *
 * Signature: (rows, x, planes) → i32.
 */
import type { PackPlanes } from '../kernels.js'
import { planesBytes, planesSumOffset, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64c, f64Load, forLoop, func, get, i32c, i32Store, i64c, i64Store, set } from '../../../wasm/code.js'
import { i32_trunc_sat_f64_s, op } from '../../../wasm/opcodes.js'

export const packPlanes = (k: PackPlanes): WasmFunction =>
  func(`planes_${k.label}`, ['i32', 'i32', 'i32'], ['i32'], ([rows, x, planes], local) => {
    const r = local('i32'), xa = local('i32'), pa = local('i32'), b = local('i32'), wi = local('i32')
    const iv = local('i32'), ok = local('i32'), sum = local('i32'), v = local('f64')
    const plane = Array.from({ length: 8 }, () => local('i64'))
    const rb = rowBytes(k.k, 64)
    const full = Math.floor(k.k / 64)
    const rest = k.k % 64
    // One 64-value word: `count` values into the eight plane words, stored at word offset `at`.
    const word = (count: number, at: Code): Code => [
      plane.map((pl) => set(pl, i64c(0))),
      doLoop(b, i32c(0), i32c(count), 1, [
        set(v, f64Load(get(xa))),
        set(ok, [get(ok), get(v), f64c(0), op.f64_ge, get(v), f64c(255), op.f64_le, op.i32_and, get(v), op.f64_floor, get(v), op.f64_eq, op.i32_and, op.i32_and]),
        set(iv, [get(v), ...i32_trunc_sat_f64_s, i32c(255), op.i32_and]),
        set(sum, [get(sum), get(iv), op.i32_add]),
        plane.map((pl, p) => set(pl, [get(pl), get(iv), i32c(p), op.i32_shr_u, i32c(1), op.i32_and, op.i64_extend_i32_u, get(b), op.i64_extend_i32_u, op.i64_shl, op.i64_or])),
        set(xa, [get(xa), i32c(8), op.i32_add]),
      ]),
      plane.map((pl, p) => i64Store([get(pa), at, op.i32_add], get(pl), p * rb)),
    ]
    return [
      set(ok, i32c(1)),
      set(xa, get(x!)),
      forLoop(r, i32c(0), get(rows!), 1, [
        set(pa, [get(planes!), get(r), i32c(planesBytes(k.k, 64)), op.i32_mul, op.i32_add]),
        set(sum, i32c(0)),
        full === 0 ? [] : doLoop(wi, i32c(0), i32c(full), 1, word(64, [get(wi), i32c(3), op.i32_shl])),
        rest === 0 ? [] : word(rest, i32c(8 * full)),
        i32Store(get(pa), get(sum), planesSumOffset(k.k, 64)),
        i32Store(get(pa), i32c(0), planesSumOffset(k.k, 64) + 4),
      ]),
      get(ok),
    ]
  })

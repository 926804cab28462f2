/**
 * Conversions between float64 tensors and packed bits in WebAssembly, and the exact real × binary
 * product (the fallback of a real first layer whose inputs are not 8-bit integers).
 *
 * - PackSign: bit = (v ≥ 0), an f64 comparison (so −0 packs as +1, like the reference's sign).
 * - Unpack: ±1 from each bit.
 * - RealDense: Σ_k (w ? x : −x) in float64, k ascending: the reference's sums, bit for bit.
 */
import type { Geometry, PackSign, RealDense, Unpack } from '../kernels.js'
import { rowBytes, rowWords32 } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64c, f64Load, f64Store, forLoop, func, get, i32c, i32Load, i32Store, set } from '../../../wasm/code.js'
import { op } from '../../../wasm/opcodes.js'

/**
 * Loops over every packed bit of a geometry for `rows` examples: `visit(f64Index, wordAddr, bit)`
 * gets i32 locals for the float64 element index (row-major / NCHW), the address of the i32 word
 * holding the bit, and the bit number; `perWord` wraps each word's visits (for packing).
 */
const eachBit = (
  g: Geometry, rows: number, base: number, l: { readonly idx: number; readonly wa: number; readonly b: number; readonly r: number; readonly pos: number; readonly c: number },
  visit: Code, before: Code, after: Code,
): Code => {
  if (g.form === 'rows') {
    const rb = rowBytes(g.n, 64)
    const words = Math.ceil(g.n / 32)
    // f64 index = r·n + 32·word + b
    return forLoop(l.r, i32c(0), get(rows), 1, [
      set(l.wa, [get(base), get(l.r), i32c(rb), op.i32_mul, op.i32_add]),
      set(l.idx, [get(l.r), i32c(g.n), op.i32_mul]),
      doLoop(l.c, i32c(0), i32c(words), 1, [
        before,
        doLoop(l.b, i32c(0), [i32c(g.n - 32 * (words - 1)), i32c(32), get(l.c), i32c(words - 1), op.i32_eq, op.select], 1, [
          visit,
          set(l.idx, [get(l.idx), i32c(1), op.i32_add]),
        ]),
        after,
        set(l.wa, [get(l.wa), i32c(4), op.i32_add]),
      ]),
    ])
  }
  // channels-last rows of c bits at position (r, y, x); f64 index ((r·C + ch)·H + y)·W + x
  const rb = rowBytes(g.c, 64)
  const words = Math.ceil(g.c / 32)
  const hw = g.h * g.w
  return forLoop(l.r, i32c(0), get(rows), 1,
    doLoop(l.pos, i32c(0), i32c(hw), 1, [
      set(l.wa, [get(base), get(l.r), i32c(hw), op.i32_mul, get(l.pos), op.i32_add, i32c(rb), op.i32_mul, op.i32_add]),
      doLoop(l.c, i32c(0), i32c(words), 1, [
        before,
        doLoop(l.b, i32c(0), [i32c(g.c - 32 * (words - 1)), i32c(32), get(l.c), i32c(words - 1), op.i32_eq, op.select], 1, [
          set(l.idx, [get(l.r), i32c(g.c), op.i32_mul, get(l.c), i32c(5), op.i32_shl, op.i32_add, get(l.b), op.i32_add, i32c(hw), op.i32_mul, get(l.pos), op.i32_add]),
          visit,
        ]),
        after,
        set(l.wa, [get(l.wa), i32c(4), op.i32_add]),
      ]),
    ]))
}

const geometryLocals = (local: (t: 'i32') => number) => ({
  idx: local('i32'), wa: local('i32'), b: local('i32'), r: local('i32'), pos: local('i32'), c: local('i32'),
})

/** The number of i32 words a packed row of n bits has in the 64-bit layout, beyond ceil(n/32). */
const padWords = (n: number): number => rowWords32(n, 64) - rowWords32(n, 32)

export const packSign = (k: PackSign): WasmFunction =>
  func(`pack_${k.label}`, ['i32', 'i32', 'i32'], [], ([rows, src, dst], local) => {
    const l = geometryLocals(local)
    const word = local('i32')
    const g = k.geometry
    const n = g.form === 'rows' ? g.n : g.c
    const pad = padWords(n)
    return [
      eachBit(g, rows!, dst!, l,
        set(word, [get(word), f64Load([get(src!), get(l.idx), i32c(3), op.i32_shl, op.i32_add]), f64c(0), op.f64_ge, get(l.b), op.i32_shl, op.i32_or]),
        set(word, i32c(0)),
        [i32Store(get(l.wa), get(word)), pad === 0 ? [] : [get(l.c), i32c(Math.ceil(n / 32) - 1), op.i32_eq, op.if, 0x40, i32Store(get(l.wa), i32c(0), 4), op.end]],
      ),
    ]
  })

export const unpack = (k: Unpack): WasmFunction =>
  func(`unpack_${k.label}`, ['i32', 'i32', 'i32'], [], ([rows, src, dst], local) => {
    const l = geometryLocals(local)
    const word = local('i32')
    return eachBit(k.geometry, rows!, src!, l,
      f64Store([get(dst!), get(l.idx), i32c(3), op.i32_shl, op.i32_add], [get(word), get(l.b), op.i32_shr_u, i32c(1), op.i32_and, i32c(1), op.i32_shl, i32c(1), op.i32_sub, op.f64_convert_i32_s]),
      set(word, i32Load(get(l.wa))),
      [],
    )
  })

export const realDense = (k: RealDense): WasmFunction =>
  func(`real_${k.label}`, ['i32', 'i32', 'i32', 'i32'], [], ([rows, x, w, out], local) => {
    const r = local('i32'), j = local('i32'), i = local('i32'), xa = local('i32'), wa = local('i32'), oa = local('i32')
    const acc = local('f64'), v = local('f64')
    const rb = rowBytes(k.k, 64)
    return [
      set(oa, get(out!)),
      forLoop(r, i32c(0), get(rows!), 1, [
        set(wa, get(w!)),
        doLoop(j, i32c(0), i32c(k.n), 1, [
          set(acc, f64c(0)),
          set(xa, [get(x!), get(r), i32c(8 * k.k), op.i32_mul, op.i32_add]),
          doLoop(i, i32c(0), i32c(k.k), 1, [
            set(v, f64Load(get(xa))),
            set(acc, [get(acc), get(v), get(v), op.f64_neg,
              i32Load([get(wa), get(i), i32c(5), op.i32_shr_u, i32c(2), op.i32_shl, op.i32_add]), get(i), op.i32_shr_u, i32c(1), op.i32_and,
              op.select, op.f64_add]),
            set(xa, [get(xa), i32c(8), op.i32_add]),
          ]),
          f64Store(get(oa), get(acc)),
          set(oa, [get(oa), i32c(8), op.i32_add]),
          set(wa, [get(wa), i32c(rb), op.i32_add]),
        ]),
      ]),
    ]
  })

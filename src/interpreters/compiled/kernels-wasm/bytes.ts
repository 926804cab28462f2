/**
 * 8-bit inputs × binary weights in WebAssembly SIMD (layout.ts `bytesRow`): for each unit,
 * Σ (x AND mask) sixteen bytes at a time — v128.and, then i16x8.extadd_pairwise_i8x16_u into
 * 16-bit lane sums (at most 64 vectors before they could overflow, so longer rows flush into
 * 32-bit lanes every 64) — then dot = 2·Σ − Σ x. Exact in integers, like the bit-planes.
 *
 * PackBytes: (rows, x, bytes) → i32 (1 iff every value is an integer in [0, 255]).
 * ByteDense: (rows, bytes, w, out, ...epilogue buffers) → ().
 */
import type { ByteDense, PackBytes } from '../kernels.js'
import { bytesPerExample, bytesRow } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64c, f64Load, forLoop, func, get, i32c, i32Load, i32Store, set, simd, sumI32x4, v128Load } from '../../../wasm/code.js'
import { i32_trunc_sat_f64_s, op } from '../../../wasm/opcodes.js'
import type { DotLocals } from './dense.js'
import { productKernel } from './dense.js'

const FLUSH = 64

export const packBytes = (k: PackBytes): WasmFunction =>
  func(`bytes_${k.label}`, ['i32', 'i32', 'i32'], ['i32'], ([rows, x, bytes], local) => {
    const r = local('i32'), i = local('i32'), xa = local('i32'), ba = local('i32'), iv = local('i32'), ok = local('i32'), sum = local('i32'), v = local('f64')
    const row = bytesRow(k.k)
    return [
      set(ok, i32c(1)),
      set(xa, get(x!)),
      forLoop(r, i32c(0), get(rows!), 1, [
        set(ba, [get(bytes!), get(r), i32c(bytesPerExample(k.k)), op.i32_mul, op.i32_add]),
        set(sum, i32c(0)),
        doLoop(i, i32c(0), i32c(k.k), 1, [
          set(v, f64Load(get(xa))),
          set(ok, [get(ok), get(v), f64c(0), op.f64_ge, get(v), f64c(255), op.f64_le, op.i32_and, get(v), op.f64_floor, get(v), op.f64_eq, op.i32_and, op.i32_and]),
          set(iv, [get(v), ...i32_trunc_sat_f64_s, i32c(255), op.i32_and]),
          [get(ba), get(i), op.i32_add, get(iv), op.i32_store8, 0, 0],
          set(sum, [get(sum), get(iv), op.i32_add]),
          set(xa, [get(xa), i32c(8), op.i32_add]),
        ]),
        // (the row's padding bytes are left as they are: the masks are zero there)
        i32Store(get(ba), get(sum), row),
      ]),
      get(ok),
    ]
  })

export const byteDense = (k: ByteDense): WasmFunction => {
  const row = bytesRow(k.k)
  const vectors = row / 16
  const dot = (l: DotLocals): Code => {
    const [acc16, acc32] = l.v128s as [number, number]
    const chunk = (first: number, count: number): Code => [
      Array.from({ length: count }, (_, q) => set(acc16, [get(acc16), v128Load(get(l.xa), 16 * (first + q)), v128Load(get(l.wa), 16 * (first + q)), simd('v128_and'), simd('i16x8_extadd_pairwise_i8x16_u'), simd('i16x8_add')])),
    ]
    const flush: Code = [set(acc32, [get(acc32), get(acc16), simd('i32x4_extadd_pairwise_i16x8_u'), simd('i32x4_add')]), set(acc16, [i32c(0), simd('i32x4_splat')])]
    const parts: Code[] = [set(acc16, [i32c(0), simd('i32x4_splat')]), set(acc32, [i32c(0), simd('i32x4_splat')])]
    for (let first = 0; first < vectors; first += FLUSH) parts.push(chunk(first, Math.min(FLUSH, vectors - first)), flush)
    return [
      parts,
      sumI32x4(acc32),
      i32c(1), op.i32_shl,
      i32Load(get(l.xa), row),
      op.i32_sub,
    ]
  }
  return productKernel({ name: `bytes_${k.label}`, xStride: bytesPerExample(k.k), wStride: row, n: k.n, epilogue: k.epilogue, i64Locals: 0, v128Locals: 2, dot })
}

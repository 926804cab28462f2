/**
 * The 8-bit first layer in WebAssembly SIMD: 8-bit inputs (pixels) × binary weights, exact in
 * integers.
 *
 * PackBytes: (rows, x, bytes) → i32. Float64 rows into bytes (layout.ts `bytesRow`), each row
 * followed by its sum, and 1 iff every value is an integer in [0, 255].
 *
 * ByteDense: (rows, bytes, w, out, ...epilogue buffers) → (), like every product kernel:
 * dot = 2·Σ (x AND mask) − Σ x, as a register-blocked GEMM. Per 16 bytes of one (row, unit) pair
 * the work is three vector instructions (v128.and, i16x8.extadd_pairwise_i8x16_u, i16x8.add; on
 * x64 V8 also loads the extadd's constant each time), so a loop that loads both operands for
 * every pair is bound by its loads. A tile of TILE_ROWS rows × TILE_UNITS units loads 2 input
 * and 4 mask vectors per 16 bytes and feeds 8 accumulators from them (11 of the 16 xmm registers
 * V8 has on x64). Measured on MNIST's 784 → 4096 at batch 256: 1.8–1.9× the one-pair loop it
 * replaced; 1×8, 2×3, 2×5, 3×4 and 4×2 tiles, the k loop unrolled ×2, and 16-bit operands
 * widened on load (v128.load8x8_u / _s, no extadd) were all slower (docs/compiled.md).
 *
 * Order: blocks of 32 units (their masks stay in L1: 32 · 784 bytes for MNIST), within a block
 * every tile of rows, within that every tile of units; each tile runs the k loop once, then
 * reduces its accumulators and runs the fused epilogue for each of its pairs. Rows past the last
 * whole tile go one at a time. The 16-bit lanes hold at most FLUSH vectors (2·255 per lane per
 * vector, read unsigned: 128 · 510 < 2^16); a longer row is summed in chunks of FLUSH into 32-bit lanes. The sums
 * are the same integers in any order, so the bits are those of the one-pair loop.
 */
import type { ByteDense, PackBytes } from '../kernels.js'
import { bytesPerExample, bytesRow, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64c, f64Load, f64Store, forLoop, func, get, i32c, i32Load, i32Store, set, simd, sumI32x4, v128Load } from '../../../wasm/code.js'
import { i32_trunc_sat_f64_s, op } from '../../../wasm/opcodes.js'
import { epilogueBit, headerBytes, overUnitWords, zeroPadHalf } from './epilogue.js'

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

const BLOCK = 32
/** The tile: rows × units per pass over k (the arguments of `byteDense` exist for benchmarks). */
export const TILE_ROWS = 2
export const TILE_UNITS = 4
/** Vectors a 16-bit lane may sum before it is widened. */
const FLUSH = 128

export const byteDense = (k: ByteDense, ROWS = TILE_ROWS, UNITS = TILE_UNITS): WasmFunction => {
  const e = k.epilogue
  const hb = headerBytes(e)
  const row = bytesRow(k.k)
  const xStride = bytesPerExample(k.k)
  const vectors = row / 16
  const chunked = vectors > FLUSH
  const params = e.kind === 'dot' ? 4 : e.kind === 'sign' ? 5 : 7
  return func(`bytes_${k.label}`, new Array(params).fill('i32'), [], (p, local) => {
    const [rows, x, w, out, hdr0, table, rand0] = p as [number, number, number, number, number?, number?, number?]
    const r = local('i32'), j = local('i32'), xa = local('i32'), wa = local('i32'), kk = local('i32'), kEnd = local('i32')
    const dot = local('i32'), hdr = local('i32'), draw = local('i32'), scratch = local('i32'), oa = local('i32')
    const bits = Array.from({ length: ROWS }, () => local('i32'))
    const acc = Array.from({ length: ROWS * UNITS }, () => local('v128'))
    const wide = chunked ? Array.from({ length: ROWS * UNITS }, () => local('v128')) : []
    const xv = Array.from({ length: ROWS }, () => local('v128'))
    const wv = local('v128')
    const zero: Code = [i32c(0), simd('i32x4_splat')]
    const oStride = rowBytes(k.n, 64)
    const bit = e.kind === 'dot' ? [] : epilogueBit(e, { dot, header: hdr, draw, table: table ?? 0, scratch })

    /** Tile of `rt` rows (from row r, at xa) × `ut` units (u0 … of block j, at wa + u0·row). */
    const tile = (rt: number, u0: number, ut: number): Code => {
      const a = (i: number, u: number): number => acc[i * UNITS + u]!
      const pairs: [number, number][] = []
      for (let i = 0; i < rt; i++) for (let u = 0; u < ut; u++) pairs.push([i, u])
      const step: Code = [
        Array.from({ length: rt }, (_, i) => set(xv[i]!, v128Load([get(xa), get(kk), op.i32_add], i * xStride))),
        Array.from({ length: ut }, (_, u) => [
          set(wv, v128Load([get(wa), get(kk), op.i32_add], (u0 + u) * row)),
          Array.from({ length: rt }, (_, i) => set(a(i, u), [get(a(i, u)), get(xv[i]!), get(wv), simd('v128_and'), simd('i16x8_extadd_pairwise_i8x16_u'), simd('i16x8_add')])),
        ]),
      ]
      const widen = (i: number, u: number): Code => [get(a(i, u)), simd('i32x4_extadd_pairwise_i16x8_u')]
      const sums: Code = chunked
        ? [
            pairs.map(([i, u]) => set(wide[i * UNITS + u]!, zero)),
            // chunks of FLUSH vectors: kk runs over the whole row, kEnd is the chunk's end
            set(kk, i32c(0)),
            forLoop(kEnd, i32c(16 * FLUSH), i32c(row + 16 * FLUSH), 16 * FLUSH, [
              pairs.map(([i, u]) => set(a(i, u), zero)),
              doLoop(kk, get(kk), [get(kEnd), i32c(row), get(kEnd), i32c(row), op.i32_lt_s, op.select], 16, step),
              pairs.map(([i, u]) => set(wide[i * UNITS + u]!, [get(wide[i * UNITS + u]!), widen(i, u), simd('i32x4_add')])),
            ]),
            pairs.map(([i, u]) => set(a(i, u), get(wide[i * UNITS + u]!))),
          ]
        : [
            pairs.map(([i, u]) => set(a(i, u), zero)),
            doLoop(kk, i32c(0), i32c(row), 16, step),
            pairs.map(([i, u]) => set(a(i, u), widen(i, u))),
          ]
      const finish = ([i, u]: [number, number]): Code => {
        const unit: Code = [get(j), i32c(BLOCK), op.i32_mul, i32c(u0 + u), op.i32_add]
        const dotIs: Code = set(dot, [sumI32x4(a(i, u)), i32c(1), op.i32_shl, i32Load(get(xa), i * xStride + row), op.i32_sub])
        if (e.kind === 'dot') return [dotIs, f64Store([get(out), get(r), i32c(i), op.i32_add, i32c(k.n), op.i32_mul, unit, op.i32_add, i32c(8), op.i32_mul, op.i32_add], [get(dot), op.f64_convert_i32_s])]
        return [
          dotIs,
          set(hdr, [get(hdr0!), unit, i32c(hb), op.i32_mul, op.i32_add]),
          rand0 === undefined ? [] : set(draw, [get(rand0), get(r), i32c(i), op.i32_add, i32c(k.n), op.i32_mul, unit, op.i32_add, i32c(4), op.i32_mul, op.i32_add]),
          set(bits[i]!, [get(bits[i]!), bit, i32c(u0 + u), op.i32_shl, op.i32_or]),
        ]
      }
      return [sums, pairs.map(finish)]
    }

    /** Rows [r, r + rt) of block j, which has `count` units. */
    const rowTile = (rt: number, count: number): Code => {
      const tiles: Code[] = []
      for (let u0 = 0; u0 < count; u0 += UNITS) tiles.push(tile(rt, u0, Math.min(UNITS, count - u0)))
      return [
        set(xa, [get(x), get(r), i32c(xStride), op.i32_mul, op.i32_add]),
        bits.slice(0, rt).map((b) => set(b, i32c(0))),
        tiles,
        e.kind === 'dot' ? [] : bits.slice(0, rt).map((b, i) => i32Store([get(oa), get(r), i32c(i), op.i32_add, i32c(oStride), op.i32_mul, op.i32_add], get(b))),
      ]
    }
    const block = (count: number): Code => [
      set(wa, [get(w), get(j), i32c(BLOCK * row), op.i32_mul, op.i32_add]),
      set(oa, [get(out), get(j), i32c(2), op.i32_shl, op.i32_add]),
      forLoop(r, i32c(0), [get(rows), i32c(ROWS - 1), op.i32_sub], ROWS, rowTile(ROWS, count)),
      forLoop(r, get(r), get(rows), 1, rowTile(1, count)),
    ]
    return [overUnitWords(k.n, j, block), e.kind === 'dot' ? [] : zeroPadHalf(k.n, rows, out, r, oStride)]
  })
}

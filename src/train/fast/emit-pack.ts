/**
 * WebAssembly packing of float64 operands (copied verbatim into the module's memory) into the
 * f32 panels of the GEMM micro-kernel (see `emit-gemm.ts`): panel q holds rows q·w … q·w+w−1,
 * depth-major, element (r, p) at byte `dst + 4·(w·(q·kpad + p) + r − q·w)`. Both functions
 * convert with `f32x4.demote_f64x2_zero` (round to nearest, like `Math.fround`) and write only
 * whole panels; the caller packs the remainders (a partial last panel, a depth tail).
 *
 * - `pack_dm<w>`: depth-major source, element (r, p) at `src + 8·(p·ld + r)` (a row-major B, or
 *   a transposed A): each depth index of a panel is w adjacent values, a straight copy. Depth
 *   is walked in tiles so that the source rows a tile reads stay in cache and in the TLB while
 *   every panel takes its slice.
 * - `pack_rm<w>`: row-major source, element (r, p) at `src + 8·(r·ld + p)`: four depth indices
 *   of four rows are loaded, converted and transposed in registers (8 shuffles).
 */
import type { Code, WasmFunction } from '../../wasm/code.js'
import { doLoop, f64Store, forLoop, func, get, i32c, set, simd, when, i32Add as add, i32Mul as mul } from '../../wasm/code.js'
import { op } from '../../wasm/opcodes.js'
import { demote, pick, vload, vstore } from '../../wasm/simd.js'

const min = (a: Code, b: Code): Code => [a, b, a, b, op.i32_lt_s, op.select]

/** Depth indices per tile of `pack_dm`: 16 source rows of a few KiB each. */
const TILE = 16

/** Four f64 at `addr` as one f32x4. */
const four = (addr: Code, offset = 0): Code => pick(demote(vload(addr, offset)), demote(vload(addr, offset + 16)), [0, 1, 4, 5])

/** `pack_dm<w>(src, ld, panels, depth, dst, kpad)`, all counts ≥ 1, w a multiple of 4. */
export const packDepthMajor = (w: number): WasmFunction =>
  func(`pack_dm${w}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [src, ld, panels, depth, dst, kpad] = prm as [number, number, number, number, number, number]
    const p0 = local('i32')
    const p1 = local('i32')
    const q = local('i32')
    const p = local('i32')
    const s = local('i32')
    const d = local('i32')
    const ld8 = local('i32')
    const copy: Code[] = []
    for (let c = 0; c < w / 4; c++) copy.push(vstore(get(d), four(get(s), 32 * c), 16 * c))
    return [
      set(ld8, mul(get(ld), i32c(8))),
      doLoop(p0, i32c(0), get(depth), TILE, [
        set(p1, min(add(get(p0), i32c(TILE)), get(depth))),
        doLoop(q, i32c(0), get(panels), 1, [
          set(s, add(get(src), mul(add(mul(get(p0), get(ld)), mul(get(q), i32c(w))), i32c(8)))),
          set(d, add(get(dst), mul(add(mul(get(q), get(kpad)), get(p0)), i32c(4 * w)))),
          doLoop(p, get(p0), get(p1), 1, [copy, set(s, add(get(s), get(ld8))), set(d, add(get(d), i32c(4 * w)))]),
        ]),
      ]),
    ]
  })

/** `pack_rm<w>(src, ld, panels, depth4, dst, kpad)`: depth4 ≥ 4 a multiple of 4, panels ≥ 1. */
export const packRowMajor = (w: number): WasmFunction =>
  func(`pack_rm${w}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [src, ld, panels, depth4, dst, kpad] = prm as [number, number, number, number, number, number]
    const q = local('i32')
    const p = local('i32')
    const d = local('i32')
    const ld8 = local('i32')
    const rows = Array.from({ length: w }, () => local('i32'))
    const r = Array.from({ length: 4 }, () => local('v128'))
    const t = Array.from({ length: 4 }, () => local('v128'))
    const step: Code[] = []
    for (let g = 0; g < w / 4; g++) {
      for (let k = 0; k < 4; k++) step.push(set(r[k]!, four(get(rows[4 * g + k]!))))
      // 4×4 transpose: r[k] holds row k at depths p…p+3; column u (depth p+u) gathers lane u of each.
      step.push(set(t[0]!, pick(get(r[0]!), get(r[1]!), [0, 4, 1, 5])), set(t[1]!, pick(get(r[2]!), get(r[3]!), [0, 4, 1, 5])))
      step.push(set(t[2]!, pick(get(r[0]!), get(r[1]!), [2, 6, 3, 7])), set(t[3]!, pick(get(r[2]!), get(r[3]!), [2, 6, 3, 7])))
      step.push(
        vstore(get(d), pick(get(t[0]!), get(t[1]!), [0, 1, 4, 5]), 4 * (0 * w + 4 * g)),
        vstore(get(d), pick(get(t[0]!), get(t[1]!), [2, 3, 6, 7]), 4 * (1 * w + 4 * g)),
        vstore(get(d), pick(get(t[2]!), get(t[3]!), [0, 1, 4, 5]), 4 * (2 * w + 4 * g)),
        vstore(get(d), pick(get(t[2]!), get(t[3]!), [2, 3, 6, 7]), 4 * (3 * w + 4 * g)),
      )
    }
    for (const row of rows) step.push(set(row, add(get(row), i32c(32))))
    step.push(set(d, add(get(d), i32c(16 * w))))
    return [
      set(ld8, mul(get(ld), i32c(8))),
      doLoop(q, i32c(0), get(panels), 1, [
        set(rows[0]!, add(get(src), mul(mul(get(q), i32c(w)), get(ld8)))),
        rows.slice(1).map((row, k) => set(row, add(get(rows[k]!), get(ld8)))),
        set(d, add(get(dst), mul(mul(get(q), get(kpad)), i32c(4 * w)))),
        doLoop(p, i32c(0), get(depth4), 4, step),
      ]),
    ]
  })

/** `f64x2.promote_low_f32x4` (SIMD 0x5f) and `f64.promote_f32` (0xbb), absent from the shared opcode table. */
const PROMOTE_LOW = [0xfd, 0x5f]
const F64_PROMOTE_F32 = 0xbb

/**
 * `unpack_f32(src, ldSrc, rows, cols, dst, ldDst)`: a block of f32 products widened to float64
 * (exact), row r of the block from `src + r·ldSrc` to `dst + r·ldDst` (byte strides), two
 * columns at a time (`f64x2.promote_low_f32x4`), then the odd last one. Any count may be 0.
 */
export const unpackF32 = (): WasmFunction =>
  func('unpack_f32', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [src, ldSrc, rows, cols, dst, ldDst] = prm as [number, number, number, number, number, number]
    const r = local('i32')
    const j = local('i32')
    const s = local('i32')
    const d = local('i32')
    const pairs = local('i32')
    return [
      set(pairs, [get(cols), i32c(-2), op.i32_and]),
      forLoop(r, i32c(0), get(rows), 1, [
        set(s, add(get(src), mul(get(r), get(ldSrc)))),
        set(d, add(get(dst), mul(get(r), get(ldDst)))),
        forLoop(j, i32c(0), get(pairs), 2, [
          vstore(add(get(d), mul(get(j), i32c(8))), [get(s), get(j), i32c(4), op.i32_mul, op.i32_add, simd('v128_load64_zero'), 3, 0, ...PROMOTE_LOW]),
        ]),
        when([get(cols), i32c(1), op.i32_and], [
          f64Store(add(get(d), mul(get(pairs), i32c(8))), [add(get(s), mul(get(pairs), i32c(4))), op.f32_load, 2, 0, F64_PROMOTE_F32]),
        ]),
      ]),
    ]
  })

/**
 * WebAssembly packing of ±1 float64 operands (copied verbatim into the module's memory) into the
 * one bit layout (src/wasm/bitLayout.ts) that `bitgemm` reads: the words of `packBits`
 * (panels.ts), the same bits. Row r of the packed operand starts at byte `dst + 4·w32·r` (w32
 * u32 words per row, the padding words zero); depth index p of a row is bit p & 31 of its word
 * p >> 5, set for +1 (the float's sign bit inverted). Each function returns 1 if some value read is
 * not exactly ±1 (then the bits are meaningless and the caller takes the f32 path), else 0.
 *
 * - `pack_bits_rm(src, ld, rows, depth, dst, w32)`: row-major source, element (r, p) at
 *   `src + 8·(r·ld + p)`: two depth indices per load, their sign bits by `i64x2.bitmask`.
 * - `pack_bits_dm(src, ld, rows, depth, dst, w32)`: depth-major source, element (r, p) at
 *   `src + 8·(p·ld + r)` (a weight matrix seen by its columns): four rows at a time, whose words
 *   are built in the lanes of one i32x4 from the high halves of the floats, one depth index per
 *   step.
 *
 * Why not JavaScript: `packBits` reads each float as two u32 with bounds checks and builds one
 * bit per iteration. A 512 × 512 weight matrix by its columns took 0.73 ms there against 0.28 ms
 * copied into the memory and packed here (medians, loaded machine); the one-thread MLP step
 * 3–5 % less (docs/training.md, "Data parallelism").
 */
import type { Code, WasmFunction } from '../../wasm/code.js'
import { doLoop, forLoop, func, get, i32c, i32Store, i64c, i64Load, set, simd, when, i32Add as add, i32Mul as mul, i32Or as or, i32Shl as shl } from '../../wasm/code.js'
import { op } from '../../wasm/opcodes.js'
import { vload } from '../../wasm/simd.js'


/** |x| as bits (the sign cleared), and the bits of 1.0: x is ±1 iff (x & ABS) ^ ONE = 0. */
const ABS = 0x7fffffffffffffffn
const ONE = 0x3ff0000000000000n
const splat64 = (v: bigint): Code => [i64c(v), simd('i64x2_splat')]

/** The flag's vector `bad` |= (v & ABS) ^ ONE, for a v128 of two float64. */
const checkV = (bad: number, v: Code): Code => set(bad, [get(bad), [v, splat64(ABS), simd('v128_and'), splat64(ONE), simd('v128_xor')], simd('v128_or')])

/** One float64 at `addr`: its ±1 check into the i64 `bad64`, and its bit (1 for +1) left on the stack. */
const scalarBit = (bad64: number, x: number, addr: Code): Code => [
  set(x, i64Load(addr)),
  set(bad64, [get(bad64), [get(x), i64c(ABS), op.i64_and, i64c(ONE), op.i64_xor], op.i64_or]),
  get(x), i64c(0), op.i64_lt_s, op.i32_eqz,
]

/** Zeroes the words [from, w32) of the rows [0, rows) at `dst` (the padding of each packed row). */
const zeroPadding = (dst: number, rows: number, w32: number, from: Code, r: number, k: number): Code =>
  forLoop(r, i32c(0), get(rows), 1, [
    forLoop(k, from, get(w32), 1, [i32Store(add(get(dst), [mul(get(r), get(w32)), get(k), op.i32_add, i32c(4), op.i32_mul]), i32c(0))]),
  ])

/** The flag returned: 1 when a lane of `bad` or the scalar `bad64` is not zero, else 0. */
const flag = (bad: number, bad64: number): Code => [get(bad), simd('v128_any_true'), get(bad64), i64c(0), op.i64_ne, op.i32_or]

/** `pack_bits_rm(src, ld, rows, depth, dst, w32) → bad`, rows, depth ≥ 1. */
export const packBitsRowMajor = (): WasmFunction =>
  func('pack_bits_rm', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32'], (prm, local) => {
    const [src, ld, rows, depth, dst, w32] = prm as [number, number, number, number, number, number]
    const r = local('i32'), k = local('i32'), s = local('i32'), d = local('i32'), word = local('i32'), t = local('i32'), full = local('i32')
    const bad = local('v128'), bad64 = local('i64'), x = local('i64'), v = local('v128')
    // 32 depth indices: 16 loads of two floats, each giving two bits (inverted sign bits) by bitmask.
    const whole: Code[] = [set(word, i32c(0))]
    for (let u = 0; u < 16; u++)
      whole.push(set(v, vload(get(s), 16 * u)), checkV(bad, get(v)), set(word, or(get(word), shl([get(v), simd('v128_not'), simd('i64x2_bitmask')], i32c(2 * u)))))
    return [
      set(full, [get(depth), i32c(5), op.i32_shr_u]),
      doLoop(r, i32c(0), get(rows), 1, [
        set(s, add(get(src), mul(mul(get(r), get(ld)), i32c(8)))),
        set(d, add(get(dst), mul(mul(get(r), get(w32)), i32c(4)))),
        forLoop(k, i32c(0), get(full), 1, [whole, i32Store(add(get(d), mul(get(k), i32c(4))), get(word)), set(s, add(get(s), i32c(256)))]),
        // The depth tail, one float at a time.
        when([get(depth), i32c(31), op.i32_and], [
          set(word, i32c(0)),
          forLoop(t, i32c(0), [get(depth), i32c(31), op.i32_and], 1, [
            set(word, or(get(word), shl(scalarBit(bad64, x, add(get(s), mul(get(t), i32c(8)))), get(t)))),
          ]),
          i32Store(add(get(d), mul(get(full), i32c(4))), get(word)),
        ]),
      ]),
      zeroPadding(dst, rows, w32, [get(depth), i32c(31), op.i32_add, i32c(5), op.i32_shr_u], r, k),
      flag(bad, bad64),
    ]
  })

/** `pack_bits_dm(src, ld, rows, depth, dst, w32) → bad`, rows, depth ≥ 1. */
export const packBitsDepthMajor = (): WasmFunction =>
  func('pack_bits_dm', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32'], (prm, local) => {
    const [src, ld, rows, depth, dst, w32] = prm as [number, number, number, number, number, number]
    const r = local('i32'), k = local('i32'), p0 = local('i32'), end = local('i32'), t = local('i32'), s = local('i32'), words = local('i32'), word = local('i32'), rows4 = local('i32'), ld8 = local('i32')
    const bad = local('v128'), bad64 = local('i64'), x = local('i64'), a = local('v128'), b = local('v128'), acc = local('v128')
    // The u32 of row r's word k.
    const wordAt = (row: Code): Code => add(get(dst), mul(add(mul(row, get(w32)), get(k)), i32c(4)))
    return [
      set(ld8, mul(get(ld), i32c(8))),
      set(words, [get(depth), i32c(31), op.i32_add, i32c(5), op.i32_shr_u]),
      set(rows4, [get(rows), i32c(-4), op.i32_and]),
      doLoop(k, i32c(0), get(words), 1, [
        set(p0, mul(get(k), i32c(32))),
        set(end, [get(depth), get(p0), op.i32_sub]),
        set(end, [i32c(32), get(end), i32c(32), get(end), op.i32_lt_s, op.select]),
        // Four rows at a time: lane j of acc is row r + j's word, one depth index per step.
        forLoop(r, i32c(0), get(rows4), 4, [
          set(acc, [i64c(0), simd('i64x2_splat')]),
          set(s, add(get(src), mul(add(mul(get(p0), get(ld)), get(r)), i32c(8)))),
          doLoop(t, i32c(0), get(end), 1, [
            set(a, vload(get(s))),
            set(b, vload(get(s), 16)),
            checkV(bad, get(a)),
            checkV(bad, get(b)),
            // The high halves of the four floats (i32 lanes 1, 3 of a and of b), inverted; their top bit is the bit.
            set(acc, [get(acc), [[get(a), get(b), simd('i8x16_shuffle'), 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31], simd('v128_not'), i32c(31), simd('i32x4_shr_u'), get(t), simd('i32x4_shl')], simd('v128_or')]),
            set(s, add(get(s), get(ld8))),
          ]),
          [0, 1, 2, 3].map((j) => i32Store(wordAt(add(get(r), i32c(j))), [get(acc), simd('i32x4_extract_lane'), j])),
        ]),
        // The last rows (fewer than four), one float at a time.
        forLoop(r, get(rows4), get(rows), 1, [
          set(word, i32c(0)),
          set(s, add(get(src), mul(add(mul(get(p0), get(ld)), get(r)), i32c(8)))),
          doLoop(t, i32c(0), get(end), 1, [
            set(word, or(get(word), shl(scalarBit(bad64, x, get(s)), get(t)))),
            set(s, add(get(s), get(ld8))),
          ]),
          i32Store(wordAt(get(r)), get(word)),
        ]),
      ]),
      zeroPadding(dst, rows, w32, get(words), r, k),
      flag(bad, bad64),
    ]
  })

/** The bit packers, assembled into the training module (`gemmModule`). */
export const bitPackers = (): WasmFunction[] => [packBitsRowMajor(), packBitsDepthMajor()]

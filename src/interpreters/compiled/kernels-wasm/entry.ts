/**
 * The entry kernels of `infer` in WebAssembly SIMD: typed-array inputs staged in memory become
 * the packed layouts the products read, validated in the same single pass.
 *
 * - PackPm1 (int8 or float32 ±1 → packed bits): per 32 features, the sign bits of two int8
 *   vectors (`i8x16.bitmask`) or eight float32 vectors (`i32x4.bitmask`) make the word (a clear
 *   sign bit is +1, layout.ts rule 1), and the lanes equal to neither +1 nor −1 make a second
 *   mask; the first set bit of that mask is returned as the flat index of the bad value (−1 if
 *   none). NaN equals nothing, so it is caught too.
 * - StageBytes (uint8 in the bytes layout of PackBytes, in place): each example's k bytes, written
 *   by `infer` at the bytes buffer's stride, summed sixteen per vector by two pairwise widening
 *   adds; the tail vector is masked and stored back, so padding bytes are zero; the sum is written
 *   after the row.
 *
 * Signatures: PackPm1 (rows, src, dst) → i32; StageBytes (rows, src, bytes) → ().
 */
import type { PackPm1, StageBytes } from '../kernels.js'
import { bytesPerExample, bytesRow, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, forLoop, func, get, i32c, i32Store, set, simd, sumI32x4, v128i32, v128Load, v128Store, when } from '../../../wasm/code.js'
import { op } from '../../../wasm/opcodes.js'

const F32_ONE = 0x3f800000
const F32_MINUS_ONE = 0xbf800000 | 0

export const packPm1 = (k: PackPm1): WasmFunction =>
  func(`pm1_${k.label}`, ['i32', 'i32', 'i32'], ['i32'], ([rows, src, dst], local) => {
    const r = local('i32'), w = local('i32'), srow = local('i32'), drow = local('i32'), sa = local('i32'), word = local('i32'), bad = local('i32')
    const v = local('v128')
    const int8 = k.from === 'int8'
    const esz = int8 ? 1 : 4
    const lanes = int8 ? 16 : 4
    const bitmask = simd(int8 ? 'i8x16_bitmask' : 'i32x4_bitmask')
    const eq = simd(int8 ? 'i8x16_eq' : 'f32x4_eq')
    const one = int8 ? v128i32([0x01010101, 0x01010101, 0x01010101, 0x01010101]) : v128i32([F32_ONE, F32_ONE, F32_ONE, F32_ONE])
    const minus = int8 ? v128i32([-1, -1, -1, -1]) : v128i32([F32_MINUS_ONE, F32_MINUS_ONE, F32_MINUS_ONE, F32_MINUS_ONE])
    const full = Math.floor(k.n / 32)
    const tail = k.n % 32
    const rb = rowBytes(k.n, 64)
    const words = Math.ceil(k.n / 32)
    const vector = (q: number): Code => [
      set(v, v128Load(get(sa), 16 * q)),
      set(word, [get(word), get(v), bitmask, i32c(lanes * q), op.i32_shl, op.i32_or]),
      set(bad, [get(bad), get(v), one, eq, get(v), minus, eq, simd('v128_or'), simd('v128_not'), bitmask, i32c(lanes * q), op.i32_shl, op.i32_or]),
    ]
    // One 32-bit word of `bits` features (the first `bits` lanes count; the others are masked off).
    const wordOf = (bits: number): Code => {
      const mask = bits === 32 ? -1 : (1 << bits) - 1
      return [
        set(sa, [get(srow), get(w), i32c(32 * esz), op.i32_mul, op.i32_add]),
        set(word, i32c(0)),
        set(bad, i32c(0)),
        Array.from({ length: Math.ceil(bits / lanes) }, (_, q) => vector(q)),
        bits < 32 ? [set(word, [get(word), i32c(mask), op.i32_and]), set(bad, [get(bad), i32c(mask), op.i32_and])] : [],
        when(get(bad), [get(r), i32c(k.n), op.i32_mul, get(w), i32c(5), op.i32_shl, op.i32_add, get(bad), op.i32_ctz, op.i32_add, op.return]),
        i32Store([get(drow), get(w), i32c(2), op.i32_shl, op.i32_add], [get(word), i32c(mask), op.i32_xor]),
      ]
    }
    const padding: Code = Array.from({ length: rb / 4 - words }, (_, i) => i32Store(get(drow), i32c(0), 4 * (words + i)))
    return [
      forLoop(r, i32c(0), get(rows!), 1, [
        set(srow, [get(src!), get(r), i32c(k.n * esz), op.i32_mul, op.i32_add]),
        set(drow, [get(dst!), get(r), i32c(rb), op.i32_mul, op.i32_add]),
        full > 0 ? doLoop(w, i32c(0), i32c(full), 1, wordOf(32)) : [],
        tail > 0 ? [set(w, i32c(full)), wordOf(tail)] : [],
        padding,
      ]),
      i32c(-1),
    ]
  })

export const stageBytes = (k: StageBytes): WasmFunction =>
  func(`stage_${k.label}`, ['i32', 'i32', 'i32'], [], ([rows, , bytes], local) => {
    const r = local('i32'), c = local('i32'), da = local('i32')
    const acc = local('v128'), v = local('v128')
    const full = k.k >> 4
    const tail = k.k & 15
    const tailMask = new Uint8Array(16).fill(0xff, 0, tail)
    const lanes = new Int32Array(tailMask.buffer)
    const add: Code = set(acc, [get(acc), get(v), simd('i16x8_extadd_pairwise_i8x16_u'), simd('i32x4_extadd_pairwise_i16x8_u'), simd('i32x4_add')])
    return forLoop(r, i32c(0), get(rows!), 1, [
      set(da, [get(bytes!), get(r), i32c(bytesPerExample(k.k)), op.i32_mul, op.i32_add]),
      set(acc, [i32c(0), simd('i32x4_splat')]),
      full > 0
        ? doLoop(c, i32c(0), i32c(full), 1, [
            set(v, v128Load(get(da))),
            add,
            set(da, [get(da), i32c(16), op.i32_add]),
          ])
        : [],
      tail > 0 ? [set(v, [v128Load(get(da)), v128i32([lanes[0]!, lanes[1]!, lanes[2]!, lanes[3]!]), simd('v128_and')]), v128Store(get(da), get(v)), add] : [],
      i32Store([get(bytes!), get(r), i32c(bytesPerExample(k.k)), op.i32_mul, op.i32_add], sumI32x4(acc), bytesRow(k.k)),
    ])
  })

/**
 * The WebAssembly opcodes sbnkit's kernels use (core MVP, sign extension, SIMD). Single-byte
 * opcodes are numbers; SIMD opcodes are `[0xfd, ...uleb(n)]` sequences built by `simd`.
 * Names follow the text format with `.` replaced by `_` (`i64.popcnt` → `i64_popcnt`).
 */

/** Value types. */
export const valType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const
export type ValType = keyof typeof valType

/** The empty block type (a block that leaves nothing on the stack). */
export const blockVoid = 0x40

export const op = {
  // control
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, br_if: 0x0d, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  // variables
  local_get: 0x20, local_set: 0x21, local_tee: 0x22,
  // memory (each followed by a memarg: alignment exponent, offset)
  i32_load: 0x28, i64_load: 0x29, f32_load: 0x2a, f64_load: 0x2b,
  i32_load8_u: 0x2d, i32_load16_u: 0x2f, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, f32_store: 0x38, f64_store: 0x39, i32_store8: 0x3a, i32_store16: 0x3b,
  // constants
  i32_const: 0x41, i64_const: 0x42, f64_const: 0x44,
  // i32 comparisons
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a,
  i32_gt_u: 0x4b, i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  // i64 comparisons
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54,
  // f64 comparisons
  f64_eq: 0x61, f64_ne: 0x62, f64_lt: 0x63, f64_gt: 0x64, f64_le: 0x65, f64_ge: 0x66,
  // i32 arithmetic
  i32_ctz: 0x68, i32_popcnt: 0x69, i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_and: 0x71, i32_or: 0x72,
  i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77,
  // i64 arithmetic
  i64_popcnt: 0x7b, i64_add: 0x7c, i64_sub: 0x7d, i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85,
  i64_shl: 0x86, i64_shr_u: 0x88,
  // f64 arithmetic
  f64_neg: 0x9a, f64_floor: 0x9c, f64_add: 0xa0, f64_sub: 0xa1, f64_mul: 0xa2,
  // conversions
  i32_wrap_i64: 0xa7, i32_trunc_f64_s: 0xaa, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad,
  f64_convert_i32_s: 0xb7, f64_convert_i64_s: 0xb9, i64_reinterpret_f64: 0xbd, f64_reinterpret_i64: 0xbf,
} as const

/** Saturating float → int conversions (prefix 0xfc): never trap, clamp to the integer range. */
export const i32_trunc_sat_f64_s = [0xfc, 0x02] as const

/** SIMD opcodes (prefix 0xfd, then the LEB128 sub-opcode). */
export const simdOp = {
  v128_load: 0, v128_store: 11, v128_const: 12, i8x16_shuffle: 13,
  i32x4_splat: 17, i64x2_splat: 18, f64x2_splat: 20,
  i8x16_eq: 35, f32x4_eq: 65,
  i32x4_extract_lane: 27, i64x2_extract_lane: 29,
  f64x2_lt: 73, f64x2_ge: 76,
  v128_not: 77, v128_and: 78, v128_andnot: 79, v128_or: 80, v128_xor: 81, v128_bitselect: 82,
  i8x16_popcnt: 98, i8x16_bitmask: 100, i8x16_add: 110,
  i16x8_extadd_pairwise_i8x16_u: 125, i32x4_extadd_pairwise_i16x8_u: 127, i16x8_add: 142,
  i32x4_bitmask: 164, i32x4_shl: 171, i32x4_shr_s: 172, i32x4_shr_u: 173, i32x4_add: 174, i32x4_sub: 177,
  i64x2_bitmask: 196, i64x2_shl: 203, i64x2_add: 206,
  f64x2_add: 240, f64x2_sub: 241, f64x2_mul: 242,
  // f64x2 arithmetic and conversions of the training sampler (train/fast/sample-wasm.ts)
  v128_load64_zero: 93, v128_any_true: 83, f64x2_extract_lane: 33, f64x2_le: 75,
  f64x2_nearest: 148, f64x2_abs: 236, f64x2_neg: 237, f64x2_div: 243, f64x2_max: 245, f64x2_convert_low_i32x4_u: 255,
  // i16x8 sums of the integer first convolution (kernels-wasm/realconv.ts)
  i16x8_splat: 16, i16x8_lt_u: 48, i16x8_sub: 145, v128_store16_lane: 89,
  f64x2_eq: 71, i32x4_trunc_sat_f64x2_s_zero: 252, i32x4_replace_lane: 28, i32x4_lt_u: 58, f64x2_convert_low_i32x4_s: 254, i16x8_narrow_i32x4_s: 133, v128_store32_lane: 90,
  // byte sums and tests of the lookup-table convolution (kernels-wasm/conv-table.ts)
  i8x16_sub: 113, i8x16_lt_u: 38,
  // uint8 pixels into the int16 grid of the first convolution (kernels-wasm/realconv-int.ts)
  v128_load8x8_u: 2, v128_store64_lane: 91, i16x8_gt_s: 49,
  // nibble lookup tables of the 8-bit dense layer (kernels-wasm/bytes-nibbles.ts)
  i8x16_swizzle: 14, i8x16_splat: 15, i16x8_extend_low_i8x16_u: 137, i16x8_extend_high_i8x16_u: 138,
  i32x4_extend_low_i16x8_u: 169, i32x4_extend_high_i16x8_u: 170, i32x4_lt_s: 57, i16x8_extract_lane_u: 25, i16x8_shl: 139, i16x8_shr_u: 141,
  // relaxed SIMD (validated only where the engine has it): a bare pshufb for in-range indices
  i8x16_relaxed_swizzle: 256,
} as const
export type SimdOp = keyof typeof simdOp

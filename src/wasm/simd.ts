/**
 * The single-precision WebAssembly instructions the training kernels need and the shared opcode
 * table (`opcodes.ts`) does not list: f32 scalar memory access, the
 * f32x4 arithmetic, splat loads, and the relaxed-SIMD fused multiply-add (used only when the
 * host validates it). Encodings are from the core and relaxed-SIMD specifications.
 */
import type { Code } from './code.js'
import { func } from './code.js'
import { assemble } from './module.js'
import { op } from './opcodes.js'
import { uleb } from './leb128.js'

/** Sub-opcodes after the 0xfd prefix. */
const simdOps = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  v128_xor: 0x51,
  f32x4_demote_f64x2_zero: 0x5e,
  f32x4_add: 0xe4,
  f32x4_mul: 0xe6,
  f32x4_relaxed_madd: 0x105,
} as const

const fd = (name: keyof typeof simdOps): number[] => [0xfd, ...uleb(simdOps[name])]
const memarg = (alignLog2: number, offset: number): number[] => [alignLog2, ...uleb(offset)]

/** v128.load at `addr + offset` (byte offset folded into the instruction). */
export const vload = (addr: Code, offset = 0): Code => [addr, fd('v128_load'), ...memarg(4, offset)]
/** One f32 at `addr + offset`, broadcast to four lanes (one `vbroadcastss` on x64). */
export const vsplat32 = (addr: Code, offset = 0): Code => [addr, fd('v128_load32_splat'), ...memarg(2, offset)]
export const vstore = (addr: Code, value: Code, offset = 0): Code => [addr, value, fd('v128_store'), ...memarg(4, offset)]
export const vzero: Code = [fd('v128_const'), ...new Array<number>(16).fill(0)]
export const vxor = (a: Code, b: Code): Code => [a, b, fd('v128_xor')]
export const f32x4Add = (a: Code, b: Code): Code => [a, b, fd('f32x4_add')]
export const f32x4Mul = (a: Code, b: Code): Code => [a, b, fd('f32x4_mul')]
/** Two f64 lanes rounded to f32 in lanes 0–1; lanes 2–3 zero. */
export const demote = (a: Code): Code => [a, fd('f32x4_demote_f64x2_zero')]
/** f32 lanes picked from a (0–3) and b (4–7). */
export const pick = (a: Code, b: Code, lanes: readonly [number, number, number, number]): Code =>
  [a, b, fd('i8x16_shuffle'), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])]
/** a·b + c, fused or not at the engine's choice (relaxed SIMD). */
export const f32x4Madd = (a: Code, b: Code, c: Code): Code => [a, b, c, fd('f32x4_relaxed_madd')]

/** A one-function module using `f32x4.relaxed_madd`: does the host have relaxed SIMD? */
export const relaxedProbe = (): Uint8Array =>
  assemble([func('probe', [], ['v128'], () => f32x4Madd(vzero, vzero, vzero))])

/** A one-function module using `v128.load32_splat` and `f32x4.mul`: does the host have SIMD? */
export const simdProbe = (): Uint8Array =>
  assemble([func('probe', [], ['v128'], () => f32x4Mul(vsplat32([op.i32_const, 0]), vzero))])

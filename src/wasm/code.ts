/**
 * Instructions as data: a function body is a tree of byte fragments (`Code`), flattened once
 * when the module is assembled. The helpers below are the small vocabulary the kernel emitters
 * use (constants, locals, memory access with a memarg, structured loops), so an emitter reads
 * like the loop it generates.
 */
import { blockVoid, op, simdOp, valType } from './opcodes.js'
import type { SimdOp, ValType } from './opcodes.js'
import { sleb, sleb64, uleb } from './leb128.js'

/** A fragment of a function body: bytes, or nested fragments. */
export type Code = ReadonlyArray<number | Code>

/** The bytes of a fragment, in order. */
export const flat = (c: Code): number[] => {
  const out: number[] = []
  const walk = (x: Code): void => {
    for (const e of x) {
      if (typeof e === 'number') out.push(e)
      else walk(e)
    }
  }
  walk(c)
  return out
}

// ---------------------------------------------------------------------------------------------
// Constants and locals

export const i32c = (v: number): Code => [op.i32_const, ...sleb(v | 0)]
export const i64c = (v: bigint | number): Code => [op.i64_const, ...sleb64(BigInt(v))]
export const f64c = (v: number): Code => {
  const bytes = new Uint8Array(new Float64Array([v]).buffer)
  return [op.f64_const, ...bytes]
}
export const get = (local: number): Code => [op.local_get, ...uleb(local)]
export const set = (local: number, value: Code): Code => [value, op.local_set, ...uleb(local)]
export const tee = (local: number, value: Code): Code => [value, op.local_tee, ...uleb(local)]

// ---------------------------------------------------------------------------------------------
// i32 arithmetic on two operands (each pushes one i32)

export const i32Add = (a: Code, b: Code): Code => [a, b, op.i32_add]
export const i32Sub = (a: Code, b: Code): Code => [a, b, op.i32_sub]
export const i32Mul = (a: Code, b: Code): Code => [a, b, op.i32_mul]
export const i32And = (a: Code, b: Code): Code => [a, b, op.i32_and]
export const i32Or = (a: Code, b: Code): Code => [a, b, op.i32_or]
export const i32Shl = (a: Code, b: Code): Code => [a, b, op.i32_shl]

// ---------------------------------------------------------------------------------------------
// Memory: `addr` is an i32 byte address; `offset` a constant byte offset folded into the memarg.

const memarg = (alignLog2: number, offset: number): number[] => [alignLog2, ...uleb(offset)]
export const load = (opcode: number, alignLog2: number, addr: Code, offset = 0): Code => [addr, opcode, ...memarg(alignLog2, offset)]
export const store = (opcode: number, alignLog2: number, addr: Code, value: Code, offset = 0): Code =>
  [addr, value, opcode, ...memarg(alignLog2, offset)]
export const i32Load = (addr: Code, offset = 0): Code => load(op.i32_load, 2, addr, offset)
export const i64Load = (addr: Code, offset = 0): Code => load(op.i64_load, 3, addr, offset)
export const f64Load = (addr: Code, offset = 0): Code => load(op.f64_load, 3, addr, offset)
export const i32Store = (addr: Code, value: Code, offset = 0): Code => store(op.i32_store, 2, addr, value, offset)
export const i64Store = (addr: Code, value: Code, offset = 0): Code => store(op.i64_store, 3, addr, value, offset)
export const f64Store = (addr: Code, value: Code, offset = 0): Code => store(op.f64_store, 3, addr, value, offset)

// ---------------------------------------------------------------------------------------------
// SIMD

export const simd = (name: SimdOp): Code => [0xfd, ...uleb(simdOp[name])]
export const v128Load = (addr: Code, offset = 0): Code => [addr, simd('v128_load'), ...memarg(4, offset)]
export const v128Store = (addr: Code, value: Code, offset = 0): Code => [addr, value, simd('v128_store'), ...memarg(4, offset)]
/** A v128 constant from four i32 lanes. */
export const v128i32 = (lanes: readonly [number, number, number, number]): Code => {
  const bytes = new Uint8Array(new Int32Array(lanes.map((v) => v | 0)).buffer)
  return [simd('v128_const'), ...bytes]
}
/** Lane `n` of the i32x4 in `local`, as an i32. */
export const laneI32 = (local: number, n: number): Code => [get(local), simd('i32x4_extract_lane'), n]
/** The sum of the four i32 lanes of the i32x4 in `local`, as an i32 (horizontal reduction). */
export const sumI32x4 = (local: number): Code =>
  [laneI32(local, 0), laneI32(local, 1), op.i32_add, laneI32(local, 2), op.i32_add, laneI32(local, 3), op.i32_add]
export const shuffle = (lanes: readonly number[], a: Code, b: Code): Code => [a, b, simd('i8x16_shuffle'), ...lanes]

// ---------------------------------------------------------------------------------------------
// Structured control. Branch depths are relative, so the helpers document the depth they add.

/** `if (cond) { then }` (adds one label). */
export const when = (cond: Code, then: Code): Code => [cond, op.if, blockVoid, then, op.end]
/** `if (cond) { a } else { b }` (adds one label). */
export const ifElse = (cond: Code, a: Code, b: Code): Code => [cond, op.if, blockVoid, a, op.else, b, op.end]

/**
 * `local = start; do { body; local += step } while (local < end)`, for loops known to run at
 * least once (sizes are baked in, so emitters know). `end` is an i32 expression evaluated on
 * every iteration; comparison is signed. The body sits one label deep (br 0 continues).
 */
export const doLoop = (local: number, start: Code, end: Code, step: number, body: Code): Code => [
  set(local, start),
  op.loop, blockVoid,
  body,
  set(local, [get(local), i32c(step), op.i32_add]),
  get(local), end, op.i32_lt_s, op.br_if, 0,
  op.end,
]

/** `for (local = start; local < end; local += step) body`, which may run zero times (adds two labels). */
export const forLoop = (local: number, start: Code, end: Code, step: number, body: Code): Code => [
  set(local, start),
  op.block, blockVoid,
  get(local), end, op.i32_ge_s, op.br_if, 0,
  op.loop, blockVoid,
  body,
  set(local, [get(local), i32c(step), op.i32_add]),
  get(local), end, op.i32_lt_s, op.br_if, 0,
  op.end,
  op.end,
]

// ---------------------------------------------------------------------------------------------
// Functions

/** A function to be assembled: its signature, extra locals (after the params), and body. */
export interface WasmFunction {
  readonly name: string
  readonly params: readonly ValType[]
  readonly results: readonly ValType[]
  readonly locals: readonly ValType[]
  readonly body: Code
}

/**
 * Builds a function whose locals are allocated by name while its body is written:
 * `func('k', ['i32'], [], (p, local) => { const acc = local('i64'); return [...] })`.
 * `p[i]` is the local index of parameter i.
 */
export const func = (
  name: string,
  params: readonly ValType[],
  results: readonly ValType[],
  write: (p: readonly number[], local: (t: ValType) => number) => Code,
): WasmFunction => {
  const locals: ValType[] = []
  const local = (t: ValType): number => {
    locals.push(t)
    return params.length + locals.length - 1
  }
  const body = write(params.map((_, i) => i), local)
  return { name, params, results, locals, body }
}

/** The byte for a value type. */
export const typeByte = (t: ValType): number => valType[t]

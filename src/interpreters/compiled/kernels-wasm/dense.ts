/**
 * Dense product kernels in WebAssembly. One skeleton (`productKernel`) walks the output in
 * blocks of 32 units over all rows, so the block's weight rows stay in L1 while the input rows
 * stream past; for each (row, unit) it runs the kernel's dot code and the fused epilogue, and
 * stores the block's 32 output bits as one i32 (the low or high half of a 64-bit layout word).
 *
 * - BinaryDense: k − 2·popcount(x XOR w), the back end's one XOR–popcount emitter
 *   (`src/wasm/popcount.ts`: scalar `i64.popcnt` per 64-bit word; up to 64 words fully unrolled
 *   with x's words loaded into locals once per row of a block, beyond that looped by eight with a
 *   fence store every four words).
 * - PlaneDense: 8-bit inputs as bit-planes, Σ_p 2^p·popcount(plane_p AND w), one accumulator per
 *   plane; dot = 2·that − Σ x.
 *
 * Signature: (rows, x, w, out, ...epilogue buffers) → (), all byte addresses.
 */
import type { BinaryDense, Epilogue, PlaneDense } from '../kernels.js'
import { planesBytes, planesSumOffset, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64Store, forLoop, func, get, i32c, i32Load, i32Store, i64c, i64Load, set } from '../../../wasm/code.js'
import type { ValType } from '../../../wasm/opcodes.js'
import { op } from '../../../wasm/opcodes.js'
import type { DotScheme } from '../../../wasm/popcount.js'
import { loadWords, signDot, UNROLL_LIMIT, xorPopcount } from '../../../wasm/popcount.js'
import { epilogueBit, headerBytes, overUnitWords, zeroPadHalf } from './epilogue.js'
import { tiledBinaryDense } from './dense-tiled.js'

const BLOCK = 32

/** Locals a dot generator may use, allocated by the skeleton. */
export interface DotLocals {
  /** Address of the current input row, and of the current weight row. */
  readonly xa: number
  readonly wa: number
  readonly i64s: readonly number[]
  readonly v128s: readonly number[]
  readonly kk: number
  /** An i32 local holding an address the kernel overwrites after the dot (the output slot). */
  readonly fence: number
  /** Allocates a further local of the kernel (for emitters that bring their own, `src/wasm/popcount.ts`). */
  readonly local: (t: ValType) => number
}

export interface ProductSpec {
  readonly name: string
  /** Bytes per input row (per example) and per weight row (per unit). */
  readonly xStride: number
  readonly wStride: number
  readonly n: number
  readonly epilogue: Epilogue
  /** How many i64 and v128 scratch locals the dot code needs. */
  readonly i64Locals: number
  readonly v128Locals?: number
  /** Leaves the i32 dot product of the row at xa and the unit at wa on the stack. */
  readonly dot: (l: DotLocals) => Code
  /** Code run once per row of a block, after xa is set (e.g. loading x's words into locals). */
  readonly perRow?: (l: DotLocals) => Code
}

/** The blocked (rows × units) skeleton with the fused epilogue. */
export const productKernel = (s: ProductSpec): WasmFunction => {
  const e = s.epilogue
  const hb = headerBytes(e)
  const params = e.kind === 'dot' ? 4 : e.kind === 'sign' ? 5 : 7
  return func(s.name, new Array(params).fill('i32'), [], (p, local) => {
    const [rows, x, w, out, hdr0, table, rand0] = p as [number, number, number, number, number?, number?, number?]
    const r = local('i32'), xa = local('i32'), wa = local('i32'), oa = local('i32'), j = local('i32')
    const jj = local('i32'), kk = local('i32'), dot = local('i32'), hdr = local('i32'), draw = local('i32')
    const scratch = local('i32'), bits = local('i32')
    const i64s = Array.from({ length: s.i64Locals }, () => local('i64'))
    const v128s = Array.from({ length: s.v128Locals ?? 0 }, () => local('v128'))
    const dl: DotLocals = { xa, wa, i64s, v128s, kk, fence: oa, local }
    const computeDot: Code = set(dot, s.dot(dl))
    const perRow: Code = s.perRow?.(dl) ?? []
    if (e.kind === 'dot') {
      return [
        set(xa, get(x)),
        forLoop(r, i32c(0), get(rows), 1, [
          set(oa, [get(out), get(r), i32c(8 * s.n), op.i32_mul, op.i32_add]),
          set(wa, get(w)),
          perRow,
          doLoop(j, i32c(0), i32c(s.n), 1, [
            computeDot,
            f64Store(get(oa), [get(dot), op.f64_convert_i32_s]),
            set(oa, [get(oa), i32c(8), op.i32_add]),
            set(wa, [get(wa), i32c(s.wStride), op.i32_add]),
          ]),
          set(xa, [get(xa), i32c(s.xStride), op.i32_add]),
        ]),
      ]
    }
    const oStride = rowBytes(s.n, 64)
    const bit = epilogueBit(e, { dot, header: hdr, draw, table: table ?? 0, scratch })
    // Block `j` (units 32j … 32j + count − 1) for every row.
    const block = (count: number): Code => [
      set(xa, get(x)),
      set(oa, [get(out), get(j), i32c(2), op.i32_shl, op.i32_add]),
      forLoop(r, i32c(0), get(rows), 1, [
        set(wa, [get(w), get(j), i32c(BLOCK * s.wStride), op.i32_mul, op.i32_add]),
        hdr0 === undefined ? [] : set(hdr, [get(hdr0), get(j), i32c(BLOCK * hb), op.i32_mul, op.i32_add]),
        rand0 === undefined ? [] : set(draw, [get(rand0), get(r), i32c(4 * s.n), op.i32_mul, get(j), i32c(4 * BLOCK), op.i32_mul, op.i32_add, op.i32_add]),
        set(bits, i32c(0)),
        perRow,
        doLoop(jj, i32c(0), i32c(count), 1, [
          computeDot,
          set(bits, [get(bits), bit, get(jj), op.i32_shl, op.i32_or]),
          set(wa, [get(wa), i32c(s.wStride), op.i32_add]),
          hdr0 === undefined ? [] : set(hdr, [get(hdr), i32c(hb), op.i32_add]),
          rand0 === undefined ? [] : set(draw, [get(draw), i32c(4), op.i32_add]),
        ]),
        i32Store(get(oa), get(bits)),
        set(xa, [get(xa), i32c(s.xStride), op.i32_add]),
        set(oa, [get(oa), i32c(oStride), op.i32_add]),
      ]),
    ]
    return [overUnitWords(s.n, j, block), zeroPadHalf(s.n, rows, out, r, oStride)]
  })
}

/**
 * `scheme`: how the popcount emitter counts a row (`scalar`; `mixed` only for bench/batch1.ts's
 * comparison). Rows of ≤ UNROLL_LIMIT words go to the register-blocked tiles of dense-tiled.ts
 * (`tiled`; false keeps the one-pair loop below, for bench/batch256.ts's comparison).
 */
export const binaryDense = (k: BinaryDense, scheme: DotScheme = 'scalar', xInLocals = true, tiled = true): WasmFunction => {
  const stride = rowBytes(k.width, 64)
  const words = stride / 8
  // The scalar scheme with x's words in locals, loaded once per row and block (see popcount.ts).
  const inLocals = xInLocals && scheme === 'scalar' && words <= UNROLL_LIMIT
  if (inLocals && tiled) return tiledBinaryDense(k)
  let xWords: number[] | undefined
  const wordsOf = (l: DotLocals): number[] => (xWords ??= Array.from({ length: words }, () => l.local('i64')))
  return productKernel({
    name: `dense_${k.label}`, xStride: stride, wStride: stride, n: k.n, epilogue: k.epilogue, i64Locals: 0,
    ...(inLocals ? { perRow: (l: DotLocals) => loadWords(l.xa, wordsOf(l)) } : {}),
    dot: (l) =>
      signDot(i32c(k.k), xorPopcount({ x: l.xa, w: l.wa, words, local: l.local, fence: l.fence, counter: l.kk, scheme, ...(inLocals ? { xWords: wordsOf(l) } : {}) })),
  })
}

/**
 * 2·Σ_p 2^p popcount(plane_p AND w) − Σ x. The planes go in passes of PLANES_PER_PASS with one
 * accumulator each (fewer live i64 locals than eight, so V8 keeps them in registers).
 */
const PLANES_PER_PASS = 4
export const planeDense = (k: PlaneDense): WasmFunction => {
  const rb = rowBytes(k.k, 64)
  const words = rb / 8
  const dot = (l: DotLocals): Code => {
    const total = l.i64s[0]!
    const wv = l.i64s[1]!
    const accs = l.i64s.slice(2, 2 + PLANES_PER_PASS)
    const pass = (p0: number): Code => {
      const word = (addrOff: Code, off: number): Code => [
        set(wv, i64Load([get(l.wa), addrOff], off)),
        accs.map((acc, q) => set(acc, [get(acc), i64Load([get(l.xa), addrOff], (p0 + q) * rb + off), get(wv), op.i64_and, op.i64_popcnt, op.i64_add])),
      ]
      return [
        accs.map((acc) => set(acc, i64c(0))),
        words > 32 ? doLoop(l.kk, i32c(0), i32c(words * 8), 8, word([get(l.kk), op.i32_add], 0)) : Array.from({ length: words }, (_, w) => word([], 8 * w)),
        set(total, [get(total), accs.map((acc, q) => [get(acc), i64c(p0 + q), op.i64_shl, q === 0 ? [] : op.i64_add]), op.i64_add]),
      ]
    }
    const passes: Code[] = []
    for (let p0 = 0; p0 < 8; p0 += PLANES_PER_PASS) passes.push(pass(p0))
    return [
      set(total, i64c(0)),
      passes,
      get(total), op.i32_wrap_i64, i32c(1), op.i32_shl,
      i32Load(get(l.xa), planesSumOffset(k.k, 64)),
      op.i32_sub,
    ]
  }
  return productKernel({
    name: `planes_${k.label}`, xStride: planesBytes(k.k, 64), wStride: rb, n: k.n, epilogue: k.epilogue, i64Locals: 2 + PLANES_PER_PASS, dot,
  })
}

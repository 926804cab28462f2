/**
 * The batch binary dense kernel in WebAssembly: tiles of TILE_ROWS rows × one unit, for rows of at
 * most UNROLL_LIMIT words (k ≤ 4096), x's words held in i64 locals (`xWords` of popcount.ts).
 *
 * Order, as the one-pair loop of dense.ts: blocks of 32 units (their weight rows stay in L1),
 * within a block every tile of rows, whose x words are loaded into locals once, then the block's
 * units one by one, in descending order. Per word the unit's weight word is loaded once and
 * XORed with each row's word (V8 reads most x words straight from their stack slots, `xorq r,
 * [rbp−…]`), each row into its own accumulator; then each row's fused epilogue, the bit entering
 * the row's 32-bit output word as bits = 2·bits + bit (no variable shift). Per row-word that is
 * half a weight load, XOR, popcnt and add, and half the loop and address work of the one-pair
 * loop: 1.2× its speed at batch 256 (bench/batch256.ts). Wider tiles (3 or 4 rows, 2 units, or
 * XOR in v128 with the lanes extracted) measured slower: the scalar units are the bound, and V8
 * spills more.
 *
 * Rows past the last whole tile (every row at batch 1) go through the one-pair loop's code
 * (`xorPopcount` with x in locals, ascending units), which is faster for a single row: V8
 * schedules the 1-row tile's loads early and spills them. Each dot is the same integer Σ
 * popcount: the bits of the one-pair loop.
 *
 * Signature: (rows, x, w, out, ...epilogue buffers) → (), as every product kernel.
 */
import type { BinaryDense } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64Store, forLoop, func, get, i32c, i32Store, i64Load, set } from '../../../wasm/code.js'
import { blockVoid, op } from '../../../wasm/opcodes.js'
import { loadWords, signDot, UNROLL_LIMIT, xorPopcount } from '../../../wasm/popcount.js'
import { epilogueBit, headerBytes, overUnitWords, zeroPadHalf } from './epilogue.js'

const BLOCK = 32

/** Rows per tile (the argument of `tiledBinaryDense` exists for benchmarks). */
export const TILE_ROWS = 2

/** Whether a kernel's rows are short enough for the tiled kernel (its x words live in locals). */
export const tiledFits = (k: BinaryDense): boolean => rowBytes(k.width, 64) / 8 <= UNROLL_LIMIT

export const tiledBinaryDense = (k: BinaryDense, ROWS = TILE_ROWS): WasmFunction => {
  const e = k.epilogue
  const hb = headerBytes(e)
  const stride = rowBytes(k.width, 64)
  const words = stride / 8
  const oStride = rowBytes(k.n, 64)
  const params = e.kind === 'dot' ? 4 : e.kind === 'sign' ? 5 : 7
  return func(`dense_${k.label}`, new Array(params).fill('i32'), [], (p, local) => {
    const [rows, x, w, out, hdr0, table, rand0] = p as [number, number, number, number, number?, number?, number?]
    const r = local('i32'), j = local('i32'), jj = local('i32'), xa = local('i32'), wa = local('i32'), oa = local('i32'), fence = local('i32')
    const dot = local('i32'), hdr = local('i32'), draw = local('i32'), scratch = local('i32'), wv = local('i64')
    const bits = Array.from({ length: ROWS }, () => local('i32'))
    const acc = Array.from({ length: ROWS }, () => local('i64'))
    const xw = Array.from({ length: ROWS }, () => Array.from({ length: words }, () => local('i64')))
    const bit = e.kind === 'dot' ? [] : epilogueBit(e, { dot, header: hdr, draw, table: table ?? 0, scratch })

    /** The epilogue of row r + i and unit jj of block j, whose dot is on the stack (as code). */
    const finish = (i: number, dotIs: Code, into: (b: number) => Code, addressed = false): Code => {
      const unit: Code = [get(j), i32c(BLOCK), op.i32_mul, get(jj), op.i32_add]
      if (e.kind === 'dot') return [set(dot, dotIs), f64Store([get(out), get(r), i32c(i), op.i32_add, i32c(k.n), op.i32_mul, unit, op.i32_add, i32c(3), op.i32_shl, op.i32_add], [get(dot), op.f64_convert_i32_s])]
      return [
        set(dot, dotIs),
        addressed ? [] : set(hdr, [get(hdr0!), unit, i32c(hb), op.i32_mul, op.i32_add]),
        addressed || rand0 === undefined ? [] : set(draw, [get(rand0), get(r), i32c(i), op.i32_add, i32c(k.n), op.i32_mul, unit, op.i32_add, i32c(2), op.i32_shl, op.i32_add]),
        set(bits[i]!, into(bits[i]!)),
      ]
    }
    const storeBits = (rt: number): Code =>
      e.kind === 'dot' ? [] : bits.slice(0, rt).map((b, i) => i32Store([get(oa), get(r), i32c(i), op.i32_add, i32c(oStride), op.i32_mul, op.i32_add], get(b)))

    /** Rows [r, r + ROWS) against the `count` units of block j, units in descending order. */
    const rowTile = (count: number): Code => {
      const word = (q: number): Code => [
        set(wv, i64Load(get(wa), 8 * q)),
        acc.map((a, i) => set(a, [q === 0 ? [] : get(a), get(wv), get(xw[i]![q]!), op.i64_xor, op.i64_popcnt, q === 0 ? [] : op.i64_add])),
      ]
      return [
        set(xa, [get(x), get(r), i32c(stride), op.i32_mul, op.i32_add]),
        xw.map((ws, i) => ws.map((l, q) => set(l, i64Load(get(xa), i * stride + 8 * q)))),
        bits.map((b) => set(b, i32c(0))),
        set(jj, i32c(count)),
        set(wa, [get(w), get(j), i32c(BLOCK * stride), op.i32_mul, op.i32_add, i32c(count * stride), op.i32_add]),
        op.loop, blockVoid,
        set(jj, [get(jj), i32c(1), op.i32_sub]),
        set(wa, [get(wa), i32c(stride), op.i32_sub]),
        Array.from({ length: words }, (_, q) => word(q)),
        acc.map((a, i) => finish(i, signDot(i32c(k.k), [get(a), op.i32_wrap_i64]), (b) => [get(b), i32c(1), op.i32_shl, bit, op.i32_or])),
        get(jj), i32c(0), op.i32_gt_s, op.br_if, 0,
        op.end,
        storeBits(ROWS),
      ]
    }
    /** Row r against the `count` units of block j: the one-pair loop's code (ascending units). */
    const oneRow = (count: number): Code => {
      const xWords = xw[0]!
      return [
        set(xa, [get(x), get(r), i32c(stride), op.i32_mul, op.i32_add]),
        set(fence, [get(oa), get(r), i32c(oStride), op.i32_mul, op.i32_add]),
        loadWords(xa, xWords),
        set(bits[0]!, i32c(0)),
        set(wa, [get(w), get(j), i32c(BLOCK * stride), op.i32_mul, op.i32_add]),
        e.kind === 'dot' ? [] : set(hdr, [get(hdr0!), get(j), i32c(BLOCK * hb), op.i32_mul, op.i32_add]),
        rand0 === undefined ? [] : set(draw, [get(rand0), get(r), i32c(4 * k.n), op.i32_mul, get(j), i32c(4 * BLOCK), op.i32_mul, op.i32_add, op.i32_add]),
        doLoop(jj, i32c(0), i32c(count), 1, [
          finish(0, signDot(i32c(k.k), xorPopcount({ x: xa, w: wa, words, local, fence, xWords })), (b) => [get(b), bit, get(jj), op.i32_shl, op.i32_or], true),
          set(wa, [get(wa), i32c(stride), op.i32_add]),
          e.kind === 'dot' ? [] : set(hdr, [get(hdr), i32c(hb), op.i32_add]),
          rand0 === undefined ? [] : set(draw, [get(draw), i32c(4), op.i32_add]),
        ]),
        storeBits(1),
      ]
    }
    const block = (count: number): Code => [
      set(oa, [get(out), get(j), i32c(2), op.i32_shl, op.i32_add]),
      ROWS === 1 ? [] : forLoop(r, i32c(0), [get(rows), i32c(ROWS - 1), op.i32_sub], ROWS, rowTile(count)),
      forLoop(r, ROWS === 1 ? i32c(0) : get(r), get(rows), 1, oneRow(count)),
    ]
    return [overUnitWords(k.n, j, block), e.kind === 'dot' ? [] : zeroPadHalf(k.n, rows, out, r, oStride)]
  })
}

/**
 * The 8-bit first layer by nibble lookup tables (`ByteDense` with `nibbles`): 8-bit inputs
 * (pixels) × binary weights, exact in integers, with one `i8x16.swizzle` doing 16 units × 4
 * inputs of one nibble.
 *
 * Each input is x = 16·hi + lo with nibbles ≤ 15. Inputs go in chunks of four; per example and
 * chunk the kernel first builds two 16-byte tables, T_lo[p] = Σ_{b ∈ p} lo(x_b) and T_hi[p] the
 * same of the high nibbles, for the 16 subsets p of the chunk (entries ≤ 60). The weights are
 * stored as 4-bit patterns, 16 units per vector (layout.ts `packNibblePatterns`), so
 * swizzle(T, patterns) is the 16 units' subset sums over the chunk: Σ_{w=+1} of 4 inputs' nibbles
 * for 16 units in one instruction. Four chunks add up in byte lanes (≤ 240), then into 16-bit
 * lanes two units at a time (Σ ≤ 15·k < 2^16 for k ≤ 4368, layout.ts `NIBBLE_LIMIT`). Per 64
 * multiply-adds and row: two swizzles (V8: `vpaddusb` + `vpshufb` each), two byte adds and, per
 * four chunks, six widening operations: 7½ vector operations against twelve for the byte masks
 * of bytes.ts (and, extadd, add per 16 bytes).
 * At the end dot = 2·(Σlo + 16·Σhi) − Σx, the same integer as bytes.ts: the same bits.
 *
 * Order: each row (tiles of TILE_ROWS rows; 2 or 3 measured slower, V8 spills their
 * accumulators): its tables first (a few thousand operations: 1–2 % of its products at 784 →
 * 4096; 32 bytes per chunk, so they stay in L1), then every group of 16 units against them (the
 * patterns, a quarter of the masks' bytes, stream from L2). The tables of the next tile overwrite
 * them, so `tables` holds one tile's (TILE_ROWS × 32 bytes per chunk) whatever the batch: a
 * scratch buffer per thread (`perThread`), 6.3 KB at 784 inputs instead of 6.3 KB per example. The `sign` epilogue with
 * thresholds by quads (`nibbles.quads`) tests four units with one vector compare and bitmask;
 * otherwise each unit's lane is extracted for the scalar epilogue. Signature: (rows, bytes, w,
 * out, ...epilogue buffers, patterns, tables[, quads]) → (), `w` (the masks, for the other
 * kernels) unused.
 */
import type { ByteDense } from '../kernels.js'
import { bytesPerExample, bytesRow, nibbleChunks, nibbleTablesBytes, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64Store, forLoop, func, get, i32c, i32Load, i32Store, set, shuffle, simd, v128Load, v128Store } from '../../../wasm/code.js'
import { blockVoid, op } from '../../../wasm/opcodes.js'
import { epilogueBit, headerBytes, zeroPadHalf } from './epilogue.js'

/** Rows per tile (the argument of `nibbleDense` exists for benchmarks). */
export const TILE_ROWS = 1
/** Chunks whose byte sums (≤ 60 each) add up before they widen. */
const RUN = 4
/**
 * Runs of RUN chunks per loop iteration: 2, 3 and 7 measured 1.35–2.2× slower (V8 hoists the
 * loads of the whole body and spills), and a store between chunks did not help.
 */
export const UNROLL = 1

const v128Bytes = (bytes: readonly number[]): Code => [simd('v128_const'), ...bytes]

/**
 * `unroll`: runs of RUN chunks per loop iteration; `relaxed`: `i8x16.relaxed_swizzle` (where the
 * host has it, src/wasm/relaxed.ts: the patterns are always below 16, so the same bytes as the
 * plain swizzle, one `vpshufb` instead of three instructions; 1.64× this kernel in Node 20 with
 * `--experimental-wasm-relaxed-simd`, bench/bytes784.ts --relaxed).
 */
export const nibbleDense = (k: ByteDense, ROWS = TILE_ROWS, unroll = UNROLL, relaxed = false): WasmFunction => {
  const swizzle: Code = simd(relaxed ? 'i8x16_relaxed_swizzle' : 'i8x16_swizzle')
  const e = k.epilogue
  const hb = headerBytes(e)
  const chunks = nibbleChunks(k.k)
  const tStride = nibbleTablesBytes(k.k)
  const xStride = bytesPerExample(k.k)
  const sumAt = bytesRow(k.k)
  const oStride = rowBytes(k.n, 64)
  const eParams = e.kind === 'dot' ? 0 : e.kind === 'sign' ? 1 : 3
  return func(`nibbles_${k.label}`, new Array(6 + eParams + (k.nibbles?.quads === undefined ? 0 : 1)).fill('i32'), [], (p, local) => {
    const [rows, x, , out] = p as [number, number, number, number]
    const hdr0 = eParams > 0 ? p[4]! : undefined
    const table = eParams > 1 ? p[5]! : undefined
    const rand0 = eParams > 1 ? p[6]! : undefined
    const patterns = p[4 + eParams]!
    const tables = p[5 + eParams]!
    const quads = k.nibbles?.quads === undefined ? undefined : p[6 + eParams]!
    const r = local('i32'), tb = local('i32'), word = local('i32'), c = local('i32'), pp = local('i32'), tp = local('i32'), pend = local('i32'), xa = local('i32'), ta = local('i32'), pa = local('i32'), g = local('i32'), vi = local('i32')
    const dot = local('i32'), hdr = local('i32'), draw = local('i32'), scratch = local('i32')
    const masks = Array.from({ length: 4 }, () => local('v128'))
    const tlo = local('v128'), thi = local('v128'), pv = local('v128')
    const sums = Array.from({ length: ROWS }, () => local('i32'))
    const bits = Array.from({ length: ROWS }, () => local('i32'))
    const accLo = Array.from({ length: ROWS }, () => local('v128'))
    const accHi = Array.from({ length: ROWS }, () => local('v128'))
    const wide = Array.from({ length: ROWS }, () => Array.from({ length: 4 }, () => local('v128')))
    const bit = e.kind === 'dot' ? [] : epilogueBit(e, { dot, header: hdr, draw, table: table ?? 0, scratch })

    // Phase 1: per row and chunk, the subset sums of the four low and the four high nibbles.
    const splatAnd = (shift: number, b: number): Code => [get(vi), i32c(shift), op.i32_shr_u, i32c(15), op.i32_and, simd('i8x16_splat'), get(masks[b]!), simd('v128_and')]
    const subsetSums = (at: number): Code => [splatAnd(at, 0), splatAnd(at + 8, 1), simd('i8x16_add'), splatAnd(at + 16, 2), simd('i8x16_add'), splatAnd(at + 24, 3), simd('i8x16_add')]
    const setMasks: Code = masks.map((m, b) => set(m, v128Bytes(Array.from({ length: 16 }, (_, q) => ((q >> b) & 1 ? 0xff : 0)))))
    /** The tables of row r + i, built just before the row's products read them (so from L1). */
    const tablesOf = (i: number): Code => [
      set(xa, [get(x), get(r), i32c(i), op.i32_add, i32c(xStride), op.i32_mul, op.i32_add]),
      set(tb, [get(tables), i32c(i * tStride), op.i32_add]),
      doLoop(c, i32c(0), i32c(chunks), 1, [
        set(vi, i32Load([get(xa), get(c), i32c(2), op.i32_shl, op.i32_add])),
        v128Store([get(tb), get(c), i32c(5), op.i32_shl, op.i32_add], subsetSums(0)),
        v128Store([get(tb), get(c), i32c(5), op.i32_shl, op.i32_add], subsetSums(4), 16),
      ]),
    ]

    // Phase 2: rows [r, r + rt) against group g (pa at its patterns), `units` units of it.
    /** Chunk q of a run: its patterns at pp + 16·q, row i's tables at tp + i·tStride + 32·q. */
    const chunkStep = (rt: number, q: number, first: boolean): Code => [
      set(pv, v128Load(get(pp), 16 * q)),
      Array.from({ length: rt }, (_, i) => [
        set(tlo, [v128Load(get(tp), i * tStride + 32 * q), get(pv), swizzle]),
        set(thi, [v128Load(get(tp), i * tStride + 32 * q + 16), get(pv), swizzle]),
        set(accLo[i]!, first ? get(tlo) : [get(accLo[i]!), get(tlo), simd('i8x16_add')]),
        set(accHi[i]!, first ? get(thi) : [get(accHi[i]!), get(thi), simd('i8x16_add')]),
      ]),
    ]
    // Byte sums (≤ 240) added into 16-bit lanes two units at a time: per row wide[0] holds
    // Σ (lo_2v + 256·lo_2v+1) in lane v, wide[1] Σ lo_2v+1 (the byte vector >> 8), wide[2..3] the
    // same of the high nibbles: three operations per byte vector where zero-extending both halves
    // takes four (1.5–2 % of the kernel, bench/bytes784.ts). `unpair` restores units per lane.
    const widen = (rt: number): Code =>
      Array.from({ length: rt }, (_, i) => {
        const ws = wide[i]!
        const add = (w: number, from: number, odd: boolean): Code => set(w, [get(w), get(from), odd ? [i32c(8), simd('i16x8_shr_u')] : [], simd('i16x8_add')])
        return [add(ws[0]!, accLo[i]!, false), add(ws[1]!, accLo[i]!, true), add(ws[2]!, accHi[i]!, false), add(ws[3]!, accHi[i]!, true)]
      })
    /**
     * Pair sums back to units: `a` holds Σ (byte 2v + 256·byte 2v+1) and `b` Σ byte 2v+1 in 16-bit
     * lane v, so unit 2v's sum is a − 256·b (mod 2^16, exact below 2^16), unit 2v+1's is b; then
     * interleaved into units 0–7 (a) and 8–15 (b).
     */
    const unpair = (a: number, b: number): Code => [
      set(tlo, [get(a), get(b), i32c(8), simd('i16x8_shl'), simd('i16x8_sub')]),
      set(a, shuffle([0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23], get(tlo), get(b))),
      set(b, shuffle([8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31], get(tlo), get(b))),
    ]
    const groupSums = (rt: number): Code => {
      const runs = Math.floor(chunks / RUN)
      const tail = chunks - runs * RUN
      const loops = Math.floor(runs / unroll)
      const left = runs - loops * unroll
      /** `count` chunks from chunk q0 of pp / tp, then their widening. */
      const run = (q0: number, count: number): Code => [Array.from({ length: count }, (_, q) => chunkStep(rt, q0 + q, q === 0)), widen(rt)]
      const runsFrom = (n: number): Code => Array.from({ length: n }, (_, v) => run(RUN * v, RUN))
      return [
        wide.slice(0, rt).map((ws) => ws.map((w) => set(w, [i32c(0), simd('i32x4_splat')]))),
        set(pp, get(pa)),
        set(tp, get(ta)),
        loops === 0 ? [] : [
          set(pend, [get(pa), i32c(16 * RUN * unroll * loops), op.i32_add]),
          op.loop, blockVoid,
          runsFrom(unroll),
          set(pp, [get(pp), i32c(16 * RUN * unroll), op.i32_add]),
          set(tp, [get(tp), i32c(32 * RUN * unroll), op.i32_add]),
          get(pp), get(pend), op.i32_lt_u, op.br_if, 0,
          op.end,
        ],
        runsFrom(left),
        tail === 0 ? [] : run(RUN * left, tail),
        wide.slice(0, rt).map((ws) => [unpair(ws[0]!, ws[1]!), unpair(ws[2]!, ws[3]!)]),
      ]
    }
    /** The epilogue of row r + i and unit 16·g + u (its bit at 16·half + u of the row's word). */
    const unitOut = (i: number, u: number, half: number): Code => {
      const lane = (w: number): Code => [get(wide[i]![w + (u >> 3)]!), simd('i16x8_extract_lane_u'), u & 7]
      const unit: Code = [get(g), i32c(16), op.i32_mul, i32c(u), op.i32_add]
      const dotIs = set(dot, [lane(0), lane(2), i32c(4), op.i32_shl, op.i32_add, i32c(1), op.i32_shl, get(sums[i]!), op.i32_sub])
      if (e.kind === 'dot') return [dotIs, f64Store([get(out), get(r), i32c(i), op.i32_add, i32c(k.n), op.i32_mul, unit, op.i32_add, i32c(3), op.i32_shl, op.i32_add], [get(dot), op.f64_convert_i32_s])]
      return [
        dotIs,
        set(hdr, [get(hdr0!), unit, i32c(hb), op.i32_mul, op.i32_add]),
        rand0 === undefined ? [] : set(draw, [get(rand0), get(r), i32c(i), op.i32_add, i32c(k.n), op.i32_mul, unit, op.i32_add, i32c(2), op.i32_shl, op.i32_add]),
        set(bits[i]!, [get(bits[i]!), bit, i32c(16 * half + u), op.i32_shl, op.i32_or]),
      ]
    }
    /**
     * The sign epilogue of units 16·g + 4q … + 3 of row r + i at once: dot = 2·(lo + 16·hi) − Σx in
     * i32 lanes, bit = (dot − lo_j) <ᵤ span_j against the thresholds by quads (patches.ts
     * `quadThresholds`; a missing unit's (0, 0) is never +1), four bits by one bitmask.
     */
    const quadOut = (i: number, q: number, half: number): Code => {
      const ext = (w: number): Code => [get(wide[i]![w + (q >> 1)]!), simd(q % 2 === 0 ? 'i32x4_extend_low_i16x8_u' : 'i32x4_extend_high_i16x8_u')]
      const at: Code = [get(quads!), get(g), i32c(128), op.i32_mul, op.i32_add]
      return set(bits[i]!, [
        get(bits[i]!),
        ext(0), ext(2), i32c(4), simd('i32x4_shl'), simd('i32x4_add'), i32c(1), simd('i32x4_shl'), get(sums[i]!), simd('i32x4_splat'), simd('i32x4_sub'),
        v128Load(at, 32 * q), simd('i32x4_sub'), v128Load(at, 32 * q + 16), simd('i32x4_lt_u'), simd('i32x4_bitmask'),
        i32c(16 * half + 4 * q), op.i32_shl, op.i32_or,
      ])
    }
    /** Group g (of `units` units) for rows [r, r + rt); `half` 0 or 1 within its 32-unit word. */
    const group = (rt: number, units: number, half: number): Code => [
      set(pa, [get(patterns), get(g), i32c(16 * chunks), op.i32_mul, op.i32_add]),
      groupSums(rt),
      quads === undefined
        ? Array.from({ length: rt }, (_, i) => Array.from({ length: units }, (_, u) => unitOut(i, u, half)))
        : Array.from({ length: rt }, (_, i) => Array.from({ length: Math.ceil(units / 4) }, (_, q) => quadOut(i, q, half))),
    ]
    const storeBits = (rt: number, word: Code): Code =>
      e.kind === 'dot' ? [] : bits.slice(0, rt).map((b, i) => i32Store([get(out), get(r), i32c(i), op.i32_add, i32c(oStride), op.i32_mul, op.i32_add, word, i32c(2), op.i32_shl, op.i32_add], get(b)))
    /** Rows [r, r + rt) against every unit. */
    const rowTile = (rt: number): Code => {
      const fullWords = Math.floor(k.n / 32)
      const restUnits = k.n % 32
      const restGroups: number[] = restUnits === 0 ? [] : restUnits <= 16 ? [restUnits] : [16, restUnits - 16]
      return [
        Array.from({ length: rt }, (_, i) => tablesOf(i)),
        set(ta, get(tables)),
        sums.slice(0, rt).map((s, i) => set(s, i32Load([get(x), get(r), i32c(i), op.i32_add, i32c(xStride), op.i32_mul, op.i32_add], sumAt))),
        fullWords === 0 ? [] : forLoop(word, i32c(0), i32c(fullWords), 1, [
          bits.slice(0, rt).map((b) => set(b, i32c(0))),
          set(g, [get(word), i32c(1), op.i32_shl]),
          group(rt, 16, 0),
          set(g, [get(g), i32c(1), op.i32_add]),
          group(rt, 16, 1),
          storeBits(rt, get(word)),
        ]),
        restGroups.length === 0 ? [] : [
          bits.slice(0, rt).map((b) => set(b, i32c(0))),
          restGroups.map((units, half) => [set(g, i32c(2 * fullWords + half)), group(rt, units, half)]),
          storeBits(rt, i32c(fullWords)),
        ],
      ]
    }
    return [
      setMasks,
      ROWS === 1 ? [] : forLoop(r, i32c(0), [get(rows), i32c(ROWS - 1), op.i32_sub], ROWS, rowTile(ROWS)),
      forLoop(r, ROWS === 1 ? i32c(0) : get(r), get(rows), 1, rowTile(1)),
      e.kind === 'dot' ? [] : zeroPadHalf(k.n, rows, out, r, oStride),
    ]
  })
}

/**
 * The 8-bit first layer by int16 multiply-adds (`ByteDense` with `madd`): 8-bit inputs (pixels)
 * × binary weights, exact in integers, with one `i32x4.dot_i16x8_s` (x64: `vpmaddwd`) doing 8
 * inputs × 2 units.
 *
 * The pixels stay in the bytes layout of `PackBytes` / `StageBytes` and widen as they load
 * (`v128.load8x8_u`, one `vpmovzxbw`). The weights are 0/1 masks, two units per int16 lane:
 * m_a − 32768·m_b (layout.ts `packMaddPairs`). So one multiply-add of 8 pixels against a pair
 * vector leaves, in each i32 lane, L_a − 32768·L_b for that lane's two inputs (L = Σ_{w=+1} x ≤
 * 510 per step). Summed over at most PERIOD = 64 steps, 0 ≤ L_a ≤ 32640 < 2^15 and the lane
 * stays above −2^31, so L_a = acc AND 0x7FFF and L_b = −(acc >>ₛ 15) exactly; longer rows add
 * these into 32-bit sums every PERIOD steps. At the end dot = 2·L − Σx, the same integer as
 * bytes.ts and bytes-nibbles.ts: the same bits.
 *
 * Tile: `ROWS` rows × `OCTETS` octets of units (4 pair vectors each) share each load: per step
 * ROWS pixel loads and 4·OCTETS weight loads feed ROWS·4·OCTETS multiply-adds and adds, 16 MACs
 * each. Order: blocks of 32 units (an output word; their pairs, 784 × 32 × 2 bytes, stay in L1),
 * within a block every tile of rows, within that every tile of octets. At the end each row's
 * four pair sums of a quad of units are reduced across lanes (shuffles) into one vector and
 * tested four units at once against the thresholds by quads (patches.ts `quadThresholds`):
 * bit = (2·L − Σx − lo_j) <ᵤ span_j, `i32x4.bitmask`. The `sign` epilogue only.
 * Signature: (rows, bytes, w, out, thresholds, pairs, quads) → (); `w` and `thresholds` (the
 * masks and the per-unit pairs, for the other kernels) unused.
 */
import type { ByteDense } from '../kernels.js'
import { bytesPerExample, bytesRow, maddSteps, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { forLoop, func, get, i32c, i32Load, i32Store, set, shuffle, simd, v128Load } from '../../../wasm/code.js'
import { blockVoid, op } from '../../../wasm/opcodes.js'
import { uleb } from '../../../wasm/leb128.js'
import { overUnitWords, zeroPadHalf } from './epilogue.js'

/** Rows and octets of units per tile (the arguments of `maddDense` exist for benchmarks). */
export const TILE_ROWS = 2
export const TILE_OCTETS = 1
/** Steps of 8 inputs whose low 15-bit sums (≤ 510 per step) cannot wrap: 64 · 510 < 2^15. */
const PERIOD = 64

/** i32 lanes picked from a (0–3) and b (4–7). */
const lanes = (a: Code, b: Code, pick: readonly number[]): Code => shuffle(pick.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]), a, b)
export const maddDense = (k: ByteDense, ROWS = TILE_ROWS, OCTETS = TILE_OCTETS): WasmFunction => {
  const xStride = bytesPerExample(k.k)
  const sumAt = bytesRow(k.k)
  const oStride = rowBytes(k.n, 64)
  const steps = maddSteps(k.k)
  const octetBytes = 64 * steps
  const P = 4 * OCTETS
  return func(`madd_${k.label}`, new Array(7).fill('i32'), [], (p, local) => {
    const [rows, x, , out, , pairs, quads] = p as [number, number, number, number, number, number, number]
    const r = local('i32'), j = local('i32'), xa = local('i32'), xp = local('i32'), wp = local('i32'), wEnd = local('i32'), wo = local('i32')
    const bits = Array.from({ length: ROWS }, () => local('i32'))
    const vs = (): number[] => Array.from({ length: ROWS * P }, () => local('v128'))
    const acc = vs(), lo = vs(), hi = vs()
    const t0 = local('v128'), t1 = local('v128')
    const xv = Array.from({ length: ROWS }, () => local('v128'))
    const wv = local('v128')
    const at = (i: number, q: number): number => i * P + q
    const zero: Code = [i32c(0), simd('i32x4_splat')]

    /** Rows [r, r + rt) × octets [t, t + oc) of block j (wo at octet t's pairs). */
    const tile = (rt: number, t: number, oc: number): Code => {
      const cells: [number, number][] = []
      for (let i = 0; i < rt; i++) for (let q = 0; q < 4 * oc; q++) cells.push([i, q])
      const step: Code = [
        Array.from({ length: rt }, (_, i) => set(xv[i]!, [get(xp), simd('v128_load8x8_u'), 3, ...uleb(i * xStride)])),
        Array.from({ length: 4 * oc }, (_, q) => [
          set(wv, v128Load(get(wp), (q >> 2) * octetBytes + 16 * (q & 3))),
          Array.from({ length: rt }, (_, i) => set(acc[at(i, q)]!, [get(acc[at(i, q)]!), get(xv[i]!), get(wv), simd('i32x4_dot_i16x8_s'), simd('i32x4_add')])),
        ]),
      ]
      const chunk = (c: number): Code => {
        const count = Math.min(PERIOD, steps - c * PERIOD)
        const first = c === 0
        return [
          cells.map(([i, q]) => set(acc[at(i, q)]!, zero)),
          set(xp, [get(xa), i32c(8 * PERIOD * c), op.i32_add]),
          set(wp, [get(wo), i32c(64 * PERIOD * c), op.i32_add]),
          set(wEnd, [get(wp), i32c(64 * count), op.i32_add]),
          op.loop, blockVoid,
          step,
          set(xp, [get(xp), i32c(8), op.i32_add]),
          set(wp, [get(wp), i32c(64), op.i32_add]),
          get(wp), get(wEnd), op.i32_lt_u, op.br_if, 0,
          op.end,
          cells.map(([i, q]) => {
            const a = acc[at(i, q)]!
            const low: Code = [get(a), i32c(0x7fff), simd('i32x4_splat'), simd('v128_and')]
            const high: Code = [get(a), i32c(15), simd('i32x4_shr_s')]
            return [
              set(lo[at(i, q)]!, first ? low : [get(lo[at(i, q)]!), low, simd('i32x4_add')]),
              set(hi[at(i, q)]!, [first ? zero : get(hi[at(i, q)]!), high, simd('i32x4_sub')]),
            ]
          }),
        ]
      }
      /** Row i's bits of quad h (0: units 8o…8o+3, the low halves; 1: 8o+4…, the high) of octet t + oo. */
      const quadBits = (i: number, oo: number, h: number): Code => {
        const src = h === 0 ? lo : hi
        const v = [0, 1, 2, 3].map((pp) => src[at(i, 4 * oo + pp)]!)
        const qa: Code = [get(quads), get(j), i32c(8), op.i32_mul, i32c(2 * (t + oo) + h), op.i32_add, i32c(32), op.i32_mul, op.i32_add]
        return set(bits[i]!, [
          get(bits[i]!),
          set(t0, half(v[0]!, v[1]!)), set(t1, half(v[2]!, v[3]!)),
          lanes(get(t0), get(t1), [0, 2, 4, 6]), lanes(get(t0), get(t1), [1, 3, 5, 7]), simd('i32x4_add'),
          i32c(1), simd('i32x4_shl'), i32Load([get(xa)], i * xStride + sumAt), simd('i32x4_splat'), simd('i32x4_sub'),
          v128Load(qa, 0), simd('i32x4_sub'), v128Load(qa, 16), simd('i32x4_lt_u'), simd('i32x4_bitmask'),
          i32c(8 * (t + oo) + 4 * h), op.i32_shl, op.i32_or,
        ])
      }
      return [
        set(wo, [get(pairs), get(j), i32c(4), op.i32_mul, i32c(t), op.i32_add, i32c(octetBytes), op.i32_mul, op.i32_add]),
        Array.from({ length: Math.ceil(steps / PERIOD) }, (_, c) => chunk(c)),
        Array.from({ length: rt }, (_, i) => Array.from({ length: oc }, (_, oo) => [quadBits(i, oo, 0), quadBits(i, oo, 1)])),
      ]
    }
    const half = (x: number, y: number): Code => [lanes(get(x), get(y), [0, 1, 4, 5]), lanes(get(x), get(y), [2, 3, 6, 7]), simd('i32x4_add')]

    /** Rows [r, r + rt) of block j, which has `count` units. */
    const rowTile = (rt: number, count: number): Code => {
      const octets = Math.ceil(count / 8)
      const tiles: Code[] = []
      for (let t = 0; t < octets; t += OCTETS) tiles.push(tile(rt, t, Math.min(OCTETS, octets - t)))
      return [
        set(xa, [get(x), get(r), i32c(xStride), op.i32_mul, op.i32_add]),
        bits.slice(0, rt).map((b) => set(b, i32c(0))),
        tiles,
        bits.slice(0, rt).map((b, i) => i32Store([get(out), get(j), i32c(2), op.i32_shl, op.i32_add, get(r), i32c(i), op.i32_add, i32c(oStride), op.i32_mul, op.i32_add], get(b))),
      ]
    }
    const block = (count: number): Code => [
      ROWS === 1 ? [] : forLoop(r, i32c(0), [get(rows), i32c(ROWS - 1), op.i32_sub], ROWS, rowTile(ROWS, count)),
      forLoop(r, ROWS === 1 ? i32c(0) : get(r), get(rows), 1, rowTile(1, count)),
    ]
    return [overUnitWords(k.n, j, block), zeroPadHalf(k.n, rows, out, r, oStride)]
  })
}

/**
 * Binary activations × a real head in WebAssembly: out[r, j] = Σ_k ±W[k, j], k ascending (the
 * reference's order, so each lane's float64 sum is bit-identical). Two units per f64x2 lane
 * pair; the sign is applied by XOR-ing W's sign bit with a mask made from the input bit (exact
 * negation).
 *
 * Without an `order` (a dense input row), **tiles of two rows** share each load of W (up to 5
 * vectors, 10 units, per pass over k: 10 accumulators, 2 masks and W's vector fit V8's 15 xmm
 * registers), and each row's mask comes from its 64-bit word read once per 64 inputs: the word is
 * complemented, its low bit moved to the sign bit (`i64.shl 63`) and the word shifted right by one
 * per input. 1.35× the former kernel (one row, each input's bit read at its position) in CPU time
 * at 256 × 4096 → 10 (bench/head.ts, 15 interleaved rounds, load average 8). An odd last row runs alone (up to 8 vectors). Each
 * lane still adds its terms in k order, so the bits do not depend on the tiling. With an `order`
 * (flattened channels-last inputs) each input's bit is read at its position, one row at a time.
 *
 * Signature: (rows, x, w, out[, order]) → ().
 */
import type { BinaryHead } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64Load, f64Store, forLoop, func, get, i32c, i32Load, i64c, i64Load, set, simd, v128Load, v128Store } from '../../../wasm/code.js'
import { op } from '../../../wasm/opcodes.js'

/** f64x2 accumulators per pass over k: one row, two rows. */
const LANES = 8
const PAIR = 5
/**
 * Inputs per loop iteration of the word-wise path: 2 and 8 measured 1.3–1.5× slower than 1 (V8
 * hoists the loads of the whole body and spills; bench/head.ts).
 */
const UNROLL_BY = 1

/** Chunks of units [j0, j0 + 2·vecs) (+ one scalar unit when odd), `lanes` vectors at most. */
const chunksOf = (n: number, lanes: number): { j0: number; vecs: number; odd: boolean }[] => {
  const out: { j0: number; vecs: number; odd: boolean }[] = []
  for (let j0 = 0; j0 < n; j0 += 2 * lanes) {
    const units = Math.min(2 * lanes, n - j0)
    out.push({ j0, vecs: Math.floor(units / 2), odd: units % 2 === 1 })
  }
  return out
}

/** `PAIR_LANES`, `UNROLL` and `pairs` (tiles of two rows) exist for bench/head.ts. */
export const binaryHead = (k: BinaryHead, PAIR_LANES = PAIR, UNROLL = UNROLL_BY, pairs = true): WasmFunction =>
  func(`head_${k.label}`, new Array(k.order === undefined ? 4 : 5).fill('i32'), [], (p, local) => {
    const [rows, x, w, out, order] = p as [number, number, number, number, number?]
    const r = local('i32'), i = local('i32'), f = local('i32'), xa = local('i32'), wa = local('i32'), oa = local('i32'), word = local('i32'), b = local('i32')
    const xStride = rowBytes(k.width, 64)
    const rowAddresses: Code = [
      set(xa, [get(x), get(r), i32c(xStride), op.i32_mul, op.i32_add]),
      set(oa, [get(out), get(r), i32c(8 * k.n), op.i32_mul, op.i32_add]),
    ]

    if (order !== undefined) {
      const sign = local('i64'), mask = local('v128'), neg = local('f64')
      const accs = Array.from({ length: LANES }, () => local('v128'))
      // The feature position of input i, its bit, and the sign mask (0 for +1, the sign bit for −1).
      const bitOfInput: Code = [
        set(f, i32Load([get(order), get(i), i32c(2), op.i32_shl, op.i32_add])),
        set(sign, [
          i64Load([get(xa), get(f), i32c(6), op.i32_shr_u, i32c(3), op.i32_shl, op.i32_add]),
          get(f), op.i64_extend_i32_u, op.i64_shr_u, i64c(1), op.i64_and,
          i64c(1), op.i64_xor, i64c(63), op.i64_shl,
        ]),
        set(mask, [get(sign), simd('i64x2_splat')]),
      ]
      const chunk = ({ j0, vecs, odd }: { j0: number; vecs: number; odd: boolean }): Code => [
        accs.slice(0, vecs).map((a) => set(a, [i64c(0), simd('i64x2_splat')])),
        odd ? set(neg, [i64c(0), op.f64_reinterpret_i64]) : [],
        set(wa, [get(w), i32c(8 * j0), op.i32_add]),
        doLoop(i, i32c(0), i32c(k.k), 1, [
          bitOfInput,
          accs.slice(0, vecs).map((a, v) => set(a, [get(a), v128Load(get(wa), 16 * v), get(mask), simd('v128_xor'), simd('f64x2_add')])),
          odd ? set(neg, [get(neg), f64Load(get(wa), 16 * vecs), op.i64_reinterpret_f64, get(sign), op.i64_xor, op.f64_reinterpret_i64, op.f64_add]) : [],
          set(wa, [get(wa), i32c(8 * k.n), op.i32_add]),
        ]),
        accs.slice(0, vecs).map((a, v) => v128Store(get(oa), get(a), 8 * j0 + 16 * v)),
        odd ? f64Store(get(oa), get(neg), 8 * j0 + 16 * vecs) : [],
      ]
      return forLoop(r, i32c(0), get(rows), 1, [rowAddresses, chunksOf(k.n, LANES).map(chunk)])
    }

    // Word-wise: rows r … r + R − 1 (R = 1 or 2), their complemented words in `words`.
    const words = [local('i64'), local('i64')]
    const signs = [local('i64'), local('i64')]
    const masks = [local('v128'), local('v128')]
    const wv = local('v128'), ws = local('i64')
    const accs = Array.from({ length: 2 }, () => Array.from({ length: LANES }, () => local('v128')))
    const negs = [local('f64'), local('f64')]
    const fullWords = Math.floor(k.k / 64)
    const tail = k.k % 64
    const tile = (R: number, { j0, vecs, odd }: { j0: number; vecs: number; odd: boolean }): Code => {
      const rowsOf = Array.from({ length: R }, (_, t) => t)
      /** One input: its sign per row from the row's word, then ±W into every accumulator. */
      const input = (at: number): Code => [
        rowsOf.map((t) => [
          set(signs[t]!, [get(words[t]!), i64c(63), op.i64_shl]),
          set(words[t]!, [get(words[t]!), i64c(1), op.i64_shr_u]),
          set(masks[t]!, [get(signs[t]!), simd('i64x2_splat')]),
        ]),
        Array.from({ length: vecs }, (_, v) => [
          set(wv, v128Load(get(wa), at + 16 * v)),
          rowsOf.map((t) => set(accs[t]![v]!, [get(accs[t]![v]!), get(wv), get(masks[t]!), simd('v128_xor'), simd('f64x2_add')])),
        ]),
        odd ? [
          set(ws, i64Load(get(wa), at + 16 * vecs)),
          rowsOf.map((t) => set(negs[t]!, [get(negs[t]!), get(ws), get(signs[t]!), op.i64_xor, op.f64_reinterpret_i64, op.f64_add])),
        ] : [],
      ]
      const loadWords = (wordAt: Code): Code => rowsOf.map((t) => set(words[t]!, [i64Load(wordAt, t * xStride), i64c(-1), op.i64_xor]))
      return [
        rowsOf.map((t) => [
          accs[t]!.slice(0, vecs).map((a) => set(a, [i64c(0), simd('i64x2_splat')])),
          odd ? set(negs[t]!, [i64c(0), op.f64_reinterpret_i64]) : [],
        ]),
        set(wa, [get(w), i32c(8 * j0), op.i32_add]),
        fullWords === 0 ? [] : forLoop(word, i32c(0), i32c(fullWords), 1, [
          loadWords([get(xa), get(word), i32c(3), op.i32_shl, op.i32_add]),
          doLoop(b, i32c(0), i32c(64 / UNROLL), 1, [
            Array.from({ length: UNROLL }, (_, u) => input(u * 8 * k.n)),
            set(wa, [get(wa), i32c(UNROLL * 8 * k.n), op.i32_add]),
          ]),
        ]),
        tail === 0 ? [] : [
          loadWords([get(xa), i32c(8 * fullWords), op.i32_add]),
          doLoop(b, i32c(0), i32c(tail), 1, [input(0), set(wa, [get(wa), i32c(8 * k.n), op.i32_add])]),
        ],
        rowsOf.map((t) => [
          accs[t]!.slice(0, vecs).map((a, v) => v128Store(get(oa), get(a), t * 8 * k.n + 8 * j0 + 16 * v)),
          odd ? f64Store(get(oa), get(negs[t]!), t * 8 * k.n + 8 * j0 + 16 * vecs) : [],
        ]),
      ]
    }
    return [
      !pairs ? set(r, i32c(0)) : forLoop(r, i32c(0), [get(rows), i32c(1), op.i32_sub], 2, [rowAddresses, chunksOf(k.n, PAIR_LANES).map((c) => tile(2, c))]),
      forLoop(r, get(r), get(rows), 1, [rowAddresses, chunksOf(k.n, LANES).map((c) => tile(1, c))]),
    ]
  })

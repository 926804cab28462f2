/**
 * The former `BinaryHead` kernel (until the eleventh session), kept for bench/head.ts's A/B.
 *
 * Binary activations × a real head in WebAssembly: out[r, j] = Σ_k ±W[k, j], k ascending (the
 * reference's order, so each lane's float64 sum is bit-identical). Two units per f64x2 lane
 * pair, up to 8 vectors (16 units) of accumulators per pass over k; the sign is applied by
 * XOR-ing W's sign bit with a mask made from the input bit (exact negation).
 *
 * Signature: (rows, x, w, out[, order]) → ().
 */
import type { BinaryHead } from '../src/interpreters/compiled/kernels.js'
import { rowBytes } from '../src/interpreters/compiled/layout.js'
import type { Code, WasmFunction } from '../src/wasm/code.js'
import { doLoop, f64Load, f64Store, forLoop, func, get, i32c, i32Load, i64c, i64Load, set, simd, v128Load, v128Store } from '../src/wasm/code.js'
import { op } from '../src/wasm/opcodes.js'

const LANES = 8 // f64x2 accumulators per chunk

export const binaryHeadOld = (k: BinaryHead): WasmFunction =>
  func(`head_${k.label}`, new Array(k.order === undefined ? 4 : 5).fill('i32'), [], (p, local) => {
    const [rows, x, w, out, order] = p as [number, number, number, number, number?]
    const r = local('i32'), i = local('i32'), f = local('i32'), xa = local('i32'), wa = local('i32'), oa = local('i32')
    const sign = local('i64'), mask = local('v128'), neg = local('f64')
    const accs = Array.from({ length: LANES }, () => local('v128'))
    const xStride = rowBytes(k.width, 64)
    // The feature position of input i, its bit, and the sign mask (0 for +1, the sign bit for −1).
    const bitOfInput: Code = [
      set(f, order === undefined ? get(i) : i32Load([get(order), get(i), i32c(2), op.i32_shl, op.i32_add])),
      set(sign, [
        i64Load([get(xa), get(f), i32c(6), op.i32_shr_u, i32c(3), op.i32_shl, op.i32_add]),
        get(f), op.i64_extend_i32_u, op.i64_shr_u, i64c(1), op.i64_and,
        i64c(1), op.i64_xor, i64c(63), op.i64_shl,
      ]),
      set(mask, [get(sign), simd('i64x2_splat')]),
    ]
    // Units [j0, j0 + 2·vecs) (+ one scalar unit when odd) for the current row.
    const chunk = (j0: number, vecs: number, odd: boolean): Code => [
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
    const chunks: Code[] = []
    for (let j0 = 0; j0 < k.n; j0 += 2 * LANES) {
      const units = Math.min(2 * LANES, k.n - j0)
      chunks.push(chunk(j0, Math.floor(units / 2), units % 2 === 1))
    }
    return forLoop(r, i32c(0), get(rows), 1, [
      set(xa, [get(x), get(r), i32c(xStride), op.i32_mul, op.i32_add]),
      set(oa, [get(out), get(r), i32c(8 * k.n), op.i32_mul, op.i32_add]),
      chunks,
    ])
  })

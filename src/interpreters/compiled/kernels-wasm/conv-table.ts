/**
 * The lookup-table binary convolution in WebAssembly (conv-tables.ts): for each output position,
 * the popcounts of its patch against 16 units per vector are the byte sums of one table row per
 * patch byte — the byte read from the padded channels-last grid at a constant offset, its row
 * at table + (q·256 + byte)·U — then bit j = (pc_j − lo_j) <ᵤ span_j on 16 units per vector
 * (`i8x16.sub`, `i8x16.lt_u`, `i8x16.bitmask`), two bitmasks per 32-bit output word. The patch
 * bytes and vectors are fully unrolled; the thresholds stay in locals for the whole call.
 *
 * Signature: (rows, x, w, out, thresholds, tables) → () (`w`, the tap rows, is not read).
 */
import type { BinaryConv } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, forLoop, func, get, i32c, i32Store, load, set, simd, v128Load } from '../../../wasm/code.js'
import { op } from '../../../wasm/opcodes.js'
import { InternalError } from '../../../dsl/dslErrors.js'
import { tableUnits, tapBytes } from '../conv-tables.js'

export const tableConv = (k: BinaryConv): WasmFunction => {
  if (k.tables === undefined || k.epilogue.kind !== 'sign' || k.mask !== undefined) throw new InternalError('tableConv: a table kernel has tables, the sign epilogue and no mask')
  return func(`conv_table_${k.label}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], ([rows, x, , out, thr, tables], local) => {
    const r = local('i32'), y = local('i32'), xo = local('i32'), xa = local('i32'), oa = local('i32'), ta = local('i32')
    const units = tableUnits(k.o)
    const vecs = units / 16
    const acc = Array.from({ length: vecs }, () => local('v128'))
    const lo = Array.from({ length: vecs }, () => local('v128'))
    const span = Array.from({ length: vecs }, () => local('v128'))
    const rb = rowBytes(k.c, 64)
    const orb = rowBytes(k.o, 64)
    const per = tapBytes(k.c)
    const shift = Math.log2(units)
    // Patch byte q = t·per + b at its grid offset; its table row added into every accumulator.
    const sums: Code[] = []
    for (let t = 0; t < k.kh * k.kw; t++)
      for (let b = 0; b < per; b++) {
        const q = t * per + b
        const at = (Math.floor(t / k.kw) * k.wp + (t % k.kw)) * rb + b
        sums.push(set(ta, [get(tables!), load(op.i32_load8_u, 0, get(xa!), at), Number.isInteger(shift) ? [i32c(shift), op.i32_shl] : [i32c(units), op.i32_mul], op.i32_add]))
        acc.forEach((a, v) => sums.push(set(a, [q === 0 ? [] : get(a), v128Load(get(ta), q * 256 * units + 16 * v), q === 0 ? [] : simd('i8x16_add')])))
      }
    // 16 bits per vector, two vectors per 32-bit word; an odd 32-bit word count leaves the
    // row's last word zero (64-bit rows).
    const bitsOf = (v: number): Code => [get(acc[v]!), get(lo[v]!), simd('i8x16_sub'), get(span[v]!), simd('i8x16_lt_u'), simd('i8x16_bitmask')]
    const words: Code[] = []
    for (let v = 0; v < vecs; v += 2)
      words.push(i32Store(get(oa), v + 1 < vecs ? [bitsOf(v), bitsOf(v + 1), i32c(16), op.i32_shl, op.i32_or] : bitsOf(v), 2 * v))
    if ((Math.ceil(vecs / 2)) % 2 === 1) words.push(i32Store(get(oa), i32c(0), 4 * Math.ceil(vecs / 2)))
    return [
      lo.map((l, v) => set(l, v128Load(get(thr!), 32 * v))),
      span.map((l, v) => set(l, v128Load(get(thr!), 32 * v + 16))),
      forLoop(r, i32c(0), get(rows!), 1, [
        set(oa, [get(out!), get(r), i32c(k.ho * k.wo * orb), op.i32_mul, op.i32_add]),
        doLoop(y, i32c(0), i32c(k.ho), 1,
          doLoop(xo, i32c(0), i32c(k.wo), 1, [
            set(xa, [get(x!), get(r), i32c(k.hp), op.i32_mul, get(y), i32c(k.sh), op.i32_mul, op.i32_add, i32c(k.wp), op.i32_mul, get(xo), i32c(k.sw), op.i32_mul, op.i32_add, i32c(rb), op.i32_mul, op.i32_add]),
            sums,
            words,
            set(oa, [get(oa), i32c(orb), op.i32_add]),
          ])),
      ]),
    ]
  })
}

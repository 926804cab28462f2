/**
 * The binary dense kernel in WebAssembly: for each example row and each output unit,
 * popcount(x XOR w) over 64-bit words (`i64.popcnt`, one x64 instruction), the k-loop fully
 * unrolled up to 64 words (×8 beyond) with two accumulators, then the fused epilogue, with the
 * output bits gathered into an i64 and stored once per 64 units.
 *
 * Signature: (rows, x, w, out, ...epilogue buffers) → (), all byte addresses.
 */
import type { BinaryDense } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../wasm/code.js'
import { doLoop, f64Store, forLoop, func, get, i32c, i64c, i64Load, i64Store, set } from '../wasm/code.js'
import { op } from '../wasm/opcodes.js'
import { epilogueBit, headerBytes } from './epilogue.js'

const UNROLL_LIMIT = 64

/**
 * popcount(x XOR w) summed over `words` i64 words at addresses xa and wa (i32 locals) into an
 * i32 on the stack; `acc0`, `acc1` are i64 scratch locals and `kk` an i32 loop local.
 */
export const xorPopcount = (words: number, xa: number, wa: number, acc0: number, acc1: number, kk: number): Code => {
  const term = (addrOff: Code, off: number): Code =>
    [i64Load([get(xa), addrOff], off), i64Load([get(wa), addrOff], off), op.i64_xor, op.i64_popcnt]
  if (words <= UNROLL_LIMIT) {
    const parts: Code[] = [set(acc0, i64c(0)), set(acc1, i64c(0))]
    for (let w = 0; w < words; w++) {
      const acc = w % 2 === 0 ? acc0 : acc1
      parts.push(set(acc, [get(acc), term([], 8 * w), op.i64_add]))
    }
    return [parts, get(acc0), get(acc1), op.i64_add, op.i32_wrap_i64]
  }
  // A loop over blocks of 8 words, then the remaining words unrolled.
  const blocks = Math.floor(words / 8)
  const body: Code[] = []
  for (let w = 0; w < 8; w++) {
    const acc = w % 2 === 0 ? acc0 : acc1
    body.push(set(acc, [get(acc), term([get(kk), op.i32_add], 8 * w), op.i64_add]))
  }
  const tail: Code[] = []
  for (let w = blocks * 8; w < words; w++) {
    const acc = w % 2 === 0 ? acc0 : acc1
    tail.push(set(acc, [get(acc), term([], 8 * w), op.i64_add]))
  }
  return [
    set(acc0, i64c(0)), set(acc1, i64c(0)),
    doLoop(kk, i32c(0), i32c(blocks * 64), 64, body),
    tail,
    get(acc0), get(acc1), op.i64_add, op.i32_wrap_i64,
  ]
}

/** Emits the kernel for one binary dense layer. */
export const binaryDense = (k: BinaryDense): WasmFunction => {
  const e = k.epilogue
  const xStride = rowBytes(k.width, 64)
  const words = xStride / 8
  const oStride = e.kind === 'dot' ? 8 * k.n : rowBytes(k.n, 64)
  const hb = headerBytes(e)
  const params = e.kind === 'dot' ? 4 : e.kind === 'sign' ? 5 : 7
  return func(`dense_${k.label}`, new Array(params).fill('i32'), [], (p, local) => {
    const [rows, x, w, out, hdr0, table, rand0] = p as [number, number, number, number, number?, number?, number?]
    const r = local('i32'), xa = local('i32'), wa = local('i32'), oa = local('i32'), j = local('i32')
    const jj = local('i32'), kk = local('i32'), dot = local('i32'), hdr = local('i32'), draw = local('i32')
    const scratch = local('i32'), acc0 = local('i64'), acc1 = local('i64'), bits = local('i64')
    const pc = xorPopcount(words, xa, wa, acc0, acc1, kk)
    const computeDot: Code = set(dot, [i32c(k.k), pc, i32c(1), op.i32_shl, op.i32_sub])
    const advance: Code = [
      set(wa, [get(wa), i32c(xStride), op.i32_add]),
      hdr0 === undefined ? [] : set(hdr, [get(hdr), i32c(hb), op.i32_add]),
      rand0 === undefined ? [] : set(draw, [get(draw), i32c(4), op.i32_add]),
    ]
    if (e.kind === 'dot') {
      return [
        set(xa, get(x)),
        forLoop(r, i32c(0), get(rows), 1, [
          set(oa, [get(out), get(r), i32c(oStride), op.i32_mul, op.i32_add]),
          set(wa, get(w)),
          doLoop(j, i32c(0), i32c(k.n), 1, [
            computeDot,
            f64Store([get(oa), get(j), i32c(3), op.i32_shl, op.i32_add], [get(dot), op.f64_convert_i32_s]),
            advance,
          ]),
          set(xa, [get(xa), i32c(xStride), op.i32_add]),
        ]),
      ]
    }
    // Blocked for L1: one output word (64 units, 64 weight rows) at a time over all rows, so
    // the block's weights stay in L1 while the x rows stream past.
    const bit = epilogueBit(e, { dot, header: hdr, draw, table: table ?? 0, scratch })
    const wordLoop = (count: number): Code => [
      set(bits, i64c(0)),
      doLoop(jj, i32c(0), i32c(count), 1, [
        computeDot,
        set(bits, [get(bits), bit, op.i64_extend_i32_u, get(jj), op.i64_extend_i32_u, op.i64_shl, op.i64_or]),
        advance,
      ]),
    ]
    // For output word ow: rewind the unit pointers to the block start for every row.
    const block = (count: number): Code => [
      set(xa, get(x)),
      set(oa, [get(out), get(j), i32c(3), op.i32_shl, op.i32_add]),
      forLoop(r, i32c(0), get(rows), 1, [
        set(wa, [get(w), get(j), i32c(64 * xStride), op.i32_mul, op.i32_add]),
        hdr0 === undefined ? [] : set(hdr, [get(hdr0), get(j), i32c(64 * hb), op.i32_mul, op.i32_add]),
        rand0 === undefined ? [] : set(draw, [get(rand0), get(r), i32c(4 * k.n), op.i32_mul, get(j), i32c(256), op.i32_mul, op.i32_add, op.i32_add]),
        wordLoop(count),
        i64Store(get(oa), get(bits)),
        set(xa, [get(xa), i32c(xStride), op.i32_add]),
        set(oa, [get(oa), i32c(oStride), op.i32_add]),
      ]),
    ]
    const full = Math.floor(k.n / 64)
    const rest = k.n % 64
    return [
      full === 0 ? [] : doLoop(j, i32c(0), i32c(full), 1, block(64)),
      rest === 0 ? [] : [set(j, i32c(full)), block(rest)],
    ]
  })
}

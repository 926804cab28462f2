/**
 * The fused epilogue in WebAssembly: from an exact integer dot product to an output bit, by the
 * rules of `Epilogue` (kernels.ts). The code is branch-free: the window lookup of the stochastic
 * rule clamps its index and selects the forced outcome outside the window.
 */
import type { Epilogue } from '../kernels.js'
import type { Code } from '../../../wasm/code.js'
import { doLoop, forLoop, get, i32c, i32Load, i32Store, set } from '../../../wasm/code.js'
import { op } from '../../../wasm/opcodes.js'
import { unreachable } from '../../../dsl/dslErrors.js'

/** Addresses and locals the epilogue reads (all i32 locals). */
export interface EpilogueLocals {
  readonly dot: number
  /** Address of this unit's (lo, span) pair or (lo, len, offset, flags) header. */
  readonly header: number
  /** Address of this output's uint32 draw (stochastic only). */
  readonly draw: number
  /** Base address of the window table (stochastic only). */
  readonly table: number
  readonly scratch: number
}

/** Bytes per unit of the threshold buffer of `sign` (lo, span) and of `sample` headers. */
export const headerBytes = (e: Epilogue): number => (e.kind === 'sample' ? 16 : 8)

/** Leaves the output bit (0 or 1, i32) on the stack. */
export const epilogueBit = (e: Epilogue, l: EpilogueLocals): Code => {
  if (e.kind === 'sign') return [get(l.dot), i32Load(get(l.header)), op.i32_sub, i32Load(get(l.header), 4), op.i32_lt_u]
  if (e.kind === 'dot') return unreachable('the dot epilogue writes floats, not bits')
  // d = dot − lo; inside = d <ᵤ len; t = T[offset + (inside ? d : 0)]; bit = inside ? u <ᵤ t : forced(d)
  const d = l.scratch
  return [
    [get(l.dot), i32Load(get(l.header)), op.i32_sub, op.local_set, d],
    // inside-window outcome
    i32Load(get(l.draw)),
    i32Load([get(l.table), i32Load(get(l.header), 8), get(d), i32c(0), get(d), i32Load(get(l.header), 4), op.i32_lt_u, op.select, op.i32_add, i32c(2), op.i32_shl, op.i32_add]),
    op.i32_lt_u,
    // outside-window outcome: flags bit 0 below the window, bit 1 above
    i32Load(get(l.header), 12), get(d), i32c(31), op.i32_shr_u, i32c(1), op.i32_xor, op.i32_shr_u, i32c(1), op.i32_and,
    get(d), i32Load(get(l.header), 4), op.i32_lt_u,
    op.select,
  ]
}

/** Output bits are stored in words of 32 units; a row is padded to whole 64-bit words. */
const UNIT_WORD = 32

/**
 * Runs `block(count)` for each 32-unit output word of `n` units, with local `j` holding the
 * word's index: the full words in a loop, then the last `n % 32` units once.
 */
export const overUnitWords = (n: number, j: number, block: (count: number) => Code): Code => {
  const full = Math.floor(n / UNIT_WORD)
  const rest = n % UNIT_WORD
  return [full === 0 ? [] : doLoop(j, i32c(0), i32c(full), 1, block(UNIT_WORD)), rest === 0 ? [] : [set(j, i32c(full)), block(rest)]]
}

/**
 * When `n` units end in the low half of a row's last 64-bit word, zeroes the high half (padding)
 * of that word in each of the `rows` rows at `out`, `oStride` bytes apart, counting with local `r`.
 */
export const zeroPadHalf = (n: number, rows: number, out: number, r: number, oStride: number): Code => {
  const words = Math.ceil(n / UNIT_WORD)
  return words % 2 === 0 ? [] : forLoop(r, i32c(0), get(rows), 1, i32Store([get(out), get(r), i32c(oStride), op.i32_mul, op.i32_add], i32c(0), 4 * words))
}

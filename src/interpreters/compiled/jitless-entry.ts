/**
 * The entry kernels of `infer` as plain loops (the jitless back end, and the JavaScript back end,
 * which does not specialise them): the same results as kernels-wasm/entry.ts in the 32- or 64-bit
 * row layout of the back end.
 */
import type { PackPm1, StageBytes } from './kernels.js'
import type { Bind } from './boundKernel.js'
import { bytesPerExample, bytesRow, rowWords32 } from './layout.js'
import type { WordBits } from './layout.js'

/** int8 / float32 ±1 rows → packed rows; the flat index of the first value that is not ±1, or −1. */
export const packPm1Loop = (k: PackPm1, wb: WordBits): Bind => (views) => (rows, src, dst) => {
  const { i32 } = views
  const values = k.from === 'int8' ? views.i8.subarray(src!, src! + rows * k.n) : views.f32.subarray(src! / 4, src! / 4 + rows * k.n)
  const ws = rowWords32(k.n, wb)
  for (let r = 0; r < rows; r++) {
    const base = dst! / 4 + r * ws
    i32.fill(0, base, base + ws)
    for (let i = 0; i < k.n; i++) {
      const v = values[r * k.n + i]!
      if (v !== 1 && v !== -1) return r * k.n + i
      if (v > 0) i32[base + (i >>> 5)]! |= 1 << (i & 31)
    }
  }
  return -1
}

/** uint8 rows already in the bytes layout (stride `bytesPerExample(k)`): zero padding up to `bytesRow(k)`, then the row's sum, in place. */
export const stageBytesLoop = (k: StageBytes): Bind => (views) => (rows, _src, bytes) => {
  const { u8, i32 } = views
  const row = bytesRow(k.k)
  for (let r = 0; r < rows; r++) {
    const base = bytes! + r * bytesPerExample(k.k)
    let sum = 0
    for (let i = 0; i < k.k; i++) sum += u8[base + i]!
    u8.fill(0, base + k.k, base + row)
    i32[(base + row) / 4] = sum
  }
}

/**
 * The patch layout of a binary convolution (an im2col in bits): the c·kh·kw bits of one
 * position's taps concatenated, tap t = dy·kw + dx at bits t·c … t·c + c − 1 of the row, in the
 * bit order of layout.ts (feature f at bit f & 31 of 32-bit word f >> 5, padding bits zero).
 *
 * With channels-last rows one tap of c channels fills ⌈c/64⌉ 64-bit words, so a convolution of
 * 16 input channels uses a quarter of every word it reads; its 3×3 patch of 144 bits fills 3
 * words instead of 9. The WebAssembly convolution gathers each position's patch into locals
 * once (kernels-wasm/conv.ts) and XORs it with every unit's patch row from `packPatchWeights`.
 * The weights' rows carry the same bits as the tap rows of `packConvWeights`, so the dot
 * products — and everything after them — are unchanged.
 */
import { bitOf, rowWords32, wordOf } from './layout.js'

/** Largest patch (64-bit words) gathered into locals; wider patches keep the tap rows. */
export const PATCH_WORDS_LIMIT = 12

/** 64-bit words of a patch row of c·kh·kw bits. */
export const patchWords = (c: number, kh: number, kw: number): number => Math.ceil((c * kh * kw) / 64)

/**
 * Whether the patch layout reads fewer words than the tap rows (⌈c/64⌉ per tap) and fits in
 * locals: for c a multiple of 64 both are the same words.
 */
export const patchPays = (c: number, kh: number, kw: number): boolean => {
  const p = patchWords(c, kh, kw)
  return p <= PATCH_WORDS_LIMIT && p < kh * kw * Math.ceil(c / 64)
}

/** Kernel K [O, C, kh, kw] (±1 values, bit set iff ≥ 0) as O patch rows of 64-bit words. */
export const packPatchWeights = (k: ArrayLike<number>, o: number, c: number, kh: number, kw: number): Int32Array => {
  const stride = rowWords32(c * kh * kw, 64)
  const out = new Int32Array(o * stride)
  for (let oc = 0; oc < o; oc++)
    for (let ic = 0; ic < c; ic++)
      for (let dy = 0; dy < kh; dy++)
        for (let dx = 0; dx < kw; dx++) {
          const f = (dy * kw + dx) * c + ic
          if (k[((oc * c + ic) * kh + dy) * kw + dx]! >= 0) out[oc * stride + wordOf(f)]! |= 1 << bitOf(f)
        }
  return out
}

/**
 * Where the 32-bit chunks of each tap land in a patch: chunk q of tap t (channels 32q …, at most
 * 32 bits, padding bits zero) is shifted left by `shift` into 64-bit word `word`, and its high
 * bits (when shift > 32) into word + 1.
 */
export interface PatchPiece {
  readonly tap: number
  readonly chunk: number
  readonly word: number
  readonly shift: number
  /** Whether bits spill into word + 1. */
  readonly spills: boolean
}

export const patchPieces = (c: number, kh: number, kw: number): PatchPiece[] => {
  const pieces: PatchPiece[] = []
  const chunks = Math.ceil(c / 32)
  for (let t = 0; t < kh * kw; t++)
    for (let q = 0; q < chunks; q++) {
      const bit = t * c + 32 * q
      const width = Math.min(32, c - 32 * q)
      pieces.push({ tap: t, chunk: q, word: bit >> 6, shift: bit & 63, spills: (bit & 63) + width > 64 })
    }
  return pieces
}

/**
 * Sign thresholds (lo, span) of the dot product k − 2·pc (+1 iff (dot − lo) <ᵤ span, in int32)
 * as thresholds of the popcount pc itself: +1 iff (pc − lo′) <ᵤ span′ for the same pc ∈ [0, k].
 * The +1 set is an interval of dots, so also of popcounts; an empty one is (0, 0). This saves the
 * kernel two operations per unit (kernels.ts `BinaryConv.patches`).
 */
export const popcountThresholds = (t: Int32Array, k: number): Int32Array => {
  const out = new Int32Array(t.length)
  for (let j = 0; j < t.length; j += 2) {
    const [lo, span] = [t[j]!, t[j + 1]! >>> 0]
    const on = (pc: number): boolean => ((k - 2 * pc - lo) >>> 0) < span
    let first = -1
    let last = -1
    for (let pc = 0; pc <= k; pc++)
      if (on(pc)) {
        if (first < 0) first = pc
        last = pc
      }
    if (first >= 0) [out[j], out[j + 1]] = [first, last - first + 1]
  }
  return out
}

/**
 * (lo, span) pairs regrouped by blocks of four units, [lo₀ lo₁ lo₂ lo₃ span₀ span₁ span₂ span₃]
 * (a missing unit of the last block as (0, 0), never +1), so that the kernel tests four
 * popcounts with one vector subtraction and one unsigned comparison.
 */
export const quadThresholds = (t: Int32Array): Int32Array => {
  const units = t.length / 2
  const out = new Int32Array(8 * Math.ceil(units / 4))
  for (let j = 0; j < units; j++) {
    const [q, lane] = [j >> 2, j & 3]
    out[8 * q + lane] = t[2 * j]!
    out[8 * q + 4 + lane] = t[2 * j + 1]!
  }
  return out
}

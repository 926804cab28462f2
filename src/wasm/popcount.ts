/**
 * The one XOR–popcount emitter: the inner dot product of two rows packed in the bit layout
 * (`bitLayout.ts`), popcount(x XOR w) over their 64-bit words, and the ±1 arithmetic that turns
 * it into Σ xᵢ·wᵢ = n − 2·popcount. The compiled dense kernels (inference) and the training
 * `bitgemm` emit their inner loop here; each keeps its own blocking around it (which rows and
 * units, in which order, where the result goes).
 *
 * A constant row length has two schemes (`DotScheme`). The default, `scalar`, is one `i64.popcnt`
 * per word into one accumulator, with a "fence" every four words: a 32-bit store of the running
 * count into a slot the caller overwrites later. Unrolled, V8's scheduler hoists every load of
 * the body to the top and spills most of them to the stack; loads cannot move above a store, so
 * the fence keeps each quad's eight loads after the previous quad's work and the body runs
 * without spills, at about 5¼ x64 instructions per word (2 loads, xor, popcnt, add, ¼ store).
 * V8 does not fold a wasm load into the xor (its loads are trap-handled), so register-blocking
 * two or four units to share the x loads saves nothing (x86's two-operand xor then copies the
 * shared word) and measured slower; so did a fence every 1–3 words, or two accumulators.
 * With `xWords` (rows of ≤ UNROLL_LIMIT words) the caller has loaded x's words into i64 locals
 * once (`loadWords`, per row of a block of units): V8 keeps a few in registers and reads the
 * rest straight from their stack slots, `xorq r, [rbp−…]`, so a word is one load of w, the xor,
 * popcnt and add — 4 instructions, no fence needed: 1.03–1.18× the fenced loop (bench/batch1.ts).
 *
 * `mixed` (the scheme until the eighth session, kept for comparison in bench/batch1.ts) takes the
 * words in groups of eight: two through the SIMD unit (`v128.xor`, `i8x16.popcnt`, byte lanes
 * summed with `i8x16.add`) and six through scalar `i64.popcnt`, with the fence between groups.
 * V8 lowers `i8x16.popcnt` to about ten x64 instructions (two of them constant loads), so a SIMD
 * word costs 7 instructions against the scalar 5¼, and the batch-1 layer is bound by the rate
 * at which the core takes instructions in: scalar-only measured 1.1–1.2× faster at batch 1, 4096²
 * (bench/batch1.ts, see docs/compiled.md). Byte lanes hold at most 8 per group; unrolled (≤ 64
 * words, ≤ 8 groups) they reach 64 and are widened once at the end. In a loop each group is
 * widened at once to 16-bit lanes (≤ 16 per group), exact up to 4095 groups; wider rows use
 * scalar words only.
 *
 * A row whose length is known only at run time (the training products, compiled once for every
 * shape) takes the scalar words in pairs, two accumulators, then the odd word.
 */
import type { Code } from './code.js'
import { doLoop, forLoop, get, i32c, i32Store, i64c, i64Load, laneI32, set, simd, sumI32x4, v128i32, v128Load } from './code.js'
import type { ValType } from './opcodes.js'
import { blockVoid, op } from './opcodes.js'

/** Words a row may have for its loop to be fully unrolled. */
export const UNROLL_LIMIT = 64
const GROUP = 8
/** Words between two fence stores of the scalar scheme. */
const FENCE_WORDS = 4

/** How a constant-length row is counted (see above). */
export type DotScheme = 'scalar' | 'mixed'
const MAX_SIMD_GROUPS = 4095

/**
 * popcount(x XOR w) of the 64-bit words at `x + off` and `w + off` (ANDed with the word at
 * `mask + off` when given, to drop padding taps), as an i64: one term of a dot product.
 */
export const xorPopWord = (x: Code, w: Code, off: number, mask?: Code): Code =>
  [i64Load(x, off), i64Load(w, off), op.i64_xor, mask === undefined ? [] : [i64Load(mask, off), op.i64_and], op.i64_popcnt]

/** The ±1 dot product n − 2·popcount as an i32 (both operands i32 code). */
export const signDot = (n: Code, popcount: Code): Code => [n, popcount, i32c(1), op.i32_shl, op.i32_sub]

/**
 * A row length known at run time, as two i32 locals the caller sets once per row of x:
 * `pairsEnd` = x + 16·⌊words/2⌋ (where the loop over word pairs stops) and `odd` ≠ 0 iff words is odd.
 */
export interface RunTimeLength {
  readonly pairsEnd: number
  readonly odd: number
}

/** Where the rows are, and the locals the emitted loop may use. */
export interface RowDot {
  /** i32 locals holding the byte addresses of the two rows (`w` advances past its row at run-time length). */
  readonly x: number
  readonly w: number
  /** The row length: a constant number of 64-bit words, or known at run time (`RunTimeLength`). */
  readonly words: number | RunTimeLength
  /** Allocates a fresh local of the function being written (`func`'s second argument). */
  readonly local: (t: ValType) => number
  /** An i32 local holding the address of 4 bytes the caller overwrites after the dot (see above). */
  readonly fence?: number
  /** An i32 local the loop may use as its counter (else one is allocated). */
  readonly counter?: number
  /** A constant length's scheme (default `scalar`). */
  readonly scheme?: DotScheme
  /**
   * i64 locals already holding x's words (`loadWords`), one per word (scalar scheme, ≤ UNROLL_LIMIT
   * words): each word is then one load of w and an `xor` with the local, which V8 reads straight
   * from its stack slot (`xorq r, [rbp−…]`), without a fence.
   */
  readonly xWords?: readonly number[]
}

/** Code that loads the `words` 64-bit words at the address in local `x` into the i64 locals `into`. */
export const loadWords = (x: number, into: readonly number[]): Code => into.map((l, q) => set(l, i64Load(get(x), 8 * q)))

/** The i32 popcount(x XOR w) over the rows' words (code leaving one i32 on the stack). */
export const xorPopcount = (r: RowDot): Code =>
  typeof r.words !== 'number' ? runTimeLength(r, r.words) : r.scheme === 'mixed' ? knownLength(r, r.words) : scalarLength(r, r.words)

/** One scalar term added into the i64 local `acc`. */
const addTerm = (acc: number, x: Code, w: Code, off: number): Code => set(acc, [get(acc), xorPopWord(x, w, off), op.i64_add])

/**
 * Run-time length: scalar words in pairs into two accumulators, then the odd word. (The SIMD mix
 * needs a horizontal sum per dot, which costs more than it saves on the short rows of training's
 * products: 3 words for a 16-channel 3×3 convolution.) The row of `w` is walked in place, so `w`
 * ends past it, at the next row of a contiguous matrix; per-dot setup would cost up to half the
 * time of such short rows.
 */
const runTimeLength = (r: RowDot, len: RunTimeLength): Code => {
  const [acc0, acc1] = [r.local('i64'), r.local('i64')]
  const xp = r.local('i32')
  const term = (acc: number, off: number): Code => addTerm(acc, get(xp), get(r.w), off)
  const advanceW = (bytes: number): Code => set(r.w, [get(r.w), i32c(bytes), op.i32_add])
  return [
    set(acc0, i64c(0)),
    set(acc1, i64c(0)),
    forLoop(xp, get(r.x), get(len.pairsEnd), 16, [term(acc0, 0), term(acc1, 8), advanceW(16)]),
    [get(len.odd), op.if, blockVoid, term(acc0, 0), advanceW(8), op.end],
    get(acc0), get(acc1), op.i64_add, op.i32_wrap_i64,
  ]
}

/**
 * A constant length, scalar words with a fence store every FENCE_WORDS words: unrolled up to
 * UNROLL_LIMIT words, else a loop of 2·FENCE_WORDS words per iteration and an unrolled tail.
 */
const scalarLength = (r: RowDot, words: number): Code => {
  const acc = r.local('i64')
  const xs = r.xWords
  if (xs !== undefined && words <= UNROLL_LIMIT && xs.length === words)
    return [
      set(acc, i64c(0)),
      xs.map((xl, q) => set(acc, [get(acc), i64Load(get(r.w), 8 * q), get(xl), op.i64_xor, op.i64_popcnt, op.i64_add])),
      get(acc), op.i32_wrap_i64,
    ]
  const fence: Code = r.fence === undefined ? [] : i32Store(get(r.fence), [get(acc), op.i32_wrap_i64])
  /** Words from..from+count−1 at byte offset addrOff + 8·word, a fence after every FENCE_WORDS-th but the last. */
  const run = (addrOff: Code, from: number, count: number): Code =>
    Array.from({ length: count }, (_, q) => [addTerm(acc, [get(r.x), addrOff], [get(r.w), addrOff], 8 * (from + q)), (q + 1) % FENCE_WORDS === 0 && q < count - 1 ? fence : []])
  if (words <= UNROLL_LIMIT) return [set(acc, i64c(0)), run([], 0, words), get(acc), op.i32_wrap_i64]
  const kk = r.counter ?? r.local('i32')
  const step = 2 * FENCE_WORDS
  const loops = Math.floor(words / step)
  return [
    set(acc, i64c(0)),
    doLoop(kk, i32c(0), i32c(loops * step * 8), step * 8, [run([get(kk), op.i32_add], 0, step), fence]),
    run([], loops * step, words - loops * step),
    get(acc), op.i32_wrap_i64,
  ]
}

/** A constant length: the SIMD + scalar mix, unrolled up to UNROLL_LIMIT words (see above). */
const knownLength = (r: RowDot, words: number): Code => {
  const acc = r.local('i64')
  const vacc = r.local('v128')
  const vt = r.local('v128')
  const kk = r.counter ?? r.local('i32')
  const scalar = (addrOff: Code, off: number): Code => addTerm(acc, [get(r.x), addrOff], [get(r.w), addrOff], off)
  const bytePop = (addrOff: Code, off: number): Code =>
    [v128Load([get(r.x), addrOff], off), v128Load([get(r.w), addrOff], off), simd('v128_xor'), simd('i8x16_popcnt')]
  const widen16: Code = simd('i16x8_extadd_pairwise_i8x16_u')
  /** One group of eight words from byte offset addrOff + off, into byte lanes or (`widen`) 16-bit lanes. */
  const group = (addrOff: Code, off: number, widen: boolean): Code => [
    widen
      ? set(vacc, [get(vacc), bytePop(addrOff, off), widen16, simd('i16x8_add')])
      : set(vacc, [get(vacc), bytePop(addrOff, off), simd('i8x16_add')]),
    Array.from({ length: GROUP - 2 }, (_, q) => scalar(addrOff, off + 16 + 8 * q)),
  ]
  const groups = Math.floor(words / GROUP)
  const looped = words > UNROLL_LIMIT
  if (groups === 0 || (looped && groups > MAX_SIMD_GROUPS)) {
    return [
      set(acc, i64c(0)),
      looped ? doLoop(kk, i32c(0), i32c(words * 8), 8, scalar([get(kk), op.i32_add], 0)) : Array.from({ length: words }, (_, w) => scalar([], 8 * w)),
      get(acc), op.i32_wrap_i64,
    ]
  }
  const tail = Array.from({ length: words - groups * GROUP }, (_, q) => scalar([], 8 * (groups * GROUP + q)))
  const fence: Code = r.fence === undefined ? [] : i32Store(get(r.fence), [get(acc), op.i32_wrap_i64, laneI32(vacc, 0), op.i32_add])
  return [
    set(acc, i64c(0)),
    set(vacc, v128i32([0, 0, 0, 0])),
    looped
      ? doLoop(kk, i32c(0), i32c(groups * GROUP * 8), GROUP * 8, group([get(kk), op.i32_add], 0, true))
      : Array.from({ length: groups }, (_, g) => [group([], 8 * GROUP * g, false), g < groups - 1 ? fence : []]),
    tail,
    set(vt, [looped ? get(vacc) : [get(vacc), widen16], simd('i32x4_extadd_pairwise_i16x8_u')]),
    get(acc), op.i32_wrap_i64, sumI32x4(vt), op.i32_add,
  ]
}

/**
 * Binary convolution in WebAssembly over channels-last rows (layout.ts rule 6). For each output
 * position, every output channel's dot is popcount(x XOR w) (AND the padding mask for a 0 pad)
 * over the kh·kw taps; the tap offsets are compile-time constants folded into the loads'
 * offsets, and the taps × words are fully unrolled up to 256 loads per unit. The fused epilogue
 * is the dense one's; bits are gathered 32 channels per i32 store.
 *
 * With `patches` (few input channels, constant weights: patches.ts), each position's c·kh·kw tap
 * bits are first gathered into 64-bit locals, and every unit XORs them with its patch row: for
 * 16 channels and 3×3 taps, 3 words per unit instead of 9 quarter-filled ones. With the sign
 * epilogue and no mask, the thresholds are the popcount's (no dot to form) and four units' counts
 * are tested at once in a vector (A/B on the loaded machine: `BinaryConv` 0.47 against 0.41–0.68
 * ms per 64 images, `infer` 1.08 against 1.20 ms, three alternating runs each); with a mask, two
 * units at a time at constant offsets.
 *
 * Signature: (rows, x, w, out[, mask, valid], ...epilogue buffers) → ().
 */
import type { BinaryConv, PadBits, PoolOr } from '../kernels.js'
import { rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64Store, forLoop, func, get, i32c, i32Load, i32Store, i64c, i64Load, i64Store, load, set, simd, v128Load } from '../../../wasm/code.js'
import { patchPieces, patchWords } from '../patches.js'
import { op } from '../../../wasm/opcodes.js'
import { epilogueBit, headerBytes } from './epilogue.js'
import { tableConv } from './conv-table.js'

const UNROLL_LIMIT = 256
/** Units per iteration of the patch kernel's unit loop (fully unrolled, V8 hoists and spills). */
const UNITS_AT_ONCE = 2

export const binaryConv = (k: BinaryConv): WasmFunction => {
  if (k.tables !== undefined) return tableConv(k)
  const e = k.epilogue
  const masked = k.mask !== undefined
  const extra = e.kind === 'dot' ? 0 : e.kind === 'sign' ? 1 : 3
  const base = 4 + (masked ? 2 : 0)
  const nParams = base + extra + (k.patches === undefined ? 0 : 1)
  return func(`conv_${k.label}`, new Array(nParams).fill('i32'), [], (p, local) => {
    const [rows, x, w, out] = p as [number, number, number, number]
    const [mask0, valid0] = masked ? [p[4]!, p[5]!] : [undefined, undefined]
    const ep = p.slice(base, base + extra)
    const [hdr0, table, rand0] = ep as [number?, number?, number?]
    const patches = k.patches === undefined ? undefined : p[base + extra]!
    const r = local('i32'), y = local('i32'), xo = local('i32'), xa = local('i32'), ma = local('i32'), wa = local('i32')
    const oa = local('i32'), jw = local('i32'), jj = local('i32'), dot = local('i32'), kEff = local('i32'), hdr = local('i32')
    const draw = local('i32'), scratch = local('i32'), bits = local('i32'), dy = local('i32'), acc0 = local('i64'), acc1 = local('i64')
    const rb = rowBytes(k.c, 64)
    const words = rb / 8
    const hw = k.ho * k.wo
    const full = k.c * k.kh * k.kw
    // Word `wd` of tap (ty, tx): x and the mask at a constant offset from the position, the
    // weight row at the current weight pointer.
    const term = (tapOff: Code, tap: number, wd: number): Code => [
      i64Load([get(xa), tapOff], tap + 8 * wd), i64Load(get(wa), 8 * wd), op.i64_xor,
      masked ? [i64Load([get(ma), tapOff], tap + 8 * wd), op.i64_and] : [],
      op.i64_popcnt,
    ]
    const terms = k.kh * k.kw * words
    let n = 0
    const add = (t: Code): Code => {
      const acc = n++ % 2 === 0 ? acc0 : acc1
      return set(acc, [get(acc), t, op.i64_add])
    }
    // popcount over the taps; the weight pointer advances one row per tap.
    const taps: Code[] = []
    if (terms <= UNROLL_LIMIT) {
      for (let ty = 0; ty < k.kh; ty++)
        for (let tx = 0; tx < k.kw; tx++) {
          for (let wd = 0; wd < words; wd++) taps.push(add(term([], (ty * k.wp + tx) * rb, wd)))
          taps.push(set(wa, [get(wa), i32c(rb), op.i32_add]))
        }
    } else {
      const row: Code[] = []
      for (let tx = 0; tx < k.kw; tx++) {
        for (let wd = 0; wd < words; wd++) row.push(add(term([get(dy), op.i32_add], tx * rb, wd)))
        row.push(set(wa, [get(wa), i32c(rb), op.i32_add]))
      }
      taps.push(doLoop(dy, i32c(0), i32c(k.kh * k.wp * rb), k.wp * rb, row))
    }
    // The patch layout (patches.ts): the position's patch gathered once into locals, then one
    // weight patch row per unit.
    const pw = patches === undefined ? 0 : patchWords(k.c, k.kh, k.kw)
    const pat = Array.from({ length: pw }, () => local('i64'))
    const mpat = masked ? Array.from({ length: pw }, () => local('i64')) : []
    const piece = local('i64')
    const gather = (from: number, into: readonly number[]): Code => [
      into.map((l) => set(l, i64c(0))),
      patchPieces(k.c, k.kh, k.kw).map((pc) => [
        set(piece, load(op.i64_load32_u, 2, get(from), (Math.floor(pc.tap / k.kw) * k.wp + (pc.tap % k.kw)) * rb + 4 * pc.chunk)),
        set(into[pc.word]!, [get(into[pc.word]!), get(piece), pc.shift === 0 ? [] : [i64c(pc.shift), op.i64_shl], op.i64_or]),
        pc.spills ? set(into[pc.word + 1]!, [get(into[pc.word + 1]!), get(piece), i64c(64 - pc.shift), op.i64_shr_u, op.i64_or]) : [],
      ]),
    ]
    const patchTerms: Code = pat.map((l, d) => add([get(l), i64Load(get(wa), 8 * d), op.i64_xor, masked ? [get(mpat[d]!), op.i64_and] : [], op.i64_popcnt]))
    const computeDot: Code = [
      set(acc0, i64c(0)), set(acc1, i64c(0)),
      patches === undefined ? taps : [patchTerms, set(wa, [get(wa), i32c(8 * pw), op.i32_add])],
      set(dot, [get(kEff), get(acc0), get(acc1), op.i64_add, op.i32_wrap_i64, i32c(1), op.i32_shl, op.i32_sub]),
    ]
    const nextUnit: Code = [
      hdr0 === undefined ? [] : set(hdr, [get(hdr), i32c(headerBytes(e)), op.i32_add]),
      rand0 === undefined ? [] : set(draw, [get(draw), i32c(4 * hw), op.i32_add]),
    ]
    // Index of output (r, 0, y, xo) in NCHW order, times `bytes`.
    const nchw = (bytes: number): Code => [get(r), i32c(k.o * hw), op.i32_mul, get(y), i32c(k.wo), op.i32_mul, op.i32_add, get(xo), op.i32_add, i32c(bytes), op.i32_mul]
    let units: Code
    if (e.kind === 'dot') {
      units = [
        set(oa, [get(out), nchw(8), op.i32_add]),
        doLoop(jj, i32c(0), i32c(k.o), 1, [computeDot, f64Store(get(oa), [get(dot), op.f64_convert_i32_s]), set(oa, [get(oa), i32c(8 * hw), op.i32_add])]),
      ]
    } else {
      const bit = epilogueBit(e, { dot, header: hdr, draw, table: table ?? 0, scratch })
      const orb = rowBytes(k.o, 64)
      // With patches and the sign epilogue, the units of a word are unrolled: weight rows and
      // thresholds at constant offsets, each dot one expression (no loop, no pointer updates).
      // Without a mask the thresholds are the popcount's (patches.ts `popcountThresholds`).
      const unitBit = (u: number): Code => [
        masked ? get(kEff) : [],
        pat.map((l, d) => [get(l), i64Load(get(wa), 8 * (u * pw + d)), op.i64_xor, masked ? [get(mpat[d]!), op.i64_and] : [], op.i64_popcnt, d === 0 ? [] : op.i64_add]),
        op.i32_wrap_i64, masked ? [i32c(1), op.i32_shl, op.i32_sub] : [],
        i32Load(get(hdr), 8 * u), op.i32_sub, i32Load(get(hdr), 8 * u + 4), op.i32_lt_u,
        u === 0 ? [] : [i32c(u), op.i32_shl],
      ]
      const unrolled = patches !== undefined && e.kind === 'sign'
      // Without a mask, four units at a time: their popcounts in the lanes of a vector, tested
      // against a block of four thresholds at once (patches.ts `quadThresholds`), so the integer
      // units only count while the vector unit compares and gathers the bits.
      const popcountOf = (u: number): Code => [
        pat.map((l, d) => [get(l), i64Load(get(wa), 8 * (u * pw + d)), op.i64_xor, op.i64_popcnt, d === 0 ? [] : op.i64_add]),
        op.i32_wrap_i64,
      ]
      const quad = (count: number): Code => [
        set(bits, [
          get(bits),
          popcountOf(0), simd('i32x4_splat'),
          Array.from({ length: count - 1 }, (_, u) => [popcountOf(u + 1), simd('i32x4_replace_lane'), u + 1]),
          v128Load(get(hdr)), simd('i32x4_sub'), v128Load(get(hdr), 16), simd('i32x4_lt_u'), simd('i32x4_bitmask'),
          get(jj), op.i32_shl, op.i32_or,
        ]),
        set(wa, [get(wa), i32c(8 * pw * count), op.i32_add]),
        set(hdr, [get(hdr), i32c(32), op.i32_add]),
      ]
      const per = masked ? UNITS_AT_ONCE : 4
      const group = (count: number): Code => !masked ? quad(count) : [
        set(bits, [get(bits), Array.from({ length: count }, (_, u) => [unitBit(u), u === 0 ? [] : op.i32_or]), get(jj), op.i32_shl, op.i32_or]),
        set(wa, [get(wa), i32c(8 * pw * count), op.i32_add]),
        set(hdr, [get(hdr), i32c(8 * count), op.i32_add]),
      ]
      const wordOf = (count: number): Code => unrolled
        ? [
            set(bits, i32c(0)),
            count >= per ? doLoop(jj, i32c(0), i32c(count - (count % per)), per, group(per)) : [],
            count % per === 0 ? [] : [set(jj, i32c(count - (count % per))), group(count % per)],
            i32Store(get(oa), get(bits)),
            set(oa, [get(oa), i32c(4), op.i32_add]),
          ]
        : [
            set(bits, i32c(0)),
            doLoop(jj, i32c(0), i32c(count), 1, [computeDot, set(bits, [get(bits), bit, get(jj), op.i32_shl, op.i32_or]), nextUnit]),
            i32Store(get(oa), get(bits)),
            set(oa, [get(oa), i32c(4), op.i32_add]),
          ]
      const fullWords = Math.floor(k.o / 32)
      const rest = k.o % 32
      const written = Math.ceil(k.o / 32)
      units = [
        set(oa, [get(out), get(r), i32c(k.ho), op.i32_mul, get(y), op.i32_add, i32c(k.wo), op.i32_mul, get(xo), op.i32_add, i32c(orb), op.i32_mul, op.i32_add]),
        hdr0 === undefined ? [] : set(hdr, get(hdr0)),
        rand0 === undefined ? [] : set(draw, [get(rand0), nchw(4), op.i32_add]),
        fullWords === 0 ? [] : doLoop(jw, i32c(0), i32c(fullWords), 1, wordOf(32)),
        rest === 0 ? [] : wordOf(rest),
        written % 2 === 1 ? i32Store(get(oa), i32c(0)) : [],
      ]
    }
    return forLoop(r, i32c(0), get(rows), 1,
      doLoop(y, i32c(0), i32c(k.ho), 1,
        doLoop(xo, i32c(0), i32c(k.wo), 1, [
          set(xa, [get(x), get(r), i32c(k.hp), op.i32_mul, get(y), i32c(k.sh), op.i32_mul, op.i32_add, i32c(k.wp), op.i32_mul, get(xo), i32c(k.sw), op.i32_mul, op.i32_add, i32c(rb), op.i32_mul, op.i32_add]),
          masked ? set(ma, [get(mask0!), get(y), i32c(k.sh), op.i32_mul, i32c(k.wp), op.i32_mul, get(xo), i32c(k.sw), op.i32_mul, op.i32_add, i32c(rb), op.i32_mul, op.i32_add]) : [],
          set(kEff, masked ? i32Load([get(valid0!), get(y), i32c(k.wo), op.i32_mul, get(xo), op.i32_add, i32c(2), op.i32_shl, op.i32_add]) : i32c(full)),
          set(wa, get(patches ?? w)),
          patches === undefined ? [] : [gather(xa, pat), masked ? gather(ma, mpat) : []],
          units,
        ])))
  })
}

/** PadBits: the padded grid, row by row (copies of the input rows, or the pad pattern). */
export const padBits = (k: PadBits): WasmFunction =>
  func(`pad_${k.label}`, ['i32', 'i32', 'i32'], [], ([rows, src, dst], local) => {
    const r = local('i32'), yy = local('i32'), xx = local('i32'), da = local('i32'), sa = local('i32'), inside = local('i32')
    const rb = rowBytes(k.c, 64)
    const words = rb / 8
    const hp = k.h + 2 * k.ph
    const wp = k.w + 2 * k.pw
    // The +1 pattern: every channel bit set, padding bits beyond c clear.
    const onesWord = (wd: number): bigint => {
      const bitsIn = Math.max(0, Math.min(64, k.c - 64 * wd))
      return bitsIn === 64 ? -1n : (1n << BigInt(bitsIn)) - 1n
    }
    return forLoop(r, i32c(0), get(rows!), 1, [
      set(sa, [get(src!), get(r), i32c(k.h * k.w * rb), op.i32_mul, op.i32_add]),
      set(da, [get(dst!), get(r), i32c(hp * wp * rb), op.i32_mul, op.i32_add]),
      doLoop(yy, i32c(0), i32c(hp), 1,
        doLoop(xx, i32c(0), i32c(wp), 1, [
          set(inside, [
            get(yy), i32c(k.ph), op.i32_sub, i32c(k.h), op.i32_lt_u,
            get(xx), i32c(k.pw), op.i32_sub, i32c(k.w), op.i32_lt_u, op.i32_and,
          ]),
          Array.from({ length: words }, (_, wd) => i64Store(get(da), [i64Load(get(sa), 8 * wd), i64c(k.ones ? onesWord(wd) : 0n), get(inside), op.select], 8 * wd)),
          // advance the source only past real input rows
          set(sa, [get(sa), get(inside), i32c(rb), op.i32_mul, op.i32_add]),
          set(da, [get(da), i32c(rb), op.i32_add]),
        ])),
    ])
  })

/**
 * PoolOr: each output row is the OR of its window's input rows, 64 bits at a time; with an
 * `invert` row, ¬OR(¬x) on its channels (AND-pooling), the row's words held in locals.
 */
export const poolOr = (k: PoolOr): WasmFunction =>
  func(`pool_${k.label}`, new Array(k.invert === undefined ? 3 : 4).fill('i32'), [], ([rows, src, dst, invert], local) => {
    const r = local('i32'), y = local('i32'), xo = local('i32'), sa = local('i32'), da = local('i32')
    const rb = rowBytes(k.c, 64)
    const words = rb / 8
    const inv = invert === undefined ? [] : Array.from({ length: words }, () => local('i64'))
    const flip = (wd: number): Code => (invert === undefined ? [] : [get(inv[wd]!), op.i64_xor])
    const window: Code[] = []
    for (let wd = 0; wd < words; wd++) {
      const terms: Code[] = []
      for (let dy = 0; dy < k.kh; dy++)
        for (let dx = 0; dx < k.kw; dx++) terms.push([i64Load(get(sa), (dy * k.w + dx) * rb + 8 * wd), flip(wd), terms.length > 0 ? op.i64_or : []])
      window.push(i64Store(get(da), [terms, flip(wd)], 8 * wd))
    }
    return [
      inv.map((l, wd) => set(l, i64Load(get(invert!), 8 * wd))),
      forLoop(r, i32c(0), get(rows!), 1,
        doLoop(y, i32c(0), i32c(k.ho), 1,
          doLoop(xo, i32c(0), i32c(k.wo), 1, [
            set(sa, [get(src!), get(r), i32c(k.h), op.i32_mul, get(y), i32c(k.sh), op.i32_mul, op.i32_add, i32c(k.w), op.i32_mul, get(xo), i32c(k.sw), op.i32_mul, op.i32_add, i32c(rb), op.i32_mul, op.i32_add]),
            set(da, [get(dst!), get(r), i32c(k.ho), op.i32_mul, get(y), op.i32_add, i32c(k.wo), op.i32_mul, get(xo), op.i32_add, i32c(rb), op.i32_mul, op.i32_add]),
            window,
          ]))),
    ]
  })

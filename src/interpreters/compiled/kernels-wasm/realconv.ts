/**
 * A real-input convolution with ±1 weights in WebAssembly (kernels.ts `RealConv`): the
 * reference's float64 sums, two output channels per f64x2 vector (each lane one output's sum
 * 0 + w·x + … in (channel, dy, dx) order, so the same IEEE additions as the reference), then the
 * float sign epilogue lo ≤ v ≤ hi on both lanes at once, `i64x2.bitmask` giving their two bits.
 *
 * With padding, each example is first copied into a padded float64 grid (the pad value on the
 * border), so every tap is a load at a constant offset from the output position. Taps are
 * unrolled up to 64 (looped by input channel beyond). The grids are scratch that each example
 * fills completely before it reads them, so `grid` holds one example's (per thread), whatever
 * the batch.
 *
 * When the weights come with the kernel (`signs`: stride 1 across, an integer pad, ≤ 64 taps),
 * each example first tries the exact int16 path (realconv-int.ts, realconv-grid.ts): 8 positions
 * per vector, taken when all its values are integers in [−255, 255] — 8-bit pixels — and the
 * float64 path above otherwise. Both give the reference's bits.
 *
 * Signature: (rows, x, grid, w, thresholds, out) → ().
 */
import type { RealConv } from '../kernels.js'
import { bytesRow, rowBytes } from '../layout.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { doLoop, f64c, f64Load, forLoop, func, get, i32c, i32Store, ifElse, set, simd, v128Load } from '../../../wasm/code.js'
import { gridLayout } from '../realconv-grid.js'
import { byteFill, intBounds, intConv, intFill, withRows } from './realconv-int.js'
import { op } from '../../../wasm/opcodes.js'

const UNROLL_LIMIT = 64
/** Pairs of channels summed at once (a divisor of 16: a block never straddles two output words). */
const BLOCK = 8

export const realConv = (k: RealConv): WasmFunction =>
  func(`realconv_${k.label}`, new Array(6).fill('i32'), [], ([rows, x, grid, w, thresholds, out], local) => {
    const r = local('i32'), y = local('i32'), xo = local('i32'), g = local('i32'), pa = local('i32'), ca = local('i32'), wa = local('i32')
    const oa = local('i32'), bits = local('i32'), ic = local('i32')
    const yy = local('i32'), xx = local('i32'), sa = local('i32'), da = local('i32'), inside = local('i32')
    const padded = k.ph > 0 || k.pw > 0
    const lay = gridLayout(k)
    const intOn = lay.intBytes > 0 && k.signs !== undefined
    const [hp, wp] = padded ? [k.ih + 2 * k.ph, k.iw + 2 * k.pw] : [k.ih, k.iw]
    const plane = hp * wp * 8
    const image = k.c * k.ih * k.iw * 8
    const taps = k.c * k.kh * k.kw
    const pairs = Math.ceil(k.o / 2)
    const orb = rowBytes(k.o, 64)
    // The padded grid of example r: the pad value, or the next pixel (the source advances only
    // past real pixels, so it never leaves the image but for one read past its end, in the slack).
    const fill: Code = [
      set(sa, [get(x!), get(r), i32c(image), op.i32_mul, op.i32_add]),
      set(da, get(g)),
      doLoop(ic, i32c(0), i32c(k.c), 1,
        doLoop(yy, i32c(0), i32c(hp), 1,
          doLoop(xx, i32c(0), i32c(wp), 1, [
            set(inside, [get(yy), i32c(k.ph), op.i32_sub, i32c(k.ih), op.i32_lt_u, get(xx), i32c(k.pw), op.i32_sub, i32c(k.iw), op.i32_lt_u, op.i32_and]),
            get(da), f64Load(get(sa)), f64c(k.pad), get(inside), op.select, op.f64_store, 3, 0,
            set(sa, [get(sa), get(inside), i32c(3), op.i32_shl, op.i32_add]),
            set(da, [get(da), i32c(8), op.i32_add]),
          ]))),
    ]
    // Blocks of up to BLOCK pairs of channels, one f64x2 accumulator each: for every tap (in
    // the reference's order) the pixel is loaded and splatted once, then multiplied by each
    // pair's two weights (±1, so exactly ±x) and added to that pair's sum.
    const accs = Array.from({ length: Math.min(BLOCK, pairs) }, () => local('v128'))
    const xs = local('v128')
    const block = (first: number, count: number): Code => {
      const tapTerms = (base: number, offset: number, t: number, wBase: Code): Code => [
        set(xs, [f64Load(get(base), offset), simd('f64x2_splat')]),
        Array.from({ length: count }, (_, q) => set(accs[q]!, [get(accs[q]!), get(xs), v128Load(wBase, ((first + q) * taps + t) * 16), simd('f64x2_mul'), simd('f64x2_add')])),
      ]
      const channelTaps = (base: number, offset: number, firstTap: number, wBase: Code): Code[] => {
        const out: Code[] = []
        for (let dy = 0; dy < k.kh; dy++) for (let dx = 0; dx < k.kw; dx++) out.push(tapTerms(base, offset + (dy * wp + dx) * 8, firstTap + dy * k.kw + dx, wBase))
        return out
      }
      const sums: Code = taps <= UNROLL_LIMIT
        ? Array.from({ length: k.c }, (_, c) => channelTaps(pa, c * plane, c * k.kh * k.kw, get(w!)))
        : [
            set(ca, get(pa)),
            set(wa, get(w!)),
            doLoop(ic, i32c(0), i32c(k.c), 1, [
              channelTaps(ca, 0, 0, get(wa)),
              set(ca, [get(ca), i32c(plane), op.i32_add]),
              set(wa, [get(wa), i32c(16 * k.kh * k.kw), op.i32_add]),
            ]),
          ]
      return [
        accs.slice(0, count).map((acc) => set(acc, [f64c(0), simd('f64x2_splat')])),
        sums,
        // Bits 2q, 2q + 1 of the block's pairs (first mod 16 pairs into the word), lo ≤ v ≤ hi.
        set(bits, [
          (first % 16) === 0 ? i32c(0) : get(bits),
          Array.from({ length: count }, (_, q) => [
            get(accs[q]!), v128Load(get(thresholds!), 32 * (first + q)), simd('f64x2_ge'),
            get(accs[q]!), v128Load(get(thresholds!), 32 * (first + q) + 16), simd('f64x2_le'),
            simd('v128_and'), simd('i64x2_bitmask'),
            2 * ((first + q) % 16) === 0 ? [] : [i32c(2 * ((first + q) % 16)), op.i32_shl],
            op.i32_or,
          ]),
        ]),
        (first + count) % 16 === 0 || first + count === pairs ? i32Store(get(oa), get(bits), 4 * Math.floor(first / 16)) : [],
      ]
    }
    const words: Code[] = []
    for (let first = 0; first < pairs; first += BLOCK) words.push(block(first, Math.min(BLOCK, pairs - first)))
    const written = Math.ceil(pairs / 16)
    const floatPath: Code = [
      padded ? [set(g, [get(grid!), i32c(lay.intBytes), op.i32_add]), fill] : set(g, [get(x!), get(r), i32c(image), op.i32_mul, op.i32_add]),
      doLoop(y, i32c(0), i32c(k.ho), 1,
        doLoop(xo, i32c(0), i32c(k.wo), 1, [
          set(pa, [get(g), get(y), i32c(k.sh * wp * 8), op.i32_mul, op.i32_add, get(xo), i32c(k.sw * 8), op.i32_mul, op.i32_add]),
          set(oa, [get(out!), get(r), i32c(k.ho), op.i32_mul, get(y), op.i32_add, i32c(k.wo), op.i32_mul, get(xo), op.i32_add, i32c(orb), op.i32_mul, op.i32_add]),
          words,
          written % 2 === 1 ? i32Store(get(oa), i32c(0), 4 * written) : [],
        ])),
    ]
    if (!intOn) return forLoop(r, i32c(0), get(rows!), 1, floatPath)
    const [gi, src, ok, bounds, ob] = [local('i32'), local('i32'), local('i32'), local('i32'), local('i32')]
    // The exact int16 path: `infer`'s uint8 entry takes it for every example, filled from its
    // bytes; otherwise an example takes it when its values are all integers in [−255, 255].
    const bytes = k.bytes === true
    return [
      set(bounds, [get(grid!), i32c(lay.boundsAt), op.i32_add]),
      withRows(rows!, intBounds(k, thresholds!, bounds, local)),
      forLoop(r, i32c(0), get(rows!), 1, [
        set(gi, get(grid!)),
        set(src, [get(x!), get(r), i32c(bytes ? bytesRow(k.c * k.ih * k.iw) : image), op.i32_mul, op.i32_add]),
        bytes ? byteFill(k, lay, { gi, src }, local) : intFill(k, lay, { gi, src, ok }, local),
        set(ob, [get(out!), get(r), i32c(k.ho * k.wo * orb), op.i32_mul, op.i32_add]),
        bytes ? intConv(k, lay, { gi, oa: ob, bounds }, local) : ifElse(get(ok), intConv(k, lay, { gi, oa: ob, bounds }, local), floatPath),
      ]),
    ]
  })

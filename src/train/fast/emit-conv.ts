/**
 * WebAssembly code of the convolution's data movement (`gemmConv.ts`), so that it runs in the
 * kernels' memory and splits over the pool's threads by ranges of examples:
 *
 * - `conv_gather`: patches of a float64 NCHW input into the f32 panels of the GEMM (im2col
 *   without a patch matrix), padding cells holding the f32 padding value;
 * - `conv_col2im`: an f32 patch gradient added back into a float64 NCHW input gradient, in the
 *   reference's order (rows, then taps), each term widened exactly before the float64 add;
 * - `conv_pack_g`: a float64 [n, o, hw] output gradient transposed into f32 panels;
 * - `conv_gather_bits`, `unpack_pop`: patches as sign bits for XOR–popcount (through a padded
 *   image of channel words), and its counts back to float64;
 * - `fill_zero`: clears a byte range.
 *
 * Each is a straight transcription of the JavaScript loop it replaces (the same rounding: f32
 * stores round to nearest like `Math.fround`, f32 → f64 is exact), so the results are the same
 * bits; examples never share an input cell, so ranges of examples are independent jobs.
 *
 * The geometry is a descriptor of i32 fields in memory (`DESC`, written by `writeConvDesc`),
 * followed by its tap tables: for tap p = (ic, ky, kx), its offset from a window's top-left
 * input cell (ic·h + ky)·w + kx, and ky and kx.
 */
import type { Code, WasmFunction } from '../../wasm/code.js'
import { doLoop, f64c, f64Load, f64Store, forLoop, func, get, i32c, i32Load, i32Store, ifElse, set, when, i32Add as add, i32Sub as sub, i32Mul as mul, i32And as and } from '../../wasm/code.js'
import { op } from '../../wasm/opcodes.js'
import type { ConvGeom } from '../../interpreters/reference/spatial.js'
import { vstore, vzero } from '../../wasm/simd.js'

/** Fields of the descriptor, i32 indices from its start. */
const F = { c: 0, h: 1, w: 2, kh: 3, kw: 4, sh: 5, sw: 6, ph: 7, pw: 8, ho: 9, wo: 10, depth: 11, taps: 12, ky: 13, kx: 14, pad: 15 } as const
/** Bytes of the descriptor before its tables. */
const HEAD = 64

/** Bytes a descriptor of `depth` taps takes (16-byte multiple). */
export const convDescBytes = (depth: number): number => HEAD + Math.ceil((3 * depth * 4) / 16) * 16

/** Writes the descriptor of `g` (padding value `pad`, stored as f32) at byte `at` of `mem`. */
export const writeConvDesc = (buffer: ArrayBufferLike, at: number, g: ConvGeom, pad: number): void => {
  const depth = g.c * g.kh * g.kw
  const i32 = new Int32Array(buffer, at, HEAD / 4 + 3 * depth)
  const fields = [g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.ho, g.wo, depth, at + HEAD, at + HEAD + 4 * depth, at + HEAD + 8 * depth]
  fields.forEach((v, i) => (i32[i] = v))
  new Float32Array(buffer, at, HEAD / 4)[F.pad] = pad
  const t = HEAD / 4
  for (let ic = 0, p = 0; ic < g.c; ic++)
    for (let ky = 0; ky < g.kh; ky++)
      for (let kx = 0; kx < g.kw; kx++, p++) {
        i32[t + p] = (ic * g.h + ky) * g.w + kx
        i32[t + depth + p] = ky
        i32[t + 2 * depth + p] = kx
      }
}

// Opcodes the shared table does not list.
const I32_DIV_U = 0x6e
const I32_REM_U = 0x70
const F32_DEMOTE_F64 = 0xb6
const F64_PROMOTE_F32 = 0xbb

const ltU = (a: Code, b: Code): Code => [a, b, op.i32_lt_u]
const field = (desc: number, f: keyof typeof F): Code => i32Load(get(desc), 4 * F[f])
/** The i32 entry `i` of the table whose address is in local `table`. */
const entry = (table: number, i: Code): Code => i32Load(add(get(table), mul(i, i32c(4))))
const f32Store = (addr: Code, value: Code): Code => [addr, value, op.f32_store, 2, 0]
const demoteLoad = (addr: Code): Code => [f64Load(addr), F32_DEMOTE_F64]

/** The geometry locals every function reads from the descriptor. */
const geometry = (desc: number, local: (t: 'i32') => number) => {
  const l = { c: local('i32'), h: local('i32'), w: local('i32'), kh: local('i32'), kw: local('i32'), sh: local('i32'), sw: local('i32'), ph: local('i32'), pw: local('i32'), ho: local('i32'), wo: local('i32'), depth: local('i32'), taps: local('i32'), ky: local('i32'), kx: local('i32') }
  const load = (Object.keys(l) as (keyof typeof l)[]).map((k) => set(l[k], field(desc, k)))
  return { l, load }
}

/**
 * The window loops shared by gather and col2im: for each example b in [b0, b1), each output
 * position (oy, ox), `row` runs the body with locals x0 (the window's top-left input index,
 * possibly outside the image) and `inside` (1 when the whole window lies in the image).
 */
const windows = (
  g: ReturnType<typeof geometry>['l'], b0: number, b1: number, local: (t: 'i32') => number, row: (x0: number, inside: number, iy0: number, ix0: number) => Code,
): Code => {
  const b = local('i32'), oy = local('i32'), ox = local('i32'), iy0 = local('i32'), ix0 = local('i32'), x0 = local('i32'), inside = local('i32'), rowsIn = local('i32'), image = local('i32')
  return [
    set(image, mul(mul(get(g.c), get(g.h)), get(g.w))),
    forLoop(b, get(b0), get(b1), 1, [
      doLoop(oy, i32c(0), get(g.ho), 1, [
        set(iy0, sub(mul(get(oy), get(g.sh)), get(g.ph))),
        set(rowsIn, and([get(iy0), i32c(0), op.i32_ge_s], [add(get(iy0), get(g.kh)), get(g.h), op.i32_le_s])),
        doLoop(ox, i32c(0), get(g.wo), 1, [
          set(ix0, sub(mul(get(ox), get(g.sw)), get(g.pw))),
          set(inside, and(get(rowsIn), and([get(ix0), i32c(0), op.i32_ge_s], [add(get(ix0), get(g.kw)), get(g.w), op.i32_le_s]))),
          set(x0, add(mul(get(b), get(image)), add(mul(get(iy0), get(g.w)), get(ix0)))),
          row(x0, inside, iy0, ix0),
        ]),
      ]),
    ]),
  ]
}

/**
 * `conv_gather(desc, x, dst, pOff, R, RS, RL, b0, b1, rowB, p0, p1)`: patch[row, tap] of the
 * examples b0 ≤ b < b1 (row counted from example rowB) and the taps p0 ≤ tap < p1 (p0 < p1) to
 * the f32 at element ⌊row/R⌋·RS + (row mod R)·RL + pOff[tap] from byte `dst`; `x` the byte
 * address of the f64 input, `pOff` of an i32 table of depth entries.
 */
export const convGather = (): WasmFunction =>
  func('conv_gather', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [desc, x, dst, pOff, R, RS, RL, b0, b1, rowB, p0, p1] = prm as [number, number, number, number, number, number, number, number, number, number, number, number]
    const { l: g, load } = geometry(desc, local)
    const q = local('i32'), r = local('i32'), d = local('i32'), p = local('i32'), row0 = local('i32'), pad = local('f32')
    const target = add(get(d), mul(entry(pOff, get(p)), i32c(4)))
    const source = (x0: number): Code => add(get(x), mul(add(get(x0), entry(g.taps, get(p))), i32c(8)))
    return [
      load,
      set(pad, [get(desc), op.f32_load, 2, 4 * F.pad]),
      set(row0, mul(sub(get(b0), get(rowB)), mul(get(g.ho), get(g.wo)))),
      set(q, [get(row0), get(R), I32_DIV_U]),
      set(r, [get(row0), get(R), I32_REM_U]),
      windows(g, b0, b1, local, (x0, inside, iy0, ix0) => [
        set(d, add(get(dst), mul(add(mul(get(q), get(RS)), mul(get(r), get(RL))), i32c(4)))),
        ifElse(get(inside),
          doLoop(p, get(p0), get(p1), 1, [f32Store(target, demoteLoad(source(x0)))]),
          doLoop(p, get(p0), get(p1), 1, [
            ifElse(and(ltU(add(get(iy0), entry(g.ky, get(p))), get(g.h)), ltU(add(get(ix0), entry(g.kx, get(p))), get(g.w))),
              f32Store(target, demoteLoad(source(x0))),
              f32Store(target, get(pad))),
          ])),
        set(r, add(get(r), i32c(1))),
        when([get(r), get(R), op.i32_eq], [set(r, i32c(0)), set(q, add(get(q), i32c(1)))]),
      ]),
    ]
  })

/**
 * `conv_col2im(desc, src, ldcBytes, gx, b0, b1)`: for the rows of the examples b0 ≤ b < b1 in
 * order (row r's depth·f32 taps at `src + r·ldcBytes`, r counted from b0), gx[cell] += tap for
 * every tap inside the image, in tap order; `gx` the byte address of the f64 input gradient.
 */
export const convCol2im = (): WasmFunction =>
  func('conv_col2im', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [desc, src, ldc, gx, b0, b1] = prm as [number, number, number, number, number, number]
    const { l: g, load } = geometry(desc, local)
    const at = local('i32'), p = local('i32'), cell = local('i32')
    const addTap = (x0: number): Code => [
      set(cell, add(get(gx), mul(add(get(x0), entry(g.taps, get(p))), i32c(8)))),
      f64Store(get(cell), [f64Load(get(cell)), get(at), get(p), i32c(4), op.i32_mul, op.i32_add, op.f32_load, 2, 0, F64_PROMOTE_F32, op.f64_add]),
    ]
    return [
      load,
      set(at, get(src)),
      windows(g, b0, b1, local, (x0, inside, iy0, ix0) => [
        ifElse(get(inside),
          doLoop(p, i32c(0), get(g.depth), 1, addTap(x0)),
          doLoop(p, i32c(0), get(g.depth), 1, [
            when(and(ltU(add(get(iy0), entry(g.ky, get(p))), get(g.h)), ltU(add(get(ix0), entry(g.kx, get(p))), get(g.w))), addTap(x0)),
          ])),
        set(at, add(get(at), get(ldc))),
      ]),
    ]
  })

/**
 * `conv_pack_g(G, o, hw, b0, b1, rowB, dst, R, RS, RL, Q, QS, QL)`: the f64 gradient
 * G[b, oc, s] (byte address `G`, [n, o, hw]) of the examples b0 ≤ b < b1 to the f32 at element
 * ⌊row/R⌋·RS + (row mod R)·RL + ⌊oc/Q⌋·QS + (oc mod Q)·QL from byte `dst`, row = (b − rowB)·hw + s.
 */
export const convPackG = (): WasmFunction =>
  func('conv_pack_g', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [G, o, hw, b0, b1, rowB, dst, R, RS, RL, Q, QS, QL] = prm as [number, number, number, number, number, number, number, number, number, number, number, number, number]
    const b = local('i32'), oc = local('i32'), s = local('i32'), row = local('i32'), q = local('i32'), r = local('i32'), base = local('i32'), from = local('i32')
    return [
      forLoop(b, get(b0), get(b1), 1, [
        set(row, mul(sub(get(b), get(rowB)), get(hw))),
        forLoop(oc, i32c(0), get(o), 1, [
          set(base, add(get(dst), mul(add(mul([get(oc), get(Q), I32_DIV_U], get(QS)), mul([get(oc), get(Q), I32_REM_U], get(QL))), i32c(4)))),
          set(from, add(get(G), mul(mul(add(mul(get(b), get(o)), get(oc)), get(hw)), i32c(8)))),
          set(q, [get(row), get(R), I32_DIV_U]),
          set(r, [get(row), get(R), I32_REM_U]),
          forLoop(s, i32c(0), get(hw), 1, [
            f32Store(add(get(base), mul(add(mul(get(q), get(RS)), mul(get(r), get(RL))), i32c(4))), demoteLoad(add(get(from), mul(get(s), i32c(8))))),
            set(r, add(get(r), i32c(1))),
            when([get(r), get(R), op.i32_eq], [set(r, i32c(0)), set(q, add(get(q), i32c(1)))]),
          ]),
        ]),
      ]),
    ]
  })

/**
 * `conv_gather_bits(desc, x, dst, words, b0, b1, bad, img)`: the patch rows of the examples
 * b0 ≤ b < b1 as sign bits (1 for +1), row r (counted from b0) at byte dst + 8·words·r, in the
 * tap order of `packKernelBits` (gemmConv.ts): for each (ky, kx), the ⌈c/32⌉ u32 words of the
 * channels' bits (channel ic at bit ic mod 32 of word ⌊ic/32⌋; bits past c are 0), the row's last
 * u32 zero when their count is odd. XOR–popcount is blind to the order of the taps, so this is
 * the same product in every tap order. Per example, the input is first turned into a padded image of
 * channel words at byte `img` ((h + 2ph)·(w + 2pw)·⌈c/32⌉ u32; a padding cell has the
 * descriptor's padding bit in every channel), read once; each row is then a copy of kh runs of
 * kw·⌈c/32⌉ words. The i32 at `bad` is set to 1 if an input value is not ±1 (then the caller
 * takes the f32 path).
 */
export const convGatherBits = (): WasmFunction =>
  func('conv_gather_bits', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [desc, x, dst, words, b0, b1, bad, img] = prm as [number, number, number, number, number, number, number, number]
    const { l: g, load } = geometry(desc, local)
    const b = local('i32'), py = local('i32'), px = local('i32'), j = local('i32'), t = local('i32'), n = local('i32'), acc = local('i32'), src = local('i32')
    const at = local('i32'), cw = local('i32'), hp = local('i32'), wp = local('i32'), plane = local('i32'), xb = local('i32'), inside = local('i32'), iy = local('i32')
    const padBit = local('i32'), flag = local('i32'), v = local('f64'), d = local('i32'), q = local('i32'), oy = local('i32'), ox = local('i32'), ky = local('i32'), run = local('i32'), k = local('i32')
    // The channels of word j that exist: all 32 ones, or the low n bits.
    const mask = (count: Code): Code => [i32c(-1), [i32c(1), count, op.i32_shl, i32c(1), op.i32_sub], [count, i32c(32), op.i32_ge_s], op.select]
    const image: Code = doLoop(py, i32c(0), get(hp), 1, [
      set(iy, sub(get(py), get(g.ph))),
      doLoop(px, i32c(0), get(wp), 1, [
        set(inside, and(ltU(get(iy), get(g.h)), ltU(sub(get(px), get(g.pw)), get(g.w)))),
        doLoop(j, i32c(0), get(cw), 1, [
          set(n, sub(get(g.c), mul(get(j), i32c(32)))),
          ifElse(get(inside), [
            set(acc, i32c(0)),
            set(src, add(get(xb), mul(add(mul(add(mul(mul(get(j), i32c(32)), get(g.h)), get(iy)), get(g.w)), sub(get(px), get(g.pw))), i32c(8)))),
            forLoop(t, i32c(0), [get(n), i32c(32), get(n), i32c(32), op.i32_lt_s, op.select], 1, [
              set(v, f64Load(get(src))),
              set(flag, [get(flag), [get(v), f64c(1), op.f64_ne], [get(v), f64c(-1), op.f64_ne], op.i32_and, op.i32_or]),
              set(acc, [get(acc), [get(v), f64c(0), op.f64_gt], get(t), op.i32_shl, op.i32_or]),
              set(src, add(get(src), get(plane))),
            ]),
            i32Store(get(at), get(acc)),
          ], i32Store(get(at), [mask(get(n)), i32c(0), get(padBit), op.select])),
          set(at, add(get(at), i32c(4))),
        ]),
      ]),
    ])
    const rows: Code = doLoop(oy, i32c(0), get(g.ho), 1, [
      doLoop(ox, i32c(0), get(g.wo), 1, [
        set(q, get(d)),
        doLoop(ky, i32c(0), get(g.kh), 1, [
          set(src, add(get(img), mul(mul(add(mul(add(mul(get(oy), get(g.sh)), get(ky)), get(wp)), mul(get(ox), get(g.sw))), get(cw)), i32c(4)))),
          doLoop(k, i32c(0), get(run), 4, [i32Store(add(get(q), get(k)), i32Load(add(get(src), get(k))))]),
          set(q, add(get(q), get(run))),
        ]),
        // The row's padding to whole 64-bit words.
        forLoop(k, get(q), add(get(d), mul(get(words), i32c(8))), 4, [i32Store(get(k), i32c(0))]),
        set(d, add(get(d), mul(get(words), i32c(8)))),
      ]),
    ])
    return [
      load,
      set(padBit, [[get(desc), op.f32_load, 2, 4 * F.pad], F64_PROMOTE_F32, f64c(0), op.f64_gt]),
      set(flag, i32c(0)),
      set(d, get(dst)),
      set(cw, [add(get(g.c), i32c(31)), i32c(5), op.i32_shr_u]),
      set(hp, add(get(g.h), mul(get(g.ph), i32c(2)))),
      set(wp, add(get(g.w), mul(get(g.pw), i32c(2)))),
      set(plane, mul(mul(get(g.h), get(g.w)), i32c(8))),
      set(run, mul(mul(get(g.kw), get(cw)), i32c(4))),
      forLoop(b, get(b0), get(b1), 1, [
        set(xb, add(get(x), mul(mul(get(b), get(g.c)), get(plane)))),
        set(at, get(img)),
        image,
        rows,
      ]),
      i32Store(get(bad), get(flag)),
    ]
  })

/**
 * `unpack_pop(src, ldSrc, rows, cols, dst, ldDst, depth)`: a block of XOR–popcount counts c
 * (i32) to the float64 ±1 products depth − 2c, row r from `src + r·ldSrc` to `dst + r·ldDst`.
 */
export const unpackPop = (): WasmFunction =>
  func('unpack_pop', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (prm, local) => {
    const [src, ldSrc, rows, cols, dst, ldDst, depth] = prm as [number, number, number, number, number, number, number]
    const r = local('i32'), j = local('i32'), s = local('i32'), d = local('i32')
    return [
      forLoop(r, i32c(0), get(rows), 1, [
        set(s, add(get(src), mul(get(r), get(ldSrc)))),
        set(d, add(get(dst), mul(get(r), get(ldDst)))),
        forLoop(j, i32c(0), get(cols), 1, [
          f64Store(add(get(d), mul(get(j), i32c(8))), [sub(get(depth), mul(i32Load(add(get(s), mul(get(j), i32c(4)))), i32c(2))), op.f64_convert_i32_s]),
        ]),
      ]),
    ]
  })

/** `fill_zero(at, bytes)`: zeroes bytes [at, at + bytes), `at` and `bytes` multiples of 4. */
export const fillZero = (): WasmFunction =>
  func('fill_zero', ['i32', 'i32'], [], (prm, local) => {
    const [at, bytes] = prm as [number, number]
    const p = local('i32'), end = local('i32'), vend = local('i32')
    return [
      set(end, add(get(at), get(bytes))),
      set(vend, add(get(at), and(get(bytes), i32c(-16)))),
      forLoop(p, get(at), get(vend), 16, [vstore(get(p), vzero)]),
      forLoop(p, get(p), get(end), 4, [i32Store(get(p), i32c(0))]),
    ]
  })

/** The convolution's functions, assembled into the training module (`gemmModule`). */
export const convFunctions = (): WasmFunction[] => [convGather(), convCol2im(), convPackG(), convGatherBits(), unpackPop(), fillZero()]

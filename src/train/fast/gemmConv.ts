/**
 * Convolution on the GEMM module without a float64 patch matrix: the patches are gathered from
 * the NCHW input straight into the micro-kernel's f32 panels (or into sign bits when input,
 * kernel and padding are all ±1), the product runs in WebAssembly, and its result is read back
 * directly in NCHW order (forward), as the kernel gradient, or folded into the input gradient
 * (col2im). Every sum has the terms and the order of the reference's `spatial.conv2d` on the
 * same kernels (a sequential single-precision dot product per output element), so the rounding
 * bounds of the products apply unchanged; the ±1 × ±1 forward product is exact.
 *
 * Products as the reference forms them, with rows = n·ho·wo patch rows (b, oy, ox) and
 * depth = c·kh·kw taps (ic, ky, kx):
 * - forward: out[oc, row] = Σ_tap K[oc, tap]·patch[row, tap];
 * - kernel gradient: gK[oc, tap] = Σ_row g[oc, row]·patch[row, tap];
 * - input gradient: gPatch[row, tap] = Σ_oc g[oc, row]·K[oc, tap], then col2im.
 *
 * The data movement (gathers, col2im, packing of g) is WebAssembly (`emit-conv.ts`) working on
 * float64 copies of the operands in the kernels' memory, and each product is one job of calls
 * split by ranges of examples over the engine's threads (examples share no output, no patch
 * row and no input cell), except the kernel gradient's product, split by panels of its output.
 * Who computes an element never changes its value, so any thread count gives the same bits.
 */
import type { NDArray } from '../../interpreters/ndarray.js'
import type { ConvGeom } from '../../interpreters/reference/spatial.js'
import { convGeometry } from '../../interpreters/reference/spatial.js'
import { fresh } from '../../interpreters/reference/ops.js'
import type { Call } from '../../threads/jobs.js'
import { evenRanges } from '../../threads/jobs.js'
import type { GemmEngine } from './engine.js'
import { convDescBytes, writeConvDesc } from './emit-conv.js'
import { ceilTo, packPanels } from './panels.js'

type Pair = readonly [number, number]
/** Where results live (`MatrixProducts.alloc`: contents unspecified, every element is written here). */
type Alloc = (length: number) => Float64Array

/** Patch rows per chunk of the forward and input-gradient products (about half a megabyte of panels). */
const CHUNK_ROWS = 1024

/**
 * The forward product by XOR + popcount when input, kernel (and padding, if any) are ±1; false
 * otherwise (nothing of `out` written). One job: each part gathers the sign bits of a range of
 * examples (`conv_gather_bits`, through a padded image of channel words per example, flagging any
 * input value that is not ±1), multiplies them by the kernel's bits packed in the same tap order
 * (`packKernelBits`; `bitgemm`) and writes depth − 2·popcount into the NCHW result (`unpack_pop`).
 */
const signConv = (e: GemmEngine, x: NDArray, k: NDArray, g: ConvGeom, padValue: number, out: Float64Array): boolean => {
  if ((g.ph > 0 || g.pw > 0) && padValue !== 1 && padValue !== -1) return false
  if (Math.abs(x.data[0]!) !== 1 || Math.abs(k.data[0]!) !== 1) return false
  const depth = g.c * g.kh * g.kw
  const hw = g.ho * g.wo
  const cw = Math.ceil(g.c / 32)
  const words = Math.ceil((g.kh * g.kw * cw) / 2)
  // Bit operations count as multiply-adds for the split threshold, as in the matrix products.
  const ranges = exampleRanges(e, g, out.length * words * 64)
  const m = layout()
  const desc = m.take(convDescBytes(depth))
  const aAt = m.take(8 * words * g.o)
  const xAt = m.take(8 * x.data.length)
  const outAt = m.take(8 * out.length)
  const badAt = m.take(4 * ranges.length)
  const imageBytes = 4 * (g.h + 2 * g.ph) * (g.w + 2 * g.pw) * cw
  const scratch = ranges.map(([b0, b1]) => ({ b: m.take(8 * words * (b1 - b0) * hw), c: m.take(4 * g.o * (b1 - b0) * hw), img: m.take(imageBytes) }))
  e.ensure(m.end())
  if (!packKernelBits(e.u32(), aAt / 4, k.data, g, words)) return false
  writeConvDesc(e.buffer(), desc, g, padValue)
  e.f64().set(x.data, xAt / 8)
  e.run(ranges.map(([b0, b1], t): Call[] => {
    const { b, c, img } = scratch[t]!
    const rows = (b1 - b0) * hw
    // Σ ±1·±1 = depth − 2·popcount(a XOR b); the part's C is [o, rows].
    const calls: Call[] = [['conv_gather_bits', desc, xAt, b, words, b0, b1, badAt + 4 * t, img], ['bitgemm', aAt, b, c, g.o, rows, words]]
    for (let i = b0; i < b1; i++) calls.push(['unpack_pop', c + 4 * (i - b0) * hw, 4 * rows, g.o, hw, outAt + 8 * i * g.o * hw, 8 * hw, depth])
    return calls
  }))
  if (new Int32Array(e.buffer(), badAt, ranges.length).some((v) => v !== 0)) return false
  out.set(e.f64().subarray(outAt / 8, outAt / 8 + out.length))
  return true
}

/**
 * The ±1 kernel [o, c, kh, kw] as rows of sign bits (1 for +1) at u32 index `at`, `words` 64-bit
 * words per output channel, in `conv_gather_bits`' tap order: for each (ky, kx), ⌈c/32⌉ words of
 * channel bits, bits past c and words past the taps 0. False if a value is not ±1.
 */
export const packKernelBits = (dst: Uint32Array, at: number, k: Float64Array, g: Pick<ConvGeom, 'o' | 'c' | 'kh' | 'kw'>, words: number): boolean => {
  const cw = Math.ceil(g.c / 32)
  const taps = g.kh * g.kw
  let bad = false
  for (let oc = 0; oc < g.o; oc++) {
    const row = at + 2 * words * oc
    dst.fill(0, row, row + 2 * words)
    for (let ic = 0; ic < g.c; ic++)
      for (let tap = 0; tap < taps; tap++) {
        const v = k[(oc * g.c + ic) * taps + tap]!
        bad ||= v !== 1 && v !== -1
        if (v > 0) dst[row + tap * cw + (ic >>> 5)]! |= 1 << (ic & 31)
      }
  }
  return !bad
}

/** Byte offsets handed out in order, each 16-byte aligned (a product's layout in the memory). */
const layout = () => {
  let end = 0
  return {
    take: (bytes: number): number => {
      const at = end
      end = ceilTo(end + bytes, 16)
      return at
    },
    end: (): number => end,
  }
}

/** An i32 table at byte `at`. */
const writeTable = (buffer: ArrayBufferLike, at: number, values: Int32Array): void => new Int32Array(buffer, at, values.length).set(values)

/** Chunks of at most `per` examples of [b0, b1), in order. */
const chunks = (b0: number, b1: number, per: number): [number, number][] => {
  const out: [number, number][] = []
  for (let c = b0; c < b1; c += per) out.push([c, Math.min(b1, c + per)])
  return out
}

/** The examples of each part (at most one part per example). */
const exampleRanges = (e: GemmEngine, g: ConvGeom, macs: number): [number, number][] => evenRanges(g.n, Math.min(e.partsFor(macs), g.n))

/**
 * `spatial.conv2d` on the engine: K·patchesᵀ in f32 (or bits), written NCHW. One job: each part
 * takes a range of examples and, by chunks of about CHUNK_ROWS patch rows in its own panels,
 * gathers them (`conv_gather`), multiplies (`gemm`) and widens its outputs into the NCHW result
 * (`unpack_f32`); every output is the same dot product whichever part or chunk computes it.
 */
export const convForward = (e: GemmEngine, alloc: Alloc = fresh) => (x: NDArray, k: NDArray, stride: Pair, padding: Pair, padValue: number): NDArray => {
  const g = convGeometry(x, k, stride, padding)
  const depth = g.c * g.kh * g.kw
  const hw = g.ho * g.wo
  const out = alloc(g.n * g.o * hw)
  const shape = [g.n, g.o, g.ho, g.wo]
  if (out.length === 0 || depth === 0) return { shape, data: out.fill(0) }
  if (e.bits && signConv(e, x, k, g, padValue, out)) return { shape, data: out }
  const { mr, nr, unroll } = e.blocking
  const ranges = exampleRanges(e, g, out.length * depth)
  const per = Math.max(1, Math.floor(CHUNK_ROWS / hw))
  const most = Math.min(per, Math.max(...ranges.map(([b0, b1]) => b1 - b0)))
  const mPanels = Math.ceil(g.o / mr)
  const panels = Math.ceil((most * hw) / nr)
  const kpad = ceilTo(depth, unroll)
  const ldc = panels * nr
  const m = layout()
  const desc = m.take(convDescBytes(depth))
  const pOff = m.take(4 * depth)
  const aAt = m.take(4 * mPanels * mr * kpad)
  const xAt = m.take(8 * x.data.length)
  const outAt = m.take(8 * out.length)
  const scratch = ranges.map(() => ({ b: m.take(4 * panels * nr * kpad), c: m.take(4 * mPanels * mr * ldc) }))
  e.ensure(m.end())
  writeConvDesc(e.buffer(), desc, g, padValue)
  writeTable(e.buffer(), pOff, Int32Array.from({ length: depth }, (_, p) => p * nr))
  packPanels(e.f32(), aAt / 4, { data: k.data, rs: depth, ds: 1 }, g.o, depth, mr, kpad)
  e.f64().set(x.data, xAt / 8)
  e.run(ranges.map(([b0, b1], t): Call[] => {
    const { b, c } = scratch[t]!
    // The depth padding of the panels must read 0 (the rows past a chunk only feed unread outputs).
    const calls: Call[] = kpad !== depth ? [['fill_zero', b, 4 * panels * nr * kpad]] : []
    for (const [c0, c1] of chunks(b0, b1, per)) {
      calls.push(['conv_gather', desc, xAt, b, pOff, nr, kpad * nr, 1, c0, c1, c0, 0, depth])
      calls.push(['gemm', aAt, b, c, mPanels, Math.ceil(((c1 - c0) * hw) / nr), kpad, ldc * 4])
      for (let i = c0; i < c1; i++) calls.push(['unpack_f32', c + 4 * (i - c0) * hw, ldc * 4, g.o, hw, outAt + 8 * i * g.o * hw, 8 * hw])
    }
    return calls
  }))
  out.set(e.f64().subarray(outAt / 8, outAt / 8 + out.length))
  return { shape, data: out }
}

/**
 * The calls that pack g of examples [c0, c1) (f64 [n, o, hw] at byte `gAt`) into the kernel
 * gradient's A panels at byte `a`: panels of mr output channels, patch rows (counted from c0)
 * major, depth `kpad`. Where the panels are whole (o a multiple of mr) and an example's hw rows
 * a multiple of 4, each example is a row-major [o, hw] block that the GEMM's own SIMD packer
 * `pack_rm<mr>` transposes four by four; otherwise `conv_pack_g`, one value at a time. Both
 * round each value to f32 to nearest: the same panels.
 */
const packGByChannels = (e: GemmEngine, gAt: number, g: ConvGeom, c0: number, c1: number, a: number, kpad: number): Call[] => {
  const hw = g.ho * g.wo
  const { mr } = e.blocking
  if (g.o % mr !== 0 || hw % 4 !== 0 || mr % 4 !== 0) return [['conv_pack_g', gAt, g.o, hw, c0, c1, c0, a, 1, mr, 0, mr, kpad * mr, 1]]
  return Array.from({ length: c1 - c0 }, (_, i): Call => [`pack_rm${mr}`, gAt + 8 * (c0 + i) * g.o * hw, hw, g.o / mr, hw, a + 4 * i * hw * mr, kpad])
}

/**
 * The calls that pack g of examples [c0, c1) into the input gradient's A panels at byte `a`:
 * panels of mr patch rows (counted from c0), output channel major, depth `kpad`. Where an
 * example's hw rows fill whole panels, its [o, hw] block is depth-major for them and the GEMM's
 * SIMD packer `pack_dm<mr>` copies it; otherwise `conv_pack_g`. The same panels.
 */
const packGByRows = (e: GemmEngine, gAt: number, g: ConvGeom, c0: number, c1: number, a: number, kpad: number): Call[] => {
  const hw = g.ho * g.wo
  const { mr } = e.blocking
  if (hw % mr !== 0 || mr % 4 !== 0) return [['conv_pack_g', gAt, g.o, hw, c0, c1, c0, a, mr, kpad * mr, 1, 1, mr, 0]]
  return Array.from({ length: c1 - c0 }, (_, i): Call => [`pack_dm${mr}`, gAt + 8 * (c0 + i) * g.o * hw, hw, hw / mr, g.o, a + 4 * i * hw * kpad, kpad])
}

/** f32 values of a kernel-gradient chunk's panels (g and patches: about half a megabyte, in L2). */
const KGRAD_CHUNK = 1 << 17

/**
 * The kernel gradient gK[oc, tap] = Σ_row g[oc, row]·patch[row, tap] (f32 panels), taken over
 * chunks of examples in row order: per chunk the panels of g and of the patches are filled
 * (about KGRAD_CHUNK values, which stay in cache) and multiplied into C, the first chunk by
 * `gemm`, later ones by `gemm_acc` (C's f32 sums carried on), so every element is the one
 * sequential sum over all patch rows. One job: each part takes a range of tap panels, packs g
 * itself and gathers only its taps. `xAt`, `gAt`: the staged input and output gradient (f64).
 */
const kernelGradient = (e: GemmEngine, m: ReturnType<typeof layout>, desc: number, xAt: number, gAt: number, g: ConvGeom): Float64Array => {
  const depth = g.c * g.kh * g.kw
  const hw = g.ho * g.wo
  const { mr, nr, unroll } = e.blocking
  const mPanels = Math.ceil(g.o / mr)
  const nPanels = Math.ceil(depth / nr)
  const ldc = nPanels * nr
  const per = Math.max(1, Math.floor(KGRAD_CHUNK / (hw * (mPanels * mr + nPanels * nr))))
  const parts = evenRanges(nPanels, Math.min(e.partsFor(g.o * g.n * hw * depth), nPanels)).filter(([j0, j1]) => j1 > j0)
  const steps = chunks(0, g.n, per).map(([c0, c1]) => ({ c0, c1, kpad: ceilTo((c1 - c0) * hw, unroll) }))
  const kmax = Math.max(...steps.map((s) => s.kpad))
  // The tap tables of the two chunk depths (the last chunk may be shorter), panels counted from 0.
  const tables = new Map([...new Set(steps.map((s) => s.kpad))].map((kpad) => [kpad, m.take(4 * depth)]))
  const cAt = m.take(4 * mPanels * mr * ldc)
  const scratch = parts.map(([j0, j1]) => ({ a: m.take(4 * mPanels * mr * kmax), b: m.take(4 * (j1 - j0) * nr * kmax) }))
  e.ensure(m.end())
  for (const [kpad, at] of tables) writeTable(e.buffer(), at, Int32Array.from({ length: depth }, (_, p) => ((p / nr) | 0) * kpad * nr + (p % nr)))
  e.run(parts.map(([j0, j1], t): Call[] => {
    const { a, b } = scratch[t]!
    const taps = [j0 * nr, Math.min(depth, j1 * nr)] as const
    return steps.flatMap(({ c0, c1, kpad }, i): Call[] => [
      // Padded depth (rows past the chunk's) must read 0 in both panels; lanes past o or depth only feed unread outputs.
      ...(kpad !== (c1 - c0) * hw ? [['fill_zero', a, 4 * mPanels * mr * kpad] as Call, ['fill_zero', b, 4 * (j1 - j0) * nr * kpad] as Call] : []),
      // A: panels of mr output channels, the chunk's patch rows major; B: this part's panels of nr taps.
      ...packGByChannels(e, gAt, g, c0, c1, a, kpad),
      ['conv_gather', desc, xAt, b - 4 * j0 * nr * kpad, tables.get(kpad)!, 1, nr, 0, c0, c1, c0, taps[0], taps[1]],
      [i === 0 ? 'gemm' : 'gemm_acc', a, b, cAt + 4 * j0 * nr, mPanels, j1 - j0, kpad, ldc * 4],
    ])
  }))
  const f32 = e.f32()
  const gk = new Float64Array(g.o * depth)
  for (let oc = 0, o = 0; oc < g.o; oc++) for (let p = 0; p < depth; p++, o++) gk[o] = f32[cAt / 4 + oc * ldc + p]!
  return gk
}

/**
 * The input gradient: gPatch = gᵀ·K in f32 panels, folded back into NCHW by col2im (float64
 * adds in the reference's order). One job: each part takes a range of examples (which share no
 * input cell) and, by chunks, packs its g rows (`conv_pack_g`), multiplies and folds (`conv_col2im`).
 */
const inputGradient = (e: GemmEngine, m: ReturnType<typeof layout>, desc: number, gAt: number, k: NDArray, g: ConvGeom, alloc: Alloc): Float64Array => {
  const depth = g.c * g.kh * g.kw
  const hw = g.ho * g.wo
  const image = g.c * g.h * g.w
  const { mr, nr, unroll } = e.blocking
  const ranges = exampleRanges(e, g, g.n * hw * g.o * depth)
  const per = Math.max(1, Math.floor(CHUNK_ROWS / hw))
  const most = Math.min(per, Math.max(...ranges.map(([b0, b1]) => b1 - b0)))
  const mPanels = Math.ceil((most * hw) / mr)
  const nPanels = Math.ceil(depth / nr)
  const kpad = ceilTo(g.o, unroll)
  const ldc = nPanels * nr
  const kAt = m.take(4 * nPanels * nr * kpad)
  const gxAt = m.take(8 * g.n * image)
  const scratch = ranges.map(() => ({ a: m.take(4 * mPanels * mr * kpad), c: m.take(4 * mPanels * mr * ldc) }))
  e.ensure(m.end())
  packPanels(e.f32(), kAt / 4, { data: k.data, rs: 1, ds: depth }, depth, g.o, nr, kpad)
  e.run(ranges.map(([b0, b1], t): Call[] => {
    const { a, c } = scratch[t]!
    const calls: Call[] = [['fill_zero', gxAt + 8 * b0 * image, 8 * (b1 - b0) * image]]
    if (kpad !== g.o) calls.push(['fill_zero', a, 4 * mPanels * mr * kpad])
    for (const [c0, c1] of chunks(b0, b1, per)) {
      // A: panels of mr patch rows (counted from c0), output channel major.
      calls.push(...packGByRows(e, gAt, g, c0, c1, a, kpad))
      calls.push(['gemm', a, kAt, c, Math.ceil(((c1 - c0) * hw) / mr), nPanels, kpad, ldc * 4])
      calls.push(['conv_col2im', desc, c, ldc * 4, gxAt, c0, c1])
    }
    return calls
  }))
  const gx = alloc(g.n * image)
  gx.set(e.f64().subarray(gxAt / 8, gxAt / 8 + g.n * image))
  return gx
}

/** `spatial.conv2dBackward` on the engine: kernel gradient, and the input gradient when needed (else zeros). */
export const convBackward = (e: GemmEngine, alloc: Alloc = fresh) => (
  x: NDArray, k: NDArray, gOut: NDArray, stride: Pair, padding: Pair, padValue: number, needInput: boolean,
): { readonly input: NDArray; readonly kernel: NDArray } => {
  const g = convGeometry(x, k, stride, padding)
  const depth = g.c * g.kh * g.kw
  const rows = g.n * g.ho * g.wo
  if (rows === 0 || depth === 0 || g.o === 0)
    return { input: { shape: x.shape, data: new Float64Array(x.data.length) }, kernel: { shape: k.shape, data: new Float64Array(k.data.length) } }
  const m = layout()
  const desc = m.take(convDescBytes(depth))
  const xAt = m.take(8 * x.data.length)
  const gAt = m.take(8 * gOut.data.length)
  e.ensure(m.end())
  writeConvDesc(e.buffer(), desc, g, padValue)
  e.f64().set(x.data, xAt / 8)
  e.f64().set(gOut.data, gAt / 8)
  const gk = kernelGradient(e, m, desc, xAt, gAt, g)
  const gx = needInput ? inputGradient(e, m, desc, gAt, k, g, alloc) : alloc(x.data.length).fill(0)
  return { input: { shape: x.shape, data: gx }, kernel: { shape: k.shape, data: gk } }
}

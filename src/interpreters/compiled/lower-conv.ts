/**
 * Lowering rules for convolutions: the setup of a binary convolution (its input packed
 * channels-last and padded, its kernel packed), and the bits of a binarized convolution through
 * the fused epilogue — from ±1 inputs (`BinaryConv`), or from real 8-bit inputs (lower-bytes.ts).
 */
import type { Binarize, Conv2d } from '../../dsl/node.js'
import type { UnitFn } from './fuseEpilogue.js'
import { DOT_LIMIT, sampleTables, signTables } from './fuseEpilogue.js'
import type { BinaryConv } from './kernels.js'
import { paddingMaskGrid, rowBytes, validCounts } from './layout.js'
import { realConvBits } from './lower-bytes.js'
import type { BitsLoc, LowerCtx } from './lower-context.js'
import { packedConvWeights } from './weights.js'
import { byteThresholds, packConvTables, tablesFit } from './conv-tables.js'
import { packPatchWeights, patchPays, patchWords, popcountThresholds, quadThresholds } from './patches.js'

/** A binary convolution's kernel without output and epilogue, and its sizes. */
export interface ConvSetup {
  readonly kernel: Omit<BinaryConv, 'out' | 'epilogue' | 'label'>
  readonly c: number
  readonly kh: number
  readonly kw: number
  readonly o: number
  readonly ho: number
  readonly wo: number
}

/**
 * A binary convolution's kernel (without output and epilogue): the input packed channels-last,
 * padded into a larger grid when the convolution pads (±1: the pad's bits; 0: zeros and a mask).
 */
export const convSetup = (ctx: LowerCtx, p: Conv2d): ConvSetup | string => {
  const x = p.input
  if (x.type.dtype !== 'binary' || x.type.shape[0] !== 'batch') return 'the convolution input is not a per-example binary tensor'
  if (p.padValue !== 1 && p.padValue !== -1 && p.padValue !== 0) return `a padding value of ${p.padValue} is neither ±1 nor 0`
  const ws = ctx.weightSource(p.kernel)
  if (ws === undefined) return 'the kernel is neither constant nor a binarized constant'
  const wb = ctx.wordBits
  const [, c, h, w] = x.type.shape as [unknown, number, number, number]
  const [o, , kh, kw] = p.kernel.type.shape as [number, number, number, number]
  const [, , ho, wo] = p.type.shape as [unknown, number, number, number]
  const [ph, pw] = p.padding
  const name = ctx.label(p)
  const xb = ctx.bits(x)
  let input = xb.buffer
  const hp = h + 2 * ph
  const wp = w + 2 * pw
  let mask: BinaryConv['mask']
  if (ph > 0 || pw > 0) {
    input = ctx.buffer(`${name} padded input`, 'bits', true, hp * wp * rowBytes(c, wb))
    ctx.step({ _tag: 'Kernel', kernel: { _tag: 'PadBits', label: name, src: xb.buffer, dst: input, c, h, w, ph, pw, ones: p.padValue === 1 } })
    if (p.padValue === 0) {
      const grid = paddingMaskGrid(c, h, w, ph, pw, wb)
      const valid = validCounts({ c, h, w, kh, kw, sh: p.stride[0], sw: p.stride[1], ph, pw, ho, wo })
      mask = {
        mask: ctx.buffer(`${name} padding mask`, 'bits', false, 4 * grid.length, grid),
        valid: ctx.buffer(`${name} valid inputs`, 'i32', false, 4 * valid.length, valid),
      }
    }
  }
  // Few channels: the WebAssembly kernel reads whole patches (patches.ts) of the constant kernel.
  const patches = wb === 64 && ws.kind === 'static' && patchPays(c, kh, kw)
    ? ctx.buffer(`${name} kernel patches`, 'bits', false, 8 * o * patchWords(c, kh, kw), packPatchWeights(ws.values, o, c, kh, kw))
    : undefined
  const kernel = {
    _tag: 'BinaryConv' as const, x: input, w: packedConvWeights(ctx, ws, name, o, c, kh, kw), c, hp, wp, o, kh, kw,
    sh: p.stride[0], sw: p.stride[1], ho, wo, ...(mask === undefined ? {} : { mask }), ...(patches === undefined ? {} : { patches }),
  }
  return { kernel, c, kh, kw, o, ho, wo }
}

/**
 * The bits of binarize `b` of a convolution `p` followed by per-channel functions `units`
 * (a_j(dot)), channels-last, through one kernel with the fused epilogue; or why not. A real
 * input goes through the 8-bit choice (mode network only); `fallback` then gives the step that
 * writes the same bits when the input is not 8-bit.
 */
export const convBits = (ctx: LowerCtx, p: Conv2d, units: readonly UnitFn[], b: Binarize, name: string): BitsLoc | string => {
  const deterministic = !ctx.opts.sampling || b.noise.family === 'none'
  if (p.input.type.dtype !== 'binary') return realConvBits(ctx, p, units, deterministic, name)
  const conv = convSetup(ctx, p)
  if (typeof conv === 'string') return conv
  const k = conv.c * conv.kh * conv.kw
  if (k > DOT_LIMIT) return `${k} inputs exceed the integer kernels' range`
  const tables = deterministic ? signTables(units, { min: -k, max: k }) : sampleTables(units, { min: -k, max: k }, b.noise)
  if (typeof tables === 'string') return tables
  const out = ctx.buffer(`${name} bits`, 'bits', true, conv.ho * conv.wo * rowBytes(conv.o, ctx.wordBits))
  // A small patch of constant weights: byte lookup tables and byte thresholds (conv-tables.ts).
  const ws = ctx.weightSource(p.kernel)
  if (ctx.wordBits === 64 && ws?.kind === 'static' && conv.kernel.mask === undefined && tables.kind === 'sign' && tablesFit(conv.o, conv.c, conv.kh, conv.kw)) {
    const { patches: _, ...kernel } = conv.kernel
    const packed = packConvTables(ws.values, conv.o, conv.c, conv.kh, conv.kw)
    const t = ctx.buffer(`${name} lookup tables`, 'bits', false, packed.length, new Int32Array(packed.buffer))
    const thresholds = byteThresholds(popcountThresholds(tables.thresholds, k), conv.o)
    const th = ctx.buffer(`${name} byte thresholds`, 'bits', false, thresholds.length, new Int32Array(thresholds.buffer))
    ctx.step({ _tag: 'Kernel', kernel: { ...kernel, label: name, out, epilogue: { kind: 'sign', thresholds: th }, tables: t } })
    return { buffer: out, geometry: { form: 'spatial', c: conv.o, h: conv.ho, w: conv.wo }, width: conv.o }
  }
  // The patch kernel without a mask tests the popcount itself (patches.ts).
  const byPopcount = conv.kernel.patches !== undefined && conv.kernel.mask === undefined && tables.kind === 'sign'
  const epilogue = ctx.epilogueOf(byPopcount ? { kind: 'sign', thresholds: quadThresholds(popcountThresholds(tables.thresholds, k)) } : tables, name, b, conv.o * conv.ho * conv.wo)
  ctx.step({ _tag: 'Kernel', kernel: { ...conv.kernel, label: name, out, epilogue } })
  return { buffer: out, geometry: { form: 'spatial', c: conv.o, h: conv.ho, w: conv.wo }, width: conv.o }
}

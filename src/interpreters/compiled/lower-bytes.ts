/**
 * The 8-bit input choice: a real first dense layer whose inputs turn out to be
 * integers in [0, 255] is an exact integer product of bytes and binary weights, decided per run
 * by a test kernel that packs the input and reports whether it is 8-bit (`Choice` steps).
 *
 * - Dense: the input rows as bit-planes (`PackPlanes` → `PlaneDense`) or bytes (`PackBytes` →
 *   `ByteDense`, WebAssembly with constant weights; with nibble lookup tables up to 4368 inputs).
 *
 * A real first convolution needs no choice step: `RealConv` computes the reference's float64 sums
 * (below), for 8-bit pixels and scaled ones alike, and takes an exact int16 path by itself, per
 * example, when the values are integers in [−255, 255] (realconv-grid.ts).
 */
import type { Conv2d } from '../../dsl/node.js'
import type { UnitFn } from './fuseEpilogue.js'
import { floatSignIntervals } from './epilogue-float.js'
import type { Epilogue, Kernel } from './kernels.js'
import { bytesPerExample, bytesRow, NIBBLE_LIMIT, nibbleTablesBytes, packByteMasks, packNibblePatterns, planesBytes, rowBytes } from './layout.js'
import type { BitsLoc, LowerCtx } from './lower-context.js'
import { gridLayout, intPathFits, openSides } from './realconv-grid.js'
import { quadThresholds } from './patches.js'
import { TILE_ROWS } from './kernels-wasm/bytes-nibbles.js'
import type { WeightSource } from './weights.js'

/** The 8-bit-input kernels of a dense layer: a packing test and the product (bit-planes, or bytes with masks). */
/** `thresholds`: the (lo, span) pairs of a `sign` epilogue, regrouped by quads for the nibble kernel's vector test. */
export const eightBitKernels = (ctx: LowerCtx, ws: WeightSource, name: string, x: number, k: number, n: number, out: number, epilogue: Epilogue, bitWeights: number, thresholds?: Int32Array): { readonly test: Kernel; readonly product: Kernel } => {
  if (ctx.opts.eightBit === 'bytes' && ws.kind === 'static') {
    const bytes = ctx.buffer(`${name} input bytes`, 'bits', true, bytesPerExample(k))
    const w = ctx.buffer(`${name} weight masks`, 'bits', false, n * bytesRow(k), packByteMasks(ws.values, k, n))
    const patterns = packNibblePatterns(ws.values, k, n)
    const nibbles =
      k <= NIBBLE_LIMIT
        ? {
            patterns: ctx.buffer(`${name} weight nibble patterns`, 'bits', false, patterns.byteLength, patterns),
            // Each row's tables are built just before its products read them: one tile's per thread.
            tables: ctx.buffer(`${name} input nibble tables`, 'bits', 'perThread', TILE_ROWS * nibbleTablesBytes(k)),
            ...(epilogue.kind === 'sign' && thresholds !== undefined ? { quads: quadBuffer(ctx, name, thresholds) } : {}),
          }
        : undefined
    return {
      test: { _tag: 'PackBytes', label: name, x, bytes, k },
      product: { _tag: 'ByteDense', label: name, bytes, w, out, k, n, epilogue, ...(nibbles === undefined ? {} : { nibbles }) },
    }
  }
  const planes = ctx.buffer(`${name} input planes`, 'bits', true, planesBytes(k, ctx.wordBits))
  return {
    test: { _tag: 'PackPlanes', label: name, x, planes, k },
    product: { _tag: 'PlaneDense', label: name, planes, w: bitWeights, out, k, n, epilogue },
  }
}

/** The sign thresholds by quads, padded to whole groups of 16 units (the kernel reads four quads per group). */
const quadBuffer = (ctx: LowerCtx, name: string, thresholds: Int32Array): number => {
  const quads = quadThresholds(thresholds)
  const padded = new Int32Array(32 * Math.ceil(quads.length / 32))
  padded.set(quads)
  return ctx.buffer(`${name} thresholds by quads`, 'i32', false, 4 * padded.length, padded)
}

/**
 * The channels-last bits sign(a_j(conv(x))) of a real-input convolution with constant binary
 * weights: `RealConv`, the reference's float64 sums (exact for any input) and the float sign
 * epilogue, with the ±1 weights for its int16 path when that path can apply (the WebAssembly
 * kernel checks the values per example). Only the mode rule (`deterministic`); a sampled
 * binarize has no kernel here yet.
 */
export const realConvBits = (ctx: LowerCtx, p: Conv2d, units: readonly UnitFn[], deterministic: boolean, name: string): BitsLoc | string => {
  const x = p.input
  if (x.type.shape[0] !== 'batch') return 'the convolution input is not per-example'
  if (!deterministic) return 'a sampled binarize of a real convolution has no kernel'
  const ws = ctx.weightSource(p.kernel)
  if (ws === undefined || ws.kind !== 'static') return 'the kernel of a real convolution is not constant'
  const [, c, h, w] = x.type.shape as [unknown, number, number, number]
  const [o, , kh, kw] = p.kernel.type.shape as [number, number, number, number]
  const [, , ho, wo] = p.type.shape as [unknown, number, number, number]
  const [ph, pw] = p.padding
  const taps = c * kh * kw
  const positions = ho * wo
  const xf = ctx.f64(x)
  const out = ctx.buffer(`${name} bits`, 'bits', true, positions * rowBytes(o, ctx.wordBits))
  const geometry = { c, kh, kw, sh: p.stride[0], sw: p.stride[1], ph, pw, ho, wo }
  const scratch = gridLayout({ ...geometry, ih: h, iw: w, o, pad: p.padValue })
  // The float kernel: weights and thresholds by pairs of channels (lane 1 of an odd o: w 0, never set).
  const pairs = Math.ceil(o / 2)
  const wPairs = new Float64Array(pairs * taps * 2)
  const tPairs = new Float64Array(pairs * 4)
  const intervals = floatSignIntervals(units)
  for (let j = 0; j < 2 * pairs; j++) {
    const [q, lane] = [j >> 1, j & 1]
    for (let t = 0; t < taps; t++) wPairs[(q * taps + t) * 2 + lane] = j < o ? ws.values[j * taps + t]! : 0
    tPairs[4 * q + lane] = j < o ? intervals[2 * j]! : Infinity
    tPairs[4 * q + 2 + lane] = j < o ? intervals[2 * j + 1]! : -Infinity
  }
  ctx.step({
    _tag: 'Kernel',
    kernel: {
      _tag: 'RealConv', label: name, x: xf.buffer,
      // One example's grids per thread: each example fills them before it reads them.
      grid: scratch.bytes > 0 ? ctx.buffer(`${name} padded input`, 'f64', 'perThread', scratch.bytes) : xf.buffer,
      w: ctx.buffer(`${name} weights`, 'f64', false, 8 * wPairs.length, wPairs),
      thresholds: ctx.buffer(`${name} float thresholds`, 'f64', false, 8 * tPairs.length, tPairs),
      out, ...geometry, ih: h, iw: w, o, pad: p.padValue,
      ...(intPathFits({ ...geometry, ih: h, iw: w, o, pad: p.padValue }) && ctx.wordBits === 64
        ? {
            signs: Int8Array.from(ws.values, (v) => (v >= 0 ? 1 : -1)),
            open: openSides({ c, kh, kw }, intervals),
            u8: ctx.buffer(`${name} input uint8`, 'bits', true, bytesRow(c * h * w)),
          }
        : {}),
    },
  })
  return { buffer: out, geometry: { form: 'spatial', c: o, h: ho, w: wo }, width: o }
}

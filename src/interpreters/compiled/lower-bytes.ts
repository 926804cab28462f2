/**
 * The 8-bit input choice: a real first layer (dense or convolution) whose inputs turn out to be
 * integers in [0, 255] is an exact integer product of bytes and binary weights, decided per run
 * by a test kernel that packs the input and reports whether it is 8-bit (`Choice` steps).
 *
 * - Dense: the input rows as bit-planes (`PackPlanes` → `PlaneDense`) or bytes (`PackBytes` →
 *   `ByteDense`, WebAssembly with constant weights).
 * - Convolution: the patches under the kernel as byte rows (`PackPatches`, im2col) and
 *   `ByteDense` over all positions, writing channels-last bits; otherwise a float64 step that
 *   runs the reference's convolution and the same per-channel functions.
 */
import type { Conv2d } from '../../dsl/node.js'
import type { UnitFn } from './epilogue.js'
import { DOT_LIMIT, signTables } from './epilogue.js'
import { conv2dInto } from './float-steps.js'
import type { Epilogue, Kernel } from './kernels.js'
import { bitOf, bytesPerExample, bytesRow, packByteMasks, packConvByteMasks, planesBytes, rowBytes, rowWords32, wordOf } from './layout.js'
import type { BitsLoc, LowerCtx } from './lower-context.js'
import type { WeightSource } from './weights.js'

/** The 8-bit-input kernels of a dense layer: a packing test and the product (bit-planes, or bytes with masks). */
export const eightBitKernels = (ctx: LowerCtx, ws: WeightSource, name: string, x: number, k: number, n: number, out: number, epilogue: Epilogue, bitWeights: number): { readonly test: Kernel; readonly product: Kernel } => {
  if (ctx.opts.eightBit === 'bytes' && ws.kind === 'static') {
    const bytes = ctx.buffer(`${name} input bytes`, 'bits', true, bytesPerExample(k))
    const w = ctx.buffer(`${name} weight masks`, 'bits', false, n * bytesRow(k), packByteMasks(ws.values, k, n))
    return {
      test: { _tag: 'PackBytes', label: name, x, bytes, k },
      product: { _tag: 'ByteDense', label: name, bytes, w, out, k, n, epilogue },
    }
  }
  const planes = ctx.buffer(`${name} input planes`, 'bits', true, planesBytes(k, ctx.wordBits))
  return {
    test: { _tag: 'PackPlanes', label: name, x, planes, k },
    product: { _tag: 'PlaneDense', label: name, planes, w: bitWeights, out, k, n, epilogue },
  }
}

/**
 * The channels-last bits sign(a_j(conv(x))) of a real-input convolution with constant binary
 * weights: a choice between the 8-bit patches product and the float64 reference. Only the mode
 * rule (`deterministic`); a sampled binarize has no kernel here yet.
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
  const padded = ph > 0 || pw > 0
  if (padded && !(Number.isInteger(p.padValue) && p.padValue >= 0 && p.padValue <= 255)) return `a padding value of ${p.padValue} is not an 8-bit integer`
  const taps = c * kh * kw
  if (255 * taps > DOT_LIMIT) return `${taps} inputs exceed the integer kernels' range`
  const wb = ctx.wordBits
  const positions = ho * wo
  const xf = ctx.f64(x)
  const bytes = ctx.buffer(`${name} input patches`, 'bits', true, positions * bytesPerExample(taps))
  const weights = ctx.buffer(`${name} weight masks`, 'bits', false, o * bytesRow(taps), packConvByteMasks(ws.values, o, taps))
  const tables = signTables(units, { min: -255 * taps, max: 255 * taps })
  const thresholds = ctx.buffer(`${name} thresholds`, 'i32', false, 4 * tables.thresholds.length, tables.thresholds)
  const out = ctx.buffer(`${name} bits`, 'bits', true, positions * rowBytes(o, wb))
  const geometry = { c, h, w, kh, kw, sh: p.stride[0], sw: p.stride[1], ph, pw, ho, wo }
  const kernel = ws.values
  const os = rowWords32(o, wb)
  ctx.step({
    _tag: 'Choice',
    why: 'the integer kernels are exact only for integer inputs in [0, 255]',
    test: { _tag: 'PackPatches', label: name, x: xf.buffer, bytes, ...geometry, pad: padded ? p.padValue : 0 },
    then: [{ _tag: 'Kernel', kernel: { _tag: 'ByteDense', label: name, bytes, w: weights, out, k: taps, n: o, epilogue: { kind: 'sign', thresholds }, positions } }],
    otherwise: [{
      _tag: 'Generic',
      label: `conv ${name}`,
      reason: 'non-integer input: the float64 convolution, then the epilogue and sign',
      reads: [xf.buffer],
      run: (env) => {
        const rows = env.rows
        const image = { shape: [rows, c, h, w], data: new Float64Array(env.views.buffer, env.addr(xf.buffer), rows * c * h * w) }
        const dots = new Float64Array(rows * o * positions)
        conv2dInto(image, { shape: [o, c, kh, kw], data: kernel }, p.stride, p.padding, p.padValue, dots)
        const i32 = env.views.i32
        const base = env.addr(out) / 4
        i32.fill(0, base, base + rows * positions * os)
        for (let r = 0; r < rows; r++)
          for (let j = 0; j < o; j++) {
            const a = units[j]!
            for (let q = 0; q < positions; q++)
              if (a(dots[(r * o + j) * positions + q]!) >= 0) i32[base + (r * positions + q) * os + wordOf(j)]! |= 1 << bitOf(j)
          }
      },
    }],
  })
  return { buffer: out, geometry: { form: 'spatial', c: o, h: ho, w: wo }, width: o }
}

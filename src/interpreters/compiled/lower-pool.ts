/**
 * The lowering rule for a binarized max-pool of a convolution, as in the conv presets' blocks
 * `binarize(post(maxPool(pre(conv(x)))))`, where `pre` (a bias) and `post` (a batch norm) are
 * fusable per-channel chains (fusion.ts).
 *
 * In the mode network the binarize is sign, and for a function f that is non-decreasing on the
 * reals, f(max v) = max f(v), so sign(f(max_w v_w)) = OR_w sign(f(v_w)); for a non-increasing f,
 * f(max v) = min f(v), the AND. So the convolution fuses with the combined per-channel function
 * post ∘ pre into bits (lower-conv.ts), and the pooling is the OR of the window's rows (`PoolOr`),
 * inverted (¬OR¬, the AND) on the channels where `post` decreases. The direction of `post` is read
 * from its values at ±the largest float64: a monotone function equal at both ends is constant
 * in between, and then either pooling is right. This holds for every finite pre-activation, which
 * a convolution plus constants has. A sampled binarize (one draw per pooled unit) is not
 * lowered here.
 */
import type { Binarize, Node, Pool } from '../../dsl/node.js'
import type { UnitFn } from './fuseEpilogue.js'
import { fusableChain } from './fusion.js'
import { bitOf, rowBytes, rowWords32, wordOf } from './layout.js'
import { convBits } from './lower-conv.js'
import type { BitsLoc, LowerCtx } from './lower-context.js'

const isPoolOrProduct = (n: Node): boolean => n._tag === 'Pool' || n._tag === 'MatMul' || n._tag === 'Conv2d'

/**
 * The bits of `b` when it is a deterministic binarize of a chain over a max-pool of a chain over
 * a convolution; undefined when `b` is not of that form, a reason when it is but cannot be fused.
 */
export const pooledSignBits = (ctx: LowerCtx, b: Binarize): BitsLoc | string | undefined => {
  const post = fusableChain(b.input, ctx.constOf, isPoolOrProduct)
  if (typeof post === 'string' || post.product._tag !== 'Pool') return undefined
  const pool: Pool = post.product
  if (pool.op !== 'max' || pool.input.type.shape[0] !== 'batch' || pool.input.type.shape.length !== 4) return undefined
  if (ctx.opts.sampling && b.noise.family !== 'none') return 'a sampled binarize of a pooled tensor draws once per pooled unit'
  const pre = fusableChain(pool.input, ctx.constOf)
  if (typeof pre === 'string') return pre
  if (pre.product._tag !== 'Conv2d') return `${pre.product._tag} under a max-pool is not a convolution`
  const decreasing: boolean[] = []
  for (const f of post.units) {
    const [lo, hi] = [f(-Number.MAX_VALUE), f(Number.MAX_VALUE)]
    if (Number.isNaN(lo) || Number.isNaN(hi)) return 'the function after the pooling is NaN at ±∞'
    decreasing.push(lo > hi)
  }
  const units: UnitFn[] = pre.units.map((f, j) => (dot) => post.units[j]!(f(dot)))
  const name = `${ctx.label(b)} before ${ctx.label(pool)}`
  const conv = convBits(ctx, pre.product, units, b, name)
  if (typeof conv === 'string' || conv.geometry.form !== 'spatial') return typeof conv === 'string' ? conv : 'not a spatial map'
  const { c, h, w } = conv.geometry
  const [, , ho, wo] = pool.type.shape as [unknown, number, number, number]
  const wb = ctx.wordBits
  let invert: number | undefined
  if (decreasing.some((d) => d)) {
    const row = new Int32Array(rowWords32(c, wb))
    decreasing.forEach((d, j) => { if (d) row[wordOf(j)]! |= 1 << bitOf(j) })
    invert = ctx.buffer(`${ctx.label(pool)} AND channels`, 'bits', false, 4 * row.length, row)
  }
  const dst = ctx.buffer(`${ctx.label(pool)} bits`, 'bits', true, ho * wo * rowBytes(c, wb))
  ctx.step({
    _tag: 'Kernel',
    kernel: {
      _tag: 'PoolOr', label: ctx.label(pool), src: conv.buffer, dst, c, h, w, kh: pool.window[0], kw: pool.window[1],
      sh: pool.stride[0], sw: pool.stride[1], ho, wo, ...(invert === undefined ? {} : { invert }),
    },
  })
  return { buffer: dst, geometry: { form: 'spatial', c, h: ho, w: wo }, width: c }
}

/**
 * How each node of the IR is lowered: to float64 (`f64Rules`) and, for a binary node, to packed
 * bits (`bitsRules`). One rule per primitive in each table, total over the tags (`satisfies` the
 * mapped type, so a new primitive is a compile error here until it has a row). The primitives
 * with no kernel name the fallback explicitly: the generic step (`viaGeneric`, with the reason
 * the plan shows) for float64, the sign-packing of the float64 value (`viaPackSign`) for bits;
 * there is no `default:`.
 *
 * A rule is a function of the lowering context (lower-context.ts, plus the few lowering
 * functions of lower.ts it needs) and the node. Constants never reach the table: the constant
 * folder stores them first.
 */
import type { Binarize, MatMul, Node, NodeOf, Tag } from '../../dsl/node.js'
import { sizeOf } from '../../dsl/shape.js'
import type { Geometry } from './kernels.js'
import { flattenOrder, rowBytes } from './layout.js'
import type { F64Loc } from './generic.js'
import type { BitsLoc, LowerCtx } from './lower-context.js'
import { convSetup } from './lower-conv.js'

/** The context of a float64 rule: the lowering context and the lowering functions of lower.ts. */
export interface F64Ctx extends LowerCtx {
  /** The node as a generic step (the reference's float64 kernel), with the reason. */
  readonly generic: (n: Node, why: string) => F64Loc
  /** An unfused matrix product (a binary kernel writing float64, else generic). */
  readonly product: (n: MatMul) => F64Loc
  /** binarize(chain(product)) fused into one kernel writing bits, or why it cannot be. */
  readonly fused: (b: Binarize) => BitsLoc | string
  /** Registers an input's buffer. */
  readonly input: (name: string, buffer: number) => void
}

type F64Rule<K extends Tag> = (ctx: F64Ctx, n: NodeOf<K>) => F64Loc

/** Packed bits unpacked into a fresh float64 buffer of the node. */
const unpacked = (ctx: F64Ctx, n: Node, b: BitsLoc): F64Loc => {
  const dst = ctx.buffer(`${ctx.label(n)} f64`, 'f64', true, 8 * sizeOf(n.type.shape))
  ctx.step({ _tag: 'Kernel', kernel: { _tag: 'Unpack', label: ctx.label(n), src: b.buffer, dst, geometry: b.geometry } })
  return { buffer: dst, shape: n.type.shape }
}

/** The explicit fallback: the node's generic step. */
const viaGeneric = (ctx: F64Ctx, n: Node): F64Loc => ctx.generic(n, `${n._tag} has no specialised kernel`)

export const f64Rules = {
  Input: (ctx, n) => {
    const id = ctx.buffer(`input ${n.name}`, 'f64', n.type.shape[0] === 'batch', 8 * sizeOf(n.type.shape))
    ctx.input(n.name, id)
    return { buffer: id, shape: n.type.shape }
  },
  // Parameters and constants are folded before the table (their rows are never reached).
  Param: viaGeneric,
  Const: viaGeneric,
  MatMul: (ctx, n) => ctx.product(n),
  Add: viaGeneric,
  Mul: viaGeneric,
  Unary: viaGeneric,
  Conv2d: (ctx, n) => {
    if (n.input.type.dtype !== 'binary' || n.kernel.type.dtype !== 'binary') return ctx.generic(n, 'a convolution of real operands')
    const conv = convSetup(ctx, n)
    if (typeof conv === 'string') return ctx.generic(n, conv)
    const out: F64Loc = { buffer: ctx.buffer(`${ctx.label(n)} f64`, 'f64', true, 8 * conv.o * conv.ho * conv.wo), shape: n.type.shape }
    ctx.step({ _tag: 'Kernel', kernel: { ...conv.kernel, label: ctx.label(n), out: out.buffer, epilogue: { kind: 'dot' } } })
    return out
  },
  // A max-pool of a binary map is computed on bits (PoolOr) and unpacked.
  Pool: (ctx, n) =>
    n.op !== 'max' || n.input.type.dtype !== 'binary' || n.type.shape[0] !== 'batch'
      ? ctx.generic(n, `${n.op}-pooling of a real tensor`)
      : unpacked(ctx, n, ctx.bits(n)),
  Reshape: (ctx, n) => ({ buffer: ctx.f64(n.input).buffer, shape: n.type.shape }),
  BatchNorm: viaGeneric,
  Binarize: (ctx, n) => {
    const b = ctx.fused(n)
    return typeof b === 'string' ? ctx.generic(n, b) : unpacked(ctx, n, b)
  },
  Loss: viaGeneric,
} satisfies { readonly [K in Tag]: F64Rule<K> }

/** The rule of a node's tag (the one cast of the dispatch: the table is total and keyed by tag). */
export const f64Rule = (ctx: F64Ctx, n: Node): F64Loc => (f64Rules[n._tag] as F64Rule<Tag>)(ctx, n as never)

type BitsRule<K extends Tag> = (ctx: F64Ctx, n: NodeOf<K>) => BitsLoc

/** The explicit fallback for bits: the node's float64 value, packed by sign (`PackSign`). */
const viaPackSign = (ctx: F64Ctx, n: Node): BitsLoc => {
  const s = n.type.shape
  const src = ctx.f64(n)
  const geometry: Geometry = s.length === 4 ? { form: 'spatial', c: s[1] as number, h: s[2] as number, w: s[3] as number } : { form: 'rows', n: sizeOf(s) }
  const bytes = geometry.form === 'rows' ? rowBytes(geometry.n, ctx.wordBits) : geometry.h * geometry.w * rowBytes(geometry.c, ctx.wordBits)
  const dst = ctx.buffer(`${ctx.label(n)} bits`, 'bits', s[0] === 'batch', bytes)
  ctx.step({ _tag: 'Kernel', kernel: { _tag: 'PackSign', label: ctx.label(n), src: src.buffer, dst, geometry } })
  return { buffer: dst, geometry, width: geometry.form === 'rows' ? geometry.n : geometry.c }
}

export const bitsRules = {
  Input: viaPackSign,
  Param: viaPackSign,
  Const: viaPackSign,
  MatMul: viaPackSign,
  Add: viaPackSign,
  Mul: viaPackSign,
  Unary: viaPackSign,
  Conv2d: viaPackSign,
  // A max-pool of a binary map: the OR of the window's rows.
  Pool: (ctx, n) => {
    if (n.op !== 'max' || n.input.type.dtype !== 'binary' || n.input.type.shape[0] !== 'batch') return viaPackSign(ctx, n)
    const src = ctx.bits(n.input)
    if (src.geometry.form !== 'spatial') return viaPackSign(ctx, n)
    const { c, h, w } = src.geometry
    const [, , ho, wo] = n.type.shape as [unknown, number, number, number]
    const dst = ctx.buffer(`${ctx.label(n)} bits`, 'bits', true, ho * wo * rowBytes(c, ctx.wordBits))
    ctx.step({
      _tag: 'Kernel',
      kernel: { _tag: 'PoolOr', label: ctx.label(n), src: src.buffer, dst, c, h, w, kh: n.window[0], kw: n.window[1], sh: n.stride[0], sw: n.stride[1], ho, wo },
    })
    return { buffer: dst, geometry: { form: 'spatial', c, h: ho, w: wo }, width: c }
  },
  // A flatten of a channels-last map moves no bit: the consumer reads it in `flattenOrder`.
  Reshape: (ctx, n) => {
    if (!(n.input.type.shape.length === 4 && n.type.shape.length === 2 && n.input.type.dtype === 'binary')) return viaPackSign(ctx, n)
    const src = ctx.bits(n.input)
    if (src.geometry.form !== 'spatial') return viaPackSign(ctx, n)
    const { c, h, w } = src.geometry
    const { order: map, width } = flattenOrder(c, h, w, ctx.wordBits)
    const ob = ctx.buffer(`${ctx.label(n)} feature order`, 'i32', false, 4 * map.length, map)
    return { buffer: src.buffer, geometry: { form: 'rows', n: c * h * w }, width, order: { map, buffer: ob } }
  },
  BatchNorm: viaPackSign,
  Binarize: (ctx, n) => {
    const b = ctx.fused(n)
    return typeof b === 'string' ? viaPackSign(ctx, n) : b
  },
  Loss: viaPackSign,
} satisfies { readonly [K in Tag]: BitsRule<K> }

/** The bits rule of a node's tag. */
export const bitsRule = (ctx: F64Ctx, n: Node): BitsLoc => (bitsRules[n._tag] as BitsRule<Tag>)(ctx, n as never)

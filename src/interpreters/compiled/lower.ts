/**
 * Lowering: a checked network → a linear list of kernels and generic steps over buffers (the
 * first stage of the pipeline lower → emit → build → instantiate).
 *
 * Lowering is demand-driven. Each output demands its node as float64; a product kernel demands
 * its binary operand as packed bits; a generic step demands float64 children. Each node is
 * lowered at most once per representation (memoised on identity, like the reference fold), and
 * its steps are appended after those of its dependencies, so the list is in execution order.
 *
 * - Constant subgraphs (parameters, constants, deterministic binarizes of them) are evaluated at
 *   compile time by the reference interpreter and stored in static buffers; binary weights are
 *   packed in the layout their consumer reads.
 * - `binarize(chain(product))` fuses into one kernel writing packed bits (fusion.ts, epilogue.ts).
 * - Unfused binary × binary products write their exact dot product as float64.
 * - Everything else is a generic step, named in the plan with its reason.
 */
import type { Binarize, Checked, Network, Node, SiteId } from '../../dsl/node.js'
import { children } from '../../dsl/node.js'
import { isStochastic } from '../../dsl/noise.js'
import { sizeOf } from '../../dsl/shape.js'
import { topoOrder } from '../../dsl/fold.js'
import { modeRule } from '../reference/sampling.js'
import { evaluate } from '../reference/forward.js'
import type { SampleTables, SignTables } from './fuseEpilogue.js'
import { DOT_LIMIT, sampleTables, signTables } from './fuseEpilogue.js'
import { fusableChain } from './fusion.js'
import type { F64Loc } from './generic.js'
import { genericStep } from './generic.js'
import { binarizeStep, epilogueStep } from './sampling-steps.js'
import type { BufferSpec, Epilogue, Kernel } from './kernels.js'
import { rowBytes } from './layout.js'
import { eightBitKernels } from './lower-bytes.js'
import type { BitsLoc, LowerCtx, LowerOptions } from './lower-context.js'
import { allocator } from './lower-context.js'
import { convBits } from './lower-conv.js'
import type { F64Ctx } from './lower-rules.js'
import { bitsRule, f64Rule } from './lower-rules.js'
import { pooledSignBits } from './lower-pool.js'
import type { WeightSource } from './weights.js'
import { packedDenseWeights } from './weights.js'
import type { InputSlot, OutputSlot, Plan, Step } from './plan.js'

export type { LowerOptions } from './lower-context.js'

/** Lowers a checked network for one back end's word size. */
export const lower = (net: Checked<Network>, opts: LowerOptions): Plan => {
  const buffers: BufferSpec[] = []
  const steps: Step[] = []
  const inputs: InputSlot[] = []
  const sites = new Set<SiteId>()
  const wb = opts.wordBits
  const order = topoOrder(Object.values(net.outputs))
  const index = new Map(order.map((n, i) => [n, i]))
  const label = (n: Node): string => n.label ?? (n._tag === 'Binarize' ? n.site : `${n._tag.toLowerCase()}${index.get(n) ?? ''}`)

  const buffer = allocator(buffers)

  // Constants: nodes whose value is fixed at compile time in this mode.
  const constant = new Map<Node, boolean>()
  for (const n of order) {
    const value =
      n._tag === 'Input' ? false
      : n._tag === 'Param' || n._tag === 'Const' ? true
      : n._tag === 'Binarize' && opts.sampling && isStochastic(n.noise) ? false
      : children(n).every(([, c]) => constant.get(c) === true)
    constant.set(n, value)
  }
  const constValues = new Map<Node, Float64Array>()
  const constOf = (n: Node): Float64Array | undefined => {
    if (constant.get(n) !== true) return undefined
    let v = constValues.get(n)
    if (v === undefined) {
      v = evaluate({ net, feed: {}, batch: 1, binarize: modeRule }, [n]).values.get(n)!.data
      constValues.set(n, v)
    }
    return v
  }

  const generic = (n: Node, why: string): F64Loc => {
    const kids = children(n).map(([, c]) => f64(c))
    const out: F64Loc = { buffer: buffer(`${label(n)} f64`, 'f64', n.type.shape[0] === 'batch', 8 * sizeOf(n.type.shape)), shape: n.type.shape }
    // A binarize draws by its own step, which numbers per-example draws from the run's offset.
    const run = n._tag === 'Binarize' ? binarizeStep(n, kids[0]!, out, opts.sampling) : genericStep(n, kids, out, opts.sampling)
    if (run !== undefined) steps.push({ _tag: 'Generic', label: `${n._tag} ${label(n)}`, reason: why, reads: kids.map((k) => k.buffer), run })
    if (n._tag === 'Binarize' && opts.sampling && isStochastic(n.noise)) sites.add(n.site)
    return out
  }

  const weightSource = (w: Node): WeightSource | undefined => {
    if (w.type.dtype !== 'binary') return undefined
    const values = constOf(w)
    if (values !== undefined) return { kind: 'static', values }
    if (w._tag === 'Binarize' && isStochastic(w.noise)) {
      const eta = constOf(w.input)
      if (eta !== undefined) return { kind: 'sampled', eta, noise: w.noise, site: w.site }
    }
    return undefined
  }

  /** The fused epilogue's tables as buffers; `draws` is the per-example uint32 buffer of a sampled one. */
  const epilogueOf = (tables: SignTables | SampleTables, name: string, b: Binarize, units: number): Epilogue => {
    if (tables.kind === 'sign') return { kind: 'sign', thresholds: buffer(`${name} thresholds`, 'i32', false, 4 * tables.thresholds.length, tables.thresholds) }
    const random = buffer(`${name} draws`, 'u32', true, 4 * units)
    steps.push({ _tag: 'Kernel', kernel: { _tag: 'FillRandom', label: name, out: random, count: units, perExample: true, site: b.site } })
    sites.add(b.site)
    return {
      kind: 'sample',
      headers: buffer(`${name} headers`, 'i32', false, 4 * tables.headers.length, tables.headers),
      table: buffer(`${name} window table`, 'u32', false, 4 * tables.table.length, tables.table),
      random,
    }
  }

  const fused = new Map<Binarize, BitsLoc | string>()
  /** binarize(chain(product)) as one kernel writing bits (emitted once), or why it cannot be. */
  const fuse = (b: Binarize): BitsLoc | string => {
    let r = fused.get(b)
    if (r === undefined) {
      r = fuseNew(b)
      fused.set(b, r)
    }
    return r
  }

  const ctx: LowerCtx = {
    net, opts, wordBits: wb, buffer, label, constOf, weightSource, epilogueOf,
    step: (st) => steps.push(st),
    site: (site) => sites.add(site),
    f64: (n) => f64(n),
    bits: (n) => bits(n),
  }
  const denseWeights = (ws: WeightSource, name: string, k: number, n: number, width: number, map?: Int32Array): number =>
    packedDenseWeights(ctx, ws, name, k, n, width, map)

  const fuseNew = (b: Binarize): BitsLoc | string => {
    if (b.type.shape[0] !== 'batch') return 'a batch-free binarize (weights) is drawn once per pass'
    const chain = fusableChain(b.input, constOf)
    if (typeof chain === 'string') {
      // binarize(post(maxPool(pre(conv)))): the convolution's bits, OR-pooled (lower-pool.ts).
      const pooled = pooledSignBits(ctx, b)
      return pooled ?? chain
    }
    const p = chain.product
    if (p._tag === 'Conv2d') return convBits(ctx, p, chain.units, b, label(b))
    if (p._tag !== 'MatMul') return `${p._tag} is not a product`
    const [x, w] = [p.lhs, p.rhs]
    if (x.type.shape[0] !== 'batch') return 'the product has no per-example operand on the left'
    const ws = weightSource(w)
    if (ws === undefined) return 'the weights are neither constant nor a binarized constant'
    const k = w.type.shape[0] as number
    const n = w.type.shape[1] as number
    const name = label(b)
    const deterministic = !opts.sampling || b.noise.family === 'none'
    const range = x.type.dtype === 'binary' ? { min: -k, max: k } : { min: -255 * k, max: 255 * k }
    if (range.max > DOT_LIMIT) return `${k} inputs exceed the integer kernels' range`
    const tables = deterministic ? signTables(chain.units, range) : sampleTables(chain.units, range, b.noise)
    if (typeof tables === 'string') return tables
    const out = buffer(`${name} bits`, 'bits', true, rowBytes(n, wb))
    const loc: BitsLoc = { buffer: out, geometry: { form: 'rows', n }, width: n }
    if (x.type.dtype === 'binary') {
      const xb = bits(x)
      const wbuf = denseWeights(ws, name, k, n, xb.width, xb.order?.map)
      const epilogue = epilogueOf(tables, name, b, n)
      steps.push({ _tag: 'Kernel', kernel: { _tag: 'BinaryDense', label: name, x: xb.buffer, w: wbuf, out, k, width: xb.width, n, epilogue } })
      return loc
    }
    // A real first layer: exact integer sums when the input is 8-bit, else float64 sums.
    const xf = f64(x)
    const wbuf = denseWeights(ws, name, k, n, k)
    const epilogue = epilogueOf(tables, name, b, n)
    const dot: F64Loc = { buffer: buffer(`${name} dot`, 'f64', true, 8 * n), shape: ['batch', n] }
    const eight = eightBitKernels(ctx, ws, name, xf.buffer, k, n, out, epilogue, wbuf, tables.kind === 'sign' ? tables.thresholds : undefined)
    steps.push({
      _tag: 'Choice',
      why: 'the integer kernels are exact only for integer inputs in [0, 255]',
      test: eight.test,
      then: [{ _tag: 'Kernel', kernel: eight.product }],
      otherwise: [
        { _tag: 'Kernel', kernel: { _tag: 'RealDense', label: name, x: xf.buffer, w: wbuf, out: dot.buffer, k, n } },
        { _tag: 'Generic', label: `epilogue ${name}`, reason: 'non-integer input: float64 sums, then the epilogue and binarize', reads: [dot.buffer], run: epilogueStep(chain.units, dot, out, b.noise, b.site, opts.sampling, wb) },
      ],
    })
    return loc
  }

  const f64Memo = new Map<Node, F64Loc>()
  const bitsMemo = new Map<Node, BitsLoc>()

  /** The node as a float64 tensor. */
  const f64 = (n: Node): F64Loc => {
    const known = f64Memo.get(n)
    if (known !== undefined) return known
    const loc = lowerF64(n)
    f64Memo.set(n, loc)
    return loc
  }

  const f64Ctx: F64Ctx = {
    ...ctx,
    generic,
    product: (n) => product(n.lhs, n.rhs, n),
    fused: (b) => fuse(b),
    input: (name, id) => inputs.push({ name, buffer: id }),
  }
  const lowerF64 = (n: Node): F64Loc => {
    const values = constOf(n)
    if (values !== undefined) return { buffer: buffer(`${label(n)} constant`, 'f64', false, 8 * values.length, values), shape: n.type.shape }
    return f64Rule(f64Ctx, n)
  }

  /** An unfused matrix product: a binary kernel writing float64 when the operands allow. */
  const product = (x: Node, w: Node, n: Node): F64Loc => {
    if (x.type.shape[0] !== 'batch') return generic(n, 'a product without a per-example left operand')
    const k = w.type.shape[0] as number
    const units = w.type.shape[1] as number
    const output = (): F64Loc => ({ buffer: buffer(`${label(n)} f64`, 'f64', true, 8 * units), shape: n.type.shape })
    const ws = weightSource(w)
    if (x.type.dtype === 'binary' && ws !== undefined) {
      const xb = bits(x)
      const wbuf = denseWeights(ws, label(n), k, units, xb.width, xb.order?.map)
      const out = output()
      steps.push({ _tag: 'Kernel', kernel: { _tag: 'BinaryDense', label: label(n), x: xb.buffer, w: wbuf, out: out.buffer, k, width: xb.width, n: units, epilogue: { kind: 'dot' } } })
      return out
    }
    const real = constOf(w)
    if (x.type.dtype === 'binary' && real !== undefined) {
      const xb = bits(x)
      const wbuf = buffer(`${label(n)} head weights`, 'f64', false, 8 * real.length, real)
      const out = output()
      const orderBuf = xb.order?.buffer
      steps.push({ _tag: 'Kernel', kernel: { _tag: 'BinaryHead', label: label(n), x: xb.buffer, w: wbuf, out: out.buffer, k, width: xb.width, n: units, ...(orderBuf === undefined ? {} : { order: orderBuf }) } })
      return out
    }
    if (ws !== undefined && k * 255 <= DOT_LIMIT) {
      const xf = f64(x)
      const wbuf = denseWeights(ws, label(n), k, units, k)
      const out = output()
      const eight = eightBitKernels(ctx, ws, label(n), xf.buffer, k, units, out.buffer, { kind: 'dot' }, wbuf)
      steps.push({
        _tag: 'Choice',
        why: 'the integer kernels are exact only for integer inputs in [0, 255]',
        test: eight.test,
        then: [{ _tag: 'Kernel', kernel: eight.product }],
        otherwise: [{ _tag: 'Kernel', kernel: { _tag: 'RealDense', label: label(n), x: xf.buffer, w: wbuf, out: out.buffer, k, n: units } }],
      })
      return out
    }
    return generic(n, 'a product of real operands (or weights that are neither constant nor a binarized constant)')
  }

  /** The node as packed bits (a binary node). */
  const bits = (n: Node): BitsLoc => {
    const known = bitsMemo.get(n)
    if (known !== undefined) return known
    const loc = lowerBits(n)
    bitsMemo.set(n, loc)
    return loc
  }

  const lowerBits = (n: Node): BitsLoc => bitsRule(f64Ctx, n)

  // The lowering recurses from a node into its operands, several stack frames per level. So the
  // stack stays shallow however deep the network, every node at a depth that is a multiple of
  // `loweringStride` is lowered first, in topological order (float64, and bits for binary nodes):
  // each later recursion stops within `loweringStride` levels at a node already done. The plan
  // may then hold a few steps nobody reads; shallower networks keep the on-demand plan unchanged.
  // (A fixed 2000-level threshold overflowed the stack on a 1000-level chain.)
  const depth = new Map<Node, number>()
  for (const n of order) {
    let d = 0
    for (const [, c] of children(n)) d = Math.max(d, (depth.get(c) ?? 0) + 1)
    depth.set(n, d)
    if (d > 0 && d % loweringStride === 0) if (n.type.dtype === 'binary') { f64(n); bits(n) } else f64(n)
  }

  const outputs: OutputSlot[] = Object.entries(net.outputs).map(([name, node]) => {
    const loc = f64(node)
    return { name, buffer: loc.buffer, shape: node.type.shape }
  })
  return { buffers, steps, inputs, outputs, sites: [...sites] }
}

/** Every this many levels, `lower` lowers a node ahead of the recursion (a bound on its depth). */
const loweringStride = 100

export type { Kernel }

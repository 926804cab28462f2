/**
 * The summary interpreter, in the spirit of Larq's model summary: per layer and in total, the
 * parameters split into binary and real, their memory (binary at 1 bit, real at 32 bits), the
 * multiply-accumulates per example split into binary (XNOR–popcount) and real, and the number of
 * stochastic sites. Definitions, with the reasons for each choice, are in `docs/inspect.md`.
 *
 * A layer is a labelled node together with the unlabelled nodes it owns: an unlabelled node
 * belongs to the layer of its nearest consumer, except an activation binarization of a labelled
 * node, which belongs to the layer it binarizes (site `layer1.act` to `layer1`). An unlabelled
 * output heads a row named by its output (`loss`). So every node has exactly one owner, and the
 * totals are the sums of the rows.
 */
import type { Checked, Network, Node, NodeOf, Param, Tag } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import { isStochastic } from '../dsl/noise.js'
import { hasBatch, showShape, sizeOf } from '../dsl/shape.js'
import { topoOrder } from '../dsl/fold.js'
import { unreachable } from '../dsl/dslErrors.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Memory of one real parameter, as a float32 (Larq's convention; sbnkit computes in float64). */
export const realParamBits = 32
/** Memory of one binary parameter: its sign. The latent real behind it is training state. */
export const binaryParamBits = 1

/** The counts of one row; every count is per example (batch = 1). */
export interface LayerSummary {
  /** The layer's label, or the output name of an unlabelled output. */
  readonly name: string
  /** The layer's main primitive: `conv`, `dense`, `batchNorm`, `maxPool`, `loss`, … */
  readonly kind: string
  readonly outputShape: readonly (number | 'batch')[]
  /** Elements of parameters read only through a binarization (stored at 1 bit each). */
  readonly binaryParams: number
  /** Elements of the other parameters, including non-trainable ones (stored at 32 bits each). */
  readonly realParams: number
  /** Elements of non-trainable parameters (batch-norm running statistics); a subset of the above. */
  readonly nonTrainableParams: number
  /** Memory of the parameters: binaryParams·1 + realParams·32. */
  readonly bits: number
  /** MACs whose two operands are both binary (XNOR–popcount). */
  readonly binaryMacs: number
  readonly realMacs: number
  /** Binarizations with a proper noise (not `none`): weightSites + activationSites. */
  readonly stochasticSites: number
  /** Stochastic sites without a batch axis: one draw per forward pass. */
  readonly weightSites: number
  /** Stochastic sites with a batch axis: one draw per example. */
  readonly activationSites: number
}

type Counts = Omit<LayerSummary, 'name' | 'kind' | 'outputShape'>

export interface Summary {
  readonly layers: readonly LayerSummary[]
  /** Column sums, plus bytes = ⌈bits / 8⌉ and binaryMacFraction = binary / (binary + real), 0 without MACs. */
  readonly total: Counts & { readonly bytes: number; readonly binaryMacFraction: number }
}

const zero: Counts = {
  binaryParams: 0, realParams: 0, nonTrainableParams: 0, bits: 0, binaryMacs: 0, realMacs: 0,
  stochasticSites: 0, weightSites: 0, activationSites: 0,
}
const countKeys = Object.keys(zero) as ReadonlyArray<keyof Counts>

// ---------------------------------------------------------------------------------------------
// Ownership

/** The head of each node's layer: walked from the outputs down, so consumers are settled first. */
const owners = (net: Network, order: readonly Node[], consumers: ReadonlyMap<Node, readonly Node[]>): Map<Node, Node> => {
  const roots = new Set(Object.values(net.outputs))
  const owner = new Map<Node, Node>()
  const distance = new Map<Node, number>()
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!
    if (node.label !== undefined || (roots.has(node) && !bindsLabelled(node))) {
      owner.set(node, node)
      distance.set(node, 0)
    } else if (node._tag === 'Binarize' && bindsLabelled(node)) {
      owner.set(node, node.input)
      distance.set(node, 0)
    } else {
      // Nearest consumer; on a tie the first consumer in topological order.
      let best: Node | undefined
      let bestDistance = Infinity
      for (const c of consumers.get(node) ?? []) {
        const d = distance.get(c) ?? Infinity
        if (d < bestDistance) [best, bestDistance] = [c, d]
      }
      owner.set(node, owner.get(best ?? unreachable('a non-root node has a consumer'))!)
      distance.set(node, bestDistance + 1)
    }
  }
  return owner
}

/** An activation binarization (it has a batch axis) of a labelled layer's output. */
const bindsLabelled = (n: Node): boolean => n._tag === 'Binarize' && hasBatch(n.type.shape) && n.input.label !== undefined

// ---------------------------------------------------------------------------------------------
// Rules: what one node adds to its layer's counts

/** Parameters count once per name (tied parameters share storage); binary iff only binarizations read them. */
const paramCounts = (p: Param, binary: boolean): Partial<Counts> => {
  const n = sizeOf(p.type.shape)
  return {
    ...(binary ? { binaryParams: n, bits: n * binaryParamBits } : { realParams: n, bits: n * realParamBits }),
    nonTrainableParams: p.trainable ? 0 : n,
  }
}

/** MACs per example: one per output element (batch = 1) per term of its inner product. */
const macCounts = (lhs: Node, rhs: Node, outputs: number, terms: number): Partial<Counts> =>
  lhs.type.dtype === 'binary' && rhs.type.dtype === 'binary' ? { binaryMacs: outputs * terms } : { realMacs: outputs * terms }

type Rule<K extends Tag> = (node: NodeOf<K>, binaryParam: (p: Param) => boolean) => Partial<Counts>

/**
 * What each primitive adds to its layer. A total table, so a new primitive must say what it
 * costs; only parameters, products and stochastic binarizations count (Larq counts no MACs for
 * additions, pooling or normalisation either).
 */
export const summaryRules: { readonly [K in Tag]: Rule<K> } = {
  Input: () => ({}),
  Param: (n, binaryParam) => paramCounts(n, binaryParam(n)),
  Const: () => ({}),
  // [m, k] × [k, n]: k terms per output element.
  MatMul: (n) => macCounts(n.lhs, n.rhs, sizeOf(n.type.shape), dim(n.lhs.type.shape[1])),
  Add: () => ({}),
  Mul: () => ({}),
  Unary: () => ({}),
  // [o, c, kh, kw] kernel: c·kh·kw terms per output element (padding cells included).
  Conv2d: (n) => {
    const [, c, kh, kw] = n.kernel.type.shape
    return macCounts(n.input, n.kernel, sizeOf(n.type.shape), dim(c) * dim(kh) * dim(kw))
  },
  Pool: () => ({}),
  Reshape: () => ({}),
  BatchNorm: () => ({}),
  Binarize: (n) => {
    if (!isStochastic(n.noise)) return {}
    return hasBatch(n.type.shape) ? { stochasticSites: 1, activationSites: 1 } : { stochasticSites: 1, weightSites: 1 }
  },
  Loss: () => ({}),
}

const nodeCounts = (node: Node, binaryParam: (p: Param) => boolean): Partial<Counts> =>
  (summaryRules[node._tag] as (n: Node, b: (p: Param) => boolean) => Partial<Counts>)(node, binaryParam)

const dim = (d: number | 'batch' | undefined): number => (typeof d === 'number' ? d : 1)

/** The kind of a layer: its most significant primitive. */
const kindOf = (nodes: readonly Node[], head: Node): string => {
  const has = (p: (n: Node) => boolean): boolean => nodes.some(p)
  if (has((n) => n._tag === 'Conv2d')) return 'conv'
  if (has((n) => n._tag === 'MatMul')) return 'dense'
  if (has((n) => n._tag === 'BatchNorm')) return 'batchNorm'
  const loss = nodes.find((n) => n._tag === 'Loss')
  if (loss?._tag === 'Loss') return `loss(${loss.op})`
  const pool = nodes.find((n) => n._tag === 'Pool')
  if (pool?._tag === 'Pool') return `${pool.op}Pool`
  return head._tag.charAt(0).toLowerCase() + head._tag.slice(1)
}

// ---------------------------------------------------------------------------------------------
// The interpreter

/**
 * Summarises a checked network per layer and in total.
 *
 * @example
 * import { pipe } from 'fp-ts/lib/function.js'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { initParams, input, key, mlp, typecheck } from 'sbnkit/dsl'
 * const outputs = { output: pipe(input('x', ['batch', 4]), mlp({ hidden: [3], outputs: 2 })) }
 * const net = typecheck({ outputs, params: initParams(outputs, key(0)) })
 * if (E.isRight(net)) console.log(renderSummary(summary(net.right)))
 */
export const summary = (net: Checked<Network>): Summary => {
  const order = topoOrder(Object.values(net.outputs))
  const consumers = new Map<Node, Node[]>()
  for (const node of order) for (const [, child] of children(node)) pushTo(consumers, child, node)
  const owner = owners(net, order, consumers)

  // A parameter name is binary when every reader of every node of that name is a binarization.
  const realNames = new Set<string>()
  for (const node of order) {
    if (node._tag !== 'Param') continue
    const readers = consumers.get(node) ?? []
    if (readers.length === 0 || readers.some((c) => c._tag !== 'Binarize')) realNames.add(node.name)
  }
  const counted = new Set<string>()
  const binaryParam = (p: Param): boolean => !realNames.has(p.name)

  const members = new Map<Node, Node[]>()
  const counts = new Map<Node, Counts>()
  for (const node of order) {
    const head = owner.get(node)!
    pushTo(members, head, node)
    if (node._tag === 'Param' && counted.has(node.name)) continue
    if (node._tag === 'Param') counted.add(node.name)
    counts.set(head, plus(counts.get(head) ?? zero, nodeCounts(node, binaryParam)))
  }

  const outputName = new Map<Node, string>()
  for (const [name, node] of Object.entries(net.outputs)) if (!outputName.has(node)) outputName.set(node, name)
  const layers = order
    .filter((n) => owner.get(n) === n)
    .map((head): LayerSummary => ({
      name: head.label ?? outputName.get(head) ?? head._tag,
      kind: kindOf(members.get(head) ?? [], head),
      outputShape: head.type.shape,
      ...(counts.get(head) ?? zero),
    }))
  const sums = layers.reduce<Counts>((acc, l) => plus(acc, l), zero)
  const macs = sums.binaryMacs + sums.realMacs
  return { layers, total: { ...sums, bytes: Math.ceil(sums.bits / 8), binaryMacFraction: macs === 0 ? 0 : sums.binaryMacs / macs } }
}

const pushTo = (m: Map<Node, Node[]>, k: Node, v: Node): void => {
  const xs = m.get(k)
  if (xs === undefined) m.set(k, [v])
  else xs.push(v)
}

const plus = (a: Counts, b: Partial<Counts>): Counts => {
  const out: Record<keyof Counts, number> = { ...a }
  for (const k of countKeys) out[k] = a[k] + (b[k] ?? 0)
  return out
}

// ---------------------------------------------------------------------------------------------
// Renderers

/** 1234567 → `1,234,567` (locale-free, so snapshots do not depend on the machine). */
const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

const columns: ReadonlyArray<readonly [string, (l: Counts) => string]> = [
  ['Binary params', (l) => grouped(l.binaryParams)],
  ['Real params', (l) => grouped(l.realParams)],
  ['Memory (bits)', (l) => grouped(l.bits)],
  ['Binary MACs', (l) => grouped(l.binaryMacs)],
  ['Real MACs', (l) => grouped(l.realMacs)],
  ['Stochastic sites', (l) => String(l.stochasticSites)],
]

/** An aligned text table, one row per layer and a totals row, then memory and MAC totals. */
export const renderSummary = (s: Summary): string => {
  const header = ['Layer', 'Kind', 'Output shape', ...columns.map(([h]) => h)]
  const rows = s.layers.map((l) => [l.name, l.kind, showShape(l.outputShape), ...columns.map(([, f]) => f(l))])
  const total = ['Total', '', '', ...columns.map(([, f]) => f(s.total))]
  const widths = header.map((h, i) => Math.max(h.length, ...[...rows, total].map((r) => r[i]!.length)))
  // Text columns align left, counts right.
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  const t = s.total
  const macs = t.binaryMacs + t.realMacs
  return [
    line(header), rule, ...rows.map(line), rule, line(total), '',
    `Parameters: ${grouped(t.binaryParams + t.realParams)} (${grouped(t.binaryParams)} binary at ${binaryParamBits} bit, ` +
      `${grouped(t.realParams)} real at ${realParamBits} bits, of which ${grouped(t.nonTrainableParams)} non-trainable)`,
    `Memory: ${grouped(t.bits)} bits = ${grouped(t.bytes)} bytes (${(t.bytes / 1024).toFixed(2)} KiB)`,
    `MACs per example: ${grouped(macs)} (${grouped(t.binaryMacs)} binary, ${grouped(t.realMacs)} real; ` +
      `${(100 * t.binaryMacFraction).toFixed(2)}% binary)`,
    `Stochastic sites: ${t.stochasticSites} (${t.weightSites} weight, ${t.activationSites} activation)`,
  ].join('\n')
}

/** The summary as plain JSON (what `sbnkit check --json` prints), with its units stated. */
export const summaryJson = (s: Summary): unknown => ({
  format: 'sbnkit-summary',
  version: 1,
  units: { binaryParamBits, realParamBits, macs: 'per example (batch = 1)' },
  layers: s.layers.map((l) => ({ ...l, outputShape: [...l.outputShape] })),
  total: { ...s.total },
})

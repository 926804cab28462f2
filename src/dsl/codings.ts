/**
 * Converters between the ±1 and {0,1} state codings of a whole network (MATH.md §1).
 *
 * sbnkit's binary units always output x ∈ {−1, +1}. A network "in {0,1} coding" is one whose
 * dense layers read s = (x + 1)/2 instead, written in the IR as `add(mul(x, 0.5), 0.5)`. Since
 *
 *   s·W′ + b′ = x·(W′/2) + (b′ + ½·1ᵀW′),
 *
 * a layer (W, b) reading x equals a layer (W′, b′) = (2W, b − 1ᵀW) reading s: the converted
 * network computes the same function, so every interpreter gives the same expected loss, and the
 * gradients are related by the chain rule: ∂L/∂W′ = ½(∂L/∂W + 1·∂L/∂b), ∂L/∂b′ = ∂L/∂b.
 *
 * `toZeroOne` rewrites every dense layer (MatMul + bias Add, as built by `dense`) that reads
 * binary activation states; `toPlusMinus` recognises the {0,1} pattern and undoes it. A layer that
 * does not fit (Bernoulli weights, no bias, a parameter shared with another node, a convolution
 * reading binary states) is an error value naming the layer and the reason.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Path } from './dslErrors.js'
import { drawAll, InternalError, showPath } from './dslErrors.js'
import type { Add, Checked, MatMul, Network, Node, Param } from './node.js'
import { children } from './node.js'
import { add, constant, mul } from './primitives.js'
import { hasBatch } from './shape.js'
import { pathFinder, typecheck } from './typecheck.js'
import { topoOrder } from './fold.js'
import { rebuild } from './rewrite.js'

// ---------------------------------------------------------------------------------------------
// Model

/** A layer that the conversion cannot rewrite: where it is and why. */
export interface CodingError {
  readonly _tag: 'CodingMismatch'
  readonly conversion: 'toZeroOne' | 'toPlusMinus'
  readonly path: Path
  readonly message: string
}

/** Renders a coding error on one line: conversion, where, why. */
export const drawCodingError = (e: CodingError): string =>
  `${e.conversion} at ${showPath(e.path)}: ${e.message}`

// ---------------------------------------------------------------------------------------------
// Recognisers

/** Binary activation states: a Binarize with a batch axis, possibly flattened or max-pooled. */
const isBinaryActivation = (n: Node): boolean =>
  (n._tag === 'Binarize' && hasBatch(n.type.shape)) ||
  ((n._tag === 'Reshape' || (n._tag === 'Pool' && n.op === 'max')) && isBinaryActivation(n.input))

const isHalf = (n: Node): boolean => n._tag === 'Const' && n.value === 0.5

/** The x of `add(mul(x, 0.5), 0.5)` (either operand order) when x is binary activation states. */
const zeroOneSource = (n: Node): Node | undefined => {
  if (n._tag !== 'Add') return undefined
  const product = isHalf(n.rhs) ? n.lhs : isHalf(n.lhs) ? n.rhs : undefined
  if (product?._tag !== 'Mul') return undefined
  const x = isHalf(product.rhs) ? product.lhs : isHalf(product.lhs) ? product.rhs : undefined
  return x !== undefined && isBinaryActivation(x) ? x : undefined
}

const describe = (n: Node): string =>
  n._tag === 'Binarize' ? `binary activation "${n.site}"` : n.label !== undefined ? `binary states "${n.label}"` : 'binary activation states'

// ---------------------------------------------------------------------------------------------
// Rules

interface Layer {
  readonly matmul: MatMul
  readonly weights: Param
  readonly bias: Param
  /** What the layer reads in the target coding. */
  readonly source: Node
}

interface Graph {
  readonly order: readonly Node[]
  readonly parents: ReadonlyMap<Node, readonly Node[]>
  /** References to each parameter name (tied Param nodes count once per use). */
  readonly paramUses: ReadonlyMap<string, number>
  /** A node's path, computed only when an error is reported (linear in the network's depth). */
  readonly pathOf: (node: Node) => Path
}

const graphOf = (net: Network): Graph => {
  const roots = Object.values(net.outputs)
  const order = topoOrder(roots)
  const parents = new Map<Node, Node[]>()
  const paramUses = new Map<string, number>()
  for (const node of order)
    for (const [, child] of children(node)) {
      parents.set(child, [...(parents.get(child) ?? []), node])
      if (child._tag === 'Param') paramUses.set(child.name, (paramUses.get(child.name) ?? 0) + 1)
    }
  return { order, parents, paramUses, pathOf: pathFinder(net.outputs) }
}

/** Checks that `m` (reading `source` in the target coding) is a dense layer that can be rewritten. */
const layerOf = (g: Graph, net: Network, m: MatMul, source: Node, conversion: CodingError['conversion']): E.Either<CodingError, Layer> => {
  const users = g.parents.get(m) ?? []
  const bias = users[0]
  const where = bias?._tag === 'Add' ? bias : m
  const fail = (message: string): E.Either<CodingError, Layer> =>
    E.left({ _tag: 'CodingMismatch', conversion, path: g.pathOf(where), message })
  const reads = describe(source)
  const w = m.rhs
  if (w._tag === 'Binarize')
    return fail(`the layer reads ${reads} with Bernoulli ±1 weights (site "${w.site}"): W is not a free real parameter, so it cannot absorb the factor ½ of s = (x + 1)/2 (W/2 would not be ±1); only layers with real weights have a {0,1} form`)
  if (w._tag !== 'Param') return fail(`the layer reads ${reads} with weights computed by a ${w._tag} node; expected a real weight parameter`)
  const units = w.type.shape[1] as number
  const isOutput = Object.values(net.outputs).includes(m)
  const biasParam = bias?._tag === 'Add' ? otherOperand(bias, m) : undefined
  if (users.length !== 1 || isOutput || biasParam === undefined)
    return fail(`the product x·W that reads ${reads} must feed only a bias Add (x·W + b, as built by dense): the bias absorbs ½·1ᵀW`)
  if (biasParam._tag !== 'Param' || biasParam.type.shape.length !== 1 || biasParam.type.shape[0] !== units)
    return fail(`the bias of the layer that reads ${reads} must be a real parameter of shape [${units}]`)
  for (const p of [w, biasParam])
    if ((g.paramUses.get(p.name) ?? 0) !== 1)
      return fail(`parameter "${p.name}" is also used elsewhere; re-parametrizing it would change that use`)
  return E.right({ matmul: m, weights: w, bias: biasParam, source })
}

const otherOperand = (a: Add, m: Node): Node | undefined => (a.lhs === m ? a.rhs : a.rhs === m ? a.lhs : undefined)

type Direction = {
  readonly conversion: CodingError['conversion']
  /** What a MatMul must read to be rewritten (its source in the other coding), if anything. */
  readonly reads: (lhs: Node) => Node | undefined
  /** The new lhs of a rewritten MatMul, given its (already rebuilt) source. */
  readonly rewrite: (source: Node) => Node
  /** New (W, b) from old (W, b), with n rows (inputs) and m columns (units). */
  readonly params: (W: Float64Array, b: Float64Array, rows: number, cols: number) => readonly [Float64Array, Float64Array]
}

const convert = (net: Checked<Network>, dir: Direction): E.Either<CodingError, Checked<Network>> => {
  const g = graphOf(net)
  const layers: Layer[] = []
  for (const n of g.order) {
    if (dir.conversion === 'toZeroOne' && n._tag === 'Conv2d' && isBinaryActivation(n.input))
      return E.left({ _tag: 'CodingMismatch', conversion: dir.conversion, path: g.pathOf(n), message: `the convolution reads ${describe(n.input)}; only dense layers are converted to the {0,1} coding` })
    if (n._tag !== 'MatMul') continue
    const source = dir.reads(n.lhs)
    if (source === undefined) continue
    const layer = layerOf(g, net, n, source, dir.conversion)
    if (E.isLeft(layer)) return layer
    layers.push(layer.right)
  }
  const byMatMul = new Map<Node, Layer>(layers.map((l) => [l.matmul, l]))
  // Rebuild bottom-up; a shared source gets one pattern node, so sharing is preserved.
  const pattern = new Map<Node, Node>()
  const rebuilt = rebuild(Object.values(net.outputs), (n, copy, fresh) => {
    const layer = byMatMul.get(n)
    if (layer === undefined || copy._tag !== 'MatMul') return copy
    const src = fresh(layer.source)
    const lhs = pattern.get(src) ?? dir.rewrite(src)
    pattern.set(src, lhs)
    return { ...copy, lhs }
  })
  const fresh = (n: Node): Node => rebuilt.get(n) ?? n
  const params: Record<string, Float64Array> = { ...net.params }
  for (const l of layers) {
    const [rows, cols] = l.weights.type.shape as readonly [number, number]
    const [W, b] = dir.params(net.params[l.weights.name]!, net.params[l.bias.name]!, rows, cols)
    params[l.weights.name] = W
    params[l.bias.name] = b
  }
  const outputs = Object.fromEntries(Object.entries(net.outputs).map(([k, v]) => [k, fresh(v)]))
  const checked = typecheck({ outputs, params })
  if (E.isLeft(checked)) throw new InternalError(`coding conversion produced an invalid network: ${drawAll([checked.left])}`)
  return E.right(checked.right)
}

/** Column sums 1ᵀW of a row-major [rows, cols] matrix. */
const columnSums = (W: Float64Array, rows: number, cols: number): Float64Array => {
  const s = new Float64Array(cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s[j]! += W[i * cols + j]!
  return s
}

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * The {0,1} form of a network: every dense layer reading binary activation states x reads
 * s = (x + 1)/2 = `add(mul(x, 0.5), 0.5)` with (W′, b′) = (2W, b − 1ᵀW). Same function, same
 * expected loss.
 * @example
 * const zeroOne = toZeroOne(net) // Either<CodingError, Checked<Network>>
 */
export const toZeroOne = (net: Checked<Network>): E.Either<CodingError, Checked<Network>> =>
  convert(net, {
    conversion: 'toZeroOne',
    reads: (lhs) => (isBinaryActivation(lhs) ? lhs : undefined),
    rewrite: (x) => add(mul(x, constant(0.5)), constant(0.5)),
    params: (W, b, rows, cols) => {
      const sums = columnSums(W, rows, cols)
      return [W.map((w) => 2 * w), b.map((v, j) => v - sums[j]!)]
    },
  })

/**
 * The ±1 form of a network: every dense layer reading `add(mul(x, 0.5), 0.5)` of binary
 * activation states x reads x itself with (W, b) = (W′/2, b′ + ½·1ᵀW′). Inverse of `toZeroOne`.
 * @example
 * const back = E.chain(toPlusMinus)(toZeroOne(net)) // the original network, up to rounding
 */
export const toPlusMinus = (net: Checked<Network>): E.Either<CodingError, Checked<Network>> =>
  convert(net, {
    conversion: 'toPlusMinus',
    reads: zeroOneSource,
    rewrite: (x) => x,
    params: (W, b, rows, cols) => {
      const sums = columnSums(W, rows, cols)
      return [W.map((w) => w / 2), b.map((v, j) => v + sums[j]! / 2)]
    },
  })

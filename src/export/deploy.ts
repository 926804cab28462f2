/**
 * The deployed network: the mode network (every binarize is sign, batch norm uses its running
 * statistics) as a straight list of layers, which both exporters write (packed.ts, onnx.ts).
 *
 * Binary weights are kept as their signs; the bias / batch-norm / elementwise chain between a
 * product and its sign is folded into one comparison per unit (thresholds.ts); a max-pooling of
 * the pre-activations before the sign is kept as a max of the sums (exact, because the chain
 * below it is non-decreasing: max(fl(s + b)) = fl(max(s) + b)). The real head is kept as is.
 * Anything else is refused with the layer, what was expected and what was found (an Either, as
 * everywhere: the walk returns the first refusal).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Binarize, Checked, LossOp, Network, Node } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import { sizeOf } from '../dsl/shape.js'
import type { UnitFn } from '../interpreters/compiled/fuseEpilogue.js'
import { fusableChain } from '../interpreters/compiled/fusion.js'
import { modeRule } from '../interpreters/reference/sampling.js'
import { evaluate } from '../interpreters/reference/forward.js'
import { withBatchNormMode } from '../train/modes.js'
import type { ExportError } from './exportErrors.js'
import { notExportable } from './exportErrors.js'
import type { Folded } from './thresholds.js'
import { foldInteger, foldReal } from './thresholds.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The network's one data input, per example (no batch axis). */
export interface DeployedInput {
  readonly name: string
  readonly shape: readonly number[]
  readonly dtype: 'real' | 'binary'
}

/** A max-pooling window, without padding. */
export interface Window {
  readonly window: readonly [number, number]
  readonly stride: readonly [number, number]
}

export type Layer =
  /** x [K] → ±1 [N]: unit j is +1 iff d_j·(x·W)_j + c_j ≥ 0. W [K, N] holds ±1. */
  | { readonly _tag: 'SignDense'; readonly label: string; readonly k: number; readonly n: number; readonly weights: Float64Array; readonly fold: Folded }
  /**
   * x [C, H, W] → ±1 [O, H', W']: the convolution's sums (optionally max-pooled) s, then unit
   * (channel) o is +1 iff d_o·s + c_o ≥ 0. The kernel [O, C, kh, kw] holds ±1.
   */
  | {
      readonly _tag: 'SignConv'
      readonly label: string
      readonly c: number
      readonly o: number
      readonly kh: number
      readonly kw: number
      readonly stride: readonly [number, number]
      readonly padding: readonly [number, number]
      readonly padValue: number
      readonly pool?: Window
      readonly weights: Float64Array
      readonly fold: Folded
    }
  /** The sign of a real input, +1 iff x ≥ 0 (a binarized input). */
  | { readonly _tag: 'Sign'; readonly label: string }
  /** Max-pooling of a ±1 map. */
  | ({ readonly _tag: 'MaxPool'; readonly label: string } & Window)
  /** [C, H, W] → [C·H·W], NCHW order. */
  | { readonly _tag: 'Flatten'; readonly label: string }
  /** The head: x·W (+ b) as real outputs; W real, or ±1 when `binaryWeights`. */
  | {
      readonly _tag: 'Linear'
      readonly label: string
      readonly k: number
      readonly n: number
      readonly weights: Float64Array
      readonly binaryWeights: boolean
      readonly bias?: Float64Array
    }

export interface Deployed {
  readonly input: DeployedInput
  /** In evaluation order; the last one is the `Linear` head. */
  readonly layers: readonly Layer[]
  /** The name of the exported output. */
  readonly output: string
  /** The loss the network was trained with, if any (which turns logits into predictions). */
  readonly loss?: LossOp
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The deployed form of output `output` (default `output`) of a network.
 * @example
 * const d = deploy(net) // Either<ExportError, Deployed>
 */
export const deploy = (model: Checked<Network>, output = 'output'): E.Either<ExportError, Deployed> => {
  const net = withBatchNormMode(model, 'inference')
  const root = net.outputs[output]
  if (root === undefined)
    return E.left(notExportable(`output "${output}"`, 'an output of that name', `outputs ${Object.keys(net.outputs).map((o) => `"${o}"`).join(', ') || 'none'}`))
  const constants = new Map<Node, Float64Array>()
  const constOf = (n: Node): Float64Array | undefined => {
    if (hasInput(n)) return undefined
    let v = constants.get(n)
    if (v === undefined) {
      v = evaluate({ net, feed: {}, batch: 1, binarize: modeRule }, [n]).values.get(n)!.data
      constants.set(n, v)
    }
    return v
  }
  const inputs = new Set<string>()
  const state = { input: undefined as DeployedInput | undefined }
  return E.map((layers: Layer[]): Deployed => {
    const loss = Object.values(net.outputs).find((n) => n._tag === 'Loss' && n.logits === root)
    return { input: state.input!, layers, output, ...(loss?._tag === 'Loss' ? { loss: loss.op } : {}) }
  })(headOf(root, { constOf, state, inputs }))
}

// ---------------------------------------------------------------------------------------------
// Rules

type Layers = E.Either<ExportError, Layer[]>

const refuse = (n: Node, expected: string, found: string): E.Either<ExportError, never> =>
  E.left(notExportable(nameOf(n), expected, found))
/** The layers below, then one more. */
const then = (below: Layers, layer: Layer): Layers => E.map((ls: Layer[]) => [...ls, layer])(below)
const nameOf = (n: Node): string => n.label ?? (n._tag === 'Binarize' ? `binarize ${n.site}` : n._tag)

const inputMemo = new WeakMap<Node, boolean>()
const hasInput = (n: Node): boolean => {
  let v = inputMemo.get(n)
  if (v === undefined) {
    v = n._tag === 'Input' || children(n).some(([, c]) => hasInput(c))
    inputMemo.set(n, v)
  }
  return v
}

interface Walk {
  readonly constOf: (n: Node) => Float64Array | undefined
  readonly state: { input: DeployedInput | undefined }
  readonly inputs: Set<string>
}

/** The head: [add(] matmul(binary x, W) [, b)]. */
const headOf = (n: Node, w: Walk): Layers => {
  let product = n
  let bias: Float64Array | undefined
  if (n._tag === 'Add') {
    const [p, b] = w.constOf(n.rhs) !== undefined ? [n.lhs, n.rhs] : [n.rhs, n.lhs]
    const value = w.constOf(b)
    const units = n.type.shape[1]
    if (value === undefined || typeof units !== 'number' || value.length !== units)
      return refuse(n, 'a head x·W + b with a bias of one value per output', `an Add of ${b.type.shape.length === 0 ? 'a scalar' : `shape [${b.type.shape.join(', ')}]`}`)
    product = p
    bias = value
  }
  if (product._tag !== 'MatMul' || product.lhs.type.shape[0] !== 'batch' || product.type.shape.length !== 2)
    return refuse(product, 'a real head x·W (+ b) on a per-example input', product._tag)
  const weights = w.constOf(product.rhs)
  if (weights === undefined) return refuse(product, 'constant head weights', 'weights that depend on the data')
  const [k, units] = product.rhs.type.shape as [number, number]
  const head: Layer = { _tag: 'Linear', label: nameOf(n), k, n: units, weights, binaryWeights: product.rhs.type.dtype === 'binary', ...(bias === undefined ? {} : { bias }) }
  return then(binaryOf(product.lhs, w, 'the head'), head)
}

/** The layers that compute a binary (±1) tensor. */
const binaryOf = (n: Node, w: Walk, user: string): Layers => {
  if (n.type.dtype !== 'binary') return refuse(n, `a ±1 input to ${user} (a binarized layer or a binary input)`, `a ${n.type.dtype} tensor`)
  if (n._tag === 'Input') return inputOf(n, w)
  if (n._tag === 'Reshape') {
    const s = n.input.type.shape
    if (s.length === 4 && n.type.shape.length === 2) return then(binaryOf(n.input, w, nameOf(n)), { _tag: 'Flatten', label: nameOf(n) })
    return refuse(n, 'a flatten [batch, C, H, W] → [batch, C·H·W]', `a reshape to [${n.type.shape.join(', ')}]`)
  }
  if (n._tag === 'Pool' && n.op === 'max')
    return then(binaryOf(n.input, w, nameOf(n)), { _tag: 'MaxPool', label: nameOf(n), window: n.window, stride: n.stride })
  if (n._tag === 'Binarize' && n.input._tag === 'Input' && n.input.type.dtype === 'real')
    return then(inputOf(n.input, w), { _tag: 'Sign', label: nameOf(n) })
  if (n._tag === 'Binarize' && n.type.shape[0] === 'batch') return signLayer(n, w)
  return refuse(n, `a binarized layer, a max-pooling or a flatten before ${user}`, n._tag)
}

/** The one data input; a second, differently named input is refused. */
const inputOf = (n: Node, w: Walk): Layers => {
  if (n._tag !== 'Input') return refuse(n, 'the data input', n._tag)
  const [batch, ...shape] = n.type.shape
  if (batch !== 'batch' || n.type.dtype === 'index') return refuse(n, 'a per-example real or binary input', `shape [${n.type.shape.join(', ')}] of dtype ${n.type.dtype}`)
  w.inputs.add(n.name)
  if (w.inputs.size > 1) return refuse(n, 'one data input', `inputs ${[...w.inputs].map((s) => `"${s}"`).join(', ')}`)
  w.state.input = { name: n.name, shape: shape as number[], dtype: n.type.dtype }
  return E.right([])
}

const isBottom = (n: Node): boolean => n._tag === 'MatMul' || n._tag === 'Conv2d' || (n._tag === 'Pool' && n.op === 'max')

/** binarize(chain([maxPool(chain(] product [))])) as one SignDense or SignConv layer. */
const signLayer = (b: Binarize, w: Walk): Layers => {
  // Named after the activation's site (`layer1.act` → `layer1`), else the pre-activation's label.
  const label = b.site.endsWith('.act') ? b.site.slice(0, -'.act'.length) : b.input.label ?? nameOf(b)
  const upper = fusableChain(b.input, w.constOf, isBottom)
  if (typeof upper === 'string') return refuse(b.input, 'a product followed by bias, scale, batch norm or a monotone function', upper)
  let product = upper.product
  let units: readonly UnitFn[] = upper.units
  let pool: Window | undefined
  if (product._tag === 'Pool') {
    const lower = fusableChain(product.input, w.constOf)
    if (typeof lower === 'string') return refuse(product.input, 'a product followed by bias, scale, batch norm or a monotone function', lower)
    pool = { window: product.window, stride: product.stride }
    const inner = lower.units
    const down = inner.findIndex((f) => f(-Number.MAX_VALUE) > f(Number.MAX_VALUE))
    if (down >= 0) return refuse(product, 'a non-decreasing chain between the product and max-pooling', `a decreasing one at unit ${down}`)
    const outer = units
    units = outer.map((f, j) => (s: number) => f(inner[j]!(s)))
    product = lower.product
  }
  if (product._tag === 'MatMul') {
    if (pool !== undefined) return refuse(product, 'a convolution under max-pooling', 'a matrix product')
    const weights = binaryWeights(product.rhs, w)
    if (E.isLeft(weights)) return weights
    const [k, n] = product.rhs.type.shape as [number, number]
    const x = product.lhs
    const below = x.type.dtype === 'binary' ? binaryOf(x, w, label) : inputOf(x, w)
    const fold = x.type.dtype === 'binary' ? foldInteger(units, k) : foldReal(units)
    return then(below, { _tag: 'SignDense', label, k, n, weights: weights.right, fold })
  }
  if (product._tag !== 'Conv2d') return refuse(product, 'a matrix product or a convolution', product._tag)
  const weights = binaryWeights(product.kernel, w)
  if (E.isLeft(weights)) return weights
  const [o, c, kh, kw] = product.kernel.type.shape as [number, number, number, number]
  const x = product.input
  const integer = x.type.dtype === 'binary' && [1, 0, -1].includes(product.padValue)
  const below = x.type.dtype === 'binary' ? binaryOf(x, w, label) : inputOf(x, w)
  const fold = integer ? foldInteger(units, c * kh * kw) : foldReal(units)
  return then(below, {
    _tag: 'SignConv', label, c, o, kh, kw, stride: product.stride, padding: product.padding, padValue: product.padValue,
    ...(pool === undefined ? {} : { pool }), weights: weights.right, fold,
  })
}

/** The ±1 values of a layer's binary weights (the mode network's sign of η). */
const binaryWeights = (n: Node, w: Walk): E.Either<ExportError, Float64Array> => {
  const v = w.constOf(n)
  if (n.type.dtype !== 'binary' || v === undefined)
    return refuse(n, 'binary weights (a binarized parameter)', v === undefined ? 'weights that depend on the data' : 'real weights')
  if (v.length !== sizeOf(n.type.shape)) return refuse(n, `${sizeOf(n.type.shape)} weights`, `${v.length}`)
  return E.right(v)
}

/**
 * Composites: the layers users reach for, built only from primitives (interpreters never see
 * them). Constructors are data-last, so networks read as pipelines:
 * `pipe(x, dense(512, { weights: 'binary' }), sbinary(logistic()), dense(10))`.
 *
 * Names. A composite that creates parameters or stochastic sites names them `<name>.<role>`
 * (`dense2.W`, `dense2.act`). Without an explicit `name`, the name is derived from the graph
 * below the input (`dense` + 1 + the number of matrix products under it), a pure function of
 * the input: no counter, no registry. Two layers that would get the same name (parallel branches)
 * are reported by `typecheck` as a duplicate, and the fix is to pass `name`.
 */
import { topoOrder } from '../interpreters/algebra.js'
import type { Init, Node, Tag } from './node.js'
import type { Noise } from './noise.js'
import { logistic } from './noise.js'
import {
  add, batchNormalization, binarize, conv2d, labelled, loss, matmul, param, pool, reshape, unary,
} from './primitives.js'
import type { Tensor } from './primitives.js'
import { sizeOf } from './shape.js'

const countBelow = (x: Node, pred: (n: Node) => boolean): number => topoOrder([x]).filter(pred).length
const defaultName = (x: Node, prefix: string, tag: Tag): string =>
  `${prefix}${1 + countBelow(x, (n) => n._tag === tag)}`

/** How a layer's weights are represented. */
export type WeightKind = 'real' | 'binary'

export interface DenseOptions {
  readonly name?: string
  /** `binary`: Bernoulli ±1 weights w = sign(η − Z) with latent η (MATH.md §4). Default `real`. */
  readonly weights?: WeightKind
  /** The weight noise for binary weights (default logistic(1), so η is the logit of P(w = +1)). */
  readonly noise?: Noise
  readonly bias?: boolean
  readonly init?: Init
}

/** Weights of shape `shape` named `<name>.W`: a real parameter, or its binarization. */
const weights = (name: string, shape: readonly number[], opts: DenseOptions): Node => {
  const binary = opts.weights === 'binary'
  const init: Init = opts.init ?? (binary ? { kind: 'uniform', low: -1, high: 1 } : { kind: 'glorot' })
  const w = param(`${name}.W`, shape, init)
  return binary ? binarize(w, opts.noise ?? logistic(1), `${name}.W`) : w
}

/** A fully connected layer x·W + b on [batch, in] inputs. */
export const dense = (units: number, opts: DenseOptions = {}) => (x: Node): Tensor => {
  const name = opts.name ?? defaultName(x, 'dense', 'MatMul')
  const inner = x.type.shape[1]
  const product = matmul(x, weights(name, [typeof inner === 'number' ? inner : 0, units], opts))
  const out = opts.bias === false ? product : add(product, param(`${name}.b`, [units], { kind: 'zeros' }))
  return labelled(out, name)
}

/** A stochastic binary activation x = sign(a − Z) at site `<site>` (default `<input label>.act`). */
export const sbinary = (noise: Noise = logistic(1), opts: { readonly site?: string } = {}) => (x: Node): Tensor =>
  binarize(x, noise, opts.site ?? `${x.label ?? defaultName(x, 'sbinary', 'Binarize')}.act`)

/** The deterministic sign activation (noise `none`), as used by deterministic BNNs. */
export const sign = (opts: { readonly site?: string } = {}) => sbinary({ family: 'none' }, opts)

export interface ConvOptions extends DenseOptions {
  readonly stride?: number
  readonly padding?: number
  readonly padValue?: number
}

/** A 2-D convolution layer on NCHW inputs with `filters` output channels and a square kernel. */
export const conv = (filters: number, kernel: number, opts: ConvOptions = {}) => (x: Node): Tensor => {
  const name = opts.name ?? defaultName(x, 'conv', 'Conv2d')
  const channels = x.type.shape[1]
  const k = weights(name, [filters, typeof channels === 'number' ? channels : 0, kernel, kernel], opts)
  const product = conv2d(x, k, {
    ...(opts.stride === undefined ? {} : { stride: opts.stride }),
    ...(opts.padding === undefined ? {} : { padding: opts.padding }),
    ...(opts.padValue === undefined ? {} : { padValue: opts.padValue }),
  })
  const out = opts.bias === false ? product : add(product, param(`${name}.b`, [filters, 1, 1], { kind: 'zeros' }))
  return labelled(out, name)
}

export const maxPool = (window: number, stride?: number) => (x: Node): Tensor => pool('max', x, window, stride)
export const avgPool = (window: number, stride?: number) => (x: Node): Tensor => pool('avg', x, window, stride)

/** [batch, ...] → [batch, product of the rest]. */
export const flatten = () => (x: Node): Tensor =>
  reshape(x, x.type.shape[0] === 'batch' ? ['batch', sizeOf(x.type.shape.slice(1))] : [sizeOf(x.type.shape)])

export interface BatchNormOptions {
  readonly name?: string
  readonly mode?: 'train' | 'inference'
  readonly eps?: number
  readonly momentum?: number
}

/** Batch normalisation over axis 1 with learnt gain and shift, and running statistics. */
export const batchNorm = (opts: BatchNormOptions = {}) => (x: Node): Tensor => {
  const name = opts.name ?? defaultName(x, 'bn', 'BatchNorm')
  const c = x.type.shape[1]
  const shape = [typeof c === 'number' ? c : 0]
  const out = batchNormalization(
    x,
    {
      gamma: param(`${name}.gamma`, shape, { kind: 'ones' }),
      beta: param(`${name}.beta`, shape, { kind: 'zeros' }),
      runningMean: param(`${name}.mean`, shape, { kind: 'zeros' }, false),
      runningVar: param(`${name}.var`, shape, { kind: 'ones' }, false),
    },
    opts.mode ?? 'inference',
    opts.eps,
    opts.momentum,
  )
  return labelled(out, name)
}

// Elementwise sugar, data-last.
export const tanh = () => (x: Node): Tensor => unary('tanh', x)
export const sigmoid = () => (x: Node): Tensor => unary('sigmoid', x)
export const hardtanh = () => (x: Node): Tensor => unary('hardtanh', x)
export const relu = () => (x: Node): Tensor => unary('relu', x)
export const neg = (x: Node): Tensor => unary('neg', x)
/** a − b, as a + (−b). */
export const sub = (a: Node, b: Node): Tensor => add(a, unary('neg', b))

// Loss heads, data-last on the prediction.
export const softmaxCrossEntropy = (labels: Node) => (logits: Node): Tensor<[]> => loss('softmax-ce', logits, labels)
export const logisticNll = (labels: Node) => (logits: Node): Tensor<[]> => loss('logistic-nll', logits, labels)
export const squaredError = (target: Node) => (prediction: Node): Tensor<[]> => loss('squared', prediction, target)

export interface MlpOptions {
  /** Widths of the hidden binary layers. */
  readonly hidden: readonly number[]
  /** Width of the real linear head. */
  readonly outputs: number
  /** Hidden-layer weights (the head is always real, MATH.md §1). Default `binary`. */
  readonly weights?: WeightKind
  readonly weightNoise?: Noise
  /** Noise of the stochastic binary activations; `none` gives the deterministic sign. */
  readonly activation?: Noise
  /** Batch normalisation before each binary activation. */
  readonly batchNorm?: false | 'train' | 'inference'
}

/** Real input → binary hidden layers `layer1…layerK` → a real linear `head`. */
export const mlp = (opts: MlpOptions) => (x: Node): Tensor => {
  let h: Node = x
  opts.hidden.forEach((width, i) => {
    const name = `layer${i + 1}`
    const a = dense(width, {
      name,
      weights: opts.weights ?? 'binary',
      ...(opts.weightNoise === undefined ? {} : { noise: opts.weightNoise }),
    })(h)
    const pre = opts.batchNorm ? batchNorm({ name: `${name}.bn`, mode: opts.batchNorm })(a) : a
    h = binarize(pre, opts.activation ?? logistic(1), `${name}.act`)
  })
  return dense(opts.outputs, { name: 'head' })(h)
}

/**
 * Composites: the layers users reach for, built only from primitives (interpreters never see
 * them). Constructors are data-last, so networks read as pipelines:
 * `pipe(x, dense(512, { weights: 'binary' }), sbinary(logistic()), dense(10))`.
 *
 * Names. A composite that creates parameters or stochastic sites names them `<name>.<role>`
 * (`dense2.W`, `dense2.act`). Without an explicit `name`, the name is derived from the graph
 * below the input (`dense` + 1 + the number of matrix products under it), a pure function of
 * the input: no counter, no registry. Two layers that get the same name (parallel branches on one
 * input) are reported by `typecheck` as a duplicate, never silently tied; pass `name` to keep them
 * apart, and reuse one `param` node to share weights.
 */
import { topoOrder } from './fold.js'
import type { Init, Node, Shape, Tag } from './node.js'
import type { Noise } from './noise.js'
import { logistic } from './noise.js'
import {
  add, batchNormalization, binarize, conv2d, labelled, loss, matmul, param, pool, reshape, unary,
} from './primitives.js'
import type { Guard, Operand, ShapeIn, Tensor } from './primitives.js'
import { sizeOf } from './shape.js'
import type {
  BatchNormLayerShape, ConvShape, DenseShape, FlattenShape, LossLayerShape, MlpShape, PoolLayerShape,
} from './types/layers.js'
import type { BroadcastShape, ShapeOf } from './types/shapes.js'

const countBelow = (x: Node, pred: (n: Node) => boolean): number => topoOrder([x]).filter(pred).length
const defaultName = (x: Node, prefix: string, tag: Tag): string =>
  `${prefix}${1 + countBelow(x, (n) => n._tag === tag)}`

/** Composites compute at run time with plain nodes; their signatures carry the shapes. */
const nodeOf = (x: unknown): Node => x as Node
const tensor = <S extends Shape>(node: Node): Tensor<S> => node
/** Axis 1 (features, channels) sizes a layer's parameters; 1 if absent, so they stay valid shapes. */
const featuresOf = (x: Node): number => {
  const c = x.type.shape[1]
  return typeof c === 'number' ? c : 1
}

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

/**
 * A fully connected layer x·W + b on [batch, in] inputs: W is `<name>.W` [in, units], b is
 * `<name>.b` [units].
 * @example
 * const h = pipe(input('x', ['batch', 784]), dense(512)) // Tensor<['batch', 512]>
 */
export const dense = <U extends number>(units: U, opts: DenseOptions = {}) =>
  <X extends Node>(x: Guard<DenseShape<ShapeIn<X>, U>, X>): Tensor<ShapeOf<DenseShape<ShapeIn<X>, U>>> => {
    const input = nodeOf(x)
    const name = opts.name ?? defaultName(input, 'dense', 'MatMul')
    const product = matmul(input, weights(name, [featuresOf(input), units], opts))
    const out = opts.bias === false ? product : add(product, param(`${name}.b`, [units as number], { kind: 'zeros' }))
    return tensor(labelled(out, name))
  }

/** A stochastic binary activation x = sign(a − Z) at site `<site>` (default `<input label>.act`). */
export const sbinary = (noise: Noise = logistic(1), opts: { readonly site?: string } = {}) =>
  <X extends Node>(x: X): Tensor<ShapeIn<X>> =>
    binarize(x, noise, opts.site ?? `${x.label ?? defaultName(x, 'sbinary', 'Binarize')}.act`)

/** The deterministic sign activation (noise `none`), as used by deterministic BNNs. */
export const sign = (opts: { readonly site?: string } = {}) => sbinary({ family: 'none' }, opts)

export interface ConvOptions<St extends number = number, P extends number = number> extends DenseOptions {
  readonly stride?: St
  readonly padding?: P
  readonly padValue?: number
}

/**
 * A 2-D convolution layer on NCHW inputs with `filters` output channels and a square kernel:
 * kernel `<name>.W` [filters, channels, k, k], bias `<name>.b` [filters, 1, 1].
 * @example
 * const y = pipe(input('x', ['batch', 1, 28, 28]), conv(8, 3, { padding: 1 })) // Tensor<['batch', 8, 28, 28]>
 */
export const conv = <F extends number, K extends number, St extends number = 1, P extends number = 0>(
  filters: F,
  kernel: K,
  opts: ConvOptions<St, P> = {},
) =>
  <X extends Node>(x: Guard<ConvShape<ShapeIn<X>, F, K, St, P>, X>): Tensor<ShapeOf<ConvShape<ShapeIn<X>, F, K, St, P>>> => {
    const input = nodeOf(x)
    const name = opts.name ?? defaultName(input, 'conv', 'Conv2d')
    const k = weights(name, [filters, featuresOf(input), kernel, kernel], opts)
    const product = conv2d(input, k, {
      ...(opts.stride === undefined ? {} : { stride: opts.stride }),
      ...(opts.padding === undefined ? {} : { padding: opts.padding }),
      ...(opts.padValue === undefined ? {} : { padValue: opts.padValue }),
    })
    // The bias [filters, 1, 1] broadcasts against [n, filters, h, w] without changing its shape.
    const out = opts.bias === false ? product : add(product, param(`${name}.b`, [filters as number, 1, 1], { kind: 'zeros' }))
    return tensor(labelled(out, name))
  }

/**
 * Max pooling with a square window; the stride defaults to the window.
 * @example
 * const p = pipe(input('x', ['batch', 8, 28, 28]), maxPool(2)) // Tensor<['batch', 8, 14, 14]>
 */
export const maxPool = <W extends number, St extends number = W>(window: W, stride?: St) =>
  <X extends Node>(x: Guard<PoolLayerShape<ShapeIn<X>, W, St>, X>): Tensor<ShapeOf<PoolLayerShape<ShapeIn<X>, W, St>>> =>
    tensor(pool('max', nodeOf(x), window, stride))
/** Average pooling with a square window; the stride defaults to the window. */
export const avgPool = <W extends number, St extends number = W>(window: W, stride?: St) =>
  <X extends Node>(x: Guard<PoolLayerShape<ShapeIn<X>, W, St>, X>): Tensor<ShapeOf<PoolLayerShape<ShapeIn<X>, W, St>>> =>
    tensor(pool('avg', nodeOf(x), window, stride))

/**
 * [batch, ...] → [batch, product of the rest] (without a batch axis: [product of all]).
 * @example
 * const f = pipe(input('x', ['batch', 8, 14, 14]), flatten()) // Tensor<['batch', 1568]>
 */
export const flatten = () => <X extends Node>(x: X): Tensor<FlattenShape<ShapeIn<X>>> => {
  const target: Shape = x.type.shape[0] === 'batch' ? ['batch', sizeOf(x.type.shape.slice(1))] : [sizeOf(x.type.shape)]
  return tensor(reshape(nodeOf(x), target))
}

export interface BatchNormOptions {
  readonly name?: string
  readonly mode?: 'train' | 'inference'
  readonly eps?: number
  readonly momentum?: number
}

/**
 * Batch normalisation over axis 1 with learnt gain and shift (`<name>.gamma`, `<name>.beta`) and
 * running statistics (`<name>.mean`, `<name>.var`, not trainable), each of shape [channels].
 */
export const batchNorm = (opts: BatchNormOptions = {}) =>
  <X extends Node>(x: Guard<BatchNormLayerShape<ShapeIn<X>>, X>): Tensor<ShapeOf<BatchNormLayerShape<ShapeIn<X>>>> => {
    const input = nodeOf(x)
    const name = opts.name ?? defaultName(input, 'bn', 'BatchNorm')
    const shape = [featuresOf(input)]
    const out = batchNormalization(
      input,
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
    return tensor(labelled(out, name))
  }

// Elementwise sugar, data-last; every one keeps its input's shape.
export const tanh = () => <X extends Node>(x: X): Tensor<ShapeIn<X>> => unary('tanh', x)
export const sigmoid = () => <X extends Node>(x: X): Tensor<ShapeIn<X>> => unary('sigmoid', x)
export const hardtanh = () => <X extends Node>(x: X): Tensor<ShapeIn<X>> => unary('hardtanh', x)
export const relu = () => <X extends Node>(x: X): Tensor<ShapeIn<X>> => unary('relu', x)
export const neg = <X extends Node>(x: X): Tensor<ShapeIn<X>> => unary('neg', x)
/** a − b, as a + (−b); broadcasts like `add`. */
export const sub = <A extends Node, B extends Node>(
  a: A,
  b: Operand<BroadcastShape<ShapeIn<A>, ShapeIn<B>>, 'Add', B>,
): Tensor<ShapeOf<BroadcastShape<ShapeIn<A>, ShapeIn<B>>>> => tensor(add(nodeOf(a), unary('neg', nodeOf(b))))

// Loss heads, data-last on the prediction; each is a scalar, the mean over the batch.

/**
 * Softmax cross-entropy of logits [batch, classes] against class labels [batch] (dtype index).
 * @example
 * const l = pipe(input('logits', ['batch', 10]), softmaxCrossEntropy(input('y', ['batch'], 'index'))) // Tensor<[]>
 */
export const softmaxCrossEntropy = <T extends Node>(labels: T) =>
  <L extends Node>(logits: Guard<LossLayerShape<'softmax-ce', ShapeIn<L>, ShapeIn<T>>, L>): Tensor<[]> =>
    tensor(loss('softmax-ce', nodeOf(logits), labels))
/** Logistic NLL log(1 + exp(−y·η)) of one logit per example against ±1 labels (dtype binary). */
export const logisticNll = <T extends Node>(labels: T) =>
  <L extends Node>(logits: Guard<LossLayerShape<'logistic-nll', ShapeIn<L>, ShapeIn<T>>, L>): Tensor<[]> =>
    tensor(loss('logistic-nll', nodeOf(logits), labels))
/** Squared error of a prediction against a real target of the same shape. */
export const squaredError = <T extends Node>(target: T) =>
  <L extends Node>(prediction: Guard<LossLayerShape<'squared', ShapeIn<L>, ShapeIn<T>>, L>): Tensor<[]> =>
    tensor(loss('squared', nodeOf(prediction), target))

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

/**
 * Real input → binary hidden layers `layer1…layerK` → a real linear `head`.
 * @example
 * const logits = pipe(input('x', ['batch', 784]), mlp({ hidden: [512, 512], outputs: 10 })) // Tensor<['batch', 10]>
 */
export const mlp = <const O extends MlpOptions>(opts: O) =>
  <X extends Node>(x: Guard<MlpShape<ShapeIn<X>, O>, X>): Tensor<ShapeOf<MlpShape<ShapeIn<X>, O>>> => {
    let h: Node = nodeOf(x)
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
    return tensor(dense(opts.outputs, { name: 'head' })(h))
  }

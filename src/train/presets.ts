/**
 * Ready-made networks for `sbnkit train --preset`: a binary MLP of given widths and a small
 * binary convolutional net for 28×28 images. Both follow MATH.md §1: the input is real, every
 * hidden layer has Bernoulli ±1 weights and stochastic ±1 activations, and the head is a real
 * linear map under softmax cross-entropy. Inputs are `x` (the features) and `y` (class indices);
 * outputs are `loss` and `output` (the logits).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { batchNorm, conv, dense, flatten, maxPool, mlp, softmaxCrossEntropy } from '../dsl/composites.js'
import type { DslError } from '../dsl/errors.js'
import { initParams } from '../dsl/init.js'
import type { Checked, Network, Node } from '../dsl/node.js'
import type { Noise } from '../dsl/noise.js'
import { logistic } from '../dsl/noise.js'
import { binarize, input } from '../dsl/primitives.js'
import type { Key } from '../dsl/random.js'
import { typecheck } from '../dsl/typecheck.js'

// ---------------------------------------------------------------------------------------------
// Model

export type Preset =
  /** A binary MLP: real input → `hidden` binary layers → real head. */
  | { readonly kind: 'mlp'; readonly hidden: readonly number[] }
  /** conv(c1, 3×3, pad 1) → max-pool 2 → binary; conv(c2, 3×3) → max-pool 2 → binary; real head. */
  | { readonly kind: 'conv'; readonly channels: readonly [number, number] }

export interface PresetOptions {
  /** Per-example input shape: [784] for an MLP on flat images; [1, 28, 28] for the conv net. */
  readonly inputShape: readonly number[]
  readonly classes: number
  /** Noise of the Bernoulli weights (default logistic(1); the BNN recipe asks for uniform(1)). */
  readonly weightNoise?: Noise
  /** Noise of the binary activations (default logistic(1)). */
  readonly activation?: Noise
  /** Batch normalisation before each binary activation (stored in inference mode). */
  readonly batchNorm?: boolean
  /** Key of the initial parameter values. */
  readonly key: Key
}

/** The default conv channels. */
export const defaultConvChannels = [16, 32] as const

// ---------------------------------------------------------------------------------------------
// Constructors

const widths = (s: string): number[] | undefined => {
  const parts = s.split(',').map((p) => p.trim())
  const ns = parts.map(Number)
  return parts.every((p) => /^\d+$/.test(p)) && ns.every((n) => Number.isSafeInteger(n) && n >= 1) ? ns : undefined
}

/**
 * Parses `mlp:512,512`, `conv` or `conv:16,32`.
 * @example parsePreset('mlp:256') // right({ kind: 'mlp', hidden: [256] })
 */
export const parsePreset = (s: string): E.Either<string, Preset> => {
  const [kind, arg, ...rest] = s.split(':')
  const bad = E.left(`expected mlp:W1,W2,… (hidden widths ≥ 1) or conv[:C1,C2], found "${s}"`)
  if (rest.length > 0) return bad
  if (kind === 'mlp') {
    const hidden = arg === undefined ? undefined : widths(arg)
    return hidden === undefined ? bad : E.right({ kind: 'mlp', hidden })
  }
  if (kind === 'conv') {
    if (arg === undefined) return E.right({ kind: 'conv', channels: defaultConvChannels })
    const c = widths(arg)
    return c === undefined || c.length !== 2 ? bad : E.right({ kind: 'conv', channels: [c[0]!, c[1]!] })
  }
  return bad
}

/** The input layout a preset reads: flat feature vectors or NCHW images. */
export const presetLayout = (p: Preset): 'flat' | 'nchw' => (p.kind === 'mlp' ? 'flat' : 'nchw')

/** A short description for logs: `mlp 784→512→512→10`. */
export const describePreset = (p: Preset, o: Pick<PresetOptions, 'inputShape' | 'classes'>): string =>
  p.kind === 'mlp'
    ? `mlp ${[o.inputShape.reduce((a, b) => a * b, 1), ...p.hidden, o.classes].join('→')}`
    : `conv ${o.inputShape.join('×')} → ${p.channels[0]} → ${p.channels[1]} channels → ${o.classes}`

const mlpLogits = (p: Extract<Preset, { kind: 'mlp' }>, o: PresetOptions, x: Node): Node =>
  mlp({
    hidden: p.hidden,
    outputs: o.classes,
    weights: 'binary',
    activation: o.activation ?? logistic(1),
    ...(o.weightNoise === undefined ? {} : { weightNoise: o.weightNoise }),
    ...(o.batchNorm === true ? { batchNorm: 'inference' as const } : {}),
  })(x)

const convLogits = (p: Extract<Preset, { kind: 'conv' }>, o: PresetOptions, x: Node): Node => {
  const weightOpts = { weights: 'binary' as const, ...(o.weightNoise === undefined ? {} : { noise: o.weightNoise }) }
  // Pool the real pre-activations, then binarize: one draw per pooled unit.
  const block = (h: Node, channels: number, padding: number, name: string): Node => {
    const pooled = pipe(h, conv(channels, 3, { name, padding, ...weightOpts }), maxPool(2))
    const pre = o.batchNorm === true ? batchNorm({ name: `${name}.bn`, mode: 'inference' })(pooled) : pooled
    return binarize(pre, o.activation ?? logistic(1), `${name}.act`)
  }
  // The second conv reads ±1 inputs without padding, so no padding value mixes into them.
  const h = block(block(x, p.channels[0], 1, 'conv1'), p.channels[1], 0, 'conv2')
  return dense(o.classes, { name: 'head' })(flatten()(h))
}

/**
 * A preset network with initial parameters drawn from `o.key`, checked.
 * @example
 * presetNetwork({ kind: 'mlp', hidden: [512, 512] }, { inputShape: [784], classes: 10, key: key(0) })
 */
export const presetNetwork = (p: Preset, o: PresetOptions): E.Either<DslError, Checked<Network>> => {
  const x = input('x', ['batch', ...o.inputShape])
  const y = input('y', ['batch'], 'index')
  const logits = p.kind === 'mlp' ? mlpLogits(p, o, x) : convLogits(p, o, x)
  const outputs = { loss: softmaxCrossEntropy(y)(logits), output: logits }
  return typecheck({ outputs, params: initParams(outputs, o.key) })
}

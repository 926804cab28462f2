/**
 * Ready-made networks for `sbnkit train --preset`: a binary MLP of given widths, a small binary
 * convolutional net for 28×28 images, and VGG-style binary nets: BinaryNet's VGG-small for
 * 3×32×32 images (`vgg-small[:M]`, 2×128C3–MP–2×256C3–MP–2×512C3–MP–2×1024FC–10) and a
 * stronger net for 28×28 images (`vgg-mnist[:M]`, 2×32C3–MP–2×64C3–MP–512FC–10), each with a
 * width multiplier M scaling every channel and unit count. All follow MATH.md §1: the input is real, every
 * hidden layer has Bernoulli ±1 weights and stochastic ±1 activations, and the head is a real
 * linear map under softmax cross-entropy. Inputs are `x` (the features) and `y` (class indices);
 * outputs are `loss` and `output` (the logits).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { batchNorm, conv, dense, flatten, maxPool, mlp, softmaxCrossEntropy } from '../dsl/composites.js'
import type { DslError } from '../dsl/dslErrors.js'
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
  /**
   * Stages of two binary 3×3 convolutions (padding 1) each followed by a 2×2 max-pool, then
   * binary fully connected layers, then the real head (`vgg-small`, `vgg-mnist` scaled by M).
   */
  | { readonly kind: 'vgg'; readonly name: string; readonly stages: readonly number[]; readonly fc: readonly number[] }

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

/** The VGG-style families at width multiplier 1: channels per stage and fully connected units. */
export const vggFamilies = {
  'vgg-small': { stages: [128, 256, 512], fc: [1024, 1024] },
  'vgg-mnist': { stages: [32, 64], fc: [512] },
} as const

/**
 * A VGG-style preset at width multiplier `m` (every count rounded, at least 1).
 * @example vggPreset('vgg-small', 0.25) // { kind: 'vgg', name: 'vgg-small:0.25', stages: [32, 64, 128], fc: [256, 256] }
 */
export const vggPreset = (family: keyof typeof vggFamilies, m = 1): Extract<Preset, { kind: 'vgg' }> => {
  const scale = (n: number): number => Math.max(1, Math.round(n * m))
  const f = vggFamilies[family]
  return { kind: 'vgg', name: m === 1 ? family : `${family}:${m}`, stages: f.stages.map(scale), fc: f.fc.map(scale) }
}

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
  const bad = E.left(`expected mlp:W1,W2,… (hidden widths ≥ 1), conv[:C1,C2], vgg-small[:M] or vgg-mnist[:M] (M a width multiplier > 0), found "${s}"`)
  if (rest.length > 0) return bad
  if (kind === 'vgg-small' || kind === 'vgg-mnist') {
    const m = arg === undefined ? 1 : /^(\d+\.?\d*|\.\d+)$/.test(arg) ? Number(arg) : NaN
    return m > 0 && m <= 64 ? E.right(vggPreset(kind, m)) : bad
  }
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
    : p.kind === 'conv'
      ? `conv ${o.inputShape.join('×')} → ${p.channels[0]} → ${p.channels[1]} channels → ${o.classes}`
      : `${p.name} ${o.inputShape.join('×')} → ${p.stages.map((c) => `2×${c}C3–MP`).join('–')}–${p.fc.map((u) => `${u}FC`).join('–')}–${o.classes}`

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

const vggLogits = (p: Extract<Preset, { kind: 'vgg' }>, o: PresetOptions, x: Node): Node => {
  const weightOpts = { weights: 'binary' as const, ...(o.weightNoise === undefined ? {} : { noise: o.weightNoise }) }
  const act = (h: Node, name: string): Node => {
    const pre = o.batchNorm === true ? batchNorm({ name: `${name}.bn`, mode: 'inference' })(h) : h
    return binarize(pre, o.activation ?? logistic(1), `${name}.act`)
  }
  // The first convolution reads the real image (padded with 0); later ones read ±1 activations,
  // padded with −1 so that their inputs stay binary (a bit-packed deployment needs no third value).
  let h = x
  let layer = 0
  for (const channels of p.stages) {
    for (const second of [false, true]) {
      const name = `conv${++layer}`
      const c = conv(channels, 3, { name, padding: 1, padValue: layer === 1 ? 0 : -1, ...weightOpts })(h)
      // Pool the real pre-activations, then binarize: one draw per pooled unit.
      h = act(second ? maxPool(2)(c) : c, name)
    }
  }
  h = flatten()(h)
  p.fc.forEach((units, i) => {
    const name = `fc${i + 1}`
    h = act(dense(units, { name, ...weightOpts })(h), name)
  })
  return dense(o.classes, { name: 'head' })(h)
}

/**
 * A preset network with initial parameters drawn from `o.key`, checked.
 * @example
 * presetNetwork({ kind: 'mlp', hidden: [512, 512] }, { inputShape: [784], classes: 10, key: key(0) })
 */
export const presetNetwork = (p: Preset, o: PresetOptions): E.Either<DslError, Checked<Network>> => {
  const outputs = presetOutputs(p, o)
  return typecheck({ outputs, params: initParams(outputs, o.key) })
}

/**
 * The preset's nodes without parameter values (nothing of the parameters' size is allocated), so
 * that a caller can compare their size with a memory budget first.
 */
export const presetOutputs = (p: Preset, o: PresetOptions): { readonly loss: Node; readonly output: Node } => {
  const x = input('x', ['batch', ...o.inputShape])
  const y = input('y', ['batch'], 'index')
  const logits = p.kind === 'mlp' ? mlpLogits(p, o, x) : p.kind === 'conv' ? convLogits(p, o, x) : vggLogits(p, o, x)
  return { loss: softmaxCrossEntropy(y)(logits), output: logits }
}

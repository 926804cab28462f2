/**
 * Random tiny SBNs whose every joint state (Bernoulli weights and, per example, hidden units)
 * can be enumerated, and the exact expectation of any estimator over its own randomness:
 *
 *   E[ĝ] = Σ_state P(state) · ĝ(state),   P = Π_w F_w(w·η) · Π_n Π_k Π_j F(x_kj · a_kj),
 *
 * with ĝ(state) the gradient interpreter's output when a `source` forces that state, and P
 * computed here by hand (plain loops and the noise cdf). Networks are built with
 * `test/laws/sbn.ts` (sites `l<k>.W` for Bernoulli weights, `l<k>.act` for activations).
 */
import fc from 'fast-check'
import type { Checked, Network } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import type { GradientOptions } from '../../src/estimators/gradient.js'
import { gradient } from '../../src/estimators/gradient.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import type { SbnCase, SbnSpec } from '../laws/sbn.js'
import { buildSbn, paramShapes } from '../laws/sbn.js'
import type { Grads } from './fixtures.js'
import { addScaled, affineRow, forceStates, gridArray, jointStates, statesProb, unwrap, zerosLike } from './fixtures.js'

export interface TinyOptions {
  readonly maxLayers?: 1 | 2
  /** Allow Bernoulli weights in the first layer (at most 4 of them). */
  readonly binaryWeights?: boolean
  /** Noise families of the activations (default logistic only). */
  readonly families?: readonly Noise['family'][]
  /** Most enumerated bits (weights + batch × hidden units); 2^bits gradient calls per case. */
  readonly maxBits?: number
  readonly maxWidth?: number
  readonly maxBatch?: number
}

/**
 * Scales per family chosen so every reachable state can be forced (F(a) ≥ 2⁻³², see
 * `bitsFor`): pre-activations stay within ±6 (|x| ≤ 1, at most 2 inputs, grid weights and
 * biases in [−2, 2]), so |a/s| ≤ 12 for logistic (F ≥ 6·10⁻⁶) and ≤ 4 for normal (F ≥ 3·10⁻⁵);
 * the bounded families reach exactly 0 or 1, or stay ≥ 2⁻²³ away on the grid.
 */
const scalesOf: Readonly<Record<Noise['family'], readonly number[]>> = {
  logistic: [0.5, 1, 2], normal: [1.5, 2], uniform: [0.5, 1, 2], triangular: [0.5, 1, 2], none: [1],
}
const arbNoise = (families: readonly Noise['family'][]): fc.Arbitrary<Noise> =>
  fc.constantFrom(...families).chain((family) =>
    family === 'none' ? fc.constant<Noise>({ family }) : fc.constantFrom(...scalesOf[family]).map((scale): Noise => ({ family, scale })))

/** Joint-state bits of a case: Bernoulli weights plus batch × hidden units. */
export const bitsOf = (spec: SbnSpec, batch: number): number =>
  spec.widths.reduce((s, w, k) => s + batch * w + (spec.binaryWeights[k] === true ? (k === 0 ? spec.inputs : spec.widths[k - 1]!) * w : 0), 0)

export const arbTiny = (o: TinyOptions = {}): fc.Arbitrary<SbnCase> =>
  fc
    .record({
      inputs: fc.integer({ min: 1, max: 2 }),
      layers: fc.integer({ min: 1, max: o.maxLayers ?? 1 }),
      w1: fc.integer({ min: 1, max: o.maxWidth ?? 3 }),
      w2: fc.integer({ min: 1, max: 2 }),
      binary: o.binaryWeights === true ? fc.boolean() : fc.constant(false),
      noise: arbNoise(o.families ?? ['logistic']),
      weightNoise: arbNoise(['logistic']),
      head: fc.constantFrom('softmax' as const, 'logistic' as const),
      classes: fc.integer({ min: 2, max: 3 }),
      batch: fc.integer({ min: 1, max: o.maxBatch ?? 3 }),
    })
    .map((r) => {
      const widths = r.layers === 1 ? [r.w1] : [Math.min(r.w1, 2), r.w2]
      const spec: SbnSpec = {
        inputs: r.inputs, widths, binaryWeights: [r.binary && r.inputs * widths[0]! <= 4, false], noise: r.noise,
        weightNoise: r.weightNoise, head: r.head, classes: r.classes, skip: false,
      }
      return { spec, batch: r.batch }
    })
    .filter(({ spec, batch }) => bitsOf(spec, batch) <= (o.maxBits ?? 10))
    .chain(({ spec, batch }) => {
      const shapes = paramShapes(spec)
      return fc.record({
        values: fc.tuple(...shapes.map(([, s]) => gridArray(s.reduce((a, b) => a * b, 1), -2, 2))),
        x: gridArray(batch * spec.inputs, -1, 1),
        y: spec.head === 'softmax'
          ? fc.array(fc.integer({ min: 0, max: spec.classes - 1 }), { minLength: batch, maxLength: batch })
          : fc.array(fc.constantFrom(1, -1), { minLength: batch, maxLength: batch }),
      }).map(({ values, x, y }): SbnCase => ({
        spec,
        params: Object.fromEntries(shapes.map(([name], i) => [name, Float64Array.from(values[i]!)])),
        feed: {
          x: { shape: [batch, spec.inputs], data: Float64Array.from(x) },
          y: { shape: spec.head === 'softmax' ? [batch] : [batch, 1], data: Float64Array.from(y) },
        },
      }))
    })

export const netOf = (c: SbnCase): Checked<Network> => buildSbn(c.spec, c.params)

/** The sites of a case and their sizes, in a fixed order. */
export const sitesOf = (spec: SbnSpec, batch: number): Array<readonly [string, number]> => [
  ...spec.widths.flatMap((w, k) => (spec.binaryWeights[k] === true ? [[`l${k + 1}.W`, (k === 0 ? spec.inputs : spec.widths[k - 1]!) * w] as const] : [])),
  ...spec.widths.map((w, k) => [`l${k + 1}.act`, batch * w] as const),
]

/** P(state) by hand: the weights' factors, then each example's layers in order. */
export const probOf = (c: SbnCase, s: Readonly<Record<string, readonly number[]>>): number => {
  const { spec, params, feed } = c
  const batch = feed['x']!.shape[0]!
  let prob = 1
  spec.widths.forEach((_, k) => {
    const name = `l${k + 1}.W`
    if (spec.binaryWeights[k] === true) prob *= statesProb(spec.weightNoise, s[name]!, [...params[name]!])
  })
  for (let n = 0; n < batch; n++) {
    let h: readonly number[] = [...feed['x']!.data.subarray(n * spec.inputs, (n + 1) * spec.inputs)]
    spec.widths.forEach((w, k) => {
      const name = `l${k + 1}`
      const W = spec.binaryWeights[k] === true ? s[`${name}.W`]! : params[`${name}.W`]!
      const a = affineRow(h, 0, h.length, W, params[`${name}.b`]!, w)
      const x = s[`${name}.act`]!.slice(n * w, (n + 1) * w)
      prob *= statesProb(spec.noise, x, a)
      h = x
    })
  }
  return prob
}

/** E[ĝ] of the gradient interpreter under `opts`, by enumerating every joint state. */
export const expectation = (c: SbnCase, opts: Omit<GradientOptions, 'source'>, net: Checked<Network> = netOf(c), feed: Feed = c.feed): Grads => {
  const mean = zerosLike(net.params)
  for (const s of jointStates(sitesOf(c.spec, feed['x']!.shape[0]!))) {
    const prob = probOf(c, s)
    if (prob === 0) continue
    addScaled(mean, unwrap(gradient(net, feed, { ...opts, source: forceStates(s) })).grad, prob)
  }
  return mean
}

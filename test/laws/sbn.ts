/**
 * Random tiny dense SBNs for the laws: a spec (layer widths, weight kinds, noises, head, an
 * optional skip connection from S₁ to the head), its parameters and a small batch of data, built
 * with the public DSL. `bruteForce.ts` recomputes what they compute with plain loops.
 */
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { dense, logisticNll, sbinary, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { add, input } from '../../src/dsl/primitives.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { checked } from '../interpreters/fixtures.js'

export interface SbnSpec {
  readonly inputs: number
  /** Widths of the hidden binary layers l1, l2, … */
  readonly widths: readonly number[]
  /** Whether layer k has Bernoulli ±1 weights (latent parameters) instead of real ones. */
  readonly binaryWeights: readonly boolean[]
  /** Noise of the activations. */
  readonly noise: Noise
  /** Noise of the binary weights. */
  readonly weightNoise: Noise
  readonly head: 'softmax' | 'logistic'
  /** Classes of the softmax head (1 logit for the logistic head). */
  readonly classes: number
  /** A second head term `skip.W` reading S₁ (a DAG whose sites are not a chain). */
  readonly skip: boolean
}

export interface SbnCase {
  readonly spec: SbnSpec
  readonly params: Record<string, Float64Array>
  readonly feed: Feed
}

/** Parameter names and shapes of a spec, in a fixed order. */
export const paramShapes = (spec: SbnSpec): ReadonlyArray<readonly [string, readonly number[]]> => {
  const out: Array<readonly [string, readonly number[]]> = []
  let fanIn = spec.inputs
  spec.widths.forEach((w, k) => {
    out.push([`l${k + 1}.W`, [fanIn, w]], [`l${k + 1}.b`, [w]])
    fanIn = w
  })
  const logits = spec.head === 'softmax' ? spec.classes : 1
  out.push(['head.W', [fanIn, logits]], ['head.b', [logits]])
  if (spec.skip) out.push(['skip.W', [spec.widths[0]!, logits]])
  return out
}

/** The network of a spec, built with the DSL (`dense` + `sbinary`), outputs `output` and `loss`. */
export const buildSbn = (spec: SbnSpec, params: Record<string, Float64Array>): Checked<Network> => {
  const x = input('x', ['batch', spec.inputs])
  const acts: Node[] = []
  let h: Node = x
  spec.widths.forEach((w, k) => {
    const name = `l${k + 1}`
    h = pipe(h, dense(w, { name, weights: spec.binaryWeights[k] === true ? 'binary' : 'real', noise: spec.weightNoise }), sbinary(spec.noise, { site: `${name}.act` }))
    acts.push(h)
  })
  const width = spec.head === 'softmax' ? spec.classes : 1
  const main = dense(width, { name: 'head' })(h)
  const logits = spec.skip ? add(main, dense(width, { name: 'skip', bias: false })(acts[0]!)) : main
  const y = spec.head === 'softmax' ? input('y', ['batch'], 'index') : input('y', ['batch', 1], 'binary')
  const loss = spec.head === 'softmax' ? softmaxCrossEntropy(y)(logits) : logisticNll(y)(logits)
  return checked({ outputs: { output: logits, loss }, params })
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

// fc.double favours edge values (±0, subnormals, the bounds); mix in evenly spread values so that
// typical networks (losses that depend on every unit) are well represented too.
/** Reals in [−bound, bound]: mostly evenly spread, sometimes fast-check's edge values. */
export const realValue = (bound: number): fc.Arbitrary<number> => fc.oneof(
  { arbitrary: fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((i) => (bound * i) / 2 ** 20), weight: 4 },
  { arbitrary: fc.double({ min: -bound, max: bound, noNaN: true, noDefaultInfinity: true }), weight: 1 },
)
const value = realValue(2)
const scale = fc.double({ min: 0.5, max: 2, noNaN: true, noDefaultInfinity: true })

/** A proper noise; `families` restricts the family (e.g. to the smooth ones). */
export const arbNoise = (families: readonly ('logistic' | 'normal' | 'uniform' | 'triangular')[] = ['logistic', 'normal', 'uniform', 'triangular']): fc.Arbitrary<Noise> =>
  fc.record({ family: fc.constantFrom(...families), scale })

export interface SpecOptions {
  readonly families?: readonly ('logistic' | 'normal' | 'uniform' | 'triangular')[]
  /** Allow the skip connection (needs two hidden layers). */
  readonly skip?: boolean
  /** At most this many Bernoulli weights in total (they multiply the cost by 2^bits). */
  readonly maxWeightBits?: number
  /** Only the first layer may have binary weights (later layers read binary activations). */
  readonly binaryFirstOnly?: boolean
  readonly maxLayers?: number
}

export const arbSpec = (o: SpecOptions = {}): fc.Arbitrary<SbnSpec> =>
  fc
    .record({
      inputs: fc.integer({ min: 1, max: 3 }),
      widths: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: o.skip === true ? 2 : 1, maxLength: o.maxLayers ?? 2 }),
      binary: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      noise: arbNoise(o.families),
      weightNoise: arbNoise(o.families),
      head: fc.constantFrom('softmax' as const, 'logistic' as const),
      classes: fc.integer({ min: 2, max: 3 }),
    })
    .map(({ inputs, widths, binary, noise, weightNoise, head, classes }): SbnSpec => {
      // Keep the Bernoulli weights few: a layer gets them only while the total stays small.
      let bits = 0
      const maxBits = o.maxWeightBits ?? 6
      const binaryWeights = widths.map((w, k) => {
        const units = (k === 0 ? inputs : widths[k - 1]!) * w
        const ok = binary[k] === true && bits + units <= maxBits && (o.binaryFirstOnly !== true || k === 0)
        if (ok) bits += units
        return ok
      })
      return { inputs, widths, binaryWeights, noise, weightNoise, head, classes, skip: o.skip === true }
    })

/** A spec with random parameters in [−2, 2] and 1–4 examples with random labels. */
export const arbCase = (o: SpecOptions = {}): fc.Arbitrary<SbnCase> =>
  arbSpec(o).chain((spec) => {
    const shapes = paramShapes(spec)
    const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)
    return fc
      .record({
        values: fc.tuple(...shapes.map(([, s]) => fc.array(value, { minLength: size(s), maxLength: size(s) }))),
        rows: fc.integer({ min: 1, max: 4 }).chain((n) =>
          fc.record({
            x: fc.array(value, { minLength: n * spec.inputs, maxLength: n * spec.inputs }),
            y: spec.head === 'softmax'
              ? fc.array(fc.integer({ min: 0, max: spec.classes - 1 }), { minLength: n, maxLength: n })
              : fc.array(fc.constantFrom(1, -1), { minLength: n, maxLength: n }),
          }),
        ),
      })
      .map(({ values, rows }): SbnCase => {
        const n = rows.y.length
        const params = Object.fromEntries(shapes.map(([name], i) => [name, Float64Array.from(values[i]!)]))
        const feed: Feed = {
          x: { shape: [n, spec.inputs], data: Float64Array.from(rows.x) },
          y: { shape: spec.head === 'softmax' ? [n] : [n, 1], data: Float64Array.from(rows.y) },
        }
        return { spec, params, feed }
      })
  })

/** A readable one-line description of a case, for failure messages. */
export const showCase = (c: SbnCase): string =>
  `${JSON.stringify(c.spec)} params=${JSON.stringify(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, [...v]])))} x=${JSON.stringify([...c.feed['x']!.data])} y=${JSON.stringify([...c.feed['y']!.data])}`

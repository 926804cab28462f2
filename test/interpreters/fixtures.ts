/** Small networks shared by the interpreter tests (MATH.md §6 goldens and random tiny SBNs). */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { dense, logisticNll, sbinary, softmaxCrossEntropy, squaredError } from '../../src/dsl/composites.js'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { logistic } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { drawAll } from '../../src/dsl/dslErrors.js'
import type { Feed } from '../../src/interpreters/ndarray.js'

export const checked = (net: Network): Checked<Network> => {
  const r = typecheck(net)
  if (E.isLeft(r)) throw new Error(drawAll([r.left]))
  return r.right
}

/** MATH.md §6 T2/T3: x⁰ = (0.5, −1), one logistic(1) layer of 3 units, head v, c. */
export const goldenLayer = (head: 'logistic' | 'squared'): { net: Checked<Network>; feed: Feed } => {
  const x = input('x', ['batch', 2])
  const y = input('y', ['batch', 1], head === 'logistic' ? 'binary' : 'real')
  const logits = pipe(x, dense(3, { name: 'layer1' }), sbinary(logistic(1)), dense(1, { name: 'head' }))
  const loss = head === 'logistic' ? logisticNll(y)(logits) : squaredError(y)(logits)
  // W is stored [in, out]: the transpose of MATH.md's [[1,−0.5],[0.3,0.8],[−1.2,0.4]].
  const params = {
    'layer1.W': Float64Array.of(1, 0.3, -1.2, -0.5, 0.8, 0.4),
    'layer1.b': Float64Array.of(0.1, -0.2, 0.3),
    'head.W': Float64Array.of(0.7, -1.1, 0.4),
    'head.b': Float64Array.of(0.2),
  }
  const net = checked({ outputs: { output: logits, loss }, params })
  return { net, feed: { x: { shape: [1, 2], data: Float64Array.of(0.5, -1) }, y: { shape: [1, 1], data: Float64Array.of(1) } } }
}

export interface TinySpec {
  readonly widths: readonly number[]
  readonly binaryWeights: readonly boolean[]
  readonly noise: Noise
  readonly head: 'softmax' | 'logistic'
}

/** A tiny MLP SBN: input 2 → hidden widths (binary units) → head. */
export const tinyNet = (spec: TinySpec, params: Record<string, Float64Array>): Checked<Network> => {
  const x = input('x', ['batch', 2])
  let h: Node = x
  spec.widths.forEach((w, i) => {
    h = dense(w, { name: `l${i + 1}`, weights: spec.binaryWeights[i] === true ? 'binary' : 'real', noise: spec.noise })(h)
    h = sbinary(spec.noise)(h)
  })
  const logits = dense(spec.head === 'softmax' ? 3 : 1, { name: 'head' })(h)
  const loss =
    spec.head === 'softmax'
      ? softmaxCrossEntropy(input('y', ['batch'], 'index'))(logits)
      : logisticNll(input('y', ['batch', 1], 'binary'))(logits)
  return checked({ outputs: { output: logits, loss }, params })
}

/** A 2 → 2 (Bernoulli weights) → 2 → 3-class SBN and 4 examples, used by the CLI tests. */
export const cliNet = tinyNet({ widths: [2, 2], binaryWeights: [true, false], noise: logistic(1), head: 'softmax' }, {
  'l1.W': Float64Array.of(0.5, -1, 1.5, 0.2), 'l1.b': Float64Array.of(0.1, -0.3),
  'l2.W': Float64Array.of(1, -0.5, 0.25, 2), 'l2.b': Float64Array.of(0, 0.4),
  'head.W': Float64Array.of(0.3, -0.7, 1.1, 0.9, 0.2, -1.3), 'head.b': Float64Array.of(0.05, 0, -0.05),
})
export const cliFeed: Feed = {
  x: { shape: [4, 2], data: Float64Array.of(0.5, -1, 0, 2, -1.5, 0.25, 1, 1) },
  y: { shape: [4], data: Float64Array.of(0, 2, 1, 2) },
}

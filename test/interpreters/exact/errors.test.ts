/**
 * Bad inputs to the exact interpreter are `RunError` values with a clear drawn message (pinned),
 * never a throw, a hang or a NaN loss.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { pipe } from 'fp-ts/lib/function.js'
import { batchNorm, dense, sbinary, softmaxCrossEntropy } from '../../../src/dsl/composites.js'
import { logistic } from '../../../src/dsl/noise.js'
import { input } from '../../../src/dsl/primitives.js'
import type { ExactOptions } from '../../../src/interpreters/exact/index.js'
import { exact } from '../../../src/interpreters/exact/index.js'
import type { RunError } from '../../../src/interpreters/runErrors.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { checked, goldenLayer, tinyNet } from '../fixtures.js'

const failure = (r: E.Either<RunError, unknown>): string => {
  if (E.isRight(r)) throw new Error('expected a RunError')
  return drawRunError(r.left)
}

const softmaxNet = (widths: readonly number[] = [2]) => {
  const params: Record<string, Float64Array> = {}
  let fanIn = 2
  widths.forEach((w, k) => {
    params[`l${k + 1}.W`] = new Float64Array(fanIn * w).fill(0.5)
    params[`l${k + 1}.b`] = new Float64Array(w)
    fanIn = w
  })
  params['head.W'] = new Float64Array(fanIn * 3).fill(0.1)
  params['head.b'] = new Float64Array(3)
  return tinyNet({ widths, binaryWeights: widths.map(() => false), noise: logistic(1), head: 'softmax' }, params)
}

const feed = (x: number[][], y: number[]): Feed => ({
  x: { shape: [x.length, x[0]?.length ?? 2], data: Float64Array.from(x.flat()) },
  y: { shape: [y.length], data: Float64Array.from(y) },
})

const run = (f: Feed, opts: ExactOptions = {}) => failure(exact(softmaxNet(), f, opts))

describe('exact interpreter: bad inputs are clear RunErrors', () => {
  it('data whose width does not match the model', () => {
    expect(run({ x: { shape: [2, 3], data: new Float64Array(6) }, y: { shape: [2], data: Float64Array.of(0, 1) } })).toMatchInlineSnapshot(`"data.x: expected shape [2, 2] to match input "x" of the network, found [2, 3]"`)
  })

  it('labels out of range (softmax head of 3 classes; ±1 head)', () => {
    expect(run(feed([[0, 1], [1, 0]], [0, 3]))).toMatchInlineSnapshot(`"data.y[1]: expected a class index in 0..2, found 3"`)
    expect(run(feed([[0, 1]], [0.5]))).toMatchInlineSnapshot(`"data.y[0]: expected a class index in 0..2, found 0.5"`)
    const { net } = goldenLayer('logistic')
    expect(failure(exact(net, { x: { shape: [1, 2], data: Float64Array.of(0.5, -1) }, y: { shape: [1, 1], data: Float64Array.of(0) } }))).toMatchInlineSnapshot(`"data.y[0]: expected a label of +1 or -1, found 0"`)
  })

  it('NaN and infinite inputs', () => {
    expect(run(feed([[0, 1], [Number.NaN, 0]], [0, 1]))).toMatchInlineSnapshot(`"data.x[2]: expected a finite number, found NaN"`)
    expect(run(feed([[Infinity, 1]], [0]))).toMatchInlineSnapshot(`"data.x[0]: expected a finite number, found Infinity"`)
  })

  it('an empty dataset', () => {
    expect(run({ x: { shape: [0, 2], data: new Float64Array(0) }, y: { shape: [0], data: new Float64Array(0) } })).toMatchInlineSnapshot(`"data: expected at least one example, found an empty dataset"`)
  })

  it('rows that disagree between inputs, and a missing input', () => {
    expect(run({ x: { shape: [2, 2], data: new Float64Array(4) }, y: { shape: [3], data: Float64Array.of(0, 1, 2) } })).toMatchInlineSnapshot(`"data.y: expected shape [2] to match input "y" of the network, found [3]"`)
    expect(run({ x: { shape: [2, 2], data: new Float64Array(4) } })).toMatchInlineSnapshot(`"data.y: expected an array of shape [N] for input "y" of the network, found no such array"`)
  })

  it('a budget overflow names the sites and the count (EnumerationTooLarge)', () => {
    const r = exact(softmaxNet([3, 3]), feed([[0, 1], [1, 0]], [0, 1]), { budget: 20 })
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'EnumerationTooLarge', budget: 20, sites: [{ site: 'l1.act', units: 3 }, { site: 'l2.act', units: 3 }] })
    expect(failure(r)).toMatchInlineSnapshot(`"exact: enumeration needs 96 joint states, over the budget of 20 (stochastic sites: l1.act (3 units), l2.act (3 units)); use the Monte Carlo interpreter, a smaller network, or raise the budget"`)
    expect(failure(exact(softmaxNet([3, 3]), feed([[0, 1], [1, 0]], [0, 1]), { budget: 20, method: 'enumeration' }))).toMatchInlineSnapshot(`"exact: enumeration needs 128 joint states, over the budget of 20 (stochastic sites: l1.act (3 units), l2.act (3 units)); use the Monte Carlo interpreter, a smaller network, or raise the budget"`)
  })

  it('a layer too wide to enumerate at all is refused before any allocation', () => {
    expect(failure(exact(softmaxNet([40]), feed([[0, 1]], [0]), { budget: Number.MAX_SAFE_INTEGER }))).toMatchInlineSnapshot(`"exact: enumeration needs 2,199,023,255,552 joint states and a site (or the weights together) of more than 30 binary units, which cannot be enumerated (stochastic sites: l1.act (40 units)); use the Monte Carlo interpreter or a smaller network"`)
  })

  it('a budget that is not a positive number of states', () => {
    expect(run(feed([[0, 1]], [0]), { budget: 0 })).toMatchInlineSnapshot(`"option budget: expected a number of joint states ≥ 1, found 0"`)
    expect(run(feed([[0, 1]], [0]), { budget: Number.NaN })).toMatchInlineSnapshot(`"option budget: expected a number of joint states ≥ 1, found NaN"`)
  })

  it('a network without a loss output', () => {
    const net = softmaxNet()
    const noLoss = checked({ outputs: { output: net.outputs['output']! }, params: net.params })
    expect(failure(exact(noLoss, feed([[0, 1]], [0])))).toMatchInlineSnapshot(`"network: expected an output "loss" (a loss head), found outputs "output""`)
  })

  it('batch normalisation in training mode', () => {
    const x = input('x', ['batch', 2])
    const logits = pipe(x, dense(2, { name: 'l1' }), batchNorm({ name: 'bn', mode: 'train' }), sbinary(logistic(1)), dense(3, { name: 'head' }))
    const loss = softmaxCrossEntropy(input('y', ['batch'], 'index'))(logits)
    const params = {
      'l1.W': Float64Array.of(1, 0, 0, 1), 'l1.b': new Float64Array(2), 'bn.gamma': Float64Array.of(1, 1), 'bn.beta': new Float64Array(2),
      'bn.mean': new Float64Array(2), 'bn.var': Float64Array.of(1, 1), 'head.W': new Float64Array(6), 'head.b': new Float64Array(3),
    }
    const net = checked({ outputs: { output: logits, loss }, params })
    expect(failure(exact(net, feed([[0, 1], [1, 0]], [0, 1])))).toMatchInlineSnapshot(`"exact: batch normalisation in training mode (batch statistics couple the examples) is not supported; set the BatchNorm nodes to inference mode"`)
  })

  it('memory: an evaluation over its budget is refused before anything is allocated', () => {
    const net = softmaxNet([4])
    const data = feed([[0, 1], [1, 0]], [0, 1])
    expect(E.isRight(exact(net, data))).toBe(true)
    expect(failure(exact(net, data, { memory: { maxBytes: 100 } }))).toMatchInlineSnapshot(`"exact: the network on 2 examples × 16 states would need 5.6 kB; the limit is 100 B (a smaller batch or network, or a larger memory budget)"`)
  })
})

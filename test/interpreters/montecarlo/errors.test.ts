/** Bad inputs to the Monte Carlo interpreter are `RunError` values with a clear drawn message. */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { logistic } from '../../../src/dsl/noise.js'
import { key } from '../../../src/dsl/random.js'
import type { RunError } from '../../../src/interpreters/runErrors.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import { monteCarlo } from '../../../src/interpreters/montecarlo/index.js'
import { checked, tinyNet } from '../fixtures.js'

const net = tinyNet({ widths: [2], binaryWeights: [false], noise: logistic(1), head: 'softmax' }, {
  'l1.W': Float64Array.of(1, 0, 0, 1), 'l1.b': new Float64Array(2), 'head.W': new Float64Array(6).fill(0.3), 'head.b': new Float64Array(3),
})
const good = { x: { shape: [2, 2], data: Float64Array.of(0, 1, 1, 0) }, y: { shape: [2], data: Float64Array.of(0, 2) } }

const failure = (r: E.Either<RunError, unknown>): string => {
  if (E.isRight(r)) throw new Error('expected a RunError')
  return drawRunError(r.left)
}

describe('Monte Carlo interpreter: bad inputs are clear RunErrors', () => {
  it('a sample count that is not a positive integer', () => {
    expect(failure(monteCarlo(net, good, { samples: 0, key: key(1) }))).toMatchInlineSnapshot(`"option samples: expected an integer ≥ 1, found 0"`)
    expect(failure(monteCarlo(net, good, { samples: 2.5, key: key(1) }))).toMatchInlineSnapshot(`"option samples: expected an integer ≥ 1, found 2.5"`)
  })

  it('data that does not fit the network', () => {
    expect(failure(monteCarlo(net, { ...good, x: { shape: [2, 1], data: Float64Array.of(0, 1) } }, { samples: 3, key: key(1) }))).toMatchInlineSnapshot(`"data.x: expected shape [2, 2] to match input "x" of the network, found [2, 1]"`)
    expect(failure(monteCarlo(net, { ...good, y: { shape: [2], data: Float64Array.of(0, -1) } }, { samples: 3, key: key(1) }))).toMatchInlineSnapshot(`"data.y[1]: expected a class index in 0..2, found -1"`)
    expect(failure(monteCarlo(net, { x: { shape: [0, 2], data: new Float64Array(0) }, y: { shape: [0], data: new Float64Array(0) } }, { samples: 3, key: key(1) }))).toMatchInlineSnapshot(`"data: expected at least one example, found an empty dataset"`)
  })

  it('a network without a loss output', () => {
    const noLoss = checked({ outputs: { logits: net.outputs['output']! }, params: net.params })
    expect(failure(monteCarlo(noLoss, good, { samples: 3, key: key(1) }))).toMatchInlineSnapshot(`"network: expected an output "loss" (a loss head), found outputs "logits""`)
  })

  it('one sample has no standard error (NaN), not a crash', () => {
    const r = monteCarlo(net, good, { samples: 1, key: key(1) })
    expect(E.isRight(r) && Number.isNaN(r.right.stderr)).toBe(true)
  })
})

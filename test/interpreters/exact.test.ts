import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { exact } from '../../src/interpreters/exact/index.js'
import { goldenLayer } from './fixtures.js'

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(JSON.stringify(e.left))
  return e.right
}

describe('exact interpreter: MATH.md §6 goldens', () => {
  for (const method of ['chain', 'enumeration'] as const) {
    it(`T3 logistic NLL: exact dE/da (via the bias gradient), ${method}`, () => {
      const { net, feed } = goldenLayer('logistic')
      const r = right(exact(net, feed, { grad: true, method }))
      const g = r.grad!['layer1.b']!
      ;[-0.10314194, 0.18997333, -0.05524827].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 8))
    })
    it(`T3 squared loss (η − 1)²: exact dE/da, ${method}`, () => {
      const { net, feed } = goldenLayer('squared')
      const r = right(exact(net, feed, { grad: true, method }))
      const g = r.grad!['layer1.b']!
      ;[-0.25880409, 0.53920398, -0.00297561].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 8))
    })
  }
})

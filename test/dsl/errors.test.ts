/**
 * Every DslError variant is reachable through the public constructors and `typecheck`, and its
 * drawn text (where, what was expected, what was found) is pinned.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { DslError } from '../../src/dsl/dslErrors.js'
import { draw } from '../../src/dsl/dslErrors.js'
import type { Network, Node } from '../../src/dsl/node.js'
import { logistic } from '../../src/dsl/noise.js'
import { add, binarize, conv2d, input, labelled, loss, matmul, param, unary } from '../../src/dsl/primitives.js'
import { typecheck } from '../../src/dsl/typecheck.js'

const failure = (outputs: Record<string, Node>, params: Network['params'] = {}): DslError => {
  const r = typecheck({ outputs, params })
  if (E.isRight(r)) throw new Error('expected a DslError')
  return r.left
}
const zeros = (n: number): Float64Array => new Float64Array(n)
const x = input('x', ['batch', 3])

const variants: Record<DslError['_tag'], () => DslError> = {
  ShapeMismatch: () => failure({ out: matmul(x, param('W', [4, 2]) as Node) }, { W: zeros(8) }),
  DTypeMismatch: () => failure({ out: unary('tanh', input('y', ['batch'], 'index')) }),
  InvalidAttribute: () =>
    failure({ out: conv2d(input('img', ['batch', 1, 4, 4]), param('K', [2, 1, 3, 3]), { stride: 0 }) }, { K: zeros(18) }),
  DuplicateName: () => failure({ a: matmul(x, param('W', [3, 2])), b: matmul(x, param('W', [3, 2])) }, { W: zeros(6) }),
  Unbound: () => failure({ out: matmul(x, param('W', [3, 2])) }),
  UnusedParameter: () => failure({ out: matmul(x, param('W', [3, 2])) }, { W: zeros(6), V: zeros(1) }),
  ParamSizeMismatch: () => failure({ out: matmul(x, param('W', [3, 2])) }, { W: zeros(5) }),
  NonFiniteParameter: () => failure({ out: matmul(x, param('W', [3, 2])) }, { W: Float64Array.of(0, 1, Number.NaN, 0, 0, 0) }),
  NoOutputs: () => failure({}),
}

describe('every DslError variant is reachable and drawn with where, expected and found', () => {
  it('each variant comes out of typecheck with its own tag', () => {
    for (const [tag, make] of Object.entries(variants)) expect(make()._tag).toBe(tag)
  })

  it('drawn texts are pinned', () => {
    expect(Object.fromEntries(Object.entries(variants).map(([tag, make]) => [tag, draw(make())]))).toMatchInlineSnapshot(`
      {
        "DTypeMismatch": "Unary at out: expected dtype real or binary, found index",
        "DuplicateName": "parameter name "W" at b > rhs is already used by a different node at a > rhs; give one of them another name",
        "InvalidAttribute": "Conv2d at out: stride must be positive integers, found 0x0",
        "NoOutputs": "network: expected at least one output, found none",
        "NonFiniteParameter": "params.W[2]: expected a finite number, found NaN",
        "ParamSizeMismatch": "params.W at out > rhs: expected 6 values for shape [3, 2], found 5",
        "ShapeMismatch": "MatMul at out: inner dims differ (3 vs 4)",
        "Unbound": "parameter "W" at out > rhs has no values (expected an entry params.W)",
        "UnusedParameter": "params.V: no node of the network uses a parameter named "V"",
      }
    `)
  })

  it('a deep error names the path through labelled layers', () => {
    const h = binarize(labelled(matmul(x, param('W1', [3, 4])), 'hidden1'), logistic(1), 'hidden1.act')
    const head = labelled(add(matmul(h, param('W2', [5, 2]) as Node), param('b', [2])), 'head')
    const bad = loss('softmax-ce', head, input('y', ['batch'], 'index'))
    expect(draw(failure({ loss: bad }, { W1: zeros(12), W2: zeros(10), b: zeros(2) }))).toMatchInlineSnapshot(`"MatMul at loss > head > lhs: inner dims differ (4 vs 5)"`)
  })
})

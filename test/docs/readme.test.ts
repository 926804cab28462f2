// The README ten-line example, verbatim apart from the final console.log, replaced by assertions.
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import { input, mlp, logisticNll, initParams, key, typecheck, logistic } from 'sbnkit/dsl'
import { exact } from 'sbnkit/interpreters'
import { gradient, st } from 'sbnkit/estimators'

it('README example runs', () => {
  const x = input('x', ['batch', 2]), y = input('y', ['batch'], 'binary')
  const output = pipe(x, mlp({ hidden: [5, 5], outputs: 1, weights: 'real', activation: logistic(1) }))
  const outputs = { output, loss: pipe(output, logisticNll(y)) }
  const net = typecheck({ outputs, params: initParams(outputs, key(0)) })
  const feed = { x: { shape: [1, 2], data: Float64Array.of(0.5, -1) }, y: { shape: [1], data: Float64Array.of(1) } }
  expect(E.isRight(net)).toBe(true)
  if (E.isRight(net)) {
    const r = exact(net.right, feed, { grad: true })
    expect(E.isRight(r) && r.right.loss > 0).toBe(true)
    expect(E.isRight(gradient(net.right, feed, { key: key(1), estimator: st() }))).toBe(true)
  }
})

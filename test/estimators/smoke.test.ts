import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import { gradient } from '../../src/estimators/gradient.js'
import { noiseFns } from '../../src/interpreters/noise.js'
import { goldenLayer } from '../interpreters/fixtures.js'

it('T3: E[ST] by enumerating the 8 states of the layer', () => {
  for (const [head, want] of [
    ['logistic', [-0.08795465, 0.15474011, -0.05947191]],
    ['squared', [-0.07499056, 0.13193216, -0.05070604]],
  ] as const) {
    const { net, feed } = goldenLayer(head)
    const a = [1.1, -0.85, -0.7]
    const F = noiseFns({ family: 'logistic', scale: 1 }).cdf
    const mean = [0, 0, 0]
    for (let s = 0; s < 8; s++) {
      const signs = [0, 1, 2].map((j) => ((s >> j) & 1 ? 1 : -1))
      const p = signs.reduce<number>((acc, sg, j) => acc * F(sg * a[j]!), 1)
      const source = () => Uint32Array.from(signs, (sg) => (sg === 1 ? 0 : 0xffffffff))
      const r = gradient(net, feed, { key: key(1), source })
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
      r.right.grad['layer1.b']!.forEach((g, j) => (mean[j]! += p * g))
    }
    mean.forEach((m, j) => expect(m).toBeCloseTo(want[j]!, 8))
  }
})

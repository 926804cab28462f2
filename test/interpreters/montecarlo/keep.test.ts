import * as E from 'fp-ts/lib/Either.js'
import { expect, it } from 'vitest'
import { key } from '../../../src/dsl/random.js'
import { forward, monteCarlo } from '../../../src/interpreters/montecarlo/index.js'
import { passKey } from '../../../src/interpreters/reference/sampling.js'
import { goldenLayer } from '../fixtures.js'

it('keep: per-pass outputs and losses are the passes forward() draws with the same pass keys', () => {
  const { net, feed } = goldenLayer('logistic')
  const r = monteCarlo(net, feed, { samples: 5, key: key(3), keep: true })
  if (E.isLeft(r)) throw new Error('monteCarlo failed')
  expect(r.right.samples).toHaveLength(5)
  r.right.samples!.forEach((s, j) => {
    const ev = forward(net, feed, { mode: 'sample', key: passKey(key(3), j) })
    if (E.isLeft(ev)) throw new Error('forward failed')
    const out = net.outputs['output']!
    expect(Array.from(s.output.data)).toEqual(Array.from(ev.right.values.get(out)!.data))
    expect(s.perExample.reduce((a, b) => a + b, 0) / s.perExample.length).toBe(r.right.sampleLosses[j])
  })
  const plain = monteCarlo(net, feed, { samples: 5, key: key(3) })
  expect(E.isRight(plain) && plain.right.samples).toBe(undefined)
})

/**
 * Code paths that the small generated nets do not reach: rows longer than the unroll limits
 * (the k-loops become loops), 8-bit inputs wider than 2048, and very wide convolutions. Each is
 * checked bit for bit against the reference on every back end.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network, Node } from '../../../src/dsl/node.js'
import { logistic, none } from '../../../src/dsl/noise.js'
import { add, binarize, conv2d, input, matmul, param, reshape } from '../../../src/dsl/primitives.js'
import { key } from '../../../src/dsl/random.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile } from '../../../src/interpreters/compiled/index.js'
import { checked, uniforms } from './nets.js'

const check = (net: Checked<Network>, feed: Feed, sample: boolean): void => {
  const k = key(9)
  const ref = forward(net, feed, sample ? { mode: 'sample', key: k } : { mode: 'mode' })
  if (E.isLeft(ref)) throw new Error('reference failed')
  for (const backend of ['wasm', 'js', 'jitless'] as const) {
    const c = compile(net, { backend, mode: sample ? 'sample' : 'mode' })
    if (E.isLeft(c)) throw new Error(c.left._tag)
    const out = c.right.run(feed, k)
    if (E.isLeft(out)) throw new Error(out.left._tag)
    for (const [name, node] of Object.entries(net.outputs))
      expect(Array.from(out.right[name]!.data), `${backend} ${name}`).toEqual(Array.from(ref.right.values.get(node)!.data))
  }
}

const dense = (inputs: number, units: number, dtype: 'binary' | 'real', seed: number): { net: Checked<Network>; feed: Feed } => {
  const rnd = uniforms(seed)
  const x = input('x', ['batch', inputs], dtype)
  const w = binarize(param('W', [inputs, units]), none, 'W')
  const y = binarize(add(matmul(x, w), param('b', [units])), logistic(2), 'act')
  const params = {
    W: Float64Array.from({ length: inputs * units }, () => rnd() - 0.5),
    b: Float64Array.from({ length: units }, () => Math.round(rnd() * 20 - 10)),
  }
  const data = Float64Array.from({ length: 2 * inputs }, () => (dtype === 'binary' ? (rnd() < 0.5 ? -1 : 1) : Math.floor(rnd() * 256)))
  return { net: checked({ outputs: { y }, params }), feed: { x: { shape: [2, inputs], data } } }
}

describe('long rows', () => {
  it('binary dense rows of 4161 inputs (past the 64-word unroll limit), mode and sample', () => {
    const { net, feed } = dense(4161, 37, 'binary', 1)
    check(net, feed, false)
    check(net, feed, true)
  })

  it('8-bit inputs of 2113 values (past the 32-word plane unroll limit)', () => {
    const { net, feed } = dense(2113, 5, 'real', 2)
    check(net, feed, false)
    check(net, feed, true)
  })

  it('a 3×3 convolution over 1850 channels (past the 256-load tap unroll limit), 0-padded', () => {
    const rnd = uniforms(3)
    const x = binarize(input('x', ['batch', 1850, 3, 3]), none, 'x.act')
    const k = binarize(param('K', [3, 1850, 3, 3]), none, 'K')
    const y: Node = binarize(conv2d(x, k, { padding: 1, padValue: 0 }), none, 'act')
    const params = { K: Float64Array.from({ length: 3 * 1850 * 9 }, () => rnd() - 0.5) }
    const feed = { x: { shape: [2, 1850, 3, 3], data: Float64Array.from({ length: 2 * 1850 * 9 }, () => rnd() - 0.5) } }
    check(checked({ outputs: { y: reshape(y, ['batch', 27]) }, params }), feed, false)
  })
})

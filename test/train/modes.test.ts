/** The batch-norm mode switch: laws of a pure DAG rewrite, and its effect on evaluation. */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { batchNorm, dense, sbinary, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import type { Network, Node } from '../../src/dsl/node.js'
import { input } from '../../src/dsl/primitives.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { initParams } from '../../src/dsl/init.js'
import { key } from '../../src/dsl/random.js'
import { topoOrder } from '../../src/dsl/fold.js'
import { forward } from '../../src/interpreters/montecarlo/index.js'
import { batchNorms, withBatchNormMode, withParams } from '../../src/train/modes.js'
import { right, tinyNet } from './loopFixtures.js'

/** x → dense → bn → binary, used twice (a shared node) by two heads. */
const sharedNet = () => {
  const x = input('x', ['batch', 3])
  const h = pipe(x, dense(4, { name: 'd1' }), batchNorm({ name: 'bn1', mode: 'inference' }), sbinary())
  const y = input('y', ['batch'], 'index')
  const outputs = { loss: softmaxCrossEntropy(y)(dense(2, { name: 'head' })(h)), other: dense(2, { name: 'aux' })(h) }
  return right(typecheck({ outputs, params: initParams(outputs, key(0)) }))
}
const modes = (net: Network): string[] => batchNorms(net).map((b) => b.mode)
const nodes = (net: Network): Set<Node> => new Set(topoOrder(Object.values(net.outputs)))

describe('withBatchNormMode', () => {
  it('switches every batch norm and nothing else; the result still typechecks', () => {
    const net = sharedNet()
    const t = withBatchNormMode(net, 'train')
    expect(modes(net)).toEqual(['inference'])
    expect(modes(t)).toEqual(['train'])
    expect(E.isRight(typecheck(t))).toBe(true)
  })

  it('law: identity when no node changes (same object)', () => {
    const net = sharedNet()
    expect(withBatchNormMode(net, 'inference')).toBe(net)
    const plain = tinyNet()
    expect(withBatchNormMode(plain, 'train')).toBe(plain)
  })

  it('law: round trip restores the same modes, and nodes below the batch norm are shared, not copied', () => {
    const net = sharedNet()
    const back = withBatchNormMode(withBatchNormMode(net, 'train'), 'inference')
    expect(modes(back)).toEqual(modes(net))
    const before = nodes(net)
    const after = nodes(withBatchNormMode(net, 'train'))
    const kept = [...after].filter((n) => before.has(n))
    // Inputs, parameters and the first dense layer are reused as they are.
    expect(kept.filter((n) => n._tag === 'Param').length).toBe(Object.keys(net.params).length)
    expect(kept.some((n) => n._tag === 'MatMul')).toBe(true)
  })

  it('law: a shared node stays one node (one random variable) after the rewrite', () => {
    const t = withBatchNormMode(sharedNet(), 'train')
    const sites = [...nodes(t)].filter((n) => n._tag === 'Binarize')
    expect(sites.length).toBe(1)
  })

  it('train mode normalises by the batch, inference mode by the running statistics', () => {
    const net = sharedNet()
    const feed = { x: { shape: [2, 3], data: Float64Array.of(1, 2, 3, -1, 0, 4) }, y: { shape: [2], data: Float64Array.of(0, 1) } }
    const pre = (n: typeof net) => {
      const ev = right(forward(n, feed, { mode: 'mode' }))
      const bn = batchNorms(n)[0]!
      return Array.from(ev.values.get(bn)!.data)
    }
    const train = pre(withBatchNormMode(net, 'train'))
    // Batch statistics: each feature has mean 0 over the batch after normalisation.
    for (let j = 0; j < 4; j++) expect(Math.abs(train[j]! + train[4 + j]!)).toBeLessThan(1e-9)
    expect(pre(net)).not.toEqual(train)
  })
})

describe('withParams', () => {
  it('replaces the values and keeps the outputs', () => {
    const net = tinyNet()
    const params = Object.fromEntries(Object.entries(net.params).map(([k, v]) => [k, v.map(() => 0.5)]))
    const w = withParams(net, params)
    expect(w.outputs).toBe(net.outputs)
    expect(w.params['head.b']![0]).toBe(0.5)
    expect(E.isRight(typecheck(w))).toBe(true)
  })
  it('refuses values whose names or lengths differ from the parameters, naming the parameter', () => {
    const net = tinyNet()
    const { ['head.b']: headB, ...rest } = net.params
    expect(headB).toBeDefined()
    expect(() => withParams(net, rest)).toThrow(/withParams: parameter "head.b" is missing/)
    expect(() => withParams(net, { ...net.params, 'head.b': new Float64Array((headB?.length ?? 0) + 1) }))
      .toThrow(new RegExp(`"head.b" must have ${headB?.length} values .*found ${(headB?.length ?? 0) + 1}`))
    expect(() => withParams(net, { ...net.params, stray: new Float64Array(1) })).toThrow(/"stray", which is not a parameter/)
  })
})

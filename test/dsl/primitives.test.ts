/**
 * The primitive constructors at run time: the fields each node stores, its computed type, the
 * placeholder type of a node whose operands do not fit (reported by typecheck), and the shape
 * rules against independent oracles (a brute-force count of window positions for Conv2d/Pool).
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { draw } from '../../src/dsl/dslErrors.js'
import type { BatchNorm, Network, Node, Param, Shape } from '../../src/dsl/node.js'
import { logistic, none } from '../../src/dsl/noise.js'
import {
  add, batchNormalization, binarize, constant, conv2d, input, invalidType, labelled, loss, matmul, mul, param, pool,
  reshape, unary,
} from '../../src/dsl/primitives.js'
import { sizeOf } from '../../src/dsl/shape.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { topoOrder } from '../../src/dsl/fold.js'

const zeros = (outputs: Network['outputs']): Network['params'] =>
  Object.fromEntries(
    topoOrder(Object.values(outputs)).flatMap((n) => (n._tag === 'Param' ? [[n.name, new Float64Array(sizeOf(n.type.shape))]] : [])),
  )
/** The drawn typecheck error of a one-output network, or 'ok'. */
const verdict = (out: Node): string => {
  const r = typecheck({ outputs: { out }, params: zeros({ out }) })
  return E.isLeft(r) ? draw(r.left) : 'ok'
}

describe('leaves', () => {
  it('input, param and constant store their name, shape, dtype and defaults', () => {
    expect(input('y', ['batch'], 'index')).toEqual({ _tag: 'Input', name: 'y', type: { shape: ['batch'], dtype: 'index' } })
    expect(param('W', [3, 4])).toEqual({
      _tag: 'Param', name: 'W', init: { kind: 'glorot' }, trainable: true, type: { shape: [3, 4], dtype: 'real' },
    })
    expect(param('mu', [4], { kind: 'zeros' }, false)).toMatchObject({ init: { kind: 'zeros' }, trainable: false })
    expect(constant(2)).toEqual({ _tag: 'Const', value: 2, type: { shape: [], dtype: 'real' } })
  })

  it('a leaf keeps an invalid declared shape, so typecheck can say what is wrong with it', () => {
    const shape: Shape = [3, 0]
    expect(param('W', shape).type.shape).toEqual([3, 0])
    expect(verdict(param('W', shape))).toBe('Param at out: dimensions must be positive integers, found 0 in [3, 0]')
    const bad: Shape = ['batch', 2, 'batch']
    expect(verdict(input('x', bad))).toBe('Input at out: the batch axis must lead, found it at axis 2 of [batch, 2, batch]')
  })
})

describe('linear algebra and elementwise ops', () => {
  it('matmul, add and mul compute their shape; mul of two ±1 tensors stays binary', () => {
    const x = input('x', ['batch', 3])
    const h = matmul(x, param('W', [3, 2]))
    expect(h).toMatchObject({ _tag: 'MatMul', lhs: x, type: { shape: ['batch', 2], dtype: 'real' } })
    expect(add(h, param('b', [2])).type).toEqual({ shape: ['batch', 2], dtype: 'real' })
    const s = binarize(x, none, 's')
    expect(mul(s, s).type.dtype).toBe('binary')
    expect(mul(s, x).type.dtype).toBe('real')
  })

  it('unary keeps the shape; neg of a ±1 tensor stays binary, other ops are real', () => {
    const s = binarize(input('x', ['batch', 3]), logistic(1), 's')
    expect(unary('neg', s).type).toEqual({ shape: ['batch', 3], dtype: 'binary' })
    expect(unary('abs', s).type.dtype).toBe('real')
    expect(unary('tanh', s)).toMatchObject({ _tag: 'Unary', op: 'tanh', arg: s })
  })

  it('operands that do not fit give the placeholder type, and typecheck reports the rule', () => {
    const n: Node = param('W', [5, 2])
    const bad = matmul(input('x', ['batch', 3]), n)
    expect(bad.type).toBe(invalidType)
    expect(verdict(bad)).toBe('MatMul at out: inner dims differ (3 vs 5)')
  })
})

describe('spatial ops', () => {
  it('conv2d normalises stride and padding to pairs; padding reads 0 unless told', () => {
    const c = conv2d(input('x', ['batch', 1, 5, 5]), param('K', [2, 1, 3, 3]), { stride: 2 })
    expect(c).toMatchObject({ stride: [2, 2], padding: [0, 0], padValue: 0, type: { shape: ['batch', 2, 2, 2], dtype: 'real' } })
    const d = conv2d(input('x', ['batch', 1, 5, 5]), param('K', [2, 1, 3, 3]), { padding: [1, 0], padValue: -1 })
    expect(d).toMatchObject({ stride: [1, 1], padding: [1, 0], padValue: -1, type: { shape: ['batch', 2, 5, 3] } })
  })

  it('pool strides by its window by default; max keeps the dtype, avg is real', () => {
    const s = binarize(input('x', ['batch', 1, 4, 4]), none, 's')
    expect(pool('max', s, 2)).toMatchObject({ op: 'max', window: [2, 2], stride: [2, 2], type: { shape: ['batch', 1, 2, 2], dtype: 'binary' } })
    expect(pool('avg', s, 2, 1)).toMatchObject({ stride: [1, 1], type: { shape: ['batch', 1, 3, 3], dtype: 'real' } })
  })

  // Oracle: count the window start positions −p, −p + s, … that keep the window inside the padded input.
  const positions = (size: number, k: number, s: number, p: number): number => {
    let count = 0
    for (let start = -p; start + k <= size + p; start += s) count++
    return count
  }

  it('law: conv2d output size = number of window positions (brute force)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }),
        (h, w, k, s, p) => {
          fc.pre(k <= Math.min(h, w) + 2 * p)
          const c = conv2d(input('x', ['batch', 2, h, w]), param('K', [3, 2, k, k]), { stride: s, padding: p })
          expect(c.type.shape).toEqual(['batch', 3, positions(h, k, s, p), positions(w, k, s, p)])
          expect(verdict(c)).toBe('ok')
        },
      ),
      { seed: 20261126 },
    )
  })

  it('law: pool output size = number of window positions (brute force)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (h, k, s) => {
        fc.pre(k <= h)
        const q = pool('avg', input('x', ['batch', 1, h, h]), k, s)
        expect(q.type.shape).toEqual(['batch', 1, positions(h, k, s, 0), positions(h, k, s, 0)])
      }),
      { seed: 20261126 },
    )
  })
})

describe('reshape, batch normalisation, binarize, loss, labelled', () => {
  it('reshape stores its target and keeps the dtype', () => {
    const s = binarize(input('x', ['batch', 2, 3]), none, 's')
    expect(reshape(s, ['batch', 6])).toMatchObject({ _tag: 'Reshape', shape: ['batch', 6], type: { shape: ['batch', 6], dtype: 'binary' } })
  })

  it('batchNormalization stores its statistics, mode and defaults', () => {
    const st = (name: string) => param(name, [3])
    const bn = batchNormalization(input('x', ['batch', 3]), { gamma: st('g'), beta: st('b'), runningMean: st('m'), runningVar: st('v') }, 'train')
    expect(bn).toMatchObject({ _tag: 'BatchNorm', mode: 'train', eps: 1e-5, momentum: 0.1, type: { shape: ['batch', 3], dtype: 'real' } })
    const { gamma, beta, runningMean, runningVar } = bn as BatchNorm
    expect([gamma, beta, runningMean, runningVar].map((n) => (n as Param).name)).toEqual(['g', 'b', 'm', 'v'])
  })

  it('binarize is a ±1 tensor of the same shape at its site', () => {
    const b = binarize(param('W', [3, 2]), logistic(0.5), 'W.site')
    expect(b).toMatchObject({ _tag: 'Binarize', noise: { family: 'logistic', scale: 0.5 }, site: 'W.site', type: { shape: [3, 2], dtype: 'binary' } })
  })

  it('loss is a scalar with its logits and target', () => {
    const z = input('z', ['batch', 4])
    const y = input('y', ['batch'], 'index')
    expect(loss('softmax-ce', z, y)).toMatchObject({ _tag: 'Loss', op: 'softmax-ce', logits: z, target: y, type: { shape: [], dtype: 'real' } })
  })

  it('labelled copies the node with a label and leaves the original alone', () => {
    const x = input('x', ['batch', 2])
    expect(labelled(x, 'inp')).toEqual({ ...x, label: 'inp' })
    expect(x.label).toBeUndefined()
  })
})

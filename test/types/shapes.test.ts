/**
 * Positive type tests, one or more per shape rule: the static type of what a constructor builds
 * is exactly `Tensor<S>` with the shape the runtime rule computes, which each test also checks
 * on the node. The rejected programs, one per rule branch, are in `mismatches.ts`.
 */
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import {
  avgPool, batchNorm, conv, dense, flatten, hardtanh, logisticNll, maxPool, mlp, neg, relu, sbinary, sigmoid, sign,
  softmaxCrossEntropy, squaredError, sub, tanh,
} from '../../src/dsl/composites.js'
import type { Node, Shape } from '../../src/dsl/node.js'
import { logistic } from '../../src/dsl/noise.js'
import {
  add, batchNormalization, binarize, constant, conv2d, input, labelled, loss, matmul, mul, param, pool, reshape, unary,
} from '../../src/dsl/primitives.js'
import type { ShapeIn, Tensor } from '../../src/dsl/primitives.js'
import type {
  BatchNormShape, BroadcastShape, Conv2dShape, LossShape, MatMulShape, PoolShape, ReshapeShape, ValidShape,
} from '../../src/dsl/types/shapes.js'
import { assertType } from './equal.js'
import type { Equal } from './equal.js'

const x = input('x', ['batch', 784])
const img = input('img', ['batch', 3, 32, 32])

describe('leaves', () => {
  it('input and param carry their literal shape, made mutable', () => {
    const W = param('W', [784, 512])
    const c = constant(0.5)
    assertType<Equal<typeof x, Tensor<['batch', 784]>>>()
    assertType<Equal<typeof W, Tensor<[784, 512]>>>()
    assertType<Equal<typeof c, Tensor<[]>>>()
    assertType<Equal<ValidShape<['batch', 3]>, ['batch', 3]>>()
    expect([x.type.shape, W.type.shape, c.type.shape]).toEqual([['batch', 784], [784, 512], []])
  })
})

describe('MatMul', () => {
  it('[m, k] × [k, n] → [m, n], with or without the batch axis', () => {
    const h = matmul(x, param('W', [784, 512]))
    const p = matmul(param('A', [2, 3]), param('B', [3, 4]))
    assertType<Equal<typeof h, Tensor<['batch', 512]>>>()
    assertType<Equal<typeof p, Tensor<[2, 4]>>>()
    assertType<Equal<MatMulShape<[number, 3], [3, 7]>, [number, 7]>>()
    expect([h.type.shape, p.type.shape]).toEqual([['batch', 512], [2, 4]])
  })
})

describe('Add, Mul (broadcasting)', () => {
  it('aligns on the right and stretches size-1 axes', () => {
    const a = add(matmul(x, param('W', [784, 10])), param('b', [10]))
    const m = mul(img, param('s', [3, 1, 1]))
    const s = add(constant(1), x)
    const t = mul(param('u', [4, 1]), param('v', [1, 5]))
    assertType<Equal<typeof a, Tensor<['batch', 10]>>>()
    assertType<Equal<typeof m, Tensor<['batch', 3, 32, 32]>>>()
    assertType<Equal<typeof s, Tensor<['batch', 784]>>>()
    assertType<Equal<typeof t, Tensor<[4, 5]>>>()
    expect([a.type.shape, m.type.shape, s.type.shape, t.type.shape]).toEqual([
      ['batch', 10], ['batch', 3, 32, 32], ['batch', 784], [4, 5],
    ])
  })

  it('an unknown size takes the known one, unless that is 1', () => {
    assertType<Equal<BroadcastShape<[number, 3], [5, 1]>, [5, 3]>>()
    assertType<Equal<BroadcastShape<[number], [number]>, [number]>>()
  })
})

describe('Conv2d and Pool', () => {
  it('h′ = floor((h + 2p − k)/s) + 1, literal options included', () => {
    const same = conv2d(img, param('K', [16, 3, 3, 3]), { padding: 1 })
    const strided = conv2d(img, param('K', [16, 3, 3, 3]), { stride: 2, padding: 1 })
    const pairs = conv2d(img, param('K', [8, 3, 5, 3]), { stride: [1, 2], padding: [0, 1] })
    assertType<Equal<typeof same, Tensor<['batch', 16, 32, 32]>>>()
    assertType<Equal<typeof strided, Tensor<['batch', 16, 16, 16]>>>()
    assertType<Equal<typeof pairs, Tensor<['batch', 8, 28, 16]>>>()
    expect([same.type.shape, strided.type.shape, pairs.type.shape]).toEqual([
      ['batch', 16, 32, 32], ['batch', 16, 16, 16], ['batch', 8, 28, 16],
    ])
  })

  it('pooling strides by the window unless told otherwise', () => {
    const p = pool('max', img, 2)
    const q = pool('avg', img, 3, 1)
    assertType<Equal<typeof p, Tensor<['batch', 3, 16, 16]>>>()
    assertType<Equal<typeof q, Tensor<['batch', 3, 30, 30]>>>()
    assertType<Equal<PoolShape<['batch', 3, number, 32], [2, 2], [2, 2]>, ['batch', 3, number, 16]>>()
    expect([p.type.shape, q.type.shape]).toEqual([['batch', 3, 16, 16], ['batch', 3, 30, 30]])
  })

  it('large images fall back to number instead of building long tuples', () => {
    assertType<Equal<Conv2dShape<['batch', 3, 4096, 4096], [8, 3, 3, 3], [1, 1], [1, 1]>, ['batch', 8, number, number]>>()
  })
})

describe('Reshape', () => {
  it('keeps the element count, computed exactly even for large tensors', () => {
    const r = reshape(input('m', ['batch', 28, 28]), ['batch', 784])
    const big = reshape(input('f', ['batch', 512, 7, 7]), ['batch', 25088])
    assertType<Equal<typeof r, Tensor<['batch', 784]>>>()
    assertType<Equal<typeof big, Tensor<['batch', 25088]>>>()
    expect([r.type.shape, big.type.shape]).toEqual([['batch', 784], ['batch', 25088]])
  })

  it('accepts a computed target size, checked at run time', () => {
    const n: number = 28 * 28
    const r = reshape(input('m', ['batch', 28, 28]), ['batch', n])
    assertType<Equal<typeof r, Tensor<['batch', number]>>>()
    assertType<Equal<ReshapeShape<['batch', number], ['batch', 5]>, ['batch', 5]>>()
    expect(r.type.shape).toEqual(['batch', 784])
  })
})

describe('BatchNorm', () => {
  it('keeps the input shape; statistics are [features]', () => {
    const stat = (name: string) => param(name, [784])
    const bn = batchNormalization(x, { gamma: stat('g'), beta: stat('b'), runningMean: stat('m'), runningVar: stat('v') }, 'train')
    assertType<Equal<typeof bn, Tensor<['batch', 784]>>>()
    assertType<Equal<BatchNormShape<['batch', 3, 8, 8], [3]>, ['batch', 3, 8, 8]>>()
    expect(bn.type.shape).toEqual(['batch', 784])
  })
})

describe('Loss', () => {
  it('every head is a scalar', () => {
    const ce = loss('softmax-ce', input('z', ['batch', 10]), input('y', ['batch'], 'index'))
    const nll = loss('logistic-nll', input('z', ['batch', 1]), input('y', ['batch'], 'binary'))
    const sq = loss('squared', input('p', ['batch', 3]), input('t', ['batch', 3]))
    assertType<Equal<typeof ce | typeof nll | typeof sq, Tensor<[]>>>()
    assertType<Equal<LossShape<'logistic-nll', ['batch'], ['batch']>, []>>()
    expect([ce.type.shape, nll.type.shape, sq.type.shape]).toEqual([[], [], []])
  })
})

describe('shape-preserving primitives', () => {
  it('unary, binarize and labelled keep the type', () => {
    const u = unary('tanh', x)
    const b = binarize(x, logistic(1), 'site')
    const l = labelled(x, 'named')
    assertType<Equal<typeof u | typeof b | typeof l, Tensor<['batch', 784]>>>()
    expect([u.type.shape, b.type.shape, l.type.shape]).toEqual([['batch', 784], ['batch', 784], ['batch', 784]])
  })
})

describe('composites carry precise shapes', () => {
  it('dense(512) on [batch, 784] is Tensor<[batch, 512]>', () => {
    const h = pipe(x, dense(512))
    assertType<Equal<typeof h, Tensor<['batch', 512]>>>()
    expect(h.type.shape).toEqual(['batch', 512])
  })

  it('mlp, activations and losses', () => {
    const logits = pipe(x, mlp({ hidden: [512, 256], outputs: 10 }))
    const acts = pipe(x, dense(64), sbinary(), tanh(), sigmoid(), hardtanh(), relu(), sign(), neg)
    const d = sub(acts, param('mu', [64]))
    const l1 = pipe(logits, softmaxCrossEntropy(input('y', ['batch'], 'index')))
    const l2 = pipe(x, dense(1), logisticNll(input('s', ['batch', 1], 'binary')))
    const l3 = pipe(x, dense(3), squaredError(input('t', ['batch', 3])))
    assertType<Equal<typeof logits, Tensor<['batch', 10]>>>()
    assertType<Equal<typeof acts | typeof d, Tensor<['batch', 64]>>>()
    assertType<Equal<typeof l1 | typeof l2 | typeof l3, Tensor<[]>>>()
    expect([logits.type.shape, acts.type.shape, d.type.shape, l1.type.shape]).toEqual([['batch', 10], ['batch', 64], ['batch', 64], []])
  })

  it('a small CNN: conv, pooling, batchNorm, flatten, dense', () => {
    const mnist = input('img', ['batch', 1, 28, 28])
    const c1 = pipe(mnist, conv(8, 3, { padding: 1 }), batchNorm(), sbinary(), maxPool(2))
    const c2 = pipe(c1, conv(16, 3, { stride: 2 }), avgPool(2, 1))
    const flat = pipe(c2, flatten())
    const out = pipe(flat, dense(10))
    assertType<Equal<typeof c1, Tensor<['batch', 8, 14, 14]>>>()
    assertType<Equal<typeof c2, Tensor<['batch', 16, 5, 5]>>>()
    assertType<Equal<typeof flat, Tensor<['batch', 400]>>>()
    assertType<Equal<typeof out, Tensor<['batch', 10]>>>()
    expect([c1.type.shape, c2.type.shape, flat.type.shape, out.type.shape]).toEqual([
      ['batch', 8, 14, 14], ['batch', 16, 5, 5], ['batch', 400], ['batch', 10],
    ])
  })
})

describe('graceful degradation: shapes that are not literal are accepted as Tensor<Shape>', () => {
  it('a plain Node (e.g. decoded from a file) type-checks at compile time', () => {
    const decoded: Node = input('x', ['batch', 784])
    const h = pipe(decoded, dense(10))
    const m = matmul(decoded, param('W', [3, 3]))
    assertType<Equal<ShapeIn<Node>, Shape>>()
    assertType<Equal<typeof h | typeof m, Tensor<Shape>>>()
    expect(h.type.shape).toEqual(['batch', 10])
  })

  it('a shape held in an array variable', () => {
    const dims: number[] = [4, 5]
    const t = input('t', dims)
    const u = pipe(t, dense(3))
    assertType<Equal<typeof t, Tensor<number[]>>>()
    assertType<Equal<typeof u, Tensor<Shape>>>()
    expect(u.type.shape).toEqual([4, 3])
  })

  it('a width that is a number, not a literal', () => {
    const width: number = 32
    const h = pipe(x, dense(width), dense(10))
    const g = pipe(x, dense(width))
    assertType<Equal<typeof g, Tensor<['batch', number]>>>()
    assertType<Equal<typeof h, Tensor<['batch', 10]>>>()
    expect(h.type.shape).toEqual(['batch', 10])
  })

  it('a union of tensors of different shapes', () => {
    const pick = (flag: boolean) => (flag ? input('y', ['batch'], 'binary') : input('y', ['batch', 1], 'binary'))
    const l = loss('logistic-nll', input('z', ['batch', 1]), pick(true))
    assertType<Equal<ShapeIn<ReturnType<typeof pick>>, Shape>>()
    assertType<Equal<typeof l, Tensor<[]>>>()
    expect(l.type.shape).toEqual([])
  })
})

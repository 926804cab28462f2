/**
 * One program per shape rule branch that the compiler must reject. Each `@ts-expect-error:` states
 * the exact error: `mismatches.test.ts` strips these comments, compiles this file again with the
 * TypeScript API and checks that tsc reports that very sentence on the next line; it also builds
 * every program at run time and checks that `typecheck` draws the same sentence.
 *
 * Keep each rejected expression on the line right after its comment.
 */
import { pipe } from 'fp-ts/lib/function.js'
import {
  batchNorm, conv, dense, flatten, logisticNll, maxPool, mlp, softmaxCrossEntropy, squaredError, sub,
} from '../../src/dsl/composites.js'
import type { Node } from '../../src/dsl/node.js'
import {
  add, batchNormalization, conv2d, input, loss, matmul, mul, param, pool, reshape,
} from '../../src/dsl/primitives.js'
import type { Tensor } from '../../src/dsl/primitives.js'
import type { Writable } from '../../src/dsl/types/shapes.js'

const x784 = input('x', ['batch', 784])
const img = input('img', ['batch', 3, 32, 32])
const mnist = input('img', ['batch', 1, 28, 28])
const tiny = input('tiny', ['batch', 1, 2, 2])
const labels = input('y', ['batch'], 'index')
/** Four batch-norm statistics of one literal shape. */
const stats = <const S extends readonly number[]>(shape: S) => {
  const stat = (name: string): Tensor<Writable<S>> => param(name, shape as readonly number[]) as Node
  return { gamma: stat('g'), beta: stat('b'), runningMean: stat('m'), runningVar: stat('v') }
}

/** [the sentence tsc and typecheck must both state, the program]. */
export const mismatches: ReadonlyArray<readonly [string, () => Node]> = [
  // Leaves: validShape, and Param's "no batch axis"
  ['Input: the batch axis must lead, found it at axis 1 of [784, batch]', () =>
    // @ts-expect-error: Input: the batch axis must lead, found it at axis 1 of [784, batch]
    input('x', [784, 'batch'])],
  ['Input: dimensions must be positive integers, found 0 in [batch, 0]', () =>
    // @ts-expect-error: Input: dimensions must be positive integers, found 0 in [batch, 0]
    input('x', ['batch', 0])],
  ['Param: shape must be free of the batch axis, found [batch, 3]', () =>
    // @ts-expect-error: Param: shape must be free of the batch axis, found [batch, 3]
    param('W', ['batch', 3])],
  ['Param: dimensions must be positive integers, found 1.5 in [3, 1.5]', () =>
    // @ts-expect-error: Param: dimensions must be positive integers, found 1.5 in [3, 1.5]
    param('W', [3, 1.5])],

  // MatMul
  ['MatMul: expects rank-2 operands, found [batch, 3, 4] and [4, 2]', () =>
    // @ts-expect-error: MatMul: expects rank-2 operands, found [batch, 3, 4] and [4, 2]
    matmul(input('x', ['batch', 3, 4]), param('W', [4, 2]))],
  ['MatMul: the right operand cannot have a batch axis, found [batch, 3]', () =>
    // @ts-expect-error: MatMul: the right operand cannot have a batch axis, found [batch, 3]
    matmul(param('A', [2, 3]), input('x', ['batch', 3]))],
  ['MatMul: inner dims differ (784 vs 512)', () =>
    // @ts-expect-error: MatMul: inner dims differ (784 vs 512)
    matmul(x784, param('W', [512, 10]))],

  // Add, Mul: broadcasting
  ['Add: cannot broadcast [batch, 3] with [4]', () =>
    // @ts-expect-error: Add: cannot broadcast [batch, 3] with [4]
    add(input('x', ['batch', 3]), param('b', [4]))],
  ['Mul: cannot broadcast [2, 3] with [3, 2]', () =>
    // @ts-expect-error: Mul: cannot broadcast [2, 3] with [3, 2]
    mul(param('a', [2, 3]), param('b', [3, 2]))],
  ['Add: the batch axis must lead, found it at axis 1 of [4, batch, 3]', () =>
    // @ts-expect-error: Add: the batch axis must lead, found it at axis 1 of [4, batch, 3]
    add(input('x', ['batch', 3]), param('p', [4, 1, 3]))],

  // Conv2d
  ['Conv2d: expects an NCHW input of rank 4, found [batch, 784]', () =>
    // @ts-expect-error: Conv2d: expects an NCHW input of rank 4, found [batch, 784]
    conv2d(x784, param('K', [8, 1, 3, 3]))],
  ['Conv2d: expects a kernel [out, in, kh, kw], found [8, 3, 3]', () =>
    // @ts-expect-error: Conv2d: expects a kernel [out, in, kh, kw], found [8, 3, 3]
    conv2d(img, param('K', [8, 3, 3]))],
  ['Conv2d: input channels differ (3 vs 1)', () =>
    // @ts-expect-error: Conv2d: input channels differ (3 vs 1)
    conv2d(img, param('K', [16, 1, 5, 5]))],
  ['Conv2d: kernel 5x5 is larger than the padded input 4x4', () =>
    // @ts-expect-error: Conv2d: kernel 5x5 is larger than the padded input 4x4
    conv2d(tiny, param('K', [2, 1, 5, 5]), { padding: 1 })],

  // Pool
  ['Pool: expects an NCHW input of rank 4, found [batch, 784]', () =>
    // @ts-expect-error: Pool: expects an NCHW input of rank 4, found [batch, 784]
    pool('max', x784, 2)],
  ['Pool: window 3x3 is larger than the input 2x2', () =>
    // @ts-expect-error: Pool: window 3x3 is larger than the input 2x2
    pool('avg', tiny, 3)],

  // Reshape: a valid target, the batch axis kept, the element count kept
  ['Reshape: dimensions must be positive integers, found 0 in [batch, 0]', () =>
    // @ts-expect-error: Reshape: dimensions must be positive integers, found 0 in [batch, 0]
    reshape(x784, ['batch', 0])],
  ['Reshape: the batch axis must be kept, found [batch, 784] to [784]', () =>
    // @ts-expect-error: Reshape: the batch axis must be kept, found [batch, 784] to [784]
    reshape(x784, [784])],
  ['Reshape: element counts differ (784 vs 780)', () =>
    // @ts-expect-error: Reshape: element counts differ (784 vs 780)
    reshape(mnist, ['batch', 780])],

  // BatchNorm
  ['BatchNorm: expects an input of rank 2 or 4, found [batch, 2, 3]', () =>
    // @ts-expect-error: BatchNorm: expects an input of rank 2 or 4, found [batch, 2, 3]
    batchNormalization(input('x', ['batch', 2, 3]), stats([2]), 'train')],
  ['BatchNorm: feature counts differ (784 vs [512])', () =>
    // @ts-expect-error: BatchNorm: feature counts differ (784 vs [512])
    batchNormalization(x784, stats([512]), 'inference')],

  // Loss heads
  ['Loss: expects logits [batch, classes], found [batch, 2, 2]', () =>
    // @ts-expect-error: Loss: expects logits [batch, classes], found [batch, 2, 2]
    loss('softmax-ce', input('logits', ['batch', 2, 2]), labels)],
  ['Loss: targets do not match logits ([4] vs [batch, 10])', () =>
    // @ts-expect-error: Loss: targets do not match logits ([4] vs [batch, 10])
    loss('softmax-ce', input('logits', ['batch', 10]), input('y', [4], 'index'))],
  ['Loss: expects one logit per example, found [batch, 2]', () =>
    // @ts-expect-error: Loss: expects one logit per example, found [batch, 2]
    loss('logistic-nll', input('logits', ['batch', 2]), input('y', ['batch'], 'binary'))],
  ['Loss: targets do not match logits ([batch, 3] vs [batch, 1])', () =>
    // @ts-expect-error: Loss: targets do not match logits ([batch, 3] vs [batch, 1])
    loss('logistic-nll', input('logits', ['batch', 1]), input('y', ['batch', 3], 'binary'))],
  ['Loss: targets do not match logits ([batch, 4] vs [batch, 3])', () =>
    // @ts-expect-error: Loss: targets do not match logits ([batch, 4] vs [batch, 3])
    loss('squared', input('p', ['batch', 3]), input('t', ['batch', 4]))],

  // Composites in pipelines: the sentence of the primitive that fails inside them
  ['MatMul: expects rank-2 operands, found [batch, 1, 28, 28] and [1, 10]', () =>
    // @ts-expect-error: MatMul: expects rank-2 operands, found [batch, 1, 28, 28] and [1, 10]
    pipe(mnist, dense(10))],
  ['MatMul: expects rank-2 operands, found [batch, 1, 28, 28] and [1, 32]', () =>
    // @ts-expect-error: MatMul: expects rank-2 operands, found [batch, 1, 28, 28] and [1, 32]
    pipe(mnist, mlp({ hidden: [32], outputs: 2 }))],
  ['MatMul: inner dims differ (784 vs 780)', () =>
    // @ts-expect-error: MatMul: inner dims differ (784 vs 780)
    matmul(pipe(mnist, flatten()), param('W', [780, 10]))],
  ['Conv2d: expects an NCHW input of rank 4, found [batch, 784]', () =>
    // @ts-expect-error: Conv2d: expects an NCHW input of rank 4, found [batch, 784]
    pipe(x784, conv(8, 3))],
  ['Conv2d: kernel 3x3 is larger than the padded input 2x2', () =>
    // @ts-expect-error: Conv2d: kernel 3x3 is larger than the padded input 2x2
    pipe(tiny, conv(4, 3))],
  ['Pool: window 2x2 is larger than the input 1x1', () =>
    // @ts-expect-error: Pool: window 2x2 is larger than the input 1x1
    pipe(tiny, maxPool(2), maxPool(2))],
  ['BatchNorm: expects an input of rank 2 or 4, found [batch]', () =>
    // @ts-expect-error: BatchNorm: expects an input of rank 2 or 4, found [batch]
    pipe(input('v', ['batch']), batchNorm())],
  ['Loss: targets do not match logits ([batch, 1] vs [batch, 10])', () =>
    // @ts-expect-error: Loss: targets do not match logits ([batch, 1] vs [batch, 10])
    pipe(x784, dense(10), softmaxCrossEntropy(input('y', ['batch', 1], 'index')))],
  ['Loss: expects one logit per example, found [batch, 2]', () =>
    // @ts-expect-error: Loss: expects one logit per example, found [batch, 2]
    pipe(x784, dense(2), logisticNll(input('y', ['batch'], 'binary')))],
  ['Loss: targets do not match logits ([batch, 4] vs [batch, 3])', () =>
    // @ts-expect-error: Loss: targets do not match logits ([batch, 4] vs [batch, 3])
    pipe(x784, dense(3), squaredError(input('t', ['batch', 4])))],
  ['Add: cannot broadcast [batch, 784] with [783]', () =>
    // @ts-expect-error: Add: cannot broadcast [batch, 784] with [783]
    sub(x784, param('mu', [783]))],
]

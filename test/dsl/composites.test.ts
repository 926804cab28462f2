/**
 * Composites at run time: the primitives each one builds, the names of its parameters and
 * stochastic sites, its output shape, and that what it builds passes `typecheck`. Random layer
 * widths come from fast-check (fixed seed).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  avgPool, batchNorm, conv, dense, flatten, hardtanh, logisticNll, maxPool, mlp, neg, relu, sbinary, sigmoid, sign,
  softmaxCrossEntropy, squaredError, sub, tanh,
} from '../../src/dsl/composites.js'
import { draw } from '../../src/dsl/dslErrors.js'
import type { Network, Node, Param } from '../../src/dsl/node.js'
import { logistic, none, uniform } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import { sizeOf } from '../../src/dsl/shape.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { topoOrder } from '../../src/dsl/fold.js'

const nodes = (...roots: Node[]): Node[] => topoOrder(roots)
/** name → shape of every parameter below the roots. */
const params = (...roots: Node[]): Record<string, readonly (number | 'batch')[]> =>
  Object.fromEntries(nodes(...roots).filter((n): n is Param => n._tag === 'Param').map((p) => [p.name, p.type.shape]))
const sites = (...roots: Node[]): string[] => nodes(...roots).flatMap((n) => (n._tag === 'Binarize' ? [n.site] : []))
const tagsOf = (...roots: Node[]): string[] => nodes(...roots).map((n) => n._tag)
const zeros = (outputs: Network['outputs']): Network['params'] =>
  Object.fromEntries(
    topoOrder(Object.values(outputs)).flatMap((n) => (n._tag === 'Param' ? [[n.name, new Float64Array(sizeOf(n.type.shape))]] : [])),
  )
const check = (outputs: Network['outputs']): string => {
  const r = typecheck({ outputs, params: zeros(outputs) })
  return E.isLeft(r) ? draw(r.left) : 'ok'
}

const x = input('x', ['batch', 6])

describe('dense', () => {
  it('is x·W + b with W [in, units] and b [units], labelled with its name', () => {
    const h = pipe(x, dense(4))
    expect(h).toMatchObject({ _tag: 'Add', label: 'dense1', type: { shape: ['batch', 4], dtype: 'real' } })
    expect(params(h)).toEqual({ 'dense1.W': [6, 4], 'dense1.b': [4] })
    expect(nodes(h).find((n) => n._tag === 'Param' && n.name === 'dense1.b')).toMatchObject({ init: { kind: 'zeros' } })
    expect(check({ h })).toBe('ok')
  })

  it('names layers by the number of products below them, a pure function of the input', () => {
    const h = pipe(x, dense(4), dense(3), dense(2, { name: 'out' }))
    expect(Object.keys(params(h)).sort()).toEqual(['dense1.W', 'dense1.b', 'dense2.W', 'dense2.b', 'out.W', 'out.b'])
    expect(pipe(x, dense(4)).label).toBe(pipe(x, dense(4)).label)
  })

  it('binary weights are a Bernoulli tensor sign(η − Z) at site <name>.W, η uniform in [−1, 1]', () => {
    const h = pipe(x, dense(3, { weights: 'binary', noise: uniform(1), bias: false }))
    expect(h._tag).toBe('MatMul')
    expect(params(h)).toEqual({ 'dense1.W': [6, 3] })
    expect(sites(h)).toEqual(['dense1.W'])
    expect(nodes(h).find((n) => n._tag === 'Binarize')).toMatchObject({ noise: { family: 'uniform', scale: 1 }, type: { dtype: 'binary' } })
    expect(nodes(h).find((n) => n._tag === 'Param')).toMatchObject({ init: { kind: 'uniform', low: -1, high: 1 } })
  })

  it('parallel layers with derived names clash: a duplicate, never silently tied; naming one fixes it', () => {
    const a = pipe(x, dense(2))
    const same = pipe(x, dense(2))
    expect(check({ a, same })).toMatch(/^parameter name "dense1.W" at .* is already used by a different node/)
    const wider = pipe(x, dense(3))
    expect(check({ a, wider })).toMatch(/^parameter name "dense1.W" at .* is already used by a different node/)
    expect(check({ a, apart: pipe(x, dense(2, { name: 'apart' })) })).toBe('ok')
  })
})

describe('activations', () => {
  it('sbinary samples at <layer label>.act, sign uses no noise', () => {
    const h = pipe(x, dense(4), sbinary())
    expect(h).toMatchObject({ _tag: 'Binarize', site: 'dense1.act', noise: logistic(1), type: { shape: ['batch', 4], dtype: 'binary' } })
    expect(pipe(x, sign())).toMatchObject({ site: 'sbinary1.act', noise: none })
    expect(pipe(x, sbinary(logistic(0.5), { site: 'mine' }))).toMatchObject({ site: 'mine' })
  })

  it('elementwise sugar is one Unary each; sub is a + (−b)', () => {
    const ops = [tanh(), sigmoid(), hardtanh(), relu(), neg].map((f) => f(x))
    expect(ops.map((n) => (n._tag === 'Unary' ? n.op : n._tag))).toEqual(['tanh', 'sigmoid', 'hardtanh', 'relu', 'neg'])
    const d = sub(x, x)
    expect(tagsOf(d)).toEqual(['Input', 'Unary', 'Add'])
    expect(d.type.shape).toEqual(['batch', 6])
  })
})

describe('convolution, pooling, flatten', () => {
  const img = input('img', ['batch', 2, 8, 8])

  it('conv has a kernel [filters, channels, k, k] and a bias [filters, 1, 1]', () => {
    const c = pipe(img, conv(4, 3, { stride: 2, padding: 1, padValue: 1 }))
    expect(c).toMatchObject({ label: 'conv1', type: { shape: ['batch', 4, 4, 4] } })
    expect(params(c)).toEqual({ 'conv1.W': [4, 2, 3, 3], 'conv1.b': [4, 1, 1] })
    expect(nodes(c).find((n) => n._tag === 'Conv2d')).toMatchObject({ stride: [2, 2], padding: [1, 1], padValue: 1 })
    expect(check({ c })).toBe('ok')
  })

  it('pooling layers and flatten', () => {
    const p = pipe(img, maxPool(2))
    const q = pipe(img, avgPool(3, 1))
    expect(p).toMatchObject({ op: 'max', window: [2, 2], stride: [2, 2], type: { shape: ['batch', 2, 4, 4] } })
    expect(q).toMatchObject({ op: 'avg', window: [3, 3], stride: [1, 1], type: { shape: ['batch', 2, 6, 6] } })
    expect(pipe(p, flatten())).toMatchObject({ _tag: 'Reshape', shape: ['batch', 32] })
    expect(pipe(input('m', [3, 4]), flatten()).type.shape).toEqual([12])
  })
})

describe('batchNorm', () => {
  it('has trainable gain and shift and frozen running statistics, all [channels]', () => {
    const b = pipe(x, batchNorm({ mode: 'train' }))
    expect(b).toMatchObject({ _tag: 'BatchNorm', label: 'bn1', mode: 'train', type: { shape: ['batch', 6] } })
    expect(params(b)).toEqual({ 'bn1.gamma': [6], 'bn1.beta': [6], 'bn1.mean': [6], 'bn1.var': [6] })
    const trainable = nodes(b).flatMap((n) => (n._tag === 'Param' ? [[n.name, n.trainable] as const] : []))
    expect(Object.fromEntries(trainable)).toEqual({ 'bn1.gamma': true, 'bn1.beta': true, 'bn1.mean': false, 'bn1.var': false })
    expect(pipe(input('i', ['batch', 3, 4, 4]), batchNorm())).toMatchObject({ mode: 'inference' })
  })
})

describe('loss heads', () => {
  it('each is one Loss node on (prediction, target)', () => {
    const y = input('y', ['batch'], 'index')
    const s = input('s', ['batch', 1], 'binary')
    const t = input('t', ['batch', 2])
    const z = pipe(x, dense(2))
    expect(pipe(z, softmaxCrossEntropy(y))).toMatchObject({ op: 'softmax-ce', logits: z, target: y })
    expect(pipe(x, dense(1), logisticNll(s))).toMatchObject({ op: 'logistic-nll', target: s })
    expect(pipe(z, squaredError(t))).toMatchObject({ op: 'squared', logits: z, target: t })
    expect(check({ loss: pipe(z, softmaxCrossEntropy(y)) })).toBe('ok')
  })
})

describe('mlp', () => {
  it('names its layers layer1…layerK and head, with sites layerK.W and layerK.act', () => {
    const out = pipe(x, mlp({ hidden: [5, 4], outputs: 3, batchNorm: 'train' }))
    expect(out).toMatchObject({ label: 'head', type: { shape: ['batch', 3] } })
    expect(Object.keys(params(out)).sort()).toEqual([
      'head.W', 'head.b',
      'layer1.W', 'layer1.b', 'layer1.bn.beta', 'layer1.bn.gamma', 'layer1.bn.mean', 'layer1.bn.var',
      'layer2.W', 'layer2.b', 'layer2.bn.beta', 'layer2.bn.gamma', 'layer2.bn.mean', 'layer2.bn.var',
    ])
    expect(sites(out)).toEqual(['layer1.W', 'layer1.act', 'layer2.W', 'layer2.act'])
  })

  it('law: for random widths, the output is [batch, outputs], parameters have the layer shapes, and typecheck accepts it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom<'real' | 'binary'>('real', 'binary'),
        (inputs, hidden, outputs, weights) => {
          const logits = pipe(input('x', ['batch', inputs]), mlp({ hidden, outputs, weights }))
          const widths = [inputs, ...hidden, outputs]
          const expected: Record<string, readonly number[]> = {}
          hidden.forEach((w, i) => {
            expected[`layer${i + 1}.W`] = [widths[i]!, w]
            expected[`layer${i + 1}.b`] = [w]
          })
          expected['head.W'] = [widths[hidden.length]!, outputs]
          expected['head.b'] = [outputs]
          expect(logits.type.shape).toEqual(['batch', outputs])
          expect(params(logits)).toEqual(expected)
          expect(sites(logits)).toHaveLength(hidden.length * (weights === 'binary' ? 2 : 1))
          const loss = pipe(logits, softmaxCrossEntropy(input('y', ['batch'], 'index')))
          expect(check({ output: logits, loss })).toBe('ok')
        },
      ),
      { seed: 20261126, numRuns: 60 },
    )
  })

  it('law: random conv stacks have the window-formula shape and typecheck', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 12 }),
        fc.array(fc.record({ filters: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 3 }),
        (size, layers) => {
          let h: Node = input('img', ['batch', 1, size, size])
          let side = size
          for (const l of layers) {
            fc.pre(l.k <= side + 2 * l.padding)
            h = pipe(h, conv(l.filters, l.k, { stride: l.stride, padding: l.padding }), sbinary())
            side = Math.floor((side + 2 * l.padding - l.k) / l.stride) + 1
          }
          const flat = pipe(h, flatten(), dense(2))
          expect(h.type.shape).toEqual(['batch', layers.at(-1)!.filters, side, side])
          expect(check({ flat })).toBe('ok')
        },
      ),
      { seed: 20261126, numRuns: 60 },
    )
  })
})

/**
 * The ±1 ⇄ {0,1} coding converters (MATH.md §1): the converted network has the same exact
 * expected loss and predictive distribution, gradients related by the re-parametrization, and the
 * two conversions are inverse; layers that do not fit are clear errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conv, dense, flatten, sbinary, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import { logistic } from '../../src/dsl/noise.js'
import { add, constant, input, matmul, mul, param } from '../../src/dsl/primitives.js'
import { print } from '../../src/dsl/print.js'
import { key } from '../../src/dsl/random.js'
import type { CodingError } from '../../src/dsl/codings.js'
import { drawCodingError, toPlusMinus, toZeroOne } from '../../src/dsl/codings.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { ExactResult } from '../../src/interpreters/exact/index.js'
import { exact } from '../../src/interpreters/exact/index.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { monteCarlo } from '../../src/interpreters/montecarlo/index.js'
import { arbCase, buildSbn } from '../laws/sbn.js'
import { checked } from '../interpreters/fixtures.js'

const ok = <A>(e: E.Either<CodingError, A>): A => {
  if (E.isLeft(e)) throw new Error(drawCodingError(e.left))
  return e.right
}
const run = (net: Checked<Network>, feed: Feed, method: 'chain' | 'enumeration', grad = false): ExactResult => {
  const r = exact(net, feed, { method, grad })
  if (E.isLeft(r)) throw new Error(drawRunError(r.left))
  return r.right
}
const failure = (e: E.Either<CodingError, unknown>): string => (E.isLeft(e) ? drawCodingError(e.left) : 'converted')

// Layers after the first read binary activations, so only the first may have Bernoulli weights.
const cases = arbCase({ binaryFirstOnly: true, maxWeightBits: 4 })
// The converted network rounds W·½ and 1ᵀW differently: errors of a few ulps of O(10) sums.
const TOL = 1e-12

describe('coding converters', () => {
  for (const method of ['chain', 'enumeration'] as const)
    it(`law (${method}): ±1 and {0,1} codings give the same exact expected loss and predictive distribution`, () => {
      fc.assert(fc.property(cases, (c) => {
        const pm = buildSbn(c.spec, c.params)
        const a = run(pm, c.feed, method)
        const b = run(ok(toZeroOne(pm)), c.feed, method)
        expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(TOL)
        a.predictive.data.forEach((p, i) => expect(Math.abs(p - b.predictive.data[i]!)).toBeLessThanOrEqual(TOL))
      }), { seed: 606, numRuns: 40 })
    })

  it('law: gradients agree after the re-parametrization: ∂L/∂W′ = ½(∂L/∂W + 1·∂L/∂b), ∂L/∂b′ = ∂L/∂b', () => {
    fc.assert(fc.property(cases, (c) => {
      const pm = buildSbn(c.spec, c.params)
      const g = run(pm, c.feed, 'chain', true).grad!
      const g01 = run(ok(toZeroOne(pm)), c.feed, 'chain', true).grad!
      c.spec.widths.forEach((w, k) => {
        // Layer k+1 reads binary states iff k ≥ 1; the head reads the last layer's states.
        if (k === 0) return
        const [W, b] = [`l${k + 1}.W`, `l${k + 1}.b`]
        g01[W]!.forEach((v, i) => expect(Math.abs(v - 0.5 * (g[W]![i]! + g[b]![i % w]!))).toBeLessThanOrEqual(TOL))
        g01[b]!.forEach((v, j) => expect(Math.abs(v - g[b]![j]!)).toBeLessThanOrEqual(TOL))
      })
      const units = g['head.b']!.length
      g01['head.W']!.forEach((v, i) => expect(Math.abs(v - 0.5 * (g['head.W']![i]! + g['head.b']![i % units]!))).toBeLessThanOrEqual(TOL))
      // The first layer reads real data and is unchanged.
      g01['l1.W']!.forEach((v, i) => expect(Math.abs(v - g['l1.W']![i]!)).toBeLessThanOrEqual(TOL))
    }), { seed: 607, numRuns: 40 })
  })

  it('law: toPlusMinus ∘ toZeroOne is the identity (same printed network, parameters up to rounding)', () => {
    fc.assert(fc.property(cases, (c) => {
      const pm = buildSbn(c.spec, c.params)
      const back = ok(E.chain(toPlusMinus)(toZeroOne(pm)))
      expect(print(back)).toBe(print(pm))
      for (const [name, v] of Object.entries(pm.params)) v.forEach((x, i) => expect(Math.abs(back.params[name]![i]! - x)).toBeLessThanOrEqual(1e-14))
    }), { seed: 608, numRuns: 40 })
  })

  it('law: Monte Carlo sees the same samples in both codings (same sites, same pre-activations)', () => {
    for (const c of fc.sample(cases, { seed: 609, numRuns: 5 })) {
      const pm = buildSbn(c.spec, c.params)
      const a = monteCarlo(pm, c.feed, { samples: 50, key: key(3) })
      const b = monteCarlo(ok(toZeroOne(pm)), c.feed, { samples: 50, key: key(3) })
      if (E.isLeft(a) || E.isLeft(b)) throw new Error('monte carlo failed')
      a.right.sampleLosses.forEach((l, j) => expect(Math.abs(l - b.right.sampleLosses[j]!)).toBeLessThanOrEqual(TOL))
    }
  })

  it('the {0,1} form reads add(mul(x, 0.5), 0.5); a ±1 network is its own ±1 form', () => {
    const c = fc.sample(arbCase({ binaryFirstOnly: true, maxLayers: 1 }), { seed: 3, numRuns: 1 })[0]!
    const pm = buildSbn({ ...c.spec, widths: [2], binaryWeights: [false], head: 'softmax', classes: 2, skip: false }, {
      'l1.W': new Float64Array(2 * c.spec.inputs).fill(0.5), 'l1.b': Float64Array.of(0, 1),
      'head.W': Float64Array.of(1, 2, 3, 4), 'head.b': Float64Array.of(0.5, -0.5),
    })
    const z = ok(toZeroOne(pm))
    const head = (z.outputs['output'] as Extract<Node, { _tag: 'Add' }>).lhs as Extract<Node, { _tag: 'MatMul' }>
    expect(head.lhs).toMatchObject({ _tag: 'Add', lhs: { _tag: 'Mul', lhs: { _tag: 'Binarize' }, rhs: { _tag: 'Const', value: 0.5 } }, rhs: { _tag: 'Const', value: 0.5 } })
    // W′ = 2W; b′ = b − 1ᵀW (column sums of [[1, 2], [3, 4]] are 4 and 6).
    expect([...z.params['head.W']!]).toEqual([2, 4, 6, 8])
    expect([...z.params['head.b']!]).toEqual([-3.5, -6.5])
    expect(print(ok(toPlusMinus(pm)))).toBe(print(pm))
  })

  it('toPlusMinus recognises the pattern with operands in either order', () => {
    const x = input('x', ['batch', 2])
    const s = pipe(x, dense(2, { name: 'l1' }), sbinary(logistic(1)))
    const zeroOne = add(constant(0.5), mul(constant(0.5), s))
    const logits = add(matmul(zeroOne, param('head.W', [2, 1])), param('head.b', [1]))
    const net = checked({ outputs: { output: logits }, params: { 'l1.W': Float64Array.of(1, 0, 0, 1), 'l1.b': new Float64Array(2), 'head.W': Float64Array.of(2, -4), 'head.b': Float64Array.of(1) } })
    const pm = ok(toPlusMinus(net))
    expect([...pm.params['head.W']!]).toEqual([1, -2])
    expect([...pm.params['head.b']!]).toEqual([0])
    expect(((pm.outputs['output'] as Extract<Node, { _tag: 'Add' }>).lhs as Extract<Node, { _tag: 'MatMul' }>).lhs._tag).toBe('Binarize')
  })
})

describe('coding converters: layers that do not fit are clear errors', () => {
  const x = input('x', ['batch', 2])
  const y = input('y', ['batch'], 'index')
  const h1 = pipe(x, dense(2, { name: 'l1' }), sbinary(logistic(1)))
  const base = { 'l1.W': Float64Array.of(1, 0, 0, 1), 'l1.b': new Float64Array(2) }

  it('Bernoulli weights reading a binary activation', () => {
    const logits = pipe(h1, dense(2, { name: 'l2', weights: 'binary' }), sbinary(logistic(1)), dense(2, { name: 'head' }))
    const net = checked({ outputs: { loss: softmaxCrossEntropy(y)(logits) }, params: { ...base, 'l2.W': new Float64Array(4), 'l2.b': new Float64Array(2), 'head.W': new Float64Array(4), 'head.b': new Float64Array(2) } })
    expect(failure(toZeroOne(net))).toMatchInlineSnapshot(`"toZeroOne at loss > head > lhs > lhs > l2: the layer reads binary activation "l1.act" with Bernoulli ±1 weights (site "l2.W"): W is not a free real parameter, so it cannot absorb the factor ½ of s = (x + 1)/2 (W/2 would not be ±1); only layers with real weights have a {0,1} form"`)
  })

  it('a layer without a bias', () => {
    const net = checked({ outputs: { output: dense(2, { name: 'head', bias: false })(h1) }, params: { ...base, 'head.W': new Float64Array(4) } })
    expect(failure(toZeroOne(net))).toMatchInlineSnapshot(`"toZeroOne at output: the product x·W that reads binary activation "l1.act" must feed only a bias Add (x·W + b, as built by dense): the bias absorbs ½·1ᵀW"`)
  })

  it('a weight parameter shared with another layer', () => {
    const W = param('shared.W', [2, 2])
    const h2 = sbinary(logistic(1), { site: 'h2' })(add(matmul(h1, W), param('l2.b', [2])))
    const out = add(matmul(h2, W), param('head.b', [2]))
    const net = checked({ outputs: { output: out }, params: { ...base, 'shared.W': new Float64Array(4), 'l2.b': new Float64Array(2), 'head.b': new Float64Array(2) } })
    expect(failure(toZeroOne(net))).toMatchInlineSnapshot(`"toZeroOne at output > lhs > lhs > input: parameter "shared.W" is also used elsewhere; re-parametrizing it would change that use"`)
  })

  it('a convolution reading binary activations', () => {
    const img = input('img', ['batch', 1, 4, 4])
    const out = pipe(img, conv(2, 3, { name: 'c1' }), sbinary(logistic(1)), conv(1, 2, { name: 'c2' }), flatten(), dense(1, { name: 'head' }))
    const net = checked({ outputs: { output: out }, params: {
      'c1.W': new Float64Array(18), 'c1.b': new Float64Array(2), 'c2.W': new Float64Array(8), 'c2.b': new Float64Array(1), 'head.W': new Float64Array(1), 'head.b': new Float64Array(1),
    } })
    expect(failure(toZeroOne(net))).toMatchInlineSnapshot(`"toZeroOne at output > lhs > lhs > c2 > lhs: the convolution reads binary activation "c1.act"; only dense layers are converted to the {0,1} coding"`)
  })

  it('a flattened binary convolution read by a dense layer is converted', () => {
    const img = input('img', ['batch', 1, 3, 3])
    const out = pipe(img, conv(2, 2, { name: 'c1' }), sbinary(logistic(1)), flatten(), dense(1, { name: 'head' }))
    const net = checked({ outputs: { output: out }, params: { 'c1.W': new Float64Array(8), 'c1.b': new Float64Array(2), 'head.W': new Float64Array(8).fill(1), 'head.b': Float64Array.of(0) } })
    expect([...ok(toZeroOne(net)).params['head.b']!]).toEqual([-8])
  })
})

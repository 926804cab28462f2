/**
 * Routing parameters to optimizers: kinds found from the network, first-match assignment, the
 * strict errors (pinned), and the routed step (each rule's optimizer on its own parameters,
 * state untouched).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { batchNorm, dense, flatten, mlp, sbinary, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import { initParams } from '../../src/dsl/init.js'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import { binarize, input, matmul, param, reshape } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { adam, sgd } from '../../src/train/optimizers.js'
import type { Routing, Rule } from '../../src/train/routing.js'
import { drawRoutingError, initRouted, paramKinds, route, standardRules, stepRouted, stepRoutedInPlace } from '../../src/train/routing.js'

const checked = (outputs: Network['outputs']): Checked<Network> => {
  const net = typecheck({ outputs, params: initParams(outputs, key(7)) })
  if (E.isLeft(net)) throw new Error(JSON.stringify(net.left))
  return net.right
}

/** 4 inputs → binary dense layer with batch norm → binary activation → real head of 3 classes. */
const bnNet = (): Checked<Network> => {
  const x = input('x', ['batch', 4])
  const y = input('y', ['batch'], 'index')
  const logits = pipe(x, dense(5, { name: 'dense1', weights: 'binary', bias: false }), batchNorm({ name: 'bn1' }), sbinary(), dense(3, { name: 'head' }))
  return checked({ output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) })
}
const net = bnNet()
const draw = (r: E.Either<Parameters<typeof drawRoutingError>[0], Routing>): string => (E.isLeft(r) ? drawRoutingError(r.left) : 'routed')
const rule = (match: Rule['match'], label?: string): Rule => ({ match, optimizer: sgd(), ...(label === undefined ? {} : { label }) })

describe('paramKinds', () => {
  it('latent when read by a binarize, state when not trainable, real otherwise', () => {
    expect(paramKinds(net)).toMatchInlineSnapshot(`
      {
        "bn1.beta": "real",
        "bn1.gamma": "real",
        "bn1.mean": "state",
        "bn1.var": "state",
        "dense1.W": "latent",
        "head.W": "real",
        "head.b": "real",
      }
    `)
  })
  it('a weight binarized through a reshape is latent', () => {
    const x = input('x', ['batch', 6])
    const w = binarize(reshape(param('flat', [12]), [6, 2]), { family: 'logistic', scale: 1 }, 'w')
    const out = matmul(x, w) as Node
    expect(paramKinds(checked({ output: out }))).toEqual({ flat: 'latent' })
  })
  it('an mlp preset: binary hidden weights are latent, biases and the head real', () => {
    const x = input('x', ['batch', 2])
    const logits = pipe(x, mlp({ hidden: [3, 3], outputs: 2 }), flatten())
    expect(Object.entries(paramKinds(checked({ output: logits }))).map(([n, k]) => `${n}:${k}`).join(' ')).toMatchInlineSnapshot(
      `"layer1.W:latent layer1.b:real layer2.W:latent layer2.b:real head.W:real head.b:real"`,
    )
  })
})

describe('route', () => {
  it('first match wins; state parameters are left out', () => {
    const r = route(net, [rule({ name: 'head.W' }), rule({ kind: 'latent' }), rule({ kind: 'real' })])
    if (E.isLeft(r)) throw new Error(drawRoutingError(r.left))
    expect(r.right.assignment).toEqual({ 'head.W': 0, 'dense1.W': 1, 'bn1.gamma': 2, 'bn1.beta': 2, 'head.b': 2 })
  })
  it('a global RegExp matches every name (its lastIndex is not carried between tests)', () => {
    const r = route(net, [rule({ name: /^(head|bn1)\./g }), rule({ kind: 'latent' })])
    expect(draw(r)).toBe('routed')
  })
  it('errors are pinned', () => {
    expect([
      draw(route(net, [rule({ kind: 'latent' }), rule({ name: /^conv/ })])),
      draw(route(net, [rule({ kind: 'real' }), rule({ name: /^head/ }, 'head at a lower rate'), rule({ kind: 'latent' })])),
      draw(route(net, [rule({ kind: 'latent' }), rule({ kind: 'real' }), rule({ name: 'bn1.mean' })])),
      draw(route(net, [rule({ kind: 'state' })])),
      draw(route(net, [rule({ kind: 'latent' })])),
      draw(route(net, [])),
    ]).toMatchInlineSnapshot(`
      [
        "rule 2 (name /^conv/) matches no parameter; parameters are: dense1.W (latent), bn1.gamma (real), bn1.beta (real), bn1.mean (state), bn1.var (state), head.W (real), head.b (real)",
        "rule 2 (head at a lower rate) only matches parameters owned by earlier rules (head.W by rule 1, head.b by rule 1); remove it or move it before them",
        "rule 3 (name "bn1.mean") routes state parameters to an optimizer (bn1.mean); state (batch-norm running statistics) is updated by the training loop, never by an optimizer",
        "rule 1 (kind state) routes state parameters to an optimizer (bn1.mean, bn1.var); state (batch-norm running statistics) is updated by the training loop, never by an optimizer",
        "no rule matches the trainable parameters bn1.gamma (real), bn1.beta (real), head.W (real), head.b (real); add a rule for kind real",
        "no rule matches the trainable parameters dense1.W (latent), bn1.gamma (real), bn1.beta (real), head.W (real), head.b (real); add a rule for kind latent and kind real",
      ]
    `)
  })
  it('standardRules adds only the kinds the network has', () => {
    const x = input('x', ['batch', 2])
    const onlyLatent = checked({ output: matmul(x, binarize(param('w', [2, 1]), { family: 'logistic', scale: 1 }, 'w')) as Node })
    const rules = standardRules(onlyLatent, { latent: sgd(), real: adam() })
    expect(rules.map((r) => r.match)).toEqual([{ kind: 'latent' }])
    expect(draw(route(onlyLatent, rules))).toBe('routed')
    expect(standardRules(net, { latent: sgd(), real: adam() }).map((r) => r.match)).toEqual([{ kind: 'latent' }, { kind: 'real' }])
  })
})

describe('stepRouted', () => {
  const r = route(net, [{ match: { kind: 'latent' }, optimizer: sgd() }, { match: { kind: 'real' }, optimizer: adam() }])
  if (E.isLeft(r)) throw new Error(drawRoutingError(r.left))
  const routing = r.right
  const grads = Object.fromEntries(Object.entries(net.params).map(([n, v]) => [n, v.map((_, i) => 0.1 * (i + 1))]))

  it('each rule steps its own parameters with its own optimizer; state passes through as the same array', () => {
    const states = initRouted(routing, net.params)
    expect(states.map((s) => Object.keys(s.slots))).toEqual([['dense1.W'], ['bn1.gamma', 'bn1.beta', 'head.W', 'head.b']])
    const next = stepRouted(routing, net.params, grads, states, 0.1)
    const eta = net.params['dense1.W']!
    expect([...next.params['dense1.W']!]).toEqual([...eta].map((v, i) => v - 0.1 * grads['dense1.W']![i]!))
    const head = net.params['head.b']!
    // Adam's first step is lr·g/(|g| + ε) ≈ lr for each coordinate
    next.params['head.b']!.forEach((v, i) => expect(v).toBeCloseTo(head[i]! - 0.1, 6))
    expect(next.params['bn1.mean']).toBe(net.params['bn1.mean'])
    expect(next.params['bn1.var']).toBe(net.params['bn1.var'])
    expect(next.states.map((s) => s.step)).toEqual([1, 1])
  })
  it('stepRoutedInPlace ≡ stepRouted bit for bit, leaving state parameters alone', () => {
    const pure = stepRouted(routing, net.params, grads, initRouted(routing, net.params), 0.1)
    const own = Object.fromEntries(Object.entries(net.params).map(([n, v]) => [n, v.slice()]))
    const states = stepRoutedInPlace(routing, own, grads, initRouted(routing, own), 0.1)
    for (const [n, v] of Object.entries(own)) expect([...v]).toEqual([...pure.params[n]!])
    expect(states.map((s) => s.step)).toEqual([1, 1])
    expect(JSON.stringify(states[1]!.slots['head.W']!.map((x) => [...x]))).toBe(JSON.stringify(pure.states[1]!.slots['head.W']!.map((x) => [...x])))
  })
  it('law: purity — params, grads and states are unchanged', () => {
    const states = initRouted(routing, net.params)
    const before = JSON.stringify([net.params, grads, states].map((o) => JSON.stringify(o, (_, v: unknown) => (v instanceof Float64Array ? [...v] : v))))
    stepRouted(routing, net.params, grads, states, 0.1)
    expect(JSON.stringify([net.params, grads, states].map((o) => JSON.stringify(o, (_, v: unknown) => (v instanceof Float64Array ? [...v] : v))))).toBe(before)
  })
})

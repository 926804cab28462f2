import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  avgPool, batchNorm, conv, dense, flatten, hardtanh, logisticNll, maxPool, sign, softmaxCrossEntropy,
  squaredError, sub,
} from '../../src/dsl/composites.js'
import type { Network, Node } from '../../src/dsl/node.js'
import { logistic, none, normal, triangular, uniform } from '../../src/dsl/noise.js'
import { binarize, constant, input, mul, param } from '../../src/dsl/primitives.js'
import { print, showType } from '../../src/dsl/print.js'
import { sizeOf } from '../../src/dsl/shape.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { topoOrder } from '../../src/dsl/fold.js'
import { smallMlp } from '../fixtures/small.js'

/** Zero-filled values for every parameter (the printer ignores values; typecheck needs them). */
const zeros = (outputs: Network['outputs']): Network['params'] =>
  Object.fromEntries(
    topoOrder(Object.values(outputs)).flatMap((n) => (n._tag === 'Param' ? [[n.name, new Float64Array(sizeOf(n.type.shape))]] : [])),
  )

const checked = (outputs: Network['outputs']) => {
  const net = typecheck({ outputs, params: zeros(outputs) })
  if (E.isLeft(net)) throw new Error(`test network does not typecheck: ${JSON.stringify(net.left)}`)
  return net.right
}


const smallConvNet = (): Network['outputs'] => {
  const img = input('img', ['batch', 1, 6, 6])
  const y = input('y', ['batch'], 'index')
  const logits = pipe(
    img,
    conv(2, 3, { weights: 'binary', padding: 1, padValue: -1 }),
    sign(),
    maxPool(2),
    flatten(),
    dense(3),
  )
  return { output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) }
}

describe('print: pinned outputs', () => {
  it('prints a small MLP in ANF, one binder per line', () => {
    expect(print(checked(smallMlp()))).toMatchInlineSnapshot(`
      "%0 : real[batch, 4] = input x
      %1 : real[4, 3] = param[init=uniform(-1, 1), trainable] layer1.W
      %2 : binary[4, 3] = binarize[logistic(1), site=layer1.W] %1
      %3 : real[batch, 3] = matmul %0 %2
      %4 : real[3] = param[init=zeros, trainable] layer1.b
      %5 : real[batch, 3] = add %3 %4     -- layer1
      %6 : binary[batch, 3] = binarize[logistic(1), site=layer1.act] %5
      %7 : real[3, 2] = param[init=uniform(-1, 1), trainable] layer2.W
      %8 : binary[3, 2] = binarize[logistic(1), site=layer2.W] %7
      %9 : real[batch, 2] = matmul %6 %8
      %10 : real[2] = param[init=zeros, trainable] layer2.b
      %11 : real[batch, 2] = add %9 %10   -- layer2
      %12 : binary[batch, 2] = binarize[logistic(1), site=layer2.act] %11
      %13 : real[2, 2] = param[init=glorot, trainable] head.W
      %14 : real[batch, 2] = matmul %12 %13
      %15 : real[2] = param[init=zeros, trainable] head.b
      %16 : real[batch, 2] = add %14 %15  -- head
      %17 : index[batch] = input y
      %18 : real[] = loss[softmax-ce] %16 %17
      out output = %16
      out loss = %18"
    `)
  })

  it('prints a small conv net with every conv and pool attribute', () => {
    expect(print(checked(smallConvNet()))).toMatchInlineSnapshot(`
      "%0 : real[batch, 1, 6, 6] = input img
      %1 : real[2, 1, 3, 3] = param[init=uniform(-1, 1), trainable] conv1.W
      %2 : binary[2, 1, 3, 3] = binarize[logistic(1), site=conv1.W] %1
      %3 : real[batch, 2, 6, 6] = conv2d[stride=1x1, padding=1x1, padValue=-1] %0 %2
      %4 : real[2, 1, 1] = param[init=zeros, trainable] conv1.b
      %5 : real[batch, 2, 6, 6] = add %3 %4  -- conv1
      %6 : binary[batch, 2, 6, 6] = binarize[none, site=conv1.act] %5
      %7 : binary[batch, 2, 3, 3] = pool[max, window=2x2, stride=2x2] %6
      %8 : binary[batch, 18] = reshape[shape=[batch, 18]] %7
      %9 : real[18, 3] = param[init=glorot, trainable] dense1.W
      %10 : real[batch, 3] = matmul %8 %9
      %11 : real[3] = param[init=zeros, trainable] dense1.b
      %12 : real[batch, 3] = add %10 %11     -- dense1
      %13 : index[batch] = input y
      %14 : real[] = loss[softmax-ce] %12 %13
      out output = %12
      out loss = %14"
    `)
  })

  it('prints every other primitive and its static attributes', () => {
    const x = input('x', ['batch', 2, 4, 4])
    const t = input('t', ['batch', 1], 'binary')
    const r = input('r', ['batch', 8])
    const pooled = pipe(x, avgPool(2, 1), batchNorm({ name: 'bn', mode: 'train', eps: 0.001, momentum: 0.2 }), flatten())
    const scaled = mul(pooled, param('scale', [18], { kind: 'normal', std: 0.5 }))
    const shifted = sub(scaled, constant(0.25))
    const h = pipe(shifted, hardtanh())
    const w = binarize(param('w', [18, 8], { kind: 'constant', value: 0.1 }, false), triangular(0.5), 'w')
    const a = binarize(pipe(h, dense(8, { name: 'mixed', bias: false, weights: 'real' })), normal(2), 'mixed.act')
    const logit = pipe(binarize(h, uniform(1), 'h.act'), dense(1, { name: 'logit', init: { kind: 'uniform', low: -0.5, high: 0.5 } }))
    const outputs = {
      nll: pipe(logit, logisticNll(t)),
      sq: pipe(a, squaredError(r)),
      'odd name': binarize(w, none, 'w sign'),
    }
    expect(print(checked(outputs))).toMatchInlineSnapshot(`
      "%0 : real[batch, 2, 4, 4] = input x
      %1 : real[batch, 2, 3, 3] = pool[avg, window=2x2, stride=1x1] %0
      %2 : real[2] = param[init=ones, trainable] bn.gamma
      %3 : real[2] = param[init=zeros, trainable] bn.beta
      %4 : real[2] = param[init=zeros, frozen] bn.mean
      %5 : real[2] = param[init=ones, frozen] bn.var
      %6 : real[batch, 2, 3, 3] = batchNorm[mode=train, eps=0.001, momentum=0.2] %1 %2 %3 %4 %5  -- bn
      %7 : real[batch, 18] = reshape[shape=[batch, 18]] %6
      %8 : real[18] = param[init=normal(0.5), trainable] scale
      %9 : real[batch, 18] = mul %7 %8
      %10 : real[] = const 0.25
      %11 : real[] = unary[neg] %10
      %12 : real[batch, 18] = add %9 %11
      %13 : real[batch, 18] = unary[hardtanh] %12
      %14 : binary[batch, 18] = binarize[uniform(1), site=h.act] %13
      %15 : real[18, 1] = param[init=uniform(-0.5, 0.5), trainable] logit.W
      %16 : real[batch, 1] = matmul %14 %15
      %17 : real[1] = param[init=zeros, trainable] logit.b
      %18 : real[batch, 1] = add %16 %17                                                         -- logit
      %19 : binary[batch, 1] = input t
      %20 : real[] = loss[logistic-nll] %18 %19
      %21 : real[18, 8] = param[init=glorot, trainable] mixed.W
      %22 : real[batch, 8] = matmul %13 %21                                                      -- mixed
      %23 : binary[batch, 8] = binarize[normal(2), site=mixed.act] %22
      %24 : real[batch, 8] = input r
      %25 : real[] = loss[squared] %23 %24
      %26 : real[18, 8] = param[init=constant(0.1), frozen] w
      %27 : binary[18, 8] = binarize[triangular(0.5), site=w] %26
      %28 : binary[18, 8] = binarize[none, site="w sign"] %27
      out nll = %20
      out sq = %25
      out "odd name" = %28"
    `)
  })

  it('prints an unchecked network too, with the types its nodes store', () => {
    const x = input('x', ['batch', 3])
    expect(print({ outputs: { y: pipe(x, dense(2, { name: 'd' })) }, params: {} })).toMatchInlineSnapshot(`
      "%0 : real[batch, 3] = input x
      %1 : real[3, 2] = param[init=glorot, trainable] d.W
      %2 : real[batch, 2] = matmul %0 %1
      %3 : real[2] = param[init=zeros, trainable] d.b
      %4 : real[batch, 2] = add %2 %3  -- d
      out y = %4"
    `)
  })
})

// ---------------------------------------------------------------------------------------------
// Laws over random MLPs built through the public constructors

const mlpArb = fc.record({
  inputs: fc.integer({ min: 1, max: 32 }),
  hidden: fc.array(fc.integer({ min: 1, max: 32 }), { minLength: 0, maxLength: 4 }),
  outputs: fc.integer({ min: 1, max: 10 }),
  weights: fc.constantFrom('binary' as const, 'real' as const),
  activation: fc.constantFrom(logistic(1), none, normal(0.5)),
  batchNorm: fc.constantFrom(false as const, 'train' as const, 'inference' as const),
})
type MlpCase = typeof mlpArb extends fc.Arbitrary<infer T> ? T : never
const build = (c: MlpCase): Network['outputs'] =>
  smallMlp({ hidden: c.hidden, outputs: c.outputs, weights: c.weights, activation: c.activation, batchNorm: c.batchNorm }, c.inputs)

describe('print: laws', () => {
  it('law: printing is stable (printing twice gives the same text)', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const net = checked(build(c))
        expect(print(net)).toBe(print(net))
      }),
    )
  })

  it('law: a structurally rebuilt copy prints the same (rebuilt by the builders, or deep-cloned)', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const text = print(checked(build(c)))
        expect(print(checked(build(c)))).toBe(text)
        // structuredClone keeps sharing inside the copy but shares no object with the original.
        expect(print(checked(structuredClone(build(c))))).toBe(text)
      }),
    )
  })

  it('law: different widths print differently', () => {
    fc.assert(
      fc.property(mlpArb, fc.integer({ min: 1, max: 8 }), (c, extra) => {
        const wider = { ...c, outputs: c.outputs + extra }
        expect(print(checked(build(c)))).not.toBe(print(checked(build(wider))))
      }),
    )
  })

  it('law: one binder per distinct node, each with its stored type, each used only after it is bound', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const outputs = build(c)
        const nodes = topoOrder(Object.values(outputs))
        const lines = print(checked(outputs)).split('\n')
        const binders = lines.filter((l) => l.startsWith('%'))
        expect(binders).toHaveLength(nodes.length)
        binders.forEach((line, i) => {
          expect(line.startsWith(`%${i} : ${showType(nodes[i]!.type)} = `)).toBe(true)
          const rhs = line.split(' = ')[1]!.split(' -- ')[0]!
          for (const use of rhs.matchAll(/%(\d+)/g)) expect(Number(use[1])).toBeLessThan(i)
        })
        expect(lines.slice(binders.length)).toEqual(Object.keys(outputs).map((o) => expect.stringMatching(new RegExp(`^out ${o} = %\\d+$`))))
      }),
    )
  })

  it('a shared node is one binder', () => {
    const x = input('x', ['batch', 2])
    const h: Node = pipe(x, dense(2, { name: 'shared' }))
    const text = print({ outputs: { a: h, b: h }, params: {} })
    expect(text.split('\n').filter((l) => l.includes('-- shared'))).toHaveLength(1)
    expect(text).toContain('out a = %4\nout b = %4')
  })

  it('prints a network 2000 layers deep without overflowing the stack', () => {
    let h: Node = input('x', ['batch', 2])
    for (let i = 0; i < 2000; i++) h = pipe(h, dense(2, { name: `d${i}` }))
    expect(print({ outputs: { out: h }, params: {} }).split('\n')).toHaveLength(1 + 2000 * 4 + 1)
  })
})

import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { conv, dense, flatten, maxPool, sbinary, sign, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import type { Network, Node } from '../../src/dsl/node.js'
import { logistic, none, normal } from '../../src/dsl/noise.js'
import { add, binarize, input, matmul, param, unary } from '../../src/dsl/primitives.js'
import { sizeOf } from '../../src/dsl/shape.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { topoOrder } from '../../src/dsl/fold.js'
import type { LayerSummary, Summary } from '../../src/interpreters/summary.js'
import { renderSummary, summary, summaryJson } from '../../src/interpreters/summary.js'
import { smallMlp } from '../fixtures/small.js'

/** Zero-filled values for every parameter: the summary reads shapes, never values. */
const zeros = (outputs: Network['outputs']): Network['params'] =>
  Object.fromEntries(
    topoOrder(Object.values(outputs)).flatMap((n) => (n._tag === 'Param' ? [[n.name, new Float64Array(sizeOf(n.type.shape))]] : [])),
  )

const summarise = (outputs: Network['outputs']): Summary => {
  const net = typecheck({ outputs, params: zeros(outputs) })
  if (E.isLeft(net)) throw new Error(`test network does not typecheck: ${JSON.stringify(net.left)}`)
  return summary(net.right)
}

const row = (s: Summary, name: string): LayerSummary => {
  const r = s.layers.find((l) => l.name === name)
  if (r === undefined) throw new Error(`no row ${name} in ${s.layers.map((l) => l.name).join(', ')}`)
  return r
}


/** Real image → binary-weight conv (real MACs) → sign → binary conv on binary input (binary MACs) → pool → real head. */
const smallConvNet = (): Network['outputs'] => {
  const img = input('img', ['batch', 1, 6, 6])
  const y = input('y', ['batch'], 'index')
  const logits = pipe(
    img,
    conv(2, 3, { weights: 'binary', padding: 1, padValue: -1 }),
    sign(),
    conv(4, 3, { weights: 'binary', padding: 1, padValue: -1, bias: false }),
    sbinary(logistic(1)),
    maxPool(2),
    flatten(),
    dense(3),
  )
  return { output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) }
}

describe('summary: pinned outputs', () => {
  it('renders a small MLP', () => {
    expect(renderSummary(summarise(smallMlp()))).toMatchInlineSnapshot(`
      "Layer   Kind              Output shape  Binary params  Real params  Memory (bits)  Binary MACs  Real MACs  Stochastic sites
      ------  ----------------  ------------  -------------  -----------  -------------  -----------  ---------  ----------------
      layer1  dense             [batch, 3]               12            3            108            0         12                 2
      layer2  dense             [batch, 2]                6            2             70            6          0                 2
      head    dense             [batch, 2]                0            6            192            0          4                 0
      loss    loss(softmax-ce)  []                        0            0              0            0          0                 0
      ------  ----------------  ------------  -------------  -----------  -------------  -----------  ---------  ----------------
      Total                                              18           11            370            6         16                 4

      Parameters: 29 (18 binary at 1 bit, 11 real at 32 bits, of which 0 non-trainable)
      Memory: 370 bits = 47 bytes (0.05 KiB)
      MACs per example: 22 (6 binary, 16 real; 27.27% binary)
      Stochastic sites: 4 (2 weight, 2 activation)"
    `)
  })

  it('renders a small conv net', () => {
    expect(renderSummary(summarise(smallConvNet()))).toMatchInlineSnapshot(`
      "Layer   Kind              Output shape      Binary params  Real params  Memory (bits)  Binary MACs  Real MACs  Stochastic sites
      ------  ----------------  ----------------  -------------  -----------  -------------  -----------  ---------  ----------------
      conv1   conv              [batch, 2, 6, 6]             18            2             82            0        648                 1
      conv2   conv              [batch, 4, 6, 6]             72            0             72        2,592          0                 2
      dense1  dense             [batch, 3]                    0          111          3,552            0        108                 0
      loss    loss(softmax-ce)  []                            0            0              0            0          0                 0
      ------  ----------------  ----------------  -------------  -----------  -------------  -----------  ---------  ----------------
      Total                                                  90          113          3,706        2,592        756                 3

      Parameters: 203 (90 binary at 1 bit, 113 real at 32 bits, of which 0 non-trainable)
      Memory: 3,706 bits = 464 bytes (0.45 KiB)
      MACs per example: 3,348 (2,592 binary, 756 real; 77.42% binary)
      Stochastic sites: 3 (2 weight, 1 activation)"
    `)
  })

  it('gives the JSON that `sbnkit check --json` prints', () => {
    const json = summaryJson(summarise(smallMlp({ hidden: [3], outputs: 2, batchNorm: 'inference' })))
    expect(JSON.parse(JSON.stringify(json))).toEqual(json)
    expect(json).toMatchInlineSnapshot(`
      {
        "format": "sbnkit-summary",
        "layers": [
          {
            "activationSites": 0,
            "binaryMacs": 0,
            "binaryParams": 12,
            "bits": 108,
            "kind": "dense",
            "name": "layer1",
            "nonTrainableParams": 0,
            "outputShape": [
              "batch",
              3,
            ],
            "realMacs": 12,
            "realParams": 3,
            "stochasticSites": 1,
            "weightSites": 1,
          },
          {
            "activationSites": 1,
            "binaryMacs": 0,
            "binaryParams": 0,
            "bits": 384,
            "kind": "batchNorm",
            "name": "layer1.bn",
            "nonTrainableParams": 6,
            "outputShape": [
              "batch",
              3,
            ],
            "realMacs": 0,
            "realParams": 12,
            "stochasticSites": 1,
            "weightSites": 0,
          },
          {
            "activationSites": 0,
            "binaryMacs": 0,
            "binaryParams": 0,
            "bits": 256,
            "kind": "dense",
            "name": "head",
            "nonTrainableParams": 0,
            "outputShape": [
              "batch",
              2,
            ],
            "realMacs": 6,
            "realParams": 8,
            "stochasticSites": 0,
            "weightSites": 0,
          },
          {
            "activationSites": 0,
            "binaryMacs": 0,
            "binaryParams": 0,
            "bits": 0,
            "kind": "loss(softmax-ce)",
            "name": "loss",
            "nonTrainableParams": 0,
            "outputShape": [],
            "realMacs": 0,
            "realParams": 0,
            "stochasticSites": 0,
            "weightSites": 0,
          },
        ],
        "total": {
          "activationSites": 1,
          "binaryMacFraction": 0,
          "binaryMacs": 0,
          "binaryParams": 12,
          "bits": 748,
          "bytes": 94,
          "nonTrainableParams": 6,
          "realMacs": 18,
          "realParams": 23,
          "stochasticSites": 2,
          "weightSites": 1,
        },
        "units": {
          "binaryParamBits": 1,
          "macs": "per example (batch = 1)",
          "realParamBits": 32,
        },
        "version": 1,
      }
    `)
  })
})

describe('summary: definitions', () => {
  it('hand-counted small MLP: 4 → 3 → 2 binary layers, real head 2 → 2', () => {
    const s = summarise(smallMlp())
    expect(s.layers.map((l) => [l.name, l.kind])).toEqual([
      ['layer1', 'dense'], ['layer2', 'dense'], ['head', 'dense'], ['loss', 'loss(softmax-ce)'],
    ])
    // layer1: W 4·3 binary, b 3 real; MACs real (real input); sites layer1.W and layer1.act.
    expect(row(s, 'layer1')).toMatchObject({ binaryParams: 12, realParams: 3, bits: 12 + 3 * 32, binaryMacs: 0, realMacs: 12, stochasticSites: 2, weightSites: 1, activationSites: 1 })
    // layer2 reads layer1's binary activations with binary weights: XNOR–popcount MACs.
    expect(row(s, 'layer2')).toMatchObject({ binaryParams: 6, realParams: 2, binaryMacs: 6, realMacs: 0, stochasticSites: 2 })
    expect(row(s, 'head')).toMatchObject({ binaryParams: 0, realParams: 6, binaryMacs: 0, realMacs: 4, stochasticSites: 0 })
    expect(s.total).toMatchObject({ bits: 18 + 11 * 32, bytes: Math.ceil((18 + 11 * 32) / 8), binaryMacFraction: 6 / 22 })
  })

  it('an activation site belongs to the layer it binarizes (with batch norm, to the bn layer)', () => {
    const s = summarise(smallMlp({ hidden: [3], outputs: 2, batchNorm: 'train' }))
    expect(row(s, 'layer1')).toMatchObject({ weightSites: 1, activationSites: 0 })
    expect(row(s, 'layer1.bn')).toMatchObject({ kind: 'batchNorm', weightSites: 0, activationSites: 1, realParams: 12, nonTrainableParams: 6 })
    expect(row(s, 'head')).toMatchObject({ stochasticSites: 0 })
  })

  it('deterministic sign activations and weights are not stochastic sites', () => {
    const s = summarise(smallMlp({ hidden: [3, 2], outputs: 2, activation: none, weightNoise: none }))
    expect(s.total).toMatchObject({ stochasticSites: 0, binaryParams: 18, binaryMacs: 6 })
  })

  it('conv MACs are outH·outW·o·c·kh·kw; binary input × binary kernel is binary', () => {
    const s = summarise(smallConvNet())
    expect(s.layers.map((l) => [l.name, l.kind])).toEqual([['conv1', 'conv'], ['conv2', 'conv'], ['dense1', 'dense'], ['loss', 'loss(softmax-ce)']])
    expect(row(s, 'conv1')).toMatchObject({ binaryParams: 18, realParams: 2, realMacs: 6 * 6 * 2 * 1 * 9, binaryMacs: 0, stochasticSites: 1 })
    expect(row(s, 'conv2')).toMatchObject({ binaryParams: 72, realParams: 0, binaryMacs: 6 * 6 * 4 * 2 * 9, realMacs: 0, stochasticSites: 2 })
    // The pool and flatten have no label: they belong to their consumer, the head.
    expect(row(s, 'dense1')).toMatchObject({ realParams: 36 * 3 + 3, realMacs: 36 * 3 })
  })

  it('a shared parameter counts once; a parameter also read directly is real', () => {
    const x = input('x', ['batch', 2])
    const shared = param('W', [2, 2])
    const v = param('V', [2, 2])
    const h = matmul(matmul(x, shared), shared)
    const out = add(matmul(h, binarize(v, logistic(1), 'V')), matmul(h, v))
    const s = summarise({ out })
    expect(s.layers).toHaveLength(1)
    expect(s.total).toMatchObject({ binaryParams: 0, realParams: 8, realMacs: 16, weightSites: 1 })
  })

  it('an unlabelled network is one row named by its output; no MACs means fraction 0', () => {
    const x = input('x', ['batch', 3])
    const s = summarise({ prediction: unary('tanh', add(x, param('b', [3]))) })
    expect(s.layers).toEqual([expect.objectContaining({ name: 'prediction', kind: 'unary', outputShape: ['batch', 3], realParams: 3 })])
    expect(s.total.binaryMacFraction).toBe(0)
  })

  // 500, not thousands: typecheck's node paths grow with depth, so deeper nets only slow the suite.
  it('summarises a network 500 layers deep', () => {
    let h: Node = input('x', ['batch', 2])
    for (let i = 0; i < 500; i++) h = pipe(h, dense(2, { name: `d${i}`, weights: 'binary' }), sbinary())
    const s = summarise({ out: h })
    expect(s.layers).toHaveLength(500)
    expect(s.total).toMatchObject({ binaryParams: 2000, realParams: 1000, binaryMacs: 499 * 4, realMacs: 4, stochasticSites: 1000 })
  })
})

// ---------------------------------------------------------------------------------------------
// Laws over random MLPs built through the public constructors

const mlpArb = fc.record({
  inputs: fc.integer({ min: 1, max: 64 }),
  hidden: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 0, maxLength: 4 }),
  outputs: fc.integer({ min: 1, max: 10 }),
  weights: fc.constantFrom('binary' as const, 'real' as const),
  activation: fc.constantFrom(logistic(1), none, normal(0.5)),
  batchNorm: fc.constantFrom(false as const, 'train' as const, 'inference' as const),
})
type MlpCase = typeof mlpArb extends fc.Arbitrary<infer T> ? T : never
const build = (c: MlpCase): Network['outputs'] =>
  smallMlp({ hidden: c.hidden, outputs: c.outputs, weights: c.weights, activation: c.activation, batchNorm: c.batchNorm }, c.inputs)

/** Consecutive (in, out) pairs of the hidden layers, then of the head. */
const layerPairs = (c: MlpCase): { hidden: Array<[number, number]>; head: [number, number] } => {
  const widths = [c.inputs, ...c.hidden]
  return {
    hidden: c.hidden.map((h, i) => [widths[i]!, h]),
    head: [widths[widths.length - 1]!, c.outputs],
  }
}
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)

describe('summary: laws', () => {
  it('law: totals are the sums of the rows', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const s = summarise(build(c))
        const keys = ['binaryParams', 'realParams', 'nonTrainableParams', 'bits', 'binaryMacs', 'realMacs', 'stochasticSites', 'weightSites', 'activationSites'] as const
        for (const k of keys) expect(s.total[k]).toBe(sum(s.layers.map((l) => l[k])))
        expect(s.total.bytes).toBe(Math.ceil(s.total.bits / 8))
        expect(s.total.bits).toBe(s.total.binaryParams + 32 * s.total.realParams)
        for (const l of s.layers) expect(l.stochasticSites).toBe(l.weightSites + l.activationSites)
      }),
    )
  })

  it('law: MAC counts equal Σ in·out, binary exactly where binary activations meet binary weights', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const { hidden, head } = layerPairs(c)
        const s = summarise(build(c))
        const all = sum(hidden.map(([i, o]) => i * o)) + head[0] * head[1]
        // Layer 1 reads the real input; layers 2..K read binary activations.
        const binary = c.weights === 'binary' ? sum(hidden.slice(1).map(([i, o]) => i * o)) : 0
        expect(s.total.binaryMacs + s.total.realMacs).toBe(all)
        expect(s.total.binaryMacs).toBe(binary)
        expect(s.total.binaryMacFraction).toBeCloseTo(binary / all, 12)
      }),
    )
  })

  it('law: binary params of an all-binary MLP are Σ in·out of the hidden layers; the rest is real', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const { hidden, head } = layerPairs(c)
        const s = summarise(build({ ...c, weights: 'binary' }))
        const bnStats = c.batchNorm === false ? 0 : 4 * sum(c.hidden)
        expect(s.total.binaryParams).toBe(sum(hidden.map(([i, o]) => i * o)))
        expect(s.total.realParams).toBe(sum(c.hidden) + bnStats + head[0] * head[1] + head[1])
        expect(s.total.nonTrainableParams).toBe(bnStats / 2)
      }),
    )
  })

  it('law: stochastic sites are one per binary weight tensor and one per stochastic activation layer', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        const s = summarise(build(c))
        const k = c.hidden.length
        expect(s.total.weightSites).toBe(c.weights === 'binary' ? k : 0)
        expect(s.total.activationSites).toBe(c.activation.family === 'none' ? 0 : k)
      }),
    )
  })

  it('law: summarising is stable (a rebuilt copy gives an equal summary)', () => {
    fc.assert(
      fc.property(mlpArb, (c) => {
        expect(summarise(build(c))).toEqual(summarise(build(c)))
      }),
    )
  })
})

import { readFileSync, writeFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EncodeOptions } from '../../src/dsl/codec.js'
import { decodeModel, drawModelErrors, encodeModel } from '../../src/dsl/codec.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import { logistic } from '../../src/dsl/noise.js'
import { add, binarize, constant, input, labelled, matmul, param } from '../../src/dsl/primitives.js'
import { print } from '../../src/dsl/print.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { summary } from '../../src/interpreters/summary.js'
import { networkArb } from '../fixtures/models/arbitraries.js'
import { fixturesDir, validFixtures } from '../fixtures/models/networks.js'

const check = (outputs: Network['outputs'], params: Network['params']): Checked<Network> => {
  const net = typecheck({ outputs, params })
  if (E.isLeft(net)) throw new Error(`test network does not typecheck: ${JSON.stringify(net.left)}`)
  return net.right
}

const decodeText = (json: string, side?: Uint8Array, file = 'model.bin'): Checked<Network> => {
  const r = decodeModel(JSON.parse(json), (f) => (f === file ? side : undefined))
  if (E.isLeft(r)) throw new Error(`does not decode:\n${drawModelErrors(r.left)}`)
  return r.right
}

/** Byte-for-byte equality of two value arrays (so −0 ≠ 0 and every NaN payload would count). */
const sameBits = (a: Float64Array | undefined, b: Float64Array | undefined): boolean =>
  a !== undefined && b !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

const roundTrip = (net: Checked<Network>, opts: EncodeOptions): { readonly first: string; readonly again: string; readonly decoded: Checked<Network> } => {
  const first = encodeModel(net, opts)
  const decoded = decodeText(first.json, first.side, opts.sideFile)
  return { first: first.json, again: encodeModel(decoded, opts).json, decoded }
}

describe('round trips', () => {
  it('law: decode then encode is the identity on the text (encode ∘ decode ∘ encode = encode)', () => {
    fc.assert(
      fc.property(networkArb, ({ net }) => {
        const { first, again } = roundTrip(net, {})
        expect(again).toBe(first)
      }),
      { numRuns: 150 },
    )
  })

  it('law: decode ∘ encode is the identity on networks: same structure (printer), same summary, same value bits', () => {
    fc.assert(
      fc.property(networkArb, ({ net }) => {
        const { decoded } = roundTrip(net, {})
        expect(print(decoded)).toBe(print(net))
        expect(summary(decoded)).toEqual(summary(net))
        expect(Object.keys(decoded.params).sort()).toEqual(Object.keys(net.params).sort())
        for (const name of Object.keys(net.params)) expect(sameBits(decoded.params[name], net.params[name])).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('law: the round trip holds with a side file at any threshold', () => {
    fc.assert(
      fc.property(networkArb, fc.integer({ min: 0, max: 12 }), ({ net }, threshold) => {
        const opts = { sideFile: 'model.bin', threshold }
        const { first, again, decoded } = roundTrip(net, opts)
        expect(again).toBe(first)
        for (const name of Object.keys(net.params)) expect(sameBits(decoded.params[name], net.params[name])).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it('−0 is written "-0" (JSON.stringify would write 0) and decodes as −0, in values and attributes', () => {
    const x = input('x', ['batch', 2])
    const w = param('w', [2, 1], { kind: 'constant', value: -0 })
    const out = add(matmul(x, w), constant(-0))
    const net = check({ output: out }, { w: new Float64Array([-0, 0]) })
    const { first, decoded } = roundTrip(net, {})
    expect(first).toContain('"values": [-0, 0]')
    expect(first).toContain('{"kind": "constant", "value": -0}')
    expect(Object.is(decoded.params.w?.[0], -0)).toBe(true)
    expect(Object.is(decoded.params.w?.[1], 0)).toBe(true)
    const root = decoded.outputs.output
    expect(root?._tag === 'Add' && root.rhs._tag === 'Const' && Object.is(root.rhs.value, -0)).toBe(true)
  })

  it('extreme finite values survive: subnormals, ±MAX_VALUE, values needing 17 digits', () => {
    const values = new Float64Array([Number.MIN_VALUE, -Number.MAX_VALUE, 0.1 + 0.2, 1 / 3, 2 ** -1074 * 3, 1e21, 123456789012345680000])
    const net = check({ output: matmul(input('x', ['batch', 7]), param('w', [7, 1])) }, { w: values })
    expect(sameBits(roundTrip(net, {}).decoded.params.w, values)).toBe(true)
    expect(sameBits(roundTrip(net, { sideFile: 'model.bin', threshold: 0 }).decoded.params.w, values)).toBe(true)
  })

  it('a shared node is encoded once and decoded as one node', () => {
    const h = matmul(input('x', ['batch', 2]), binarize(param('w', [2, 3]), logistic(1), 'w'))
    const net = check({ output: add(h, h) }, { w: new Float64Array(6) })
    const { first, decoded } = roundTrip(net, {})
    expect(first).toContain('{"id": "add1", "op": "Add", "lhs": "matmul1", "rhs": "matmul1"}')
    const root = decoded.outputs.output
    expect(root?._tag === 'Add' && root.lhs === root.rhs).toBe(true)
  })

  it('a shared parameter node is encoded once with one params entry; generated ids never clash with names', () => {
    const x = input('matmul1', ['batch', 2])
    const w = param('w', [2, 2])
    const b = matmul(matmul(x, w), w)
    const net = check({ output: b }, { w: new Float64Array([1, 2, 3, 4]) })
    const { first, again } = roundTrip(net, {})
    expect(again).toBe(first)
    const ids = (JSON.parse(first) as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.filter((id) => id.startsWith('w'))).toEqual(['w'])
    expect(Object.keys((JSON.parse(first) as { params: object }).params)).toEqual(['w'])
  })

  it('two distinct parameter nodes of one name are a duplicate, not silently tied', () => {
    const x = input('x', ['batch', 2])
    const b = matmul(matmul(x, param('w', [2, 2])), param('w', [2, 2]))
    const r = typecheck({ outputs: { output: b }, params: { w: new Float64Array([1, 2, 3, 4]) } })
    expect(E.isLeft(r) && r.left._tag).toBe('DuplicateName')
  })

  it('empty names and labels (which typecheck accepts) round-trip; their nodes get generated ids', () => {
    const x = input('', ['batch', 2])
    const net = check({ output: labelled(matmul(x, param('', [2, 1])), '') }, { '': new Float64Array([1, 2]) })
    const { first, again, decoded } = roundTrip(net, {})
    expect(again).toBe(first)
    expect(first).toContain('{"id": "input1", "op": "Input", "name": "", "shape": ["batch", 2], "dtype": "real"}')
    expect(print(decoded)).toBe(print(net))
  })

  it('ids in a file are free names: renaming them decodes to the same network', () => {
    const net = validFixtures[0]![1]()
    const text = encodeModel(net).json.replaceAll('"binarize1"', '"weights-as-signs"').replaceAll('"matmul1"', '"product"')
    expect(print(decodeText(text))).toBe(print(net))
  })

  it('encodeModel rejects a side file name that is not a relative path below the model (a programming error)', () => {
    const net = validFixtures[0]![1]()
    expect(() => encodeModel(net, { sideFile: '../model.bin' })).toThrow(RangeError)
    expect(() => encodeModel(net, { sideFile: '/tmp/model.bin' })).toThrow(RangeError)
  })
})

describe('fixtures', () => {
  it('every valid fixture is the canonical encoding of its network (UPDATE_FIXTURES=1 rewrites them)', () => {
    for (const [file, build, opts] of validFixtures) {
      const { json, side } = encodeModel(build(), opts)
      if (process.env.UPDATE_FIXTURES === '1') {
        writeFileSync(fixturesDir + file, json)
        if (side !== undefined && opts.sideFile !== undefined) writeFileSync(fixturesDir + opts.sideFile, side)
      }
      expect(readFileSync(fixturesDir + file, 'utf8')).toBe(json)
      if (side !== undefined && opts.sideFile !== undefined) expect(new Uint8Array(readFileSync(fixturesDir + opts.sideFile))).toEqual(side)
    }
  })

  it('the complete example in docs/model-format.md is mlp.json, which decodes', () => {
    const doc = readFileSync(new URL('../../docs/model-format.md', import.meta.url), 'utf8')
    const example = /<!-- example: test\/fixtures\/models\/mlp.json -->\n```json\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(example).toBe(readFileSync(fixturesDir + 'mlp.json', 'utf8'))
    expect(print(decodeText(example ?? ''))).toBe(print(validFixtures[0]![1]()))
  })
})

// A small model, edited by each error test.
interface Loose {
  [key: string]: unknown
  nodes: Array<Record<string, unknown>>
  outputs: Record<string, unknown>
  params: Record<string, Record<string, unknown>>
}
const tiny = (): Loose => ({
  format: 'sbnkit-model/1',
  nodes: [
    { id: 'x', op: 'Input', name: 'x', shape: ['batch', 2], dtype: 'real' },
    { id: 'W', op: 'Param', name: 'W', shape: [2, 1], init: { kind: 'glorot' }, trainable: true },
    { id: 'Wb', op: 'Binarize', input: 'W', noise: 'logistic(1)', site: 'W' },
    { id: 'h', op: 'MatMul', lhs: 'x', rhs: 'Wb' },
    { id: 'y', op: 'Input', name: 'y', shape: ['batch', 1], dtype: 'binary' },
    { id: 'L', op: 'Loss', fn: 'logistic-nll', logits: 'h', target: 'y' },
  ],
  outputs: { output: 'h', loss: 'L' },
  params: { W: { shape: [2, 1], values: [0.5, -0.25] } },
})
const edit = (f: (m: Loose) => void): Loose => {
  const m = tiny()
  f(m)
  return m
}
const node = (m: Loose, i: number): Record<string, unknown> => m.nodes[i]!
const errorsOf = (json: unknown, side?: (file: string) => Uint8Array | undefined): string => {
  const r = decodeModel(json, side)
  if (E.isRight(r)) throw new Error('expected errors, but the model decoded')
  return drawModelErrors(r.left)
}

describe('errors, each at its JSON path', () => {
  it('the tiny model itself is valid', () => {
    expect(E.isRight(decodeModel(tiny()))).toBe(true)
  })

  it('not a model file, a missing format, another version, another format', () => {
    expect(errorsOf([1, 2])).toMatchInlineSnapshot(`"expected a model file (a JSON object with "format", "nodes", "outputs" and "params"), found an array of length 2"`)
    expect(errorsOf(edit((m) => delete m.format))).toMatchInlineSnapshot(`"format: missing; expected "sbnkit-model/1""`)
    expect(errorsOf(edit((m) => (m.format = 'sbnkit-model/2')))).toMatchInlineSnapshot(`"format: this file is "sbnkit-model/2", but this version of sbnkit reads only "sbnkit-model/1""`)
    expect(errorsOf(edit((m) => (m.format = 'sbnkit-data/1')))).toMatchInlineSnapshot(`"format: expected "sbnkit-model/1", found "sbnkit-data/1""`)
  })

  it('collects every structural error, not just the first', () => {
    const m = edit((m) => {
      m.extra = true
      node(m, 0).shape = ['batch', 0]
      node(m, 1).trainble = true
      delete node(m, 1).trainable
      node(m, 1).init = { kind: 'uniform', low: -1 }
      node(m, 2).noise = 'logistic'
      node(m, 3).label = 7
      m.params.W!.values = [0.5, '0.25']
    })
    expect(errorsOf(m)).toMatchInlineSnapshot(`
      "extra: unknown field; a model file has only format, nodes, outputs, params, sideFiles
      nodes[0].shape[1]: expected a positive integer or "batch", found 0
      nodes[1].init.high: missing; expected a finite number
      nodes[1].trainable: missing; expected true or false
      nodes[1].trainble: unknown field; a Param node has only id, op, name, shape, init, trainable, label
      nodes[2].noise: expected logistic(<scale>) with a number as the scale, found "logistic"
      nodes[3].label: expected a string, found 7
      params.W.values[1]: expected a finite number, found "0.25""
    `)
  })

  it('unknown ops, noises and init kinds list the known ones', () => {
    expect(errorsOf(edit((m) => (node(m, 3).op = 'Dense')))).toMatchInlineSnapshot(`"nodes[3].op: unknown op "Dense"; expected one of Input, Param, Const, MatMul, Add, Mul, Unary, Conv2d, Pool, Reshape, BatchNorm, Binarize, Loss"`)
    expect(errorsOf(edit((m) => (node(m, 2).noise = 'gaussian(1)')))).toMatchInlineSnapshot(`"nodes[2].noise: unknown noise family "gaussian"; expected one of logistic, uniform, triangular, normal, none"`)
    expect(errorsOf(edit((m) => (node(m, 1).init = { kind: 'he' })))).toMatchInlineSnapshot(`"nodes[1].init.kind: expected one of "zeros", "ones", "glorot", "constant", "normal", "uniform", found "he""`)
    expect(errorsOf(edit((m) => (node(m, 5).fn = 'hinge')))).toMatchInlineSnapshot(`"nodes[5].fn: expected one of "softmax-ce", "logistic-nll", "squared", found "hinge""`)
  })

  it('ids: duplicates, unknown references, self references, forward references and cycles', () => {
    expect(errorsOf(edit((m) => (node(m, 4).id = 'x')))).toMatchInlineSnapshot(`
      "nodes[4].id: duplicate id "x" (first used at nodes[0])
      nodes[5].target: node "L" refers to "y", which is not a node id"
    `)
    expect(errorsOf(edit((m) => (node(m, 3).rhs = 'Wbb')))).toMatchInlineSnapshot(`"nodes[3].rhs: node "h" refers to "Wbb", which is not a node id"`)
    expect(errorsOf(edit((m) => (node(m, 2).input = 'Wb')))).toMatchInlineSnapshot(`"nodes[2].input: node "Wb" refers to itself (a cycle)"`)
    expect(errorsOf(edit((m) => m.nodes.reverse()))).toMatchInlineSnapshot(`
      "nodes[0].logits: node "L" refers to "h", which comes later (nodes[2]); list every node after the nodes it uses
      nodes[0].target: node "L" refers to "y", which comes later (nodes[1]); list every node after the nodes it uses
      nodes[2].lhs: node "h" refers to "x", which comes later (nodes[5]); list every node after the nodes it uses
      nodes[2].rhs: node "h" refers to "Wb", which comes later (nodes[3]); list every node after the nodes it uses
      nodes[3].input: node "Wb" refers to "W", which comes later (nodes[4]); list every node after the nodes it uses"
    `)
    const cycle = edit((m) => {
      node(m, 3).lhs = 'L' // h uses L, and L uses h
    })
    expect(errorsOf(cycle)).toMatchInlineSnapshot(`"nodes[3].lhs: node "h" is part of a cycle: h → L → h"`)
    expect(errorsOf(edit((m) => (m.outputs.loss = 'loss')))).toMatchInlineSnapshot(`"outputs.loss: refers to "loss", which is not a node id"`)
    expect(errorsOf(edit((m) => m.nodes.push({ id: 'c', op: 'Const', value: 1 })))).toMatchInlineSnapshot(`"nodes[6]: node "c" is not used by any output"`)
  })

  it('params: a shape that differs from its Param node, a wrong count, missing and unused entries', () => {
    const hidden = {
      format: 'sbnkit-model/1',
      nodes: [
        { id: 'x', op: 'Input', name: 'x', shape: ['batch', 512], dtype: 'real' },
        { id: 'hidden2', op: 'Param', name: 'W2', shape: [512, 10], init: { kind: 'glorot' }, trainable: true },
        { id: 'h', op: 'MatMul', lhs: 'x', rhs: 'hidden2' },
      ],
      outputs: { output: 'h' },
      params: { W2: { shape: [512, 11], values: [] } },
    }
    expect(errorsOf(hidden)).toBe('params.W2.shape: expected [512, 10] to match node hidden2, found [512, 11]')
    expect(errorsOf(edit((m) => (m.params.W!.values = [1, 2, 3])))).toMatchInlineSnapshot(`"params.W.values: expected 2 values for shape [2, 1], found 3"`)
    expect(errorsOf(edit((m) => (m.params = { V: { shape: [1], values: [0] } })))).toMatchInlineSnapshot(`
      "params.V: no node of the network uses a parameter named "V"
      nodes[1]: parameter "W" at output > rhs > input has no values (expected an entry params.W)"
    `)
  })

  it('NaN and Infinity: strings, literals beyond float64, and null', () => {
    expect(errorsOf(edit((m) => (m.params.W!.values = ['NaN', 'Infinity'])))).toMatchInlineSnapshot(`
      "params.W.values[0]: expected a finite number, found "NaN" (JSON has no NaN or Infinity)
      params.W.values[1]: expected a finite number, found "Infinity" (JSON has no NaN or Infinity)"
    `)
    expect(errorsOf(JSON.parse(JSON.stringify(tiny()).replace('[0.5,-0.25]', '[1e999,-1e999]')))).toMatchInlineSnapshot(`
      "params.W.values[0]: expected a finite number, found Infinity (a numeric literal beyond the float64 range)
      params.W.values[1]: expected a finite number, found -Infinity (a numeric literal beyond the float64 range)"
    `)
    expect(errorsOf(edit((m) => (m.params.W!.values = [null, 1])))).toMatchInlineSnapshot(`"params.W.values[0]: expected a finite number, found null (JSON.stringify writes NaN and Infinity as null)"`)
    expect(errorsOf(edit((m) => (m.params.W = { shape: [6], values: [null, null, null, null, null, null] })))).toMatchInlineSnapshot(`
      "params.W.values[0]: expected a finite number, found null (JSON.stringify writes NaN and Infinity as null)
      params.W.values[1]: expected a finite number, found null (JSON.stringify writes NaN and Infinity as null)
      params.W.values[2]: expected a finite number, found null (JSON.stringify writes NaN and Infinity as null)
      params.W.values: 3 more values are not finite numbers"
    `)
  })

  it('a negative batch-norm running variance is refused at its index (inline and in a side file)', () => {
    const model = JSON.parse(readFileSync(`${fixturesDir}/every-op.json`, 'utf8')) as Loose
    model.params['bn1.var']!.values = [1, -0.5]
    expect(errorsOf(model)).toMatchInlineSnapshot(`"params.bn1.var.values[1]: expected a running variance ≥ 0 (runningVar of the BatchNorm at nodes[10], id "bn1"), found -0.5"`)
    model.params['bn1.var'] = { shape: [2], file: 'bn.bin', offset: 0, encoding: 'float64le' }
    const side = new Uint8Array(new Float64Array([-2, 1]).buffer)
    expect(errorsOf({ ...model, sideFiles: { 'bn.bin': { bytes: 16 } } }, () => side)).toMatchInlineSnapshot(`"params.bn1.var: side file "bn.bin" holds -2 at index 0; expected a running variance ≥ 0 (runningVar of the BatchNorm at nodes[10], id "bn1")"`)
  })

  it('network errors from typecheck are drawn and located at their node', () => {
    expect(errorsOf(edit((m) => (node(m, 0).shape = ['batch', 3])))).toMatchInlineSnapshot(`"nodes[3]: MatMul at output: inner dims differ (3 vs 2)"`)
    expect(errorsOf(edit((m) => (node(m, 4).name = 'x')))).toMatchInlineSnapshot(`"nodes[4]: input name "x" at loss > target is already used by a different node at output > lhs; give one of them another name"`)
    const sameSite = edit((m) => {
      m.nodes.splice(4, 0, { id: 'hb', op: 'Binarize', input: 'h', noise: 'none', site: 'W' })
      node(m, 6).logits = 'hb'
    })
    expect(errorsOf(sameSite)).toMatchInlineSnapshot(`"nodes[4]: site name "W" at loss > logits is already used by a different node at output > rhs; give one of them another name"`)
    expect(errorsOf(edit((m) => (node(m, 2).noise = 'logistic(0)')))).toMatchInlineSnapshot(`"nodes[2]: Binarize at output > rhs: noise scale must be a positive finite number, found 0"`)
  })
})

describe('side files', () => {
  const sideModel = (): { json: Loose; bytes: Uint8Array } => {
    const net = decodeText(JSON.stringify(tiny()))
    const { json, side } = encodeModel(net, { sideFile: 'model.bin', threshold: 1 })
    return { json: JSON.parse(json) as Loose, bytes: side ?? new Uint8Array() }
  }

  it('a valid side file decodes', () => {
    const { json, bytes } = sideModel()
    expect(json.params.W).toEqual({ shape: [2, 1], file: 'model.bin', offset: 0, encoding: 'float64le' })
    expect(json.sideFiles).toEqual({ 'model.bin': { bytes: 16, fnv1a32: expect.stringMatching(/^[0-9a-f]{8}$/) } })
    expect(E.isRight(decodeModel(json, () => bytes))).toBe(true)
  })

  it('missing, wrong size, another version (checksum), offsets beyond the end, NaN inside', () => {
    const { json, bytes } = sideModel()
    expect(errorsOf(json)).toMatchInlineSnapshot(`"sideFiles.model.bin: side file "model.bin" was not found (it is looked up next to the model file)"`)
    expect(errorsOf(json, () => bytes.subarray(0, 12))).toMatchInlineSnapshot(`"sideFiles.model.bin.bytes: side file "model.bin" should have 16 bytes, found 12"`)
    const other = bytes.slice()
    other[3] = 1
    expect(errorsOf(json, () => other)).toMatchInlineSnapshot(`"sideFiles.model.bin.fnv1a32: side file "model.bin" has checksum f66d7572, expected 08625a75; it belongs to another version of this model"`)
    json.params.W!.offset = 8
    expect(errorsOf(json, () => bytes)).toMatchInlineSnapshot(`"params.W.offset: 2 values at offset 8 need bytes up to 24, but side file "model.bin" has 16"`)
    json.params.W!.offset = 0
    const nan = bytes.slice()
    new DataView(nan.buffer).setFloat64(8, Number.NaN, true)
    const unchecked = { ...json, sideFiles: { 'model.bin': { bytes: 16 } } }
    expect(errorsOf(unchecked, () => nan)).toMatchInlineSnapshot(`"params.W: side file "model.bin" holds NaN at index 1; expected finite numbers"`)
  })

  it('undeclared side files, unsafe names and unknown encodings', () => {
    const { json, bytes } = sideModel()
    json.params.W!.file = 'other.bin'
    expect(errorsOf(json, () => bytes)).toMatchInlineSnapshot(`"params.W.file: side file "other.bin" is not declared in sideFiles"`)
    json.params.W!.file = '../model.bin'
    json.params.W!.encoding = 'float32le'
    expect(errorsOf({ ...json, sideFiles: { '../model.bin': { bytes: 16 } } }, () => bytes)).toMatchInlineSnapshot(`
      "sideFiles["../model.bin"]: expected a relative file name without ".." (such as "model.bin") as the key, found "../model.bin"
      params.W.file: expected a relative file name without ".." (such as "model.bin"), found "../model.bin"
      params.W.encoding: expected one of "float64le", found "float32le""
    `)
  })
})

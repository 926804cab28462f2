/**
 * Evaluation through the compiled interpreter ≡ the reference evaluation, bit for bit (mode and
 * ensemble, dense and conv presets, odd widths, batch norm with non-trivial statistics, any
 * chunk size), and the fallback to the reference path with its note.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dense, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import { initParams } from '../../src/dsl/init.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import { input } from '../../src/dsl/primitives.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { key } from '../../src/dsl/random.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { uniforms } from '../interpreters/compiled/nets.js'
import type { Evaluation } from '../../src/train/evaluate.js'
import { evaluateSet, feedDataset } from '../../src/train/evaluate.js'
import { compiledLogits } from '../../src/train/evaluate-compiled.js'
import { withParams } from '../../src/train/modes.js'
import type { Preset } from '../../src/train/presets.js'
import { presetNetwork } from '../../src/train/presets.js'
import { right } from './loopFixtures.js'

interface Case {
  readonly preset: Preset
  readonly inputShape: readonly number[]
  readonly classes: number
  readonly rows: number
  readonly chunk: number
  readonly members: number
  readonly seed: number
}

const arbCase: fc.Arbitrary<Case> = fc.oneof(
  fc.record({
    preset: fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 2 }).map((hidden): Preset => ({ kind: 'mlp', hidden })),
    inputShape: fc.integer({ min: 1, max: 40 }).map((n) => [n]),
    classes: fc.integer({ min: 2, max: 5 }), rows: fc.integer({ min: 1, max: 13 }), chunk: fc.integer({ min: 1, max: 14 }),
    members: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 1, max: 2 ** 30 }),
  }),
  fc.record({
    preset: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })).map(([a, b]): Preset => ({ kind: 'conv', channels: [a, b] })),
    inputShape: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 8, max: 11 }), fc.integer({ min: 8, max: 11 })).map((s) => [...s]),
    classes: fc.integer({ min: 2, max: 4 }), rows: fc.integer({ min: 1, max: 6 }), chunk: fc.integer({ min: 1, max: 7 }),
    members: fc.integer({ min: 1, max: 2 }), seed: fc.integer({ min: 1, max: 2 ** 30 }),
  }),
)

/** A preset network (with batch norm) whose every parameter is redrawn, so batch norm is far from the identity. */
const build = (c: Case): { readonly net: Checked<Network>; readonly feed: Feed } => {
  const rnd = uniforms(c.seed)
  const net = right(presetNetwork(c.preset, { inputShape: c.inputShape, classes: c.classes, key: key(c.seed), batchNorm: true }))
  const params = Object.fromEntries(Object.entries(net.params).map(([name, v]) => [
    name,
    Float64Array.from(v, () => (name.endsWith('.var') || name.endsWith('runningVar') ? rnd() * 4 + 0.05 : rnd() * 4 - 2)),
  ]))
  const size = c.inputShape.reduce((a, b) => a * b, 1)
  // Pixels of the pm1 scale (non-integer: the compiled first layer sums float64s, as the reference).
  const x = Float64Array.from({ length: c.rows * size }, () => Math.floor(rnd() * 256) / 127.5 - 1)
  const y = Float64Array.from({ length: c.rows }, () => Math.floor(rnd() * c.classes))
  return { net: withParams(net, params), feed: { x: { shape: [c.rows, ...c.inputShape], data: x }, y: { shape: [c.rows], data: y } } }
}

const bits = (e: Evaluation): number[] => [e.mode.loss, e.mode.accuracy, e.ensemble.loss, e.ensemble.accuracy]

describe('evaluation through the compiled interpreter', () => {
  it('law: compiled ≡ reference evaluation (mode and ensemble, dense and conv, any chunk), bit for bit', () => {
    fc.assert(fc.property(arbCase, (c) => {
      const { net, feed } = build(c)
      const notes: string[] = []
      const opts = { members: c.members, key: key(c.seed + 1), chunk: c.chunk }
      const compiled = right(evaluateSet(net, feedDataset(feed), { ...opts, interpreter: 'compiled', onNote: (m) => notes.push(m) }))
      const reference = right(evaluateSet(net, feedDataset(feed), { ...opts, interpreter: 'reference' }))
      expect(notes).toEqual([])
      bits(compiled).forEach((v, i) => expect(Object.is(v, bits(reference)[i]), `${i}: ${v} vs ${bits(reference)[i]}`).toBe(true))
    }), { seed: 2024, numRuns: 40 })
  })

  it('an ensemble larger than one compiled run runs in chunks of rows (draws from each chunk\'s offset), with the same bits and no note', () => {
    const { net, feed } = build({ preset: { kind: 'mlp', hidden: [9, 5] }, inputShape: [7], classes: 3, rows: 11, chunk: 4, members: 3, seed: 5 })
    const notes: string[] = []
    const opts = { members: 3, key: key(1), chunk: 4 }
    const small = right(evaluateSet(net, feedDataset(feed), { ...opts, interpreter: 'compiled', compiledBytes: 64, onNote: (m) => notes.push(m) }))
    expect(notes).toEqual([])
    const reference = right(evaluateSet(net, feedDataset(feed), { ...opts, interpreter: 'reference' }))
    expect(bits(small)).toEqual(bits(reference))
  })

  it('rows the compiled interpreter refuses (a binary input that is not ±1) run on the reference path, with a note', () => {
    const x = input('x', ['batch', 3], 'binary')
    const logits = dense(2, { name: 'head' })(x)
    const outputs = { loss: softmaxCrossEntropy(input('y', ['batch'], 'index'))(logits), output: logits }
    const net = right(typecheck({ outputs, params: initParams(outputs, key(2)) }))
    const feed = { x: { shape: [2, 3], data: Float64Array.of(1, -1, 0.5, -1, 1, 1) }, y: { shape: [2], data: Float64Array.of(0, 1) } }
    const notes: string[] = []
    const ev = right(evaluateSet(net, feedDataset(feed), { members: 2, key: key(0), interpreter: 'compiled', onNote: (m) => notes.push(m) }))
    expect(notes.map((m) => m.replace(/ run on .*/, ''))).toEqual(['evaluation: some rows of the mode', 'evaluation: some rows of the ensemble'])
    expect(bits(ev)).toEqual(bits(right(evaluateSet(net, feedDataset(feed), { members: 2, key: key(0), interpreter: 'reference' }))))
  })

  it("'auto' compiles a conv preset, and leaves an MLP on real inputs to the reference path (a choice: no note)", () => {
    const conv = build({ preset: { kind: 'conv', channels: [3, 4] }, inputShape: [1, 9, 9], classes: 3, rows: 4, chunk: 4, members: 1, seed: 3 })
    const mlpCase = build({ preset: { kind: 'mlp', hidden: [5] }, inputShape: [6], classes: 3, rows: 4, chunk: 4, members: 1, seed: 4 })
    const notes: string[] = []
    right(evaluateSet(conv.net, feedDataset(conv.feed), { members: 1, key: key(0), onNote: (m) => notes.push(m) }))
    expect(notes).toEqual([])
    const auto = right(evaluateSet(mlpCase.net, feedDataset(mlpCase.feed), { members: 1, key: key(0), onNote: (m) => notes.push(m) }))
    expect(notes).toEqual([])
    expect(bits(auto)).toEqual(bits(right(evaluateSet(mlpCase.net, feedDataset(mlpCase.feed), { members: 1, key: key(0), interpreter: 'reference' }))))
    const floats = (n: typeof conv.net, m: 'mode' | 'sample'): boolean => {
      const l = n.outputs['loss']
      if (l?._tag !== 'Loss') throw new Error('a loss head')
      return right(compiledLogits(n, l, m)).floatProducts
    }
    expect([floats(conv.net, 'mode'), floats(conv.net, 'sample'), floats(mlpCase.net, 'mode'), floats(mlpCase.net, 'sample')]).toEqual([false, false, true, true])
  })

  it('errors stay values on the compiled path: a feed of the wrong shape', () => {
    const { net } = build({ preset: { kind: 'mlp', hidden: [3] }, inputShape: [4], classes: 2, rows: 2, chunk: 2, members: 1, seed: 9 })
    const bad = { x: { shape: [2, 5], data: new Float64Array(10) }, y: { shape: [2], data: new Float64Array(2) } }
    expect(evaluateSet(net, feedDataset(bad), { members: 1, key: key(0) })).toMatchObject(E.left({ _tag: 'InputShapeMismatch', name: 'x' }))
  })
})

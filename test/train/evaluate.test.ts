/** Evaluation of a held-out set: equal to the Monte Carlo interpreter on the whole set, for any chunk size. */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import { monteCarlo } from '../../src/interpreters/montecarlo/index.js'
import { evaluateSet, feedDataset, imageDataset, memberProbabilities } from '../../src/train/evaluate.js'
import { toFeed } from '../../src/data/images.js'
import { right, task, tinyNet } from './loopFixtures.js'

describe('evaluateSet', () => {
  it('≡ monteCarlo (mode and K-ensemble) on the whole set, whatever the chunk size', () => {
    const net = tinyNet({ kind: 'mlp', hidden: [7] })
    const feed = task(23)
    const mc = right(monteCarlo(net, feed, { samples: 5, key: key(9), ensemble: 5 }))
    for (const chunk of [1, 4, 23, 100]) {
      const ev = right(evaluateSet(net, feedDataset(feed), { members: 5, key: key(9), chunk }))
      expect(ev.examples).toBe(23)
      expect(ev.mode.accuracy, `chunk ${chunk}`).toBe(mc.mode.accuracy)
      expect(ev.ensemble.accuracy, `chunk ${chunk}`).toBe(mc.ensemble.accuracy)
      expect(ev.mode.loss).toBeCloseTo(mc.mode.loss, 12)
      expect(ev.ensemble.loss).toBeCloseTo(mc.ensemble.loss, 12)
    }
  })

  it('members computed elsewhere (memberProbabilities, given) ≡ one call, bit for bit, whatever the split and chunks', () => {
    const net = tinyNet({ kind: 'mlp', hidden: [7] })
    const set = feedDataset(task(23))
    const whole = right(evaluateSet(net, set, { members: 6, key: key(4), chunk: 5 }))
    for (const [split, chunk] of [[0, 23], [1, 4], [3, 1], [5, 100], [6, 7]] as const) {
      // The first members from one call, the rest from another, as two threads would share them.
      const early = split === 0 ? [] : right(memberProbabilities(net, set, { members: split, key: key(4), chunk }, 0))
      const late = right(memberProbabilities(net, set, { members: 6, key: key(4), chunk: 9 }, split))
      expect(early.length + late.length).toBe(6)
      expect(right(evaluateSet(net, set, { members: 6, key: key(4), chunk, given: [...early, ...late] })), `split ${split}`).toEqual(whole)
      // Only the last members given: the first ones run in the call.
      expect(right(evaluateSet(net, set, { members: 6, key: key(4), chunk, given: late }))).toEqual(whole)
    }
    expect(evaluateSet(net, set, { members: 2, key: key(4), given: [new Float64Array(46), new Float64Array(46), new Float64Array(46)] }))
      .toMatchObject(E.left({ _tag: 'InvalidOption', option: 'given' }))
  })

  it('image datasets convert rows on demand, like toFeed', () => {
    const images = { name: 't', count: 3, rows: 2, cols: 2, classes: 2, pixels: Uint8Array.of(0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0), labels: Uint8Array.of(1, 0, 1) }
    const d = imageDataset(images, { scale: 'pm1' })
    expect(d.size).toBe(3)
    expect(d.slice(1, 3)).toEqual(feedDataset(toFeed(images, { scale: 'pm1' })).slice(1, 3))
    expect(d.rows([2, 0]).y!.data).toEqual(Float64Array.of(1, 1))
  })

  it('errors are values: K < 1, an empty set, data that does not fit', () => {
    const net = tinyNet()
    expect(evaluateSet(net, feedDataset(task(3)), { members: 0, key: key(0) })).toMatchObject(E.left({ _tag: 'InvalidOption', option: 'ensemble' }))
    expect(evaluateSet(net, { size: 0, rows: () => ({}), slice: () => ({}) }, { members: 1, key: key(0) })).toEqual(E.left({ _tag: 'EmptyData' }))
    const bad = { x: { shape: [2, 5], data: new Float64Array(10) }, y: { shape: [2], data: new Float64Array(2) } }
    expect(evaluateSet(net, feedDataset(bad), { members: 1, key: key(0) })).toMatchObject(E.left({ _tag: 'InputShapeMismatch', name: 'x' }))
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { gatherFeed } from '../../src/interpreters/ndarray.js'
import type { ImageSet } from '../../src/data/images.js'
import { classCounts, subset, toFeed, toFeedRows } from '../../src/data/images.js'

const set: ImageSet = {
  name: 'tiny', count: 3, rows: 1, cols: 2, classes: 4,
  pixels: Uint8Array.from([0, 255, 51, 102, 7, 8]), labels: Uint8Array.from([3, 0, 3]),
}

describe('images', () => {
  it('toFeed scales grey levels exactly: 01 → p/255, pm1 → 2p/255 − 1; labels are class indices', () => {
    const a = toFeed(set, { scale: '01' })
    expect(a['x']!.shape).toEqual([3, 2])
    expect(Array.from(a['x']!.data.subarray(0, 4))).toEqual([0, 1, 0.2, 0.4])
    expect(Array.from(a['y']!.data)).toEqual([3, 0, 3])
    const b = toFeed(set, { scale: 'pm1', layout: 'nchw', inputName: 'img', labelName: 'label' })
    expect(b['img']!.shape).toEqual([3, 1, 1, 2])
    expect(Array.from(b['img']!.data.subarray(0, 2))).toEqual([-1, 1])
    expect(b['label']!.shape).toEqual([3])
  })
  it('law: toFeedRows(s, rows) = gatherFeed(toFeed(s), rows)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 })), fc.constantFrom('01' as const, 'pm1' as const), (rows, scale) => {
        const direct = toFeedRows(set, rows, { scale })
        const gathered = gatherFeed(toFeed(set, { scale }), rows)
        expect(Array.from(direct['x']!.data)).toEqual(Array.from(gathered['x']!.data))
        expect(Array.from(direct['y']!.data)).toEqual(Array.from(gathered['y']!.data))
      }),
    )
  })
  it('subset picks images in order and keeps the geometry; classCounts counts labels', () => {
    const s = subset(set, [2, 0], 'tiny/part')
    expect([s.name, s.count, Array.from(s.pixels), Array.from(s.labels), s.classes]).toEqual(['tiny/part', 2, [7, 8, 0, 255], [3, 3], 4])
    expect(classCounts(set)).toEqual([1, 0, 0, 2])
  })
})

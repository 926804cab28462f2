/** Augmentation: crop-with-padding, flip, rotation and scaling semantics, determinism per key, and a bit-identical resume. */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { augmentImages, augmentedDataset, parseAugmentation, showAugmentation } from '../../src/data/augment.js'
import type { ImageSet } from '../../src/data/images.js'
import { foldIn, key } from '../../src/dsl/random.js'
import { imageDataset } from '../../src/train/evaluate.js'
import type { Checkpoint } from '../../src/train/loop.js'
import { train } from '../../src/train/loop.js'
import { sameBits, tinyConfig, tinyNet } from '../train/loopFixtures.js'

/** n images of 2×3 pixels, pixel j of image i = 10·i + j + 1 (never 0, so padding is visible). */
const images = (n: number, channels = 1): ImageSet => ({
  name: 'tiny', count: n, channels, rows: 2, cols: 3, classes: 3,
  pixels: Uint8Array.from({ length: n * channels * 6 }, (_, k) => 10 * Math.floor(k / (channels * 6)) + (k % 6) + 1 + 100 * Math.floor((k % (channels * 6)) / 6)),
  labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
})

describe('parseAugmentation', () => {
  it('reads none, crop:P and flip; rejects anything else', () => {
    expect(parseAugmentation('crop:4,flip')).toEqual(E.right({ pad: 4, flip: true }))
    expect(parseAugmentation('flip')).toEqual(E.right({ pad: 0, flip: true }))
    expect(parseAugmentation('none')).toEqual(E.right({ pad: 0, flip: false }))
    expect(showAugmentation({ pad: 4, flip: true })).toBe('crop:4,flip')
    expect(parseAugmentation('crop:0')).toEqual(E.left('augmentation: expected none or a comma list of crop:P (P from 1 to 64 pixels), flip, rotate:D (D in (0, 45] degrees) and scale:S (S in (0, 50] %), found "crop:0" in "crop:0"'))
  })
  it('reads rotate:D and scale:S (percent), and shows them back', () => {
    expect(parseAugmentation('crop:1,rotate:8,scale:7.5')).toEqual(E.right({ pad: 1, flip: false, rotate: 8, scale: 0.075 }))
    expect(showAugmentation({ pad: 1, flip: false, rotate: 8, scale: 0.075 })).toBe('crop:1,rotate:8,scale:7.5')
    for (const bad of ['rotate:0', 'rotate:46', 'scale:0', 'scale:51', 'rotate:-3', 'crop:1.5', 'rotate:'])
      expect(E.isLeft(parseAugmentation(bad))).toBe(true)
  })
})

describe('augmentImages', () => {
  it('law: every output image is its input shifted by (dy, dx) ∈ [−pad, pad]², maybe mirrored, the border 0', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 2 }), fc.boolean(), (seed, pad, flip) => {
      const src = images(5, 2)
      const out = augmentImages(src, [0, 1, 2, 3, 4], { pad, flip }, key(seed))
      for (let i = 0; i < 5; i++) {
        const img = out.pixels.subarray(i * 12, (i + 1) * 12)
        const at = (y: number, x: number, c: number, dy: number, dx: number, m: boolean): number => {
          const sy = y + dy
          const sx = (m ? 2 - x : x) + dx
          return sy < 0 || sy >= 2 || sx < 0 || sx >= 3 ? 0 : src.pixels[i * 12 + c * 6 + sy * 3 + sx]!
        }
        const candidates = []
        for (let dy = -pad; dy <= pad; dy++)
          for (let dx = -pad; dx <= pad; dx++)
            for (const m of flip ? [false, true] : [false])
              candidates.push(Array.from({ length: 12 }, (_, k) => at(Math.floor((k % 6) / 3), k % 3, Math.floor(k / 6), dy, dx, m)))
        if (!candidates.some((c) => c.every((v, k) => v === img[k]))) return false
      }
      return true
    }), { seed: 7, numRuns: 50 })
  })
  it('is a pure function of the key, and different keys give different draws', () => {
    const src = images(40)
    const a = augmentImages(src, Array.from({ length: 40 }, (_, i) => i), { pad: 1, flip: true }, foldIn(key(3), 5))
    const b = augmentImages(src, Array.from({ length: 40 }, (_, i) => i), { pad: 1, flip: true }, foldIn(key(3), 5))
    const c = augmentImages(src, Array.from({ length: 40 }, (_, i) => i), { pad: 1, flip: true }, foldIn(key(3), 6))
    expect(a.pixels).toEqual(b.pixels)
    expect(a.pixels).not.toEqual(c.pixels)
    expect(a.labels).toEqual(src.labels)
  })
  it('law: a rotation and scaling too small to move a pixel gives exactly the crop-and-flip images of the same key', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 }), fc.boolean(), (seed, pad, flip) => {
      const src = images(6, 2)
      const rows = [0, 1, 2, 3, 4, 5]
      const plain = augmentImages(src, rows, { pad, flip }, key(seed))
      const tiny = augmentImages(src, rows, { pad, flip, rotate: 1e-7, scale: 1e-9 }, key(seed))
      return plain.pixels.every((v, j) => v === tiny.pixels[j])
    }), { seed: 11, numRuns: 50 })
  })
  it('law: rotation and scaling keep a uniform image uniform near its centre, and levels stay integers in 0..255', () => {
    const n = 20
    const flat: ImageSet = { name: 'flat', count: n, channels: 1, rows: 9, cols: 9, classes: 1, pixels: new Uint8Array(n * 81).fill(200), labels: new Uint8Array(n) }
    const out = augmentImages(flat, Array.from({ length: n }, (_, i) => i), { pad: 0, flip: false, rotate: 20, scale: 0.2 }, key(5))
    for (let i = 0; i < n; i++)
      for (let y = 2; y <= 6; y++)
        for (let x = 2; x <= 6; x++) expect(out.pixels[i * 81 + y * 9 + x]).toBe(200)
    // Some corner pixel of some example falls outside the rotated image and mixes in level 0.
    expect(out.pixels.some((v) => v < 200)).toBe(true)
  })
  it('rotates: a bar through the centre turns by the drawn angle (one example, checked against the geometry)', () => {
    // A vertical bar of level 255 in column 10 of a 21×21 image; rotated by θ it crosses row 0 at
    // column 10 ± 10·tan θ (rotation about the centre (10, 10)).
    const bar: ImageSet = { name: 'bar', count: 1, channels: 1, rows: 21, cols: 21, classes: 1, pixels: Uint8Array.from({ length: 441 }, (_, j) => (j % 21 === 10 ? 255 : 0)), labels: new Uint8Array(1) }
    const out = augmentImages(bar, [0], { pad: 0, flip: false, rotate: 30 }, key(3))
    const row = (y: number): number => { let best = 0; for (let x = 1; x < 21; x++) if (out.pixels[y * 21 + x]! > out.pixels[y * 21 + best]!) best = x; return best }
    expect(row(10)).toBe(10) // the centre does not move
    const shift = row(0) - 10
    expect(Math.abs(shift)).toBeGreaterThan(0) // a drawn angle of 0 has probability 2^-32
    expect(Math.abs(shift)).toBeLessThanOrEqual(Math.ceil(10 * Math.tan(Math.PI / 6)))
    expect(row(20) - 10).toBe(-shift) // a straight line through the centre
  })
  it('evaluation (no key) and slices see the plain images', () => {
    const src = images(4)
    const aug = augmentedDataset(src, { scale: '01' }, { pad: 1, flip: true })
    const plain = imageDataset(src, { scale: '01' })
    expect(aug.rows([2, 0])).toEqual(plain.rows([2, 0]))
    expect(aug.slice(1, 3)).toEqual(plain.slice(1, 3))
  })
})

describe('augmentation in the training loop', () => {
  it('resume mid-epoch is bit-identical with augmentation on (the draws come from the step key)', async () => {
    const src = images(48)
    const data = { train: augmentedDataset(src, { scale: 'pm1' }, { pad: 1, flip: true }), validation: imageDataset(images(12), { scale: 'pm1' }) }
    const config = tinyConfig({ epochs: 2 })
    const ok = <A>(r: E.Either<unknown, A>): A => {
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
      return r.right
    }
    const whole = ok(await train(tinyNet(), data, config))
    const plain = ok(await train(tinyNet(), { ...data, train: imageDataset(src, { scale: 'pm1' }) }, config))
    expect(sameBits(whole.last.params, plain.last.params)).toBe(false)
    let steps = 0
    const saved: Checkpoint[] = []
    const cut = ok(await train(tinyNet(), data, config, {
      onStep: () => void steps++, shouldStop: () => steps === 7, checkpoint: async (c) => (saved.push(c), E.right(undefined)),
    }))
    expect(cut.outcome).toBe('interrupted')
    const c = saved.at(-1)!
    const rest = ok(await train(c.net, data, config, {}, c.state))
    expect(sameBits(rest.last.params, whole.last.params)).toBe(true)
  })
})

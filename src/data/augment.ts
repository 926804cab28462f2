/**
 * Data augmentation of training images: a random crop of the image padded by `pad` pixels on
 * every side (equivalently, a random shift by −pad..pad pixels in each direction, the uncovered
 * border filled with level 0) and a horizontal flip with probability ½, as in the standard
 * CIFAR-10 protocol (pad 4, 32×32 crop, flip).
 *
 * The draws need no state of their own: a training minibatch is augmented with the key the loop
 * gives it, foldIn(K_step, global step) (src/train/loop.ts), from which the draws derive as
 * bits(siteKey(k, 'data:augment'), 3i + j) for example i of the batch (j = 0: row shift,
 * 1: column shift, 2: flip). So the augmentation of step t is a function of (seed, t, batch) alone,
 * and a run resumed from a checkpoint at step t augments exactly as the uninterrupted run.
 * Evaluation passes no key and sees the images as they are.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Key } from '../dsl/random.js'
import { fillBits, siteKey } from '../dsl/random.js'
import type { Feed } from '../interpreters/ndarray.js'
import type { FeedOptions, ImageSet } from './images.js'
import { imageSize, subset, toFeedRows } from './images.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface Augmentation {
  /** Random crop after padding by this many pixels per side (0: none). */
  readonly pad: number
  /** Horizontal flip with probability ½. */
  readonly flip: boolean
}

/** No augmentation. */
export const noAugmentation: Augmentation = { pad: 0, flip: false }

/** Rows of a training set; `key`, given by the training loop for a minibatch, seeds augmentation. */
export interface AugmentedImages {
  readonly size: number
  readonly rows: (indices: ArrayLike<number>, key?: Key) => Feed
  readonly slice: (start: number, end: number) => Feed
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * Parses `--augment`: `none`, or a comma list of `crop:P` (pad P ≥ 1 pixels) and `flip`.
 * @example parseAugmentation('crop:4,flip') // right({ pad: 4, flip: true })
 */
export const parseAugmentation = (text: string): E.Either<string, Augmentation> => {
  if (text.trim() === 'none') return E.right(noAugmentation)
  let pad = 0
  let flip = false
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^crop:(\d+)$/.exec(part)
    if (m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 64) pad = Number(m[1])
    else if (part === 'flip') flip = true
    else return E.left(`augmentation: expected none or a comma list of crop:P (P from 1 to 64 pixels) and flip, found ${JSON.stringify(part)} in ${JSON.stringify(text)}`)
  }
  return E.right({ pad, flip })
}

/** `crop:4,flip`, `none`: the augmentation as `parseAugmentation` reads it. */
export const showAugmentation = (a: Augmentation): string =>
  [a.pad > 0 ? `crop:${a.pad}` : '', a.flip ? 'flip' : ''].filter((s) => s !== '').join(',') || 'none'

/**
 * The images at `rows`, each shifted and flipped by the draws of `k` (see the module comment).
 * @example augmentImages(train, [0, 1], { pad: 4, flip: true }, foldIn(stepKey, 7)).count // 2
 */
export const augmentImages = (images: ImageSet, rows: ArrayLike<number>, a: Augmentation, k: Key): ImageSet => {
  const picked = subset(images, rows)
  if (a.pad === 0 && !a.flip) return picked
  const n = rows.length
  const draws = fillBits(siteKey(k, 'data:augment'), 0, new Uint32Array(3 * n))
  const { rows: h, cols: w } = images
  const planes = imageSize(images) / (h * w)
  const span = 2 * a.pad + 1
  const out = new Uint8Array(picked.pixels.length)
  for (let i = 0; i < n; i++) {
    // Output pixel (y, x) reads input pixel (y + dy, x' + dx), x' = x or w − 1 − x when flipped.
    const dy = a.pad === 0 ? 0 : (draws[3 * i]! % span) - a.pad
    const dx = a.pad === 0 ? 0 : (draws[3 * i + 1]! % span) - a.pad
    const flip = a.flip && (draws[3 * i + 2]! & 1) === 1
    for (let c = 0; c < planes; c++) {
      const base = (i * planes + c) * h * w
      for (let y = 0; y < h; y++) {
        const sy = y + dy
        if (sy < 0 || sy >= h) continue
        for (let x = 0; x < w; x++) {
          const sx = (flip ? w - 1 - x : x) + dx
          if (sx >= 0 && sx < w) out[base + y * w + x] = picked.pixels[base + sy * w + sx]!
        }
      }
    }
  }
  return { ...picked, pixels: out }
}

/**
 * A training set whose minibatches are augmented when the loop passes a key (evaluation and
 * `slice` see the plain images).
 * @example augmentedDataset(splits.train, { scale: 'pm1', layout: 'nchw' }, { pad: 4, flip: true })
 */
export const augmentedDataset = (images: ImageSet, options: FeedOptions, a: Augmentation): AugmentedImages => {
  const all = (start: number, end: number): Uint32Array => Uint32Array.from({ length: end - start }, (_, i) => start + i)
  return {
    size: images.count,
    rows: (indices, k) => {
      if (k === undefined || (a.pad === 0 && !a.flip)) return toFeedRows(images, indices, options)
      const aug = augmentImages(images, indices, a, k)
      return toFeedRows(aug, all(0, aug.count), options)
    },
    slice: (start, end) => toFeedRows(images, all(start, end), options),
  }
}

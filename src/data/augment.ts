/**
 * Data augmentation of training images: a random crop of the image padded by `pad` pixels on
 * every side (equivalently, a random shift by −pad..pad pixels in each direction, the uncovered
 * border filled with level 0) and a horizontal flip with probability ½, as in the standard
 * CIFAR-10 protocol (pad 4, 32×32 crop, flip); and, for digits, a small random rotation and
 * scaling about the image centre (`rotate`, `scale`), sampled bilinearly.
 *
 * The draws need no state of their own: a training minibatch is augmented with the key the loop
 * gives it, foldIn(K_step, global step) (src/train/loop.ts), from which the draws derive as
 * bits(siteKey(k, 'data:augment'), 3i + j) for example i of the batch (j = 0: row shift,
 * 1: column shift, 2: flip), and bits(siteKey(k, 'data:affine'), 2i + j) (j = 0: angle, 1: scale).
 * So the augmentation of step t is a function of (seed, t, batch) alone, and a run resumed from a
 * checkpoint at step t augments exactly as the uninterrupted run. Evaluation passes no key and
 * sees the images as they are.
 *
 * Output pixel (y, x) of an example reads the point p = (y + dy, x' + dx) of its input, x' = x or
 * w − 1 − x when flipped (integer: a plain copy). With a rotation by θ and a scale s it reads
 * c + R(−θ)(p − c)/s instead, c = ((h − 1)/2, (w − 1)/2) the centre: the input rotated by θ and
 * magnified s times about its centre, then flipped and shifted. That point falls between pixels:
 * the level is the bilinear mix of its four neighbours (level 0 outside the image), rounded to
 * the nearest integer. Every step is float64 arithmetic and `Math.cos`/`Math.sin`, so the pixels
 * are the same on every run of a given Node version.
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
  /** Rotation by an angle uniform in [−rotate, rotate] degrees (absent or 0: none). */
  readonly rotate?: number
  /** Magnification by a factor uniform in [1 − scale, 1 + scale] (absent or 0: none). */
  readonly scale?: number
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
 * Parses `--augment`: `none`, or a comma list of `crop:P` (pad P ≥ 1 pixels), `flip`,
 * `rotate:D` (up to D degrees either way, 0 < D ≤ 45) and `scale:S` (up to S % larger or smaller,
 * 0 < S ≤ 50).
 * @example parseAugmentation('crop:4,flip') // right({ pad: 4, flip: true })
 * @example parseAugmentation('crop:1,rotate:8,scale:8') // right({ pad: 1, flip: false, rotate: 8, scale: 0.08 })
 */
export const parseAugmentation = (text: string): E.Either<string, Augmentation> => {
  if (text.trim() === 'none') return E.right(noAugmentation)
  let pad = 0
  let flip = false
  let rotate = 0
  let scale = 0
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(crop|rotate|scale):(\d+(?:\.\d+)?)$/.exec(part)
    const v = Number(m?.[2])
    if (m?.[1] === 'crop' && Number.isInteger(v) && v >= 1 && v <= 64) pad = v
    else if (m?.[1] === 'rotate' && v > 0 && v <= 45) rotate = v
    else if (m?.[1] === 'scale' && v > 0 && v <= 50) scale = v / 100
    else if (part === 'flip') flip = true
    else return E.left(`augmentation: expected none or a comma list of crop:P (P from 1 to 64 pixels), flip, rotate:D (D in (0, 45] degrees) and scale:S (S in (0, 50] %), found ${JSON.stringify(part)} in ${JSON.stringify(text)}`)
  }
  return E.right({ pad, flip, ...(rotate > 0 ? { rotate } : {}), ...(scale > 0 ? { scale } : {}) })
}

/** `crop:4,flip`, `none`: the augmentation as `parseAugmentation` reads it. */
export const showAugmentation = (a: Augmentation): string =>
  [
    a.pad > 0 ? `crop:${a.pad}` : '',
    a.flip ? 'flip' : '',
    (a.rotate ?? 0) > 0 ? `rotate:${a.rotate}` : '',
    (a.scale ?? 0) > 0 ? `scale:${+((a.scale ?? 0) * 100).toFixed(6)}` : '',
  ].filter((s) => s !== '').join(',') || 'none'

/** Whether `a` leaves every image as it is (no shift, flip, rotation or scaling). */
const isIdentity = (a: Augmentation): boolean => a.pad === 0 && !a.flip && (a.rotate ?? 0) === 0 && (a.scale ?? 0) === 0

/**
 * The level at the point (py, px) of a plane (level 0 outside): the bilinear mix of its four
 * neighbouring pixels, rounded to the nearest integer.
 */
const bilinear = (pixels: Uint8Array, base: number, h: number, w: number, py: number, px: number): number => {
  const y0 = Math.floor(py)
  const x0 = Math.floor(px)
  const fy = py - y0
  const fx = px - x0
  const at = (y: number, x: number): number => (y < 0 || y >= h || x < 0 || x >= w ? 0 : pixels[base + y * w + x]!)
  const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
  const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
  return Math.round(top * (1 - fy) + bottom * fy)
}

/**
 * The images at `rows`, each shifted, flipped, rotated and scaled by the draws of `k` (see the
 * module comment).
 * @example augmentImages(train, [0, 1], { pad: 4, flip: true }, foldIn(stepKey, 7)).count // 2
 */
export const augmentImages = (images: ImageSet, rows: ArrayLike<number>, a: Augmentation, k: Key): ImageSet => {
  const picked = subset(images, rows)
  if (isIdentity(a)) return picked
  const n = rows.length
  const draws = fillBits(siteKey(k, 'data:augment'), 0, new Uint32Array(3 * n))
  const rotate = a.rotate ?? 0
  const scale = a.scale ?? 0
  const affine = rotate > 0 || scale > 0 ? fillBits(siteKey(k, 'data:affine'), 0, new Uint32Array(2 * n)) : undefined
  const { rows: h, cols: w } = images
  const planes = imageSize(images) / (h * w)
  const span = 2 * a.pad + 1
  const cy = (h - 1) / 2
  const cx = (w - 1) / 2
  const out = new Uint8Array(picked.pixels.length)
  for (let i = 0; i < n; i++) {
    const dy = a.pad === 0 ? 0 : (draws[3 * i]! % span) - a.pad
    const dx = a.pad === 0 ? 0 : (draws[3 * i + 1]! % span) - a.pad
    const flip = a.flip && (draws[3 * i + 2]! & 1) === 1
    // Uniform in [−1, 1) from 32 bits: the angle and the scale of this example.
    const u = (j: number): number => (affine![2 * i + j]! / 2 ** 31) - 1
    const theta = affine === undefined ? 0 : (u(0) * rotate * Math.PI) / 180
    const s = affine === undefined ? 1 : 1 + u(1) * scale
    const cos = Math.cos(theta) / s
    const sin = Math.sin(theta) / s
    for (let c = 0; c < planes; c++) {
      const base = (i * planes + c) * h * w
      for (let y = 0; y < h; y++) {
        const py = y + dy
        if (affine === undefined && (py < 0 || py >= h)) continue
        for (let x = 0; x < w; x++) {
          const px = (flip ? w - 1 - x : x) + dx
          if (affine === undefined) {
            if (px >= 0 && px < w) out[base + y * w + x] = picked.pixels[base + py * w + px]!
          } else {
            // R(−θ)(p − c)/s + c
            const vy = py - cy
            const vx = px - cx
            out[base + y * w + x] = bilinear(picked.pixels, base, h, w, cy + cos * vy - sin * vx, cx + sin * vy + cos * vx)
          }
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
      if (k === undefined || isIdentity(a)) return toFeedRows(images, indices, options)
      const aug = augmentImages(images, indices, a, k)
      return toFeedRows(aug, all(0, aug.count), options)
    },
    slice: (start, end) => toFeedRows(images, all(start, end), options),
  }
}

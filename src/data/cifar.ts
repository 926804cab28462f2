/**
 * CIFAR-10 from its official binary version, `cifar-10-binary.tar.gz` of
 * https://www.cs.toronto.edu/~kriz/cifar.html, unpacked into `cifar-10-batches-bin/`. It is not on
 * any package registry, so the user names the directory (`--data-dir DIR`, `dataDir`), which may
 * be `cifar-10-batches-bin` itself or its parent. Six files, each a sequence of 3 073-byte
 * records, no header:
 *
 *   byte 0          the label, 0..9 (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck)
 *   bytes 1..1024   the red plane, 32×32 row-major; then 1024 green, then 1024 blue
 *
 * `data_batch_1.bin` … `data_batch_5.bin` are the 50 000 training images and `test_batch.bin`
 * the 10 000 test images; each official file holds 10 000 records (30 730 000 bytes). The reader
 * checks every file's size and every label before returning anything, and returns the training
 * images first, then the test images (the layout `splitOfficial` expects).
 */
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { DataError } from './dataErrors.js'
import { fsReason, invalidData } from './dataErrors.js'
import type { ImageSet } from './images.js'

// ---------------------------------------------------------------------------------------------
// Model

export const CIFAR_RECORD_BYTES = 3073
export const CIFAR_RECORDS_PER_FILE = 10000
export const CIFAR_TRAIN_COUNT = 50000
export const cifarTrainFiles = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const
export const cifarTestFile = 'test_batch.bin'
export const cifarClasses = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const

export interface CifarOptions {
  /**
   * Records each file must hold: 10 000 (default, the official files) or `any` whole number of
   * records (small files in the same format, for tests and quick trials).
   */
  readonly records?: number | 'any'
}

/** CIFAR-10 as one image set, the training files' images first, and how many of them there are. */
export interface CifarImages {
  readonly images: ImageSet
  readonly trainCount: number
  /** The directory the files were read from. */
  readonly dir: string
}

/** Where the data comes from and what the directory must hold, for every error. */
export const cifarHelp =
  'CIFAR-10 is not on a package registry: download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, ' +
  'unpack it (tar xzf cifar-10-binary.tar.gz) and pass the cifar-10-batches-bin directory (or its parent) as --data-dir; ' +
  `it must hold ${cifarTrainFiles.join(', ')} and ${cifarTestFile}, each ${CIFAR_RECORDS_PER_FILE} records of ${CIFAR_RECORD_BYTES} bytes`

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * Reads and checks the six binary files of CIFAR-10 in `dir` (or in `dir/cifar-10-batches-bin`).
 * @example const r = await readCifar10('/data/cifar-10-batches-bin') // right({ images: 60 000 of 3×32×32, trainCount: 50000, … })
 */
export const readCifar10 = async (dir: string | undefined, options: CifarOptions = {}): Promise<E.Either<DataError, CifarImages>> => {
  if (dir === undefined) return E.left(invalidData('dataDir', `cifar10 needs a data directory; ${cifarHelp}`))
  const base = (await exists(join(dir, cifarTestFile))) ? dir : join(dir, 'cifar-10-batches-bin')
  const files = [...cifarTrainFiles, cifarTestFile].map((f) => join(base, f))
  const parts: Uint8Array[] = []
  for (const file of files) {
    const bytes = await readRecords(file, options.records ?? CIFAR_RECORDS_PER_FILE)
    if (E.isLeft(bytes)) return bytes
    parts.push(bytes.right)
  }
  const counts = parts.map((p) => p.length / CIFAR_RECORD_BYTES)
  const count = counts.reduce((a, b) => a + b, 0)
  const size = CIFAR_RECORD_BYTES - 1
  const pixels = new Uint8Array(count * size)
  const labels = new Uint8Array(count)
  let at = 0
  for (const part of parts) {
    for (let r = 0; r < part.length / CIFAR_RECORD_BYTES; r++, at++) {
      labels[at] = part[r * CIFAR_RECORD_BYTES]!
      pixels.set(part.subarray(r * CIFAR_RECORD_BYTES + 1, (r + 1) * CIFAR_RECORD_BYTES), at * size)
    }
  }
  const images: ImageSet = { name: 'cifar10', count, channels: 3, rows: 32, cols: 32, classes: 10, pixels, labels }
  return E.right({ images, trainCount: count - counts[counts.length - 1]!, dir: base })
}

/**
 * The bytes of a CIFAR-10 binary file holding `labels` and their images (3072 bytes each).
 * @example encodeCifarRecords([3], new Uint8Array(3072)).length // 3073
 */
export const encodeCifarRecords = (labels: readonly number[], pixels: Uint8Array): Uint8Array => {
  const size = CIFAR_RECORD_BYTES - 1
  const bytes = new Uint8Array(labels.length * CIFAR_RECORD_BYTES)
  labels.forEach((l, r) => {
    bytes[r * CIFAR_RECORD_BYTES] = l
    bytes.set(pixels.subarray(r * size, (r + 1) * size), r * CIFAR_RECORD_BYTES + 1)
  })
  return bytes
}

// ---------------------------------------------------------------------------------------------
// Utilities

const exists = async (file: string): Promise<boolean> => {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}

const damaged = (file: string, message: string): DataError => invalidData('', `${message}; ${cifarHelp}`, file)

/** One file's bytes after the size and label checks. */
const readRecords = async (file: string, records: number | 'any'): Promise<E.Either<DataError, Uint8Array>> => {
  let bytes: Uint8Array
  try {
    const buffer = await readFile(file)
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  } catch (err) {
    return E.left({ _tag: 'FileUnreadable', file, reason: `${fsReason(err)}; ${cifarHelp}` })
  }
  if (records === 'any') {
    if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0)
      return E.left(damaged(file, `${bytes.length} bytes, expected a whole number (≥ 1) of ${CIFAR_RECORD_BYTES}-byte records (truncated?)`))
  } else if (bytes.length !== records * CIFAR_RECORD_BYTES) {
    return E.left(damaged(file, `${bytes.length} bytes, expected ${records * CIFAR_RECORD_BYTES} (${records} records of ${CIFAR_RECORD_BYTES} bytes)${bytes.length < records * CIFAR_RECORD_BYTES ? ' (truncated?)' : ''}`))
  }
  for (let r = 0; r < bytes.length / CIFAR_RECORD_BYTES; r++) {
    const l = bytes[r * CIFAR_RECORD_BYTES]!
    if (l >= cifarClasses.length) return E.left(damaged(file, `record ${r} (byte ${r * CIFAR_RECORD_BYTES}) has label ${l}, expected 0..9`))
  }
  return E.right(bytes)
}

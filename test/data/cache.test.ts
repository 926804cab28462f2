import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HEADER_BYTES, decodeCache, encodeCache, readCache, writeCache } from '../../src/data/cache.js'
import { crc32 } from '../../src/io/crc32.js'
import type { ImageSet } from '../../src/data/images.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-data-cache-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const imageSetArb: fc.Arbitrary<ImageSet> = fc
  .record({ count: fc.integer({ min: 1, max: 6 }), rows: fc.integer({ min: 1, max: 4 }), cols: fc.integer({ min: 1, max: 4 }), classes: fc.integer({ min: 1, max: 10 }) })
  .chain(({ count, rows, cols, classes }) =>
    fc
      .tuple(
        fc.uint8Array({ minLength: count * rows * cols, maxLength: count * rows * cols }),
        fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: count, maxLength: count }),
      )
      .map(([pixels, labels]) => ({ name: 'tiny', count, rows, cols, classes, pixels, labels: Uint8Array.from(labels) })),
  )
const plain = (s: ImageSet): unknown => ({ ...s, pixels: Array.from(s.pixels), labels: Array.from(s.labels) })

describe('crc32', () => {
  it('matches the IEEE check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })
  it('law: crc32(b, crc32(a)) = crc32(a ++ b)', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        const ab = new Uint8Array(a.length + b.length)
        ab.set(a)
        ab.set(b, a.length)
        expect(crc32(b, crc32(a))).toBe(crc32(ab))
      }),
    )
  })
})

describe('cache encoding', () => {
  it('law: decodeCache ∘ encodeCache = id', () => {
    fc.assert(
      fc.property(imageSetArb, (images) => {
        const back = decodeCache(encodeCache(images, 'tiny@1'), 'tiny@1', 'tiny')
        expect(E.isRight(back) && plain(back.right)).toEqual(plain(images))
      }),
    )
  })
  it('law: any single corrupted byte is detected', () => {
    fc.assert(
      fc.property(imageSetArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (images, at, flip) => {
        const bytes = encodeCache(images, 'tiny@1')
        const i = at % bytes.length
        bytes[i] = bytes[i]! ^ flip
        expect(E.isLeft(decodeCache(bytes, 'tiny@1', 'tiny'))).toBe(true)
      }),
    )
  })
  it('names the problem: short, foreign, other version, stale, truncated, checksum, labels', () => {
    const images: ImageSet = { name: 't', count: 2, rows: 1, cols: 2, classes: 3, pixels: Uint8Array.from([1, 2, 3, 4]), labels: Uint8Array.from([0, 2]) }
    const good = encodeCache(images, 'tiny@1')
    const reason = (bytes: Uint8Array, tag = 'tiny@1'): string => {
      const r = decodeCache(bytes, tag, 't')
      return E.isLeft(r) ? r.left : 'no problem'
    }
    const patched = (at: number, value: number): Uint8Array => {
      const b = good.slice()
      b[at] = value
      return b
    }
    expect(reason(good.subarray(0, 10))).toBe('10 bytes, shorter than the 64-byte header')
    expect(reason(patched(0, 0x41))).toBe('not an sbnkit cache file (bad magic bytes)')
    expect(reason(patched(8, 2))).toBe('cache format version 2, expected 1')
    expect(reason(good, 'tiny@2')).toBe('made from tiny@1, expected tiny@2')
    expect(reason(good.subarray(0, good.length - 1))).toBe('69 bytes, expected 70 from the header (truncated?)')
    expect(reason(patched(HEADER_BYTES, 9))).toMatch(/^checksum mismatch \(stored [0-9a-f]+, computed [0-9a-f]+\)$/)
    const badLabel = encodeCache({ ...images, labels: Uint8Array.from([0, 7]) }, 'tiny@1')
    expect(reason(badLabel)).toBe('label 7 of image 1 is not below the 3 classes')
  })
})

describe('cache files', () => {
  it('round trip through a file; a missing file is Absent; no temporary file is left', async () => {
    const images: ImageSet = { name: 't', count: 1, rows: 1, cols: 1, classes: 2, pixels: Uint8Array.from([200]), labels: Uint8Array.from([1]) }
    const file = join(dir, 'sub', 't-v1.bin')
    expect(await readCache(file, 'tiny@1', 't')).toEqual({ _tag: 'Absent' })
    expect(await writeCache(file, images, 'tiny@1')).toEqual(E.right(undefined))
    const r = await readCache(file, 'tiny@1', 't')
    expect(r._tag === 'Hit' && plain(r.images)).toEqual(plain(images))
    expect(await readdir(join(dir, 'sub'))).toEqual(['t-v1.bin'])
  })
})

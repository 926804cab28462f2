/**
 * The examples of docs/datasets.md run here: the `// example: <name>` … `// end example` region
 * below is, dedented, the body of the ```ts block after `<!-- example: <name> -->` in the doc, with
 * the doc's imports checked against this file's (the convention of test/docs/compiled.test.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { augmentImages, decodeIdx, drawDataError, encodeIdxBytes, teacherStudentData, toFeed, toFeedRows } from 'sbnkit/data'
import { key } from 'sbnkit/dsl'
import { encodeCifarRecords, loadSplits, readCifar10 } from 'sbnkit/node'
import { presetNetwork, sbnTeacher } from 'sbnkit/train'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docExamples, exampleAgainstTest } from './examples.js'

const examplesOfDoc = docExamples(new URL('../../docs/datasets.md', import.meta.url), import.meta.url)

const examples = ['loaders', 'idx', 'cifar', 'augment', 'teacher']

let dir = ''
beforeAll(async () => {
  // Six small files in the CIFAR-10 binary format (2 records each) for the cifar example.
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-docs-cifar-'))
  for (const f of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'])
    await writeFile(join(dir, `${f}.bin`), encodeCifarRecords([3, 8], new Uint8Array(2 * 3072).fill(7)))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('docs/datasets.md examples', () => {
  it.each(examples)('example %s is the code tested here, with the same imports', (name) => {
    const { doc, test, missingImports } = exampleAgainstTest(examplesOfDoc, name)
    expect(doc).toBe(test)
    expect(missingImports).toEqual([])
  })

  it('loaders: full MNIST, the official test set as test split', async () => {
    // example: loaders
    const r = await loadSplits('mnist') // Either<DataError, LoadedSplits>
    if (E.isLeft(r)) throw new Error(drawDataError(r.left))
    const { train, validation, test, rule } = r.right // train 55 000, validation 5000, test the official 10 000
    const feed = toFeed(test, { scale: 'pm1' }) // { x: [10000, 784] in [−1, 1], y: [10000] class indices }
    const batch = toFeedRows(train, [5, 17, 3], { scale: '01', layout: 'nchw' }) // x: [3, 1, 28, 28] in [0, 1]
    // end example
    expect([train.count, validation.count, test.count]).toEqual([55000, 5000, 10000])
    expect(rule).toMatch(/official/)
    expect(feed['x']!.shape).toEqual([10000, 784])
    expect(feed['y']!.shape).toEqual([10000])
    expect(batch['x']!.shape).toEqual([3, 1, 28, 28])
  }, 120_000)

  it('idx: the general IDX reader and its errors', () => {
    // example: idx
    const bytes = encodeIdxBytes([2, 3], Uint8Array.of(0, 1, 2, 3, 4, 5)) // a 2×3 uint8 IDX file
    const a = decodeIdx(bytes, { type: 'uint8', shape: [2, 3] }) // E.right({ type: 'uint8', shape: [2, 3], data: [0, 1, 2, 3, 4, 5] })
    const cut = decodeIdx(bytes.subarray(0, 10)) // E.left('… (truncated?)')
    const gzip = decodeIdx(Uint8Array.of(0x1f, 0x8b, 8, 0)) // E.left('magic number 0x1f8b0800 … (still gzip-compressed?)')
    // end example
    expect(E.isRight(a) && [a.right.type, a.right.shape, Array.from(a.right.data)]).toEqual(['uint8', [2, 3], [0, 1, 2, 3, 4, 5]])
    expect(E.isLeft(cut) && cut.left).toMatch(/\(truncated\?\)$/)
    expect(E.isLeft(gzip) && gzip.left).toBe('magic number 0x1f8b0800 does not start with two zero bytes: not an IDX file (still gzip-compressed?)')
  })

  it('cifar: a directory in the binary format; a missing one says where the data comes from', async () => {
    // example: cifar
    const small = await readCifar10(dir, { records: 'any' }) // dir holds data_batch_1..5.bin and test_batch.bin
    // E.right: 12 images of 3×32×32 (each file's records: 1 label byte, then the red, green, blue planes)
    const missing = await readCifar10(join(dir, 'nowhere'))
    // E.left: '…/data_batch_1.bin: cannot read the file (no such file or directory; CIFAR-10 is not on a package registry: download cifar-10-binary.tar.gz …'
    // end example
    expect(E.isRight(small) && [small.right.images.count, small.right.images.channels, Array.from(small.right.images.labels.subarray(0, 2))]).toEqual([12, 3, [3, 8]])
    expect(E.isLeft(missing) && drawDataError(missing.left)).toMatch(/data_batch_1\.bin: cannot read the file \(no such file or directory; CIFAR-10 is not on a package registry: download cifar-10-binary\.tar\.gz/)
  })

  it('augment: crop after padding, flip, rotation and scaling, a pure function of the key', async () => {
    const r = await loadSplits('mnist')
    if (E.isLeft(r)) throw new Error(drawDataError(r.left))
    const { train } = r.right
    // example: augment
    const a = augmentImages(train, [0, 1, 2], { pad: 2, flip: false }, key(7)) // 3 digits, each shifted by up to 2 pixels
    const b = augmentImages(train, [0, 1, 2], { pad: 2, flip: false }, key(7)) // the same key: the same pixels
    const c = augmentImages(train, [0, 1, 2], { pad: 1, flip: false, rotate: 10, scale: 0.1 }, key(7)) // shifted by up to 1 pixel, rotated by up to 10°, scaled by up to 10 %
    // end example
    expect(a.count).toBe(3)
    expect(Array.from(a.pixels)).toEqual(Array.from(b.pixels))
    expect(c.count).toBe(3)
    expect(Array.from(c.pixels)).not.toEqual(Array.from(a.pixels))
  }, 120_000)

  it('teacher: labels from a sampled pass of an SBN', () => {
    const net = presetNetwork({ kind: 'mlp', hidden: [8] }, { inputShape: [6], classes: 3, key: key(0) })
    if (E.isLeft(net)) throw new Error('a valid preset')
    const teacherNet = net.right
    // example: teacher
    const data = teacherStudentData(sbnTeacher(teacherNet, key(1)), 0, { n: 2000, inputShape: [6] })
    // end example
    expect(E.isRight(data) && data.right['x']!.shape).toEqual([2000, 6])
    expect(E.isRight(data) && new Set(data.right['y']!.data).size).toBe(3)
  })
})

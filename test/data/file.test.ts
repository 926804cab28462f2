import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drawDataErrors } from '../../src/data/dataErrors.js'
import { readDataFile, writeDataFile } from '../../src/data/file.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-data-file-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const failure = async (name: string, text: string): Promise<string> => {
  const file = join(dir, name)
  await writeFile(file, text)
  const r = await readDataFile(file)
  return E.isLeft(r) ? drawDataErrors(r.left).replaceAll(dir, '<dir>') : 'no error'
}

describe('readDataFile', () => {
  it('reads a documented example', async () => {
    const file = join(dir, 'ok.json')
    await writeFile(file, '{ "format": "sbnkit-data/1", "inputs": { "x": [[0.5, -1], [0, 2]], "y": [1, -1] } }')
    const r = await readDataFile(file)
    expect(E.isRight(r) && { x: Array.from(r.right['x']!.data), y: Array.from(r.right['y']!.data) }).toEqual({ x: [0.5, -1, 0, 2], y: [1, -1] })
  })
  it('names the file in every error: missing, truncated, NaN, structure', async () => {
    const missing = await readDataFile(join(dir, 'nope.json'))
    expect(E.isLeft(missing) && drawDataErrors(missing.left).replaceAll(dir, '<dir>')).toBe(
      '<dir>/nope.json: cannot read the file (no such file or directory)',
    )
    expect(await failure('cut.json', '{ "format": "sbnkit-data/1", "inputs": { "x": [[0.5, -1], [0, 2')).toBe(
      '<dir>/cut.json: not valid JSON: line 1, column 64: the text ends inside an array (is the file truncated?)',
    )
    expect(await failure('nan.json', '{ "format": "sbnkit-data/1",\n  "inputs": { "x": [[0.5, NaN]] } }')).toBe(
      '<dir>/nan.json: not valid JSON: line 2, column 27: expected a value, found NaN (JSON has no NaN or Infinity; write finite numbers)',
    )
    expect(await failure('rag.json', '{ "format": "sbnkit-data/1", "inputs": { "x": [[1, 2], [3]], "y": [1] } }')).toBe(
      '<dir>/rag.json: inputs.x[1]: expected 2 values per row like row 0, found 1',
    )
  })
})

describe('writeDataFile', () => {
  it('law: readDataFile ∘ writeDataFile = id, leaving no temporary file', async () => {
    const feed = { x: { shape: [2, 2], data: Float64Array.from([0.1, 0.2, 1 / 3, -7e-300]) }, y: { shape: [2], data: Float64Array.from([0, 1]) } }
    const file = join(dir, 'rt.json')
    expect(await writeDataFile(file, feed, { layout: 'nested', indent: 1 })).toEqual(E.right(undefined))
    const back = await readDataFile(file)
    expect(E.isRight(back) && Array.from(back.right['x']!.data)).toEqual(Array.from(feed.x.data))
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true)
  })
  it('refuses a feed the reader would refuse, and an unwritable path, as values', async () => {
    const nan = await writeDataFile(join(dir, 'bad.json'), { x: { shape: [1], data: Float64Array.from([NaN]) } })
    expect(E.isLeft(nan) && drawDataErrors(nan.left)).toBe('inputs.x.values[0]: expected a finite number, found NaN')
    await writeFile(join(dir, 'plain'), '')
    const blocked = await writeDataFile(join(dir, 'plain', 'd.json'), { x: { shape: [1], data: Float64Array.from([1]) } })
    expect(E.isLeft(blocked) && drawDataErrors(blocked.left).replaceAll(dir, '<dir>')).toMatch(/^<dir>\/plain\/d\.json: cannot write the file \(/)
  })
})

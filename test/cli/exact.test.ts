/** `sbnkit exact`, in process: output against the exact interpreter, flags, and drawn errors. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeModelFile } from '../../src/io/files.js'
import { writeDataFile } from '../../src/data/file.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { cliFeed, cliNet } from '../interpreters/fixtures.js'
import { cliRunner } from './run.js'

let dir = ''
const at = (name: string): string => join(dir, name)

/** Runs `sbnkit …` in process; the temporary directory is shown as `<tmp>`. */
const sbnkit = (...argv: string[]) => cliRunner((s) => (dir === '' ? s : s.replaceAll(dir, '<tmp>')))(argv)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-exact-'))
  expect(E.isRight(await writeModelFile(at('model.json'), cliNet))).toBe(true)
  expect(E.isRight(await writeDataFile(at('data.json'), cliFeed))).toBe(true)
  expect(E.isRight(await writeDataFile(at('wide.json'), { ...cliFeed, x: { shape: [4, 3], data: new Float64Array(12) } }))).toBe(true)
  expect(E.isRight(await writeDataFile(at('labels.json'), { ...cliFeed, y: { shape: [4], data: Float64Array.of(0, 1, 2, 3) } }))).toBe(true)
  await writeFile(at('broken.json'), '{ "format": "sbnkit-data/1", "inputs": { "x": [[1, 2],')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit exact', () => {
  it('prints the exact expected loss', async () => {
    const r = await sbnkit('exact', at('model.json'), '--data', at('data.json'))
    const expected = exact(cliNet, cliFeed)
    if (E.isLeft(expected)) throw new Error('fixture')
    expect(r).toEqual({ code: 0, err: '', out: expect.stringContaining(`exact expected loss: ${expected.right.loss}\n`) })
    expect(r.out).toMatchInlineSnapshot(`
      "exact expected loss: 1.565719656759596
        4 examples, layer messages, 768 joint states visited
      "
    `)
  })

  it('--grad --json prints { loss, grad } with every parameter in row-major order', async () => {
    const r = await sbnkit('exact', at('model.json'), '--data', at('data.json'), '--grad', '--json')
    expect(r.code).toBe(0)
    const json = JSON.parse(r.out) as { loss: number; grad: Record<string, number[]> }
    const expected = exact(cliNet, cliFeed, { grad: true })
    if (E.isLeft(expected)) throw new Error('fixture')
    expect(json.loss).toBe(expected.right.loss)
    expect(Object.keys(json.grad).sort()).toEqual(Object.keys(cliNet.params).sort())
    for (const [name, g] of Object.entries(expected.right.grad!)) expect(json.grad[name]).toEqual([...g])
  })

  it('--json without --grad prints only the loss', async () => {
    const r = await sbnkit('exact', at('model.json'), '--data', at('data.json'), '--json')
    expect(Object.keys(JSON.parse(r.out) as object)).toEqual(['loss'])
  })

  it('--grad prints each gradient with its shape', async () => {
    const r = await sbnkit('exact', at('model.json'), '--data', at('data.json'), '--grad')
    expect(r.code).toBe(0)
    expect(r.out).toMatchInlineSnapshot(`
      "exact expected loss: 1.565719656759596
        4 examples, layer messages, 768 joint states visited
      gradient of the expected loss (row-major; --json for full precision):
        l1.W [2, 2]: -0.0520726 0.0228073 -0.0430520 0.139462
        l1.b [2]: -0.00984697 0.0291086
        l2.W [2, 2]: -0.0544409 0.0338028 -0.0424461 -0.0114748
        l2.b [2]: -0.0413178 0.0500714
        head.W [2, 3]: 0.114368 -0.205781 0.0914132 0.279163 -0.0307111 -0.248452
        head.b [3]: 0.0850674 0.0462501 -0.131318
      "
    `)
  })

  it('a budget overflow: exit 2 with the sites and the count', async () => {
    const r = await sbnkit('exact', at('model.json'), '--data', at('data.json'), '--budget', '100')
    expect(r.code).toBe(2)
    expect(r.out).toBe('')
    expect(r.err).toMatchInlineSnapshot(`
      "sbnkit exact: enumeration needs 768 joint states, over the budget of 100 (stochastic sites: l1.W (4 units), l1.act (2 units), l2.act (2 units)); use the Monte Carlo interpreter, a smaller network, or raise the budget
      "
    `)
  })

  it('bad flags: exit 2 with the reason and the usage', async () => {
    for (const argv of [
      ['exact', at('model.json'), '--data', at('data.json'), '--budget', 'lots'],
      ['exact', at('model.json'), '--data', at('data.json'), '--budget', '0'],
      ['exact', at('model.json')],
      ['exact', '--data', at('data.json')],
      ['exact', at('model.json'), at('data.json'), '--data', at('data.json')],
      ['exact', at('model.json'), '--data', at('data.json'), '--samples', '3'],
    ]) {
      const r = await sbnkit(...argv)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.err).toContain('(see sbnkit exact --help)')
    }
    expect((await sbnkit('exact', at('model.json'), '--budget', '1.5', '--data', at('data.json'))).err.split('\n')[0]).toMatchInlineSnapshot(`"sbnkit exact: --budget expects a whole number ≥ 1 in decimal digits, found "1.5" (joint states)"`)
  })

  it('bad input files and data that does not fit the model: exit 2, drawn errors, no stack trace', async () => {
    const errs: string[] = []
    for (const [model, data] of [['missing.json', 'data.json'], ['model.json', 'missing.json'], ['model.json', 'broken.json'], ['model.json', 'wide.json'], ['model.json', 'labels.json']] as const) {
      const r = await sbnkit('exact', at(model), '--data', at(data))
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      expect(r.err).not.toMatch(/\n\s+at /)
      errs.push(r.err)
    }
    expect(errs.join('')).toMatchInlineSnapshot(`
      "<tmp>/missing.json: cannot read the file (no such file or directory)
      <tmp>/missing.json: cannot read the file (no such file or directory)
      <tmp>/broken.json: not valid JSON: line 1, column 55: the text ends inside an array (is the file truncated?)
      <tmp>/wide.json: data.x: expected shape [4, 2] to match input "x" of the network, found [4, 3]
      <tmp>/labels.json: data.y[3]: expected a class index in 0..2, found 3
      "
    `)
  })

  it('--help prints the usage and exits 0', async () => {
    const r = await sbnkit('exact', '--help')
    expect(r.code).toBe(0)
    expect(r.out).toContain('usage: sbnkit exact <model.json> --data <data.json> [--grad] [--budget N] [--json]')
  })
})

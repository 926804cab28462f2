/**
 * `sbnkit train --threads N`: checked like every flag, not a setting of the run (a resume may
 * change it), and the same model for any N; `--parts P` is a setting of the run (run.json).
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainCli } from './trainCliFixture.js'

const { at, run, tiny, setup, teardown } = trainCli('sbnkit-threads-')

beforeAll(setup)
afterAll(teardown)

describe('sbnkit train --threads', () => {
  it('refuses a count that is not a whole number in 1..256 (exit 2, usage)', async () => {
    for (const bad of ['0', '1.5', 'all', '257']) {
      const r = await run(...tiny(`bad-${bad}`, '--threads', bad))
      expect(r.code).toBe(2)
      expect(r.err).toContain(`--threads expects a whole number in 1..256 in decimal digits, found "${bad}"`)
    }
  })

  it('a run on 2 threads resumed on 1 writes the model of a run on 1 thread, byte for byte', async () => {
    expect((await run(...tiny('one', '--epochs', '2', '--threads', '1'))).code).toBe(0)
    const first = await run(...tiny('two', '--epochs', '1', '--threads', '2'))
    expect(first.code).toBe(0)
    expect(first.out).toContain('products fast on 2 threads')
    const resumed = await run('--resume', at('two', 'checkpoint'), '--epochs', '2', '--threads', '1')
    expect(resumed.code).toBe(0)
    expect(await readFile(at('two', 'model.json'), 'utf8')).toBe(await readFile(at('one', 'model.json'), 'utf8'))
  })

  it('--parts is a setting of the run: kept in run.json, so a resume on other threads needs no flag and writes the same model', async () => {
    expect((await run(...tiny('p2-one', '--epochs', '2', '--threads', '1', '--parts', '2'))).code).toBe(0)
    expect((await run(...tiny('p2-two', '--epochs', '1', '--threads', '2', '--parts', '2'))).code).toBe(0)
    expect(JSON.parse(await readFile(at('p2-two', 'run.json'), 'utf8'))).toMatchObject({ parts: 2 })
    const resumed = await run('--resume', at('p2-two', 'checkpoint'), '--epochs', '2', '--threads', '1')
    expect(resumed.code).toBe(0)
    expect(await readFile(at('p2-two', 'model.json'), 'utf8')).toBe(await readFile(at('p2-one', 'model.json'), 'utf8'))
    const changed = await run('--resume', at('p2-two', 'checkpoint'), '--epochs', '3', '--parts', '3')
    expect(changed.code).toBe(2)
    expect(changed.err).toContain('parts is 2 in run.json, found 3')
  })

  it('refuses --parts that is not a whole number ≥ 1 (exit 2, usage)', async () => {
    for (const bad of ['0', '2.5', 'two']) {
      const r = await run(...tiny(`badparts-${bad}`, '--parts', bad))
      expect(r.code).toBe(2)
      expect(r.err).toContain(`--parts expects a whole number in 1..256 in decimal digits, found "${bad}"`)
    }
  })
})

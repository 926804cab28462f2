/**
 * `sbnkit train --fan-in-lr`: the real weights' rate scaled by 1/√fan-in is a setting of the run
 * (run.json), so a resume keeps it and ends where the uninterrupted run ends. It is the md
 * recipe's default (the standard recipe); `--no-fan-in-lr` and the other recipes keep the plain
 * optimizer.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainCli } from '../train/trainCliFixture.js'

const { at, run, tiny: tinyRun, setup, teardown } = trainCli('sbnkit-fanin-')
/** One thread: these runs compare models, not threads. */
const tiny = (out: string, ...more: string[]): string[] => tinyRun(out, '--threads', '1', ...more)

beforeAll(setup)
afterAll(teardown)

describe('sbnkit train --fan-in-lr', () => {
  it('scales the real optimizer, is kept in run.json, and a resume without the flag ends like the whole run', async () => {
    const whole = await run(...tiny('whole', '--epochs', '2', '--fan-in-lr'))
    expect(whole.code, whole.err).toBe(0)
    expect(whole.out).toContain('real parameters perParameterLr(adam(0.9,0.999))')
    expect(JSON.parse(await readFile(at('whole', 'run.json'), 'utf8'))).toMatchObject({ fanInLr: true })
    expect((await run(...tiny('parts', '--epochs', '1', '--fan-in-lr'))).code).toBe(0)
    expect((await run('--resume', at('parts', 'checkpoint'), '--epochs', '2')).code).toBe(0)
    expect(await readFile(at('parts', 'model.json'), 'utf8')).toBe(await readFile(at('whole', 'model.json'), 'utf8'))
  })

  it('is the md recipe\'s default: no flag ≡ --fan-in-lr; --no-fan-in-lr and other recipes keep the plain optimizer', async () => {
    const dflt = await run(...tiny('default', '--epochs', '2'))
    expect(dflt.code, dflt.err).toBe(0)
    expect(dflt.out).toContain('real parameters perParameterLr(adam(0.9,0.999))')
    expect(await readFile(at('default', 'model.json'), 'utf8')).toBe(await readFile(at('whole', 'model.json'), 'utf8'))
    const plain = await run(...tiny('plain', '--epochs', '2', '--no-fan-in-lr'))
    expect(plain.code, plain.err).toBe(0)
    expect(plain.out).toContain('real parameters adam(0.9,0.999)')
    expect(JSON.parse(await readFile(at('plain', 'run.json'), 'utf8'))).toMatchObject({ fanInLr: false })
    expect(await readFile(at('plain', 'model.json'), 'utf8')).not.toBe(await readFile(at('whole', 'model.json'), 'utf8'))
    const bnn = await run(...tiny('bnn', '--epochs', '1', '--recipe', 'bnn'))
    expect(bnn.code, bnn.err).toBe(0)
    expect(bnn.out).toMatch(/real parameters adam\(0\.9,0\.999\),/)
    const both = await run(...tiny('both', '--fan-in-lr', '--no-fan-in-lr'))
    expect(both.code).toBe(2)
    expect(both.err).toContain('--fan-in-lr and --no-fan-in-lr contradict each other')
  })
})

/** `sbnkit sample`, in process: output against the Monte Carlo interpreter, flags, and drawn errors. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeModelFile } from '../../src/io/files.js'
import { writeDataFile } from '../../src/data/file.js'
import { dense, sbinary, squaredError } from '../../src/dsl/composites.js'
import { logistic } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { monteCarlo } from '../../src/interpreters/montecarlo/index.js'
import { checked, cliFeed, cliNet } from '../interpreters/fixtures.js'
import { cliRunner } from './run.js'

let dir = ''
const at = (name: string): string => join(dir, name)

/** Runs `sbnkit …` in process; the temporary directory is shown as `<tmp>`. */
const sbnkit = (...argv: string[]) => cliRunner((s) => (dir === '' ? s : s.replaceAll(dir, '<tmp>')))(argv)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-sample-'))
  expect(E.isRight(await writeModelFile(at('model.json'), cliNet))).toBe(true)
  expect(E.isRight(await writeDataFile(at('data.json'), cliFeed))).toBe(true)
  // A regression model (squared loss): accuracy does not exist.
  const x = input('x', ['batch', 2])
  const out = sbinary(logistic(1))(dense(2, { name: 'l1' })(x))
  const reg = checked({ outputs: { loss: squaredError(input('t', ['batch', 1]))(dense(1, { name: 'head' })(out)) }, params: {
    'l1.W': Float64Array.of(1, -1, 0.5, 0.5), 'l1.b': new Float64Array(2), 'head.W': Float64Array.of(0.5, -0.5), 'head.b': Float64Array.of(0.1),
  } })
  expect(E.isRight(await writeModelFile(at('regression.json'), reg))).toBe(true)
  expect(E.isRight(await writeDataFile(at('regression-data.json'), { x: cliFeed['x']!, t: { shape: [4, 1], data: Float64Array.of(1, -1, 0.5, 0) } }))).toBe(true)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit sample', () => {
  it('prints mean ± stderr, mode and ensemble; deterministic in the seed', async () => {
    const r = await sbnkit('sample', at('model.json'), '--data', at('data.json'), '--samples', '200', '--seed', '7')
    expect(r.code).toBe(0)
    expect(r.err).toBe('')
    expect(r.out).toMatchInlineSnapshot(`
      "Monte Carlo: 200 sampled passes (seed 7) on 4 examples
        mean loss        1.59936 ± 0.048 (standard error)
        mode network     loss 1.20238, accuracy 50.00%
        ensemble of 16   loss 1.04372, accuracy 25.00%
        single samples   mean accuracy 34.38% (over the ensemble members)
      "
    `)
    expect((await sbnkit('sample', at('model.json'), '--data', at('data.json'), '--samples', '200', '--seed', '7')).out).toBe(r.out)
  })

  it('--json equals the Monte Carlo interpreter with key(seed)', async () => {
    const r = await sbnkit('sample', at('model.json'), '--data', at('data.json'), '--samples', '50', '--seed', '3', '--ensemble', '5', '--json')
    expect(r.code).toBe(0)
    const m = monteCarlo(cliNet, cliFeed, { samples: 50, key: key(3), ensemble: 5 })
    if (E.isLeft(m)) throw new Error('fixture')
    expect(JSON.parse(r.out)).toEqual({
      samples: 50, seed: 3, mean: m.right.mean, stderr: m.right.stderr,
      mode: { loss: m.right.mode.loss, accuracy: m.right.mode.accuracy },
      ensemble: { members: 5, loss: m.right.ensemble.loss, accuracy: m.right.ensemble.accuracy },
      sampleAccuracy: m.right.sampleAccuracy,
    })
  })

  it('a squared loss has no accuracy (n/a, null in JSON); one sample has no standard error', async () => {
    const r = await sbnkit('sample', at('regression.json'), '--data', at('regression-data.json'), '--samples', '1', '--seed', '0')
    expect(r.code).toBe(0)
    expect(r.out).toMatchInlineSnapshot(`
      "Monte Carlo: 1 sampled pass (seed 0) on 4 examples
        mean loss        1.29750 ± n/a (standard error)
        mode network     loss 1.09750, accuracy n/a (squared loss)
        ensemble of 1    loss 1.29750, accuracy n/a (squared loss)
        single samples   mean accuracy n/a (squared loss) (over the ensemble members)
      "
    `)
    const j = await sbnkit('sample', at('regression.json'), '--data', at('regression-data.json'), '--samples', '1', '--seed', '0', '--json')
    expect(JSON.parse(j.out)).toMatchObject({ stderr: null, mode: { accuracy: null }, ensemble: { accuracy: null } })
  })

  it('bad flags: exit 2 with the reason and the usage', async () => {
    const first = async (...flags: string[]): Promise<string> => {
      const r = await sbnkit('sample', at('model.json'), '--data', at('data.json'), ...flags)
      expect(r.code).toBe(2)
      expect(r.err).toContain('(see sbnkit sample --help)')
      return r.err.split('\n')[0]!
    }
    expect(await first('--seed', '1')).toMatchInlineSnapshot(`"sbnkit sample: expected --samples N"`)
    expect(await first('--samples', '0', '--seed', '1')).toMatchInlineSnapshot(`"sbnkit sample: --samples expects a whole number ≥ 1 in decimal digits, found "0""`)
    expect(await first('--samples', '10')).toMatchInlineSnapshot(`"sbnkit sample: expected --seed S (the same seed gives the same result)"`)
    expect(await first('--samples', '10', '--seed', '-1')).toMatchInlineSnapshot(`"sbnkit sample: Option '--seed' argument is ambiguous."`)
    expect(await first('--samples', '10', '--seed=-1')).toMatchInlineSnapshot(`"sbnkit sample: --seed expects a whole number ≥ 0 in decimal digits, found "-1""`)
    expect(await first('--samples', '10', '--seed', 'x')).toMatchInlineSnapshot(`"sbnkit sample: --seed expects a whole number ≥ 0 in decimal digits, found "x""`)
    expect(await first('--samples', '10', '--seed', '1', '--ensemble', '11')).toMatchInlineSnapshot(`"sbnkit sample: --ensemble expects a whole number in 1..10 in decimal digits, found "11" (at most --samples)"`)
    expect(await first('--samples', '10', '--seed', '1', '--grad')).toMatchInlineSnapshot(`"sbnkit sample: unknown option --grad"`)
  })

  it('bad input files and data that does not fit the model: exit 2, drawn errors, no stack trace', async () => {
    const errs: string[] = []
    for (const [model, data] of [['missing.json', 'data.json'], ['model.json', 'regression-data.json'], ['regression.json', 'data.json']] as const) {
      const r = await sbnkit('sample', at(model), '--data', at(data), '--samples', '3', '--seed', '1')
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      expect(r.err).not.toMatch(/\n\s+at /)
      errs.push(r.err)
    }
    expect(errs.join('')).toMatchInlineSnapshot(`
      "<tmp>/missing.json: cannot read the file (no such file or directory)
      <tmp>/regression-data.json: data.y: expected an array of shape [N] for input "y" of the network, found no such array
      <tmp>/data.json: data.t: expected an array of shape [N, 1] for input "t" of the network, found no such array
      "
    `)
  })
})

/**
 * `sbnkit train` re-estimates the mode network's batch norm after training (src/cli/trainDeploy.ts):
 * model.json is the deployable network, exactly `recalibrateMode` of the trained network
 * (model-sampling.json) on the fixed calibration rows; a resumed run writes the same bytes;
 * `--no-recalibrate` writes the trained network as model.json; the flags are checked.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeDataFile } from '../../src/data/file.js'
import { readModelFile } from '../../src/io/files.js'
import { referenceProducts } from '../../src/interpreters/reference/ops.js'
import { calibrationRows, recalibrateMode } from '../../src/train/calibrate.js'
import { feedDataset } from '../../src/train/evaluate.js'
import { task } from '../train/loopFixtures.js'
import { trainHarness } from './trainHarness.js'

let dir = ''
const at = (...names: string[]): string => join(dir, ...names)
const portable = (s: string): string => s.replaceAll(dir, '<tmp>').replace(/\d+\.\d s\b/g, '<t> s').replace(/\d+\.\d+s( eta \d+s)?/g, '<t>s')
const { run } = trainHarness(at, portable)
const TRAIN = task(48)

/** A tiny run with batch norm (the default) writing into `out`. */
const tiny = (out: string, ...extra: string[]): string[] => [
  '--preset', 'mlp:5', '--dataset', at('train.json'), '--validation', at('val.json'), '--test', at('test.json'),
  '--batch', '8', '--ensemble', '3', '--lr', '0.05', '--schedule', 'constant', '--log-every', '0', '--products', 'reference', '--out', at(out), ...extra,
]
const bytes = (...p: string[]): Promise<string> => readFile(at(...p), 'utf8')
const exists = (...p: string[]): Promise<boolean> => stat(at(...p)).then(() => true, () => false)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-recal-'))
  for (const [name, feed] of [['train.json', TRAIN], ['val.json', task(24, 1000)], ['test.json', task(24, 2000)]] as const)
    expect(E.isRight(await writeDataFile(at(name), feed))).toBe(true)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit train: batch norm re-estimated for the mode network', () => {
  it('law: model.json ≡ recalibrateMode(model-sampling.json, the fixed calibration rows); reported and in run.json', async () => {
    const r = await run(tiny('a', '--epochs', '2', '--recalibrate', '20'))
    expect(r.code).toBe(0)
    const lines = r.out.trim().split('\n')
    expect(lines.at(-3)).toMatch(/^test \(best parameters on validation, epoch \d\): mode .*, with the statistics of training$/)
    expect(lines.at(-2)).toMatch(/^mode network, batch norm re-estimated on 20 training rows: test \d+\.\d\d% \(loss \d+\.\d{4}\)$/)
    expect(lines.at(-1)).toMatch(/^wrote <tmp>\/a\/model.json \(deployable; for ensembles <tmp>\/a\/model-sampling.json\) /)
    expect(JSON.parse(await bytes('a', 'run.json'))).toMatchObject({ recalibrate: 20, batchNorm: true })
    const sampling = await readModelFile(at('a', 'model-sampling.json'))
    const deployed = await readModelFile(at('a', 'model.json'))
    if (E.isLeft(sampling) || E.isLeft(deployed)) throw new Error('both model files read back')
    const want = recalibrateMode(sampling.right, calibrationRows(feedDataset(TRAIN), 20), { products: referenceProducts })
    if (E.isLeft(want)) throw new Error('recalibrateMode runs')
    const names = Object.keys(want.right.params)
    const stats = (n: string): boolean => n.endsWith('.bn.mean') || n.endsWith('.bn.var')
    expect(names.filter(stats).length).toBeGreaterThan(0)
    for (const n of names) expect([...deployed.right.params[n]!], n).toEqual([...want.right.params[n]!])
    // The statistics changed, nothing else did.
    const changed = names.filter((n) => [...sampling.right.params[n]!].some((v, i) => v !== want.right.params[n]![i]))
    expect(changed.length).toBeGreaterThan(0)
    expect(changed.every(stats)).toBe(true)
  })

  it('--epochs 1, then --resume --epochs 2 ≡ --epochs 2: both model files byte for byte', async () => {
    expect((await run(tiny('whole', '--epochs', '2'))).code).toBe(0)
    expect((await run(tiny('parts', '--epochs', '1'))).code).toBe(0)
    expect((await run(['--resume', at('parts', 'checkpoint'), '--epochs', '2'])).code).toBe(0)
    expect(await bytes('parts', 'model.json')).toBe(await bytes('whole', 'model.json'))
    expect(await bytes('parts', 'model-sampling.json')).toBe(await bytes('whole', 'model-sampling.json'))
    expect(await bytes('whole', 'model.json')).not.toBe(await bytes('whole', 'model-sampling.json'))
  })

  it('--no-recalibrate: model.json is the trained network (= model-sampling.json of the same run with it), no second file', async () => {
    const r = await run(tiny('off', '--epochs', '2', '--no-recalibrate'))
    expect(r.code).toBe(0)
    expect(r.out).not.toContain('re-estimated')
    expect(await exists('off', 'model-sampling.json')).toBe(false)
    expect(JSON.parse(await bytes('off', 'run.json'))).toMatchObject({ recalibrate: 0 })
    expect(await bytes('off', 'model.json')).toBe(await bytes('whole', 'model-sampling.json'))
  })

  it('without batch norm there is nothing to re-estimate: model.json only', async () => {
    expect((await run(tiny('plain', '--epochs', '1', '--no-batch-norm'))).code).toBe(0)
    expect(await exists('plain', 'model-sampling.json')).toBe(false)
  })

  it('--json carries the re-estimated mode network', async () => {
    const r = await run(tiny('json', '--epochs', '1', '--json'))
    expect(r.code).toBe(0)
    const j = JSON.parse(r.out) as { recalibrated: { rows: number; test: { accuracy: number }; sampling: string } }
    expect(j.recalibrated).toMatchObject({ rows: 48, sampling: '<tmp>/json/model-sampling.json' })
    expect(j.recalibrated.test.accuracy).toBeGreaterThanOrEqual(0)
  })

  it('bad input: exit 2 with one line', async () => {
    const first = async (argv: string[]): Promise<string> => {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      return r.err.split('\n')[0]!
    }
    expect(await first(tiny('x', '--recalibrate', '0'))).toBe('sbnkit train: --recalibrate expects a whole number ≥ 1 in decimal digits, found "0"')
    expect(await first(tiny('x', '--recalibrate', '10', '--no-recalibrate'))).toBe('sbnkit train: --recalibrate and --no-recalibrate contradict each other')
    expect(await first(['--resume', at('a', 'checkpoint'), '--no-recalibrate'])).toBe(
      'sbnkit train: the run\'s settings are fixed when it starts; recalibrate is 20 in run.json, found 0 (only --epochs may change)',
    )
  })
})

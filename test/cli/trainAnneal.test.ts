/**
 * `sbnkit train --anneal S`, in process on tiny dataset files: the noise of every epoch, the run
 * equal to `trainAnnealed` of the API, bit-identical resumes (after an interruption inside an
 * annealed epoch, and from a model file), and bad input.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/cli/io.js'
import { writeDataFile } from '../../src/data/file.js'
import { writeModelFile } from '../../src/io/files.js'
import { readCheckpoint } from '../../src/train/checkpoint.js'
import { trainHarness } from './trainHarness.js'
import { task, tinyNet } from '../train/loopFixtures.js'

let dir = ''
const at = (...names: string[]): string => join(dir, ...names)
const portable = (s: string): string => s.replaceAll(dir, '<tmp>')
const { quietDeps, run } = trainHarness(at, portable)
const tiny = (out: string, ...extra: string[]): string[] => [
  '--dataset', at('train.json'), '--validation', at('val.json'), '--test', at('test.json'), '--batch', '8', '--ensemble', '3',
  '--lr', '0.05', '--schedule', 'cosine', '--no-batch-norm', '--log-every', '2', '--products', 'reference', '--out', at(out), ...extra,
]
const bytes = (...p: string[]): Promise<string> => readFile(at(...p), 'utf8')
const timeless = (log: string): string => log.replace(/"seconds":[0-9.e-]+/g, '"seconds":0')
/** The noises of a model file, in order of appearance. */
const noises = (model: string): string[] => [...model.matchAll(/"noise":\s*"([^"]+)"/g)].map((m) => m[1]!)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-anneal-'))
  for (const [name, feed] of [['train.json', task(48)], ['val.json', task(24, 1000)], ['test.json', task(24, 2000)]] as const)
    expect(E.isRight(await writeDataFile(at(name), feed))).toBe(true)
  expect(E.isRight(await writeModelFile(at('model.json'), tinyNet()))).toBe(true)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit train --anneal', () => {
  it('says the scale of every epoch; the model holds the noise of the last epoch', async () => {
    const r = await run(tiny('a', '--preset', 'mlp:5', '--epochs', '3', '--anneal', '0.25'))
    expect(r.code).toBe(0)
    expect(r.out.split('\n')[2]).toBe('  noise annealed per epoch: ×1, ×0.5, ×0.25 of the base scales')
    expect(r.out).toMatch(/\nepoch 3\/3: .*\ntest \(best parameters on validation, epoch \d\): mode /)
    expect(new Set(noises(await bytes('a', 'model.json')))).toEqual(new Set(['logistic(0.25)']))
  })

  it('law: an interrupted annealed run, resumed, equals the uninterrupted one (model file byte for byte, log)', async () => {
    let fire = (): void => undefined
    const io = memoryIo()
    // SIGINT arrives while the progress bar of epoch 2 (noise ×0.5) is drawn.
    const spy: typeof io = { ...io, err: (t) => (io.err(t), t.startsWith('epoch 2/3') ? fire() : undefined) }
    const cut = await run(tiny('cut', '--preset', 'mlp:5', '--epochs', '3', '--anneal', '0.25'), quietDeps({ signals: (cb) => ((fire = cb), () => undefined) }), spy)
    expect(cut.code).toBe(130)
    const back = await readCheckpoint(at('cut', 'checkpoint'))
    expect(E.isRight(back) && [back.right.state.epoch, back.right.state.step]).toEqual([1, 1])
    // The checkpoint holds the network of its epoch, with the noise ×0.5.
    const pointer = JSON.parse(await bytes('cut', 'checkpoint')) as { model: string }
    expect(new Set(noises(await bytes('cut', pointer.model)))).toEqual(new Set(['logistic(0.5)']))
    const resumed = await run(['--resume', at('cut', 'checkpoint')])
    expect(resumed.code).toBe(0)
    expect(resumed.out.split('\n')[2]).toBe('  noise annealed per epoch: ×1, ×0.5, ×0.25 of the base scales')
    expect(await bytes('cut', 'model.json')).toBe(await bytes('a', 'model.json'))
    expect(timeless(await bytes('cut', 'log.jsonl'))).toBe(timeless(await bytes('a', 'log.jsonl')))
  })

  it('law: an annealed run from a model file, interrupted and resumed (re-reading the file), equals the uninterrupted one', async () => {
    const whole = await run(tiny('m', '--model', at('model.json'), '--epochs', '2', '--anneal', '0.5'))
    expect(whole.code).toBe(0)
    expect(new Set(noises(await bytes('m', 'model.json')))).toEqual(new Set(['logistic(0.5)']))
    let fire = (): void => undefined
    const io = memoryIo()
    const spy: typeof io = { ...io, err: (t) => (io.err(t), t.startsWith('epoch 2/2') ? fire() : undefined) }
    expect((await run(tiny('mcut', '--model', at('model.json'), '--epochs', '2', '--anneal', '0.5'), quietDeps({ signals: (cb) => ((fire = cb), () => undefined) }), spy)).code).toBe(130)
    expect((await run(['--resume', at('mcut', 'checkpoint')])).code).toBe(0)
    expect(await bytes('mcut', 'model.json')).toBe(await bytes('m', 'model.json'))
  })

  it('bad input: exit 2 with one line', async () => {
    for (const [value, found] of [['1', '1'], ['0', '0'], ['1.5', '1.5'], ['half', 'half']]) {
      const r = await run(tiny('bad', '--preset', 'mlp:5', '--anneal', value!))
      expect(r.code).toBe(2)
      expect(r.err.split('\n')[0]).toBe(`sbnkit train: --anneal expects a final noise scale in (0, 1) in decimal, found "${found}"`)
    }
    // The cosine schedule's total and the scales depend on the epochs: a longer resume is refused.
    const longer = await run(['--resume', at('a', 'checkpoint'), '--epochs', '4'])
    expect(longer.code).toBe(2)
    expect(longer.err.split('\n')[0]).toMatch(/^sbnkit train: cannot resume: the checkpoint was made with other settings \(.*schedule: checkpoint cosine:3, now cosine:4/)
    expect((await run(['--resume', at('a', 'checkpoint'), '--anneal', '0.5'])).err.split('\n')[0])
      .toBe('sbnkit train: the run\'s settings are fixed when it starts; anneal is 0.25 in run.json, found 0.5 (only --epochs may change)')
  })
})

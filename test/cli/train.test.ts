/**
 * `sbnkit train`, in process on tiny dataset files: what it prints and writes, bit-identical
 * resume through the files (after --epochs, after an interruption, after a full disk), divergence,
 * and bad input. One quick run on the MNIST package.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/cli/io.js'
import { main } from '../../src/cli/main.js'
import { writeDataFile } from '../../src/data/file.js'
import { fileIo, readCheckpoint } from '../../src/train/checkpoint.js'
import { trainHarness } from './trainHarness.js'
import { task } from '../train/loopFixtures.js'

let dir = ''
const at = (...names: string[]): string => join(dir, ...names)
const portable = (s: string): string => s.replaceAll(dir, '<tmp>').replace(/\d+\.\d s\b/g, '<t> s').replace(/\d+\.\d+s( eta \d+s)?/g, '<t>s')

const { quietDeps, run } = trainHarness(at, portable)
/** The flags of a tiny run writing into `out`. */
const tiny = (out: string, ...extra: string[]): string[] => [
  '--preset', 'mlp:5', '--dataset', at('train.json'), '--validation', at('val.json'), '--test', at('test.json'),
  '--batch', '8', '--ensemble', '3', '--lr', '0.05', '--schedule', 'constant', '--no-batch-norm', '--log-every', '2', '--products', 'reference', '--out', at(out), ...extra,
]
const bytes = (...p: string[]): Promise<string> => readFile(at(...p), 'utf8')
const timeless = (log: string): string => log.replace(/"seconds":[0-9.e-]+/g, '"seconds":0')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-train-'))
  for (const [name, feed] of [['train.json', task(48)], ['val.json', task(24, 1000)], ['test.json', task(24, 2000)]] as const)
    expect(E.isRight(await writeDataFile(at(name), feed))).toBe(true)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit train', () => {
  it('trains, prints one line per epoch and the test result, and writes the run directory', async () => {
    const r = await run(tiny('a', '--epochs', '2'))
    expect(r.code).toBe(0)
    expect(r.out).toMatchInlineSnapshot(`
      "training mlp 6→5→3 on <tmp>/train.json: 48 training examples
        recipe md (adam(0.9,0.999)), real parameters perParameterLr(adam(0.9,0.999)), estimator st (weights st), lr 0.05 (constant), 2 epochs of 6 steps (batch 8), seed 0, products reference
      epoch 1/2: train loss 1.7694, validation mode 33.33% (loss 1.2726), ensemble of 3 37.50% (loss 1.1919) (best), <t> s
      epoch 2/2: train loss 1.5494, validation mode 20.83% (loss 1.3752), ensemble of 3 45.83% (loss 0.9953) (best: epoch 1), <t> s
      test (best parameters on validation, epoch 1): mode 20.83% (loss 1.4209), ensemble of 3 41.67% (loss 1.0382)
      wrote <tmp>/a/model.json (best parameters on validation, epoch 1); checkpoint <tmp>/a/checkpoint; log <tmp>/a/log.jsonl
      "
    `)
    expect(r.err).toContain('epoch 2/2 [########################] 6/6')
    const log = (await bytes('a', 'log.jsonl')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number })
    expect(log.map((l) => `${l.type}@${l.step}`)).toEqual(['step@2', 'step@4', 'step@6', 'epoch@6', 'step@8', 'step@10', 'step@12', 'epoch@12', 'test@12'])
    expect(JSON.parse(await bytes('a', 'run.json'))).toMatchObject({ format: 'sbnkit-train-run/1', preset: 'mlp:5', epochs: 2, lr: 0.05 })
    const back = await readCheckpoint(at('a', 'checkpoint'))
    expect(E.isRight(back) && back.right.state.epoch).toBe(2)
    // The final model is an ordinary model file.
    const check = memoryIo()
    expect(await main(['check', at('a', 'model.json')], check)).toBe(0)
  })

  it('--json prints the result as one JSON object', async () => {
    const r = await run(tiny('json', '--epochs', '1', '--json'))
    expect(r.code).toBe(0)
    const j = JSON.parse(r.out) as Record<string, unknown>
    expect(j).toMatchObject({ outcome: 'completed', epochs: 1, steps: 6, parameters: 'best', bestEpoch: 1, model: '<tmp>/json/model.json' })
    expect((j['test'] as { examples: number }).examples).toBe(24)
  })

  it('--epochs 1, then --resume --epochs 2 ≡ --epochs 2: the same model file byte for byte and the same log', async () => {
    expect((await run(tiny('whole', '--epochs', '2'))).code).toBe(0)
    expect((await run(tiny('parts', '--epochs', '1'))).code).toBe(0)
    const r = await run(['--resume', at('parts', 'checkpoint'), '--epochs', '2'])
    expect(r.code).toBe(0)
    expect(r.out.split('\n')[0]).toBe('resuming at epoch 2, step 1: mlp 6→5→3 on <tmp>/train.json: 48 training examples')
    expect(await bytes('parts', 'model.json')).toBe(await bytes('whole', 'model.json'))
    expect(timeless(await bytes('parts', 'log.jsonl'))).toBe(timeless(await bytes('whole', 'log.jsonl')))
  })

  it('an interruption writes a checkpoint and exits 130; the resumed run equals the uninterrupted one', async () => {
    expect((await run(tiny('full3', '--epochs', '3'))).code).toBe(0)
    let fire = (): void => undefined
    const io = memoryIo()
    // SIGINT arrives while the progress bar of epoch 2 is drawn.
    const spy: typeof io = { ...io, err: (t) => (io.err(t), t.startsWith('epoch 2/3') ? fire() : undefined) }
    const cut = await run(tiny('cut3', '--epochs', '3'), quietDeps({ signals: (cb) => ((fire = cb), () => undefined) }), spy)
    expect(cut.code).toBe(130)
    expect(cut.err).toContain('sbnkit train: interrupted at epoch 2, step 1; checkpoint written: resume with sbnkit train --resume <tmp>/cut3/checkpoint\n')
    const back = await readCheckpoint(at('cut3', 'checkpoint'))
    expect(E.isRight(back) && [back.right.state.epoch, back.right.state.step]).toEqual([1, 1])
    expect((await run(['--resume', at('cut3', 'checkpoint')])).code).toBe(0)
    expect(await bytes('cut3', 'model.json')).toBe(await bytes('full3', 'model.json'))
    expect(timeless(await bytes('cut3', 'log.jsonl'))).toBe(timeless(await bytes('full3', 'log.jsonl')))
  })

  it('a full disk while writing a checkpoint: exit 2, a clear message, the previous checkpoint intact and resumable', async () => {
    let states = 0
    const full = quietDeps({
      checkpointIo: {
        ...fileIo,
        write: async (path, data) =>
          path.endsWith('.state.json') && ++states === 2 ? E.left(`${path}: cannot write the file (no space left on the device)`) : fileIo.write(path, data),
      },
    })
    const r = await run(tiny('full', '--epochs', '2'), full)
    expect(r.code).toBe(2)
    expect(r.err.split('\n').filter((l) => l.startsWith('sbnkit'))).toEqual([
      'sbnkit train: cannot write the checkpoint after epoch 2: <tmp>/full/ckpt-000002.state.json: cannot write the file (no space left on the device); any earlier checkpoint is left as it was',
      'sbnkit train: the last good checkpoint is <tmp>/full/checkpoint (after epoch 1); continue with sbnkit train --resume <tmp>/full/checkpoint',
    ])
    const back = await readCheckpoint(at('full', 'checkpoint'))
    expect(E.isRight(back) && back.right.generation).toBe(1)
    expect((await run(['--resume', at('full', 'checkpoint')])).code).toBe(0)
    expect(await bytes('full', 'model.json')).toBe(await bytes('whole', 'model.json'))
  })

  it('divergence: exit 2 naming the epoch and step; the last good checkpoint stays', async () => {
    const r = await run(tiny('nan', '--epochs', '3', '--optimizer', 'sgd', '--lr', '2', '--schedule', 'step:1:1e308'))
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/\nsbnkit train: training diverged at epoch 2, step 1 \(optimizer step 7 of the run\): the updated parameter \S+ is (NaN|-?Infinity); nothing was written for this step \(try a smaller learning rate\)\nsbnkit train: resuming would replay the same settings; start a new run with a smaller learning rate \(say --lr \S+\) \(the last good checkpoint is <tmp>\/nan\/checkpoint, after epoch 1\)\n$/)
    const back = await readCheckpoint(at('nan', 'checkpoint'))
    expect(E.isRight(back) && back.right.state.epoch).toBe(1)
  })

  it('bad input: exit 2 with one line saying what is wrong', async () => {
    const first = async (argv: string[]): Promise<string> => {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      return r.err.split('\n')[0]!
    }
    expect(await first(['--preset', 'mlp:5', '--dataset', at('train.json')])).toBe('sbnkit train: expected --out DIR (checkpoints, log and the final model go there)')
    expect(await first(['--preset', 'mlp:5', '--model', 'm.json', '--dataset', 'mnist', '--out', at('x')])).toBe('sbnkit train: expected exactly one of --model FILE and --preset mlp:W1,W2,…|conv')
    expect(await first(tiny('x', '--estimator', 'magic'))).toMatch(/^sbnkit train: --estimator: unknown estimator "magic"; expected one of st, /)
    expect(await first(tiny('x', '--recipe', 'sgd'))).toBe('sbnkit train: --recipe: expected one of md, st-gd, bnn, decay, bop, found "sgd"')
    expect(await first(tiny('x', '--recipe', 'bop', '--optimizer', 'adam'))).toMatch(/^sbnkit train: --recipe: recipe bop: Bop is its own optimizer/)
    expect(await first(['--preset', 'mlp:5', '--dataset', 'mnst', '--out', at('x')])).toBe('sbnkit train: --dataset expects mnist, mnist-subset, fashion-mnist, cifar10 or a dataset file, found "mnst" (no such file); did you mean "mnist"?')
    expect(await first(tiny('x', '--lr', '0'))).toBe('sbnkit train: --lr expects a number > 0 in decimal, found "0"')
    expect(await first(tiny('x', '--preset', 'mlp'))).toBe('sbnkit train: --preset: expected mlp:W1,W2,… or conv[:C1,C2], found "mlp"')
    expect(await first(tiny('x', '--preset', 'conv'))).toBe('sbnkit train: --preset conv needs images x of shape [N, channels, rows, cols], found per-example shape [6]')
    expect(await first(tiny('x', '--site', 'layer9.act=arm'))).toBe('sbnkit train: option site: expected a stochastic site of the network (layer1.W, layer1.act), found "layer9.act"')
    expect(await first(tiny('x', '--patience', '2', '--validation', at('val.json'), '--dataset', at('nope.json')))).toMatch(/^sbnkit train: <tmp>\/nope.json: cannot read the file/)
    expect(await first(tiny('a'))).toBe('sbnkit train: <tmp>/a already holds a run (<tmp>/a/checkpoint); continue it with --resume <tmp>/a/checkpoint or choose another --out')
    expect(await first(['--resume', at('a', 'checkpoint'), '--lr', '0.1'])).toBe('sbnkit train: the run\'s settings are fixed when it starts; lr is 0.05 in run.json, found 0.1 (only --epochs may change)')
    expect(await first(['--resume', at('missing', 'checkpoint')])).toBe('sbnkit train: <tmp>/missing/checkpoint: cannot read the file (no such file or directory)')
  })

  it('--recipe bop defaults to SGD; --recipe bnn to deterministic hardtanh ST and uniform noises', async () => {
    const bop = await run(tiny('bop', '--epochs', '1', '--recipe', 'bop'))
    expect(bop.code).toBe(0)
    expect(bop.out.split('\n')[1]).toMatch(/^ {2}recipe bop \(bop\(gamma=0.0001,threshold=1e-8\)\), real parameters sgd, estimator st /)
    const bnn = await run(tiny('bnn', '--epochs', '1', '--recipe', 'bnn'))
    expect(bnn.code).toBe(0)
    expect(bnn.out.split('\n')[1]).toMatch(/^ {2}recipe bnn \(clip\[-1,1\]\(adam\(0.9,0.999\)\)\), real parameters adam\(0.9,0.999\), estimator det:hardtanh /)
    expect(await bytes('bnn', 'model.json')).toContain('uniform(1)')
  })

  it('a quick run on the MNIST package (--limit)', async () => {
    const r = await run(['--preset', 'mlp:8', '--dataset', 'mnist-subset', '--limit', '128', '--epochs', '1', '--ensemble', '2', '--out', at('mnist')])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^training mlp 784→8→10 on mnist@[\d.]+: 128 training images/)
    expect(r.out).toMatch(/\ntest \(best parameters on validation, epoch 1\): mode \d+\.\d\d% .*, ensemble of 2 \d+\.\d\d% /)
  }, 60000)
})

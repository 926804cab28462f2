/**
 * The main job's second core (src/cli/startSide.ts): a job gives the same bits on the worker
 * thread as on the main thread (the gradient lab, an evaluation, an ensemble's later members),
 * and the validation posted at each epoch's end equals the loop's own validation, with the same
 * trained parameters (full MNIST through the cache, a tiny budget).
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { standardCacheDir } from '../../src/data/cache.js'
import { foldIn, key } from '../../src/dsl/random.js'
import { startSettings } from '../../src/cli/start.js'
import type { JobContext, Side } from '../../src/cli/startSide.js'
import { evaluateJob, inThread, onWorker, validateBeside } from '../../src/cli/startSide.js'
import { buildConfig, buildPreset, loadData, withNetworkSettings } from '../../src/cli/trainSetup.js'
import { productsOf } from '../../src/train/config.js'
import { trainAnnealed } from '../../src/train/anneal.js'
import { withBatchNormMode } from '../../src/train/modes.js'

const setup = async () => {
  const settings = startSettings(2, 256)
  const cacheDir = standardCacheDir()
  const data = await loadData(settings, 'flat', cacheDir)
  if (E.isLeft(data)) throw new Error(data.left)
  const preset = buildPreset(settings, data.right)
  const built = buildConfig(settings)
  if (E.isLeft(preset) || E.isLeft(built)) throw new Error('the main job did not build')
  const config = { ...withNetworkSettings(built.right.config, preset.right.net, settings), threads: 1 }
  const ctx: JobContext = { data: data.right.data, kernels: productsOf(config).products }
  const worker = (): Side => onWorker({ settings, cacheDir, kernels: productsOf(config).name === 'fast' ? 'fast' : 'reference' }, ctx)
  return { settings, data: data.right.data, net: preset.right.net, config, ctx, worker }
}

describe('the main job beside its training', () => {
  it('a job gives the same bits on the worker thread as on the main thread (gradient lab, evaluation)', async () => {
    const { net, ctx, worker } = await setup()
    const side = worker()
    try {
      const evaluation = evaluateJob(withBatchNormMode(net, 'inference'), 'validation', 3, foldIn(key(3), 1))
      const jobs = [{ _tag: 'Gradeval', draws: 8 } as const, evaluation, { _tag: 'Members', of: evaluation, from: 1 } as const]
      const there = await Promise.all(jobs.map((j) => side.run(j)))
      expect(side.where()).toBe('worker thread')
      const here = await Promise.all(jobs.map((j) => inThread(ctx, 'the serial path').run(j)))
      expect(there.every(E.isRight)).toBe(true)
      // The lab's wall-clock timings are the only field allowed to differ.
      const untimed = (r: (typeof here)[number]) => (E.isRight(r) && 'timing' in r.right ? { ...r.right, timing: {} } : r)
      expect(there.map(untimed)).toEqual(here.map(untimed))
    } finally {
      await side.close()
    }
  }, 240_000)

  it('validation posted at each epoch end ≡ the loop\'s own validation (same parameters, same scores)', async () => {
    const { settings, data, net, config, worker } = await setup()
    const inLoop = await trainAnnealed(net, data, config, { final: 1 })
    const side = worker()
    try {
      const beside = validateBeside(side, settings.seed, config.ensemble)
      const { validation: _, ...noValidation } = data
      const moved = await trainAnnealed(net, noValidation, config, { final: 1 }, { checkpoint: beside.checkpoint })
      if (E.isLeft(inLoop) || E.isLeft(moved)) throw new Error('training failed')
      expect(moved.right.last.params).toEqual(inLoop.right.last.params)
      const scores = await beside.results()
      expect(scores).toEqual(E.right(inLoop.right.state.history.map((h) => h.validation)))
      expect(side.where()).toBe('worker thread')
    } finally {
      await side.close()
    }
  }, 240_000)
})

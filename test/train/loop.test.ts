/**
 * The training loop on a tiny task: purity in (model, data, config), bit-identical resume (at an
 * epoch boundary and mid-epoch), divergence, early stopping, batch-norm running statistics,
 * failing checkpoints, configuration errors, and every recipe end to end.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { parseEstimator, reinforce } from '../../src/estimators/estimator.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { Checkpoint, TrainError, TrainResult } from '../../src/train/loop.js'
import { drawTrainError, train } from '../../src/train/loop.js'
import type { LogRecord } from '../../src/train/log.js'
import { sgd } from '../../src/train/optimizers.js'
import { drawRoutingError } from '../../src/train/routing.js'
import { recipeNames } from '../../src/train/recipes.js'
import { right, sameBits, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

const draw = (e: TrainError): string => drawTrainError(e, drawRunError, drawRoutingError)
const ok = (r: E.Either<TrainError, TrainResult>): TrainResult => {
  if (E.isLeft(r)) throw new Error(draw(r.left))
  return r.right
}
/** Records without wall-clock time. */
const timeless = (rs: readonly LogRecord[]): unknown[] => rs.map((r) => (r.type === 'epoch' ? { ...r, seconds: 0 } : r))

describe('train', () => {
  it('is a pure function of (model, data, config): the same run twice is identical, another seed differs', async () => {
    const a = ok(await train(tinyNet(), tinyData(), tinyConfig()))
    const b = ok(await train(tinyNet(), tinyData(), tinyConfig()))
    const c = ok(await train(tinyNet(), tinyData(), tinyConfig({ seed: 12 })))
    expect(sameBits(a.last.params, b.last.params)).toBe(true)
    expect(sameBits(a.last.params, c.last.params)).toBe(false)
    expect(timeless(a.state.history)).toEqual(timeless(b.state.history))
    expect(a.outcome).toBe('completed')
    expect(a.state).toMatchObject({ epoch: 2, step: 0, globalStep: 12 })
    expect(a.test?.examples).toBe(24)
  })

  it('learns the tiny task: the best validation mode accuracy in 10 epochs is far above chance', async () => {
    const r = ok(await train(tinyNet({ kind: 'mlp', hidden: [16] }), tinyData(), tinyConfig({ epochs: 10 })))
    // 3 classes: chance is about 1/3 (a fixed seed: this pins one deterministic run).
    expect(r.state.best!.score).toBeGreaterThanOrEqual(0.75)
    expect(r.test!.mode.accuracy).toBeGreaterThan(0.5)
  })

  it('resume is bit-identical: 2 epochs in one go ≡ 1 epoch, then resume for a second', async () => {
    const whole = ok(await train(tinyNet(), tinyData(), tinyConfig({ schedule: { kind: 'constant' } })))
    const saved: Checkpoint[] = []
    const first = ok(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 1 }), { checkpoint: async (c) => (saved.push(c), E.right(undefined)) }))
    expect(first.state.epoch).toBe(1)
    const c = saved.at(-1)!
    const rest = ok(await train(c.net, tinyData(), tinyConfig({ epochs: 2 }), {}, c.state))
    expect(sameBits(rest.last.params, whole.last.params)).toBe(true)
    expect(rest.state.optimizer.map((s) => s.step)).toEqual(whole.state.optimizer.map((s) => s.step))
    for (const [i, s] of rest.state.optimizer.entries())
      for (const [name, slots] of Object.entries(s.slots))
        slots.forEach((slot, j) => expect(sameBits({ s: slot }, { s: whole.state.optimizer[i]!.slots[name]![j]! })).toBe(true))
    expect(timeless(rest.state.history)).toEqual(timeless(whole.state.history))
    expect(rest.test).toEqual(whole.test)
  })

  it('resume mid-epoch after an interruption is bit-identical, with a cosine schedule, REINFORCE baseline and logs', async () => {
    const config = tinyConfig({ schedule: { kind: 'cosine' }, estimator: reinforce({ baseline: true }), epochs: 3 })
    const logsWhole: LogRecord[] = []
    const whole = ok(await train(tinyNet(), tinyData(), config, { onLog: (r) => void logsWhole.push(r) }))
    let steps = 0
    const saved: Checkpoint[] = []
    const logs: LogRecord[] = []
    const cut = ok(await train(tinyNet(), tinyData(), config, {
      onStep: () => void steps++,
      shouldStop: () => steps === 9,
      checkpoint: async (c) => (saved.push(c), E.right(undefined)),
      onLog: (r) => void logs.push(r),
    }))
    expect(cut.outcome).toBe('interrupted')
    expect(cut.state).toMatchObject({ epoch: 1, step: 3, globalStep: 9 })
    const c = saved.at(-1)!
    expect(c.state.globalStep).toBe(9)
    const rest = ok(await train(c.net, tinyData(), config, { onLog: (r) => void logs.push(r) }, c.state))
    expect(sameBits(rest.last.params, whole.last.params)).toBe(true)
    expect(sameBits(rest.net.params, whole.net.params)).toBe(true)
    expect(timeless(logs)).toEqual(timeless(logsWhole))
  })

  it('divergence stops with the epoch and step, after the last good checkpoint', async () => {
    // Epoch 1 at lr 0.1; from epoch 2 the rate is infinite and the first update overflows.
    const saved: Checkpoint[] = []
    const r = await train(tinyNet(), tinyData(), tinyConfig({ optimizer: sgd(), lr: 0.1, schedule: { kind: 'step', every: 1, gamma: Infinity }, epochs: 3 }), {
      checkpoint: async (c) => (saved.push(c), E.right(undefined)),
    })
    expect(E.isLeft(r)).toBe(true)
    if (E.isRight(r)) return
    expect(r.left).toMatchObject({ _tag: 'Diverged', epoch: 1 })
    expect(draw(r.left)).toMatch(/^training diverged at epoch 2, step \d+ \(optimizer step \d+ of the run\): the (minibatch loss|updated parameter|gradient of) .*; nothing was written for this step/)
    expect(saved.map((c) => c.state.epoch)).toEqual([1])
  })

  it('early stopping: no strict improvement for `patience` epochs stops, returning the best parameters', async () => {
    // A rate of 1e-12 leaves the mode network unchanged, so validation accuracy never improves.
    const r = ok(await train(tinyNet(), tinyData(), tinyConfig({ lr: 1e-12, patience: 2, epochs: 10 })))
    expect(r.outcome).toBe('early-stopped')
    expect(r.state.epoch).toBe(3)
    expect(r.state.best?.epoch).toBe(1)
    expect(r.parameters).toBe('best')
    expect(sameBits(r.net.params, r.state.best!.params)).toBe(true)
    expect(r.state.history.map((h) => h.bestEpoch)).toEqual([1, 1, 1])
  })

  it('batch norm: trained in train mode, running statistics averaged, returned in inference mode', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [5] }, true)
    expect(Array.from(net.params['layer1.bn.mean']!)).toEqual([0, 0, 0, 0, 0])
    const r = ok(await train(net, tinyData(), tinyConfig({ epochs: 1 })))
    const mean = r.last.params['layer1.bn.mean']!
    expect(mean.some((v) => v !== 0)).toBe(true)
    expect(r.last.params['layer1.bn.var']!.every((v) => v > 0)).toBe(true)
    const bn = Object.values(r.net.outputs).map((o) => JSON.stringify(o, (k, v: unknown) => (k === 'mode' ? v : v))).join('')
    expect(bn).toContain('"mode":"inference"')
    expect(bn).not.toContain('"mode":"train"')
  })

  it('a checkpoint that cannot be written stops the run with its reason', async () => {
    const r = await train(tinyNet(), tinyData(), tinyConfig(), { checkpoint: async () => E.left('runs/ckpt-000001.json: cannot write the file (no space left on the device)') })
    expect(E.isLeft(r) && draw(r.left)).toBe(
      'cannot write the checkpoint after epoch 1: runs/ckpt-000001.json: cannot write the file (no space left on the device); any earlier checkpoint is left as it was',
    )
  })

  it('refuses to resume under other settings, naming them', async () => {
    const saved: Checkpoint[] = []
    ok(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 1 }), { checkpoint: async (c) => (saved.push(c), E.right(undefined)) }))
    const r = await train(saved[0]!.net, tinyData(), tinyConfig({ lr: 0.01, batchSize: 4 }), {}, saved[0]!.state)
    expect(E.isLeft(r) && draw(r.left)).toBe(
      'cannot resume: the checkpoint was made with other settings (lr: checkpoint 0.05, now 0.01; batchSize: checkpoint 8, now 4); resume with the checkpoint\'s settings',
    )
  })

  it('configuration errors are values with the option, what was expected and what was found', async () => {
    const cases: Array<[Parameters<typeof tinyConfig>[0], string]> = [
      [{ batchSize: 0 }, 'option batch size: expected a whole number ≥ 1, found 0'],
      [{ lr: Number.NaN }, 'option learning rate: expected a finite number > 0, found NaN'],
      [{ ensemble: 0 }, 'option ensemble: expected a whole number of members ≥ 1, found 0'],
      [{ seed: -1 }, 'option seed: expected an integer in [0, 2^53), found -1'],
      [{ sites: { nope: parseEstimator('arm')! } }, 'option site: expected a stochastic site of the network (layer1.W, layer1.act), found "nope"'],
    ]
    for (const [over, message] of cases) {
      const r = await train(tinyNet(), tinyData(), tinyConfig(over))
      expect(E.isLeft(r) && draw(r.left)).toBe(message)
    }
    const noValidation = await train(tinyNet(), { train: tinyData().train }, tinyConfig({ patience: 3 }))
    expect(E.isLeft(noValidation) && draw(noValidation.left)).toBe('option patience: expected a validation set to watch (early stopping needs one), found none')
  })

  it('every recipe trains end to end and moves the latent weights', async () => {
    for (const name of recipeNames) {
      const net = tinyNet()
      const r = ok(await train(net, tinyData(), tinyConfig({ epochs: 1 }, name)))
      expect(sameBits(r.last.params, net.params), name).toBe(false)
      expect(r.last.params['layer1.W']!.every(Number.isFinite), name).toBe(true)
    }
  })

  it('per-site estimators: an ARM activation site with ST weights trains', async () => {
    const r = ok(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 1, sites: { 'layer1.act': parseEstimator('arm')! } })))
    expect(r.state.config['sites']).toBe('[["layer1.act","arm"]]')
  })

  it('a conv preset trains on 28×28 inputs', async () => {
    const { presetNetwork } = await import('../../src/train/presets.js')
    const { key } = await import('../../src/dsl/random.js')
    const net = right(presetNetwork({ kind: 'conv', channels: [2, 2] }, { inputShape: [1, 28, 28], classes: 3, key: key(1) }))
    const x = new Float64Array(6 * 784).map((_, i) => Math.sin(i))
    const feed = { x: { shape: [6, 1, 28, 28], data: x }, y: { shape: [6], data: Float64Array.of(0, 1, 2, 0, 1, 2) } }
    const { feedDataset } = await import('../../src/train/evaluate.js')
    const r = ok(await train(net, { train: feedDataset(feed), validation: feedDataset(feed) }, tinyConfig({ epochs: 1, batchSize: 3, ensemble: 2 })))
    expect(r.state.globalStep).toBe(2)
  })
})

describe('log lines', () => {
  it('JSON lines with null for NaN; truncateLog keeps what precedes a step and drops torn lines', async () => {
    const { logLine, truncateLog } = await import('../../src/train/log.js')
    const test = { examples: 2, mode: { loss: 1, accuracy: Number.NaN }, ensemble: { loss: 1, accuracy: Number.NaN, members: 2 } }
    expect(logLine({ type: 'test', epoch: 1, step: 4, parameters: 'last', test })).toBe(
      '{"type":"test","epoch":1,"step":4,"parameters":"last","test":{"examples":2,"mode":{"loss":1,"accuracy":null},"ensemble":{"loss":1,"accuracy":null,"members":2}}}\n',
    )
    const lines = [1, 2, 3].map((step) => logLine({ type: 'step', epoch: 0, step, loss: 0.5, lr: 0.1 }))
    expect(truncateLog(lines.join('') + '{"type":"ste', 2)).toBe(lines[0]! + lines[1]!)
  })
})

/**
 * Data parallelism (train/parallel/): with the minibatch cut into `parts`, a run is the same bits
 * on 1, 2 and 3 threads, through resumes that change the thread count; parts P only reorders the
 * sums of parts 1 (≈ to rounding); a worker that throws or exits ends the run with ThreadFailed
 * after a checkpoint; unsupported combinations are configuration errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import { arm, psa, reinforce, st } from '../../src/estimators/estimator.js'
import { gradient } from '../../src/estimators/gradient.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { referenceProducts } from '../../src/interpreters/reference/ops.js'
import type { MatrixProducts } from '../../src/interpreters/reference/ops.js'
import type { TrainConfig } from '../../src/train/config.js'
import { checkConfig, referenceProductChoice } from '../../src/train/config.js'
import { feedDataset } from '../../src/train/evaluate.js'
import { wasmProducts } from '../../src/train/fast/index.js'
import type { Checkpoint, TrainData, TrainError, TrainResult } from '../../src/train/loop.js'
import { drawTrainError, train } from '../../src/train/loop.js'
import { withBatchNormMode } from '../../src/train/modes.js'
import { localRows } from '../../src/train/parallel/rows.js'
import { watchTeams } from '../../src/train/parallel/team.js'
import { presetNetwork } from '../../src/train/presets.js'
import { drawRoutingError } from '../../src/train/routing.js'
import { right, sameBits, task, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

const ok = (r: E.Either<TrainError, TrainResult>): TrainResult => {
  if (E.isLeft(r)) throw new Error(drawTrainError(r.left, drawRunError, drawRoutingError))
  return r.right
}
const timeless = (xs: readonly object[]): unknown => JSON.parse(JSON.stringify(xs, (k, v: unknown) => (k === 'seconds' ? 0 : v)))

/** Parameters, optimizer slots, history (validation) and test evaluation, bit for bit. */
const expectSameRun = (a: TrainResult, b: TrainResult, what: string): void => {
  expect(sameBits(a.last.params, b.last.params), `${what}: parameters`).toBe(true)
  a.state.optimizer.forEach((s, i) => Object.entries(s.slots).forEach(([name, slots]) =>
    slots.forEach((slot, j) => expect(sameBits({ s: slot }, { s: b.state.optimizer[i]!.slots[name]![j]! }), `${what}: optimizer ${name}`).toBe(true))))
  expect(timeless(a.state.history), `${what}: validation`).toEqual(timeless(b.state.history))
  expect(a.test, `${what}: test`).toEqual(b.test)
}

// Batch 10 over 48 rows: the last minibatch has 8 rows, and parts 3 cut 10 rows unevenly.
const config = (parts: number, threads: number, over: Partial<TrainConfig> = {}): TrainConfig =>
  tinyConfig({ parts, threads, evaluation: 'reference', epochs: 2, batchSize: 10, ...over })

/** n images 1×8×8 of pixels in [0, 1) and labels 0–2. */
const images = (n: number, offset: number): Feed => ({
  x: { shape: [n, 1, 8, 8], data: Float64Array.from({ length: n * 64 }, (_, i) => (Math.sin(0.37 * (i + offset * 64)) + 1) / 2) },
  y: { shape: [n], data: Float64Array.from({ length: n }, (_, e) => (e * 7 + offset) % 3) },
})
const imageData = (): TrainData => ({ train: feedDataset(images(20, 0)), validation: feedDataset(images(8, 100)), test: feedDataset(images(8, 200)) })
const convNet = () => right(presetNetwork({ kind: 'conv', channels: [4, 6] }, { inputShape: [1, 8, 8], classes: 3, key: key(5), batchNorm: true }))

describe('data parallelism: threads do not change the bits', () => {
  it('law: parts 3 on 1, 2 and 3 threads ≡, bit for bit (an MLP with batch norm, the md recipe)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const one = ok(await train(net, tinyData(), config(3, 1)))
    for (const threads of [2, 3]) expectSameRun(ok(await train(net, tinyData(), config(3, threads))), one, `${threads} threads`)
  }, 60000)

  it('law: a last minibatch of fewer rows than parts (1 row, parts 3) on 1 and 2 threads ≡', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [7] }, true)
    const data: TrainData = { train: feedDataset(task(21)), validation: feedDataset(task(8, 1000)) }
    const one = ok(await train(net, data, config(3, 1)))
    expectSameRun(ok(await train(net, data, config(3, 2))), one, '2 threads')
  }, 60000)

  it('law: parts 2 on 1 and 2 threads ≡ (the bnn recipe; REINFORCE with a baseline at the activations)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const bnn = (threads: number): TrainConfig => ({ ...tinyConfig({}, 'bnn'), parts: 2, threads, evaluation: 'reference', batchSize: 10 })
    expectSameRun(ok(await train(net, tinyData(), bnn(2))), ok(await train(net, tinyData(), bnn(1))), 'bnn')
    const rf = (threads: number): TrainConfig => config(2, threads, { estimator: reinforce({ baseline: true }) })
    expectSameRun(ok(await train(net, tinyData(), rf(2))), ok(await train(net, tinyData(), rf(1))), 'reinforce')
  }, 60000)

  it('law: parts 2 on 1 and 2 threads ≡ (a conv net with batch norm and pooling; fast and reference kernels)', async () => {
    const conv = (threads: number, over: Partial<TrainConfig> = {}): TrainConfig => config(2, threads, { batchSize: 6, ...over })
    expectSameRun(ok(await train(convNet(), imageData(), conv(2))), ok(await train(convNet(), imageData(), conv(1))), 'fast')
    const ref = { products: referenceProductChoice, epochs: 1 }
    expectSameRun(ok(await train(convNet(), imageData(), conv(2, ref))), ok(await train(convNet(), imageData(), conv(1, ref))), 'reference')
  }, 120000)

  it('resume after an interruption on other thread counts (2, then 3) ≡ one uninterrupted thread', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const whole = ok(await train(net, tinyData(), config(3, 1)))
    let steps = 0
    const saved: Checkpoint[] = []
    const cut = ok(await train(net, tinyData(), config(3, 2), {
      onStep: () => void steps++, shouldStop: () => steps === 7, checkpoint: async (c) => (saved.push(c), E.right(undefined)),
    }))
    expect(cut.outcome).toBe('interrupted')
    expect(saved.at(-1)!.state.globalStep).toBe(7)
    expectSameRun(ok(await train(saved.at(-1)!.net, tinyData(), config(3, 3), {}, saved.at(-1)!.state)), whole, 'resumed')
    // The checkpoint records the parts: another count is refused like any other setting.
    const other = await train(saved.at(-1)!.net, tinyData(), config(2, 3), {}, saved.at(-1)!.state)
    expect(E.isLeft(other) && other.left).toMatchObject({ _tag: 'ResumeMismatch', fields: [['parts', '3', '2']] })
  }, 60000)

  for (const how of ['throw', 'exit'] as const)
    it(`a worker that ${how === 'throw' ? 'throws' : 'exits'} ends the run with ThreadFailed after a checkpoint; the resume ≡ the whole run`, async () => {
      const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
      const whole = ok(await train(net, tinyData(), config(2, 1)))
      const saved: Checkpoint[] = []
      let steps = 0
      let inject: ((w: number, how: 'throw' | 'exit') => void) | undefined
      const stop = watchTeams((t) => { inject = t.injectFailure })
      const r = await train(net, tinyData(), config(2, 2), {
        onStep: () => {
          if (++steps === 3) inject!(1, how)
        },
        checkpoint: async (c) => (saved.push(c), E.right(undefined)),
      })
      stop()
      expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'ThreadFailed', worker: 1, epoch: 0, step: 3, checkpoint: true })
      if (E.isRight(r)) return
      const cause = how === 'exit' ? 'its thread exited \\(code 3\\)' : 'an injected failure \\(test\\)'
      expect(drawTrainError(r.left, drawRunError, drawRoutingError)).toMatch(new RegExp(`^worker thread 1 of the training kernels failed in epoch 1, after 3 steps of it: ${cause}; a checkpoint`))
      expect(saved.map((c) => c.state.globalStep)).toEqual([3])
      expectSameRun(ok(await train(saved[0]!.net, tinyData(), config(2, 1), {}, saved[0]!.state)), whole, 'resumed after the failure')
    }, 60000)
})

describe('data parallelism: parts only reorder sums', () => {
  const net = withBatchNormMode(tinyNet({ kind: 'mlp', hidden: [13, 9] }, true), 'train')
  const feed = task(11)
  /** The largest difference relative to the largest value of all (a bias before batch norm has a zero gradient: rounding noise only). */
  const relErr = (a: Readonly<Record<string, Float64Array>>, b: Readonly<Record<string, Float64Array>>): number => {
    let worst = 0
    let scale = 1e-300
    for (const v of Object.values(a)) for (const x of v) scale = Math.max(scale, Math.abs(x))
    for (const [name, v] of Object.entries(a)) v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b[name]![i]!))))
    return worst / scale
  }
  const grad = (products: MatrixProducts, estimator = st()) =>
    right(gradient(net, feed, { key: key(4), estimator, products, baseline: 0.3 }))

  for (const parts of [2, 3, 5, 11, 20])
    it(`law: parts ${parts} ≈ parts 1 to 1e-12 on the float64 kernels (loss, gradient, batch statistics; ST and REINFORCE)`, () => {
      for (const estimator of [st(), reinforce()]) {
        const one = grad(referenceProducts, estimator)
        const cut = grad({ ...referenceProducts, rows: localRows(11, parts) }, estimator)
        expect(Math.abs(cut.loss - one.loss) / one.loss).toBeLessThan(1e-12)
        expect(relErr(one.grad, cut.grad)).toBeLessThan(1e-12)
        expect(Array.from(cut.perExample)).toEqual(Array.from(one.perExample))
        for (const [name, s] of Object.entries(one.batchStats)) expect(relErr({ m: s.mean, v: s.variance }, { m: cut.batchStats[name]!.mean, v: cut.batchStats[name]!.variance })).toBeLessThan(1e-12)
      }
    })

  it('law: parts 3 ≈ parts 1 to 1e-12 on the float64 kernels (a conv net with batch norm and pooling)', () => {
    const conv = withBatchNormMode(convNet(), 'train')
    const x = images(7, 3)
    const one = right(gradient(conv, x, { key: key(6), products: referenceProducts }))
    const cut = right(gradient(conv, x, { key: key(6), products: { ...referenceProducts, rows: localRows(7, 3) } }))
    expect(Math.abs(cut.loss - one.loss) / one.loss).toBeLessThan(1e-12)
    expect(relErr(one.grad, cut.grad)).toBeLessThan(1e-12)
  })

  it('law: parts 3 ≈ parts 1 on the fast kernels, to their float32 rounding (the same draws: offsets right)', () => {
    const fast = right(wasmProducts())
    const one = grad(fast)
    const cut = grad({ ...fast, rows: localRows(11, 3) })
    expect(Math.abs(cut.loss - one.loss) / one.loss).toBeLessThan(1e-5)
    expect(relErr(one.grad, cut.grad)).toBeLessThan(1e-4)
  })
})

describe('data parallelism: configuration', () => {
  const net = tinyNet()
  it.each([
    ['psa', { estimator: psa() }, 'the psa estimator'],
    ['arm', { estimator: arm() }, 'the arm estimator'],
    ['other kernels', { products: { name: 'js', products: referenceProducts } }, 'the js kernels'],
  ] as const)('parts 2 with %s is a configuration error naming the fix', (_, over, what) => {
    expect(checkConfig(net, tinyData(), config(2, 1, over))).toEqual({
      _tag: 'InvalidConfig', option: 'parts', expected: `1 with ${what} (data parallelism covers per-site estimators with weights drawn per pass)`, found: '2',
    })
  })
  it('parts must be a whole number ≥ 1', () => {
    expect(checkConfig(net, tinyData(), config(0, 1))).toMatchObject({ _tag: 'InvalidConfig', option: 'parts' })
    expect(checkConfig(net, tinyData(), config(1.5, 1))).toMatchObject({ _tag: 'InvalidConfig', option: 'parts' })
  })
})

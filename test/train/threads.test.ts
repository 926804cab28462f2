/**
 * Training on several threads ≡ one thread, bit for bit: the products split by panel ranges over
 * worker threads (train/threads/threadedProducts.ts) give the parameters, optimizer state, validation and
 * test evaluations of the single-threaded WebAssembly kernels, through resumes that change the
 * thread count; a worker that throws or dies ends the run with a clear error after a checkpoint.
 * Every product is split here (`splitAbove: 0`) so that tiny networks reach every part boundary.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { ProperNoise } from '../../src/dsl/noise.js'
import { noiseFamilies } from '../../src/dsl/noise.js'
import type { Key } from '../../src/dsl/random.js'
import { fillBits, key, siteKey } from '../../src/dsl/random.js'
import { noiseFns } from '../../src/dsl/distributions.js'
import { signsInto } from '../../src/interpreters/reference/sampling.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import type { ProductChoice, TrainConfig } from '../../src/train/config.js'
import { fastKernelChoice } from '../../src/train/config.js'
import { feedDataset } from '../../src/train/evaluate.js'
import { wasmProducts } from '../../src/train/fast/index.js'
import type { Checkpoint, TrainData, TrainError, TrainResult } from '../../src/train/loop.js'
import { drawTrainError, train } from '../../src/train/loop.js'
import { presetNetwork } from '../../src/train/presets.js'
import { drawRoutingError } from '../../src/train/routing.js'
import type { ThreadedProducts } from '../../src/train/threads/threadedProducts.js'
import { threadedProducts } from '../../src/train/threads/threadedProducts.js'
import { right, sameBits, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

const opened: ThreadedProducts[] = []
afterAll(() => opened.forEach((k) => k.close()))

/** The fast kernels, threaded with every product split; `made` collects what the runs start. */
const splitEverything = (made: ThreadedProducts[] = opened): ProductChoice => ({
  name: 'fast',
  products: right(wasmProducts()),
  threaded: (threads) => E.map((k: ThreadedProducts) => (made.push(k), k))(threadedProducts({ threads, splitAbove: 0 })),
})

const ok = (r: E.Either<TrainError, TrainResult>): TrainResult => {
  if (E.isLeft(r)) throw new Error(drawTrainError(r.left, drawRunError, drawRoutingError))
  return r.right
}
const timeless = (xs: readonly object[]): unknown => JSON.parse(JSON.stringify(xs, (k, v: unknown) => (k === 'seconds' ? 0 : v)))

/** n images 1×8×8 of pixels in [0, 1) and labels 0–2 (a fixed sine pattern, no PRNG needed). */
const images = (n: number, offset: number): Feed => ({
  x: { shape: [n, 1, 8, 8], data: Float64Array.from({ length: n * 64 }, (_, i) => (Math.sin(0.37 * (i + offset * 64)) + 1) / 2) },
  y: { shape: [n], data: Float64Array.from({ length: n }, (_, e) => (e * 7 + offset) % 3) },
})
const imageData = (): TrainData => ({ train: feedDataset(images(24, 0)), validation: feedDataset(images(8, 100)), test: feedDataset(images(8, 200)) })
const convNet = () => right(presetNetwork({ kind: 'conv', channels: [4, 6] }, { inputShape: [1, 8, 8], classes: 3, key: key(5), batchNorm: true }))

const config = (threads: number, over: Partial<TrainConfig> = {}): TrainConfig =>
  tinyConfig({ products: splitEverything(), threads, evaluation: 'reference', epochs: 2, ...over })

/** Parameters, optimizer slots, history (validation) and test evaluation, bit for bit. */
const expectSameRun = (a: TrainResult, b: TrainResult, what: string): void => {
  expect(sameBits(a.last.params, b.last.params), `${what}: parameters`).toBe(true)
  expect(sameBits(a.net.params, b.net.params), `${what}: returned parameters`).toBe(true)
  a.state.optimizer.forEach((s, i) => Object.entries(s.slots).forEach(([name, slots]) =>
    slots.forEach((slot, j) => expect(sameBits({ s: slot }, { s: b.state.optimizer[i]!.slots[name]![j]! }), `${what}: optimizer ${name}`).toBe(true))))
  expect(timeless(a.state.history), `${what}: validation`).toEqual(timeless(b.state.history))
  expect(a.test, `${what}: test`).toEqual(b.test)
}

const logistic1: ProperNoise = { family: 'logistic', scale: 1 }
const rule = (n: ProperNoise, a: Float64Array, k: Key): Float64Array => signsInto(k, 0, a, n, new Float64Array(a.length))

describe('training on threads', () => {
  it('law: the sampler on 3 threads ≡ the sampling rule, near-ties included (every site split)', () => {
    const k3 = right(threadedProducts({ threads: 3, splitAbove: 0 }))
    opened.push(k3)
    const k = siteKey(key(9), 'ties')
    const n = 4099
    const u = fillBits(k, 0, new Uint32Array(n))
    const F = noiseFns(logistic1)
    // a = F⁻¹(u / 2³²) puts each threshold within a few units of its draw: every unit is a near-tie.
    const a = Float64Array.from(u, (v, i) => F.icdf(Math.min(1 - 2 ** -40, Math.max(2 ** -40, (v + (i % 5) - 2) / 2 ** 32))))
    expect(k3.signs!(logistic1, a, k)).toEqual(rule(logistic1, a, k))
    for (const family of noiseFamilies) {
      const noise = { family, scale: 0.5 } as ProperNoise
      const b = Float64Array.from({ length: 1001 }, (_, i) => Math.sin(i) * 3)
      expect(k3.signs!(noise, b, k), family).toEqual(rule(noise, b, k))
    }
    expect(k3.started()).toBe(true)
  })

  it('law: 2 and 3 threads ≡ 1 thread, bit for bit (an MLP; steps, validation and test evaluations)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const one = ok(await train(net, tinyData(), config(1)))
    for (const threads of [2, 3]) expectSameRun(ok(await train(net, tinyData(), config(threads))), one, `${threads} threads`)
    expect(opened.slice(-2).map((k) => [k.threads, k.started()])).toEqual([[2, true], [3, true]])
  })

  it('law: 2 and 3 threads ≡ 1 thread, bit for bit (a conv net with batch norm)', async () => {
    const one = ok(await train(convNet(), imageData(), config(1, { batchSize: 6 })))
    for (const threads of [2, 3]) expectSameRun(ok(await train(convNet(), imageData(), config(threads, { batchSize: 6 }))), one, `${threads} threads`)
  })

  it('the default kernels on 2 threads (products above the split threshold) ≡ 1 thread', async () => {
    const net = right(presetNetwork({ kind: 'mlp', hidden: [64] }, { inputShape: [64], classes: 3, key: key(2) }))
    const x = (n: number, o: number): Feed => ({
      x: { shape: [n, 64], data: Float64Array.from({ length: n * 64 }, (_, i) => Math.sin(0.11 * (i + o))) },
      y: { shape: [n], data: Float64Array.from({ length: n }, (_, e) => (e + o) % 3) },
    })
    const data: TrainData = { train: feedDataset(x(128, 0)), validation: feedDataset(x(64, 9)) }
    const made: ThreadedProducts[] = []
    const fast = right(fastKernelChoice())
    const kernels: ProductChoice = { ...fast, threaded: (t) => E.map((k: ThreadedProducts) => (made.push(k), k))(fast.threaded!(t)) }
    const base = tinyConfig({ batchSize: 64, epochs: 1, evaluation: 'reference', products: kernels })
    expectSameRun(ok(await train(net, data, { ...base, threads: 2 })), ok(await train(net, data, { ...base, threads: 1 })), 'default kernels')
    expect(made.map((k) => k.started())).toEqual([true])
  })

  it('resume after an interruption with other thread counts (2, then 3) ≡ one uninterrupted thread', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const whole = ok(await train(net, tinyData(), config(1)))
    let steps = 0
    const saved: Checkpoint[] = []
    const cut = ok(await train(net, tinyData(), config(2), {
      onStep: () => void steps++, shouldStop: () => steps === 8, checkpoint: async (c) => (saved.push(c), E.right(undefined)),
    }))
    expect(cut.outcome).toBe('interrupted')
    const c = saved.at(-1)!
    expect(c.state.globalStep).toBe(8)
    expectSameRun(ok(await train(c.net, tinyData(), config(3), {}, c.state)), whole, 'resumed')
  })

  for (const how of ['throw', 'exit'] as const)
    it(`a worker that ${how === 'throw' ? 'throws' : 'exits'} ends the run with a clear error after a checkpoint of the last finished step; the resume ≡ the whole run`, async () => {
      const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
      const whole = ok(await train(net, tinyData(), config(1)))
      const made: ThreadedProducts[] = []
      const saved: Checkpoint[] = []
      let steps = 0
      const r = await train(net, tinyData(), config(2, { products: splitEverything(made) }), {
        onStep: () => {
          if (++steps === 3) made[0]!.injectFailure(1, how)
        },
        checkpoint: async (c) => (saved.push(c), E.right(undefined)),
      })
      expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'ThreadFailed', worker: 1, epoch: 0, step: 3, checkpoint: true })
      if (E.isRight(r)) return
      const cause = how === 'exit' ? 'its thread exited \\(code 70\\)' : 'no function (\\d+) in the call list \\(\\1 exported\\)'
      expect(drawTrainError(r.left, drawRunError, drawRoutingError)).toMatch(new RegExp(
        `^worker thread 1 of the training kernels failed in epoch 1, after 3 steps of it: ${cause}; a checkpoint of the last finished step was written: resume from it \\(with one thread if it happens again\\)$`,
      ))
      expect(saved.map((c) => c.state.globalStep)).toEqual([3])
      expectSameRun(ok(await train(saved[0]!.net, tinyData(), config(1), {}, saved[0]!.state)), whole, 'resumed after the failure')
    })
})

/**
 * Data parallelism (train/parallel/): with the minibatch cut into `parts`, a run is the same bits
 * on 1, 2 and 3 threads, through resumes that change the thread count; parts P only reorders the
 * sums of parts 1 (≈ to rounding); a worker that throws or exits ends the run with ThreadFailed
 * after a checkpoint; unsupported combinations are configuration errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import type { TrainConfig } from '../../src/train/config.js'
import { feedDataset } from '../../src/train/evaluate.js'
import type { TrainData, TrainError, TrainResult } from '../../src/train/loop.js'
import { drawTrainError, train } from '../../src/train/loop.js'
import { presetNetwork } from '../../src/train/presets.js'
import { drawRoutingError } from '../../src/train/routing.js'
import { right, sameBits, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

const ok = (r: E.Either<TrainError, TrainResult>): TrainResult => {
  if (E.isLeft(r)) throw new Error(drawTrainError(r.left, drawRunError, drawRoutingError))
  return r.right
}

const config = (parts: number, threads: number, over: Partial<TrainConfig> = {}): TrainConfig =>
  tinyConfig({ parts, threads, evaluation: 'reference', epochs: 2, batchSize: 10, ...over })

describe('data parallelism', () => {
  it('law: parts 2 on 1, 2 and 3 threads, bit for bit (an MLP with batch norm)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const one = ok(await train(net, tinyData(), config(3, 1)))
    for (const threads of [2, 3]) {
      const r = ok(await train(net, tinyData(), config(3, threads)))
      expect(sameBits(r.last.params, one.last.params), `${threads} threads`).toBe(true)
    }
  }, 60000)

  it('law: parts 3 ≈ parts 1 (the cut only reorders sums)', async () => {
    const net = tinyNet({ kind: 'mlp', hidden: [13, 9] }, true)
    const a = ok(await train(net, tinyData(), config(1, 1, { epochs: 1 })))
    const b = ok(await train(net, tinyData(), config(3, 1, { epochs: 1 })))
    for (const [name, v] of Object.entries(a.last.params)) {
      const w = b.last.params[name]!
      const scale = Math.max(...Array.from(v, Math.abs), 1e-300)
      v.forEach((x, i) => expect(Math.abs(x - w[i]!) / scale, `${name}[${i}]`).toBeLessThan(1e-9))
    }
  }, 60000)
})

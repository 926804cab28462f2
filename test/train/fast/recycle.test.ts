/**
 * Recycled results (`src/train/fast/recycle.ts`): the gradient interpreter hands a pass's
 * temporaries back to the kernels, which write later results into them. Laws: a step's results
 * are the bits of a step with fresh arrays, and nothing a caller holds (gradients, per-example
 * losses, batch statistics, parameters, inputs) is ever overwritten by a later step.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { foldIn, key } from '../../../src/dsl/random.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { GradientResult } from '../../../src/estimators/gradient.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import { recycler } from '../../../src/train/fast/recycle.js'
import { presetNetwork } from '../../../src/train/presets.js'
import { withBatchNormMode } from '../../../src/train/modes.js'

const right = <T>(e: E.Either<unknown, T>): T => {
  if (E.isLeft(e)) throw new Error(JSON.stringify(e.left))
  return e.right
}
const net: Checked<Network> = withBatchNormMode(right(presetNetwork({ kind: 'mlp', hidden: [40, 24] }, { inputShape: [30], classes: 3, key: key(2), batchNorm: true })), 'train')
const feed: Feed = {
  x: { shape: [8, 30], data: Float64Array.from({ length: 240 }, (_, i) => (Math.sin(0.7 * i) + 1) / 2) },
  y: { shape: [8], data: Float64Array.from({ length: 8 }, (_, i) => i % 3) },
}
/** Every array of a result, copied. */
const snapshot = (r: GradientResult): Float64Array[] =>
  [r.perExample, ...Object.values(r.grad), ...Object.values(r.batchStats).flatMap((s) => [s.mean, s.variance])].map((a) => a.slice())
const arrays = (r: GradientResult): Float64Array[] => [r.perExample, ...Object.values(r.grad), ...Object.values(r.batchStats).flatMap((s) => [s.mean, s.variance])]
const same = (a: readonly Float64Array[], b: readonly Float64Array[]): boolean => a.length === b.length && a.every((x, i) => x.length === b[i]!.length && x.every((v, j) => Object.is(v, b[i]![j])))

describe('recycled kernel results', () => {
  it('law: steps with recycling ≡ steps with fresh arrays, and earlier results stay untouched', () => {
    const recycling = right(prepareGradient(net, feed, { products: right(wasmProducts()) }))
    const params = Object.values(net.params).map((p) => p.slice())
    const inputs = Object.values(feed).map((v) => v.data.slice())
    const held: [GradientResult, Float64Array[]][] = []
    for (let s = 0; s < 6; s++) {
      // A fresh kernels value per step: nothing to recycle, the reference for this step's bits.
      const fresh = right(prepareGradient(net, feed, { products: right(wasmProducts()) }))(foldIn(key(9), s))
      const r = recycling(foldIn(key(9), s))
      expect(same(arrays(r), arrays(fresh)), `step ${s}`).toBe(true)
      held.push([r, snapshot(r)])
      for (const [old, copy] of held) expect(same(arrays(old), copy), `a result of an earlier step, after step ${s}`).toBe(true)
    }
    expect(same(Object.values(net.params), params)).toBe(true)
    expect(same(Object.values(feed).map((v) => v.data), inputs)).toBe(true)
  })

  it('law: only arrays the recycler issued are taken back, each once', () => {
    const r = recycler()
    const mine = new Float64Array(4)
    r.release([mine])
    expect(r.held()).toBe(0)
    const a = r.copyOf(Float64Array.of(1, 2, 3, 4))
    r.release([a, a])
    expect(r.held()).toBe(32)
    const b = r.copyOf(Float64Array.of(5, 6, 7, 8))
    expect(b).toBe(a)
    expect([...b]).toEqual([5, 6, 7, 8])
    expect(r.held()).toBe(0)
  })
})

/**
 * Memory that does not scale with the batch: the nibble tables of an 8-bit first layer
 * (`ByteDense.nibbles.tables`) are rebuilt for every row just before its products read them, so
 * they are a scratch buffer per thread (`perThread`), not per example: a 10 000-image call no
 * longer places 63 MB of tables for a 784-input layer. Laws: the buffer is placed once per
 * thread whatever the batch; each thread's calls get their own scratch; and results are the same
 * bits at batch sizes across many tiles (chunks.test.ts and threads.test.ts cover threads).
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { placeBuffers, productsOf } from '../../../src/interpreters/compiled/execute.js'
import { argsFor } from '../../../src/interpreters/compiled/threads/rowSplit.js'
import { buffersOf } from '../../../src/interpreters/compiled/kernels.js'
import { build } from './nets.js'
import type { LayerSpec } from './nets.js'

const layer = (width: number): LayerSpec => ({ width, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } })
const spec = { input: 'uint8' as const, inputWidth: 784, layers: [layer(130)], head: 3, loss: false, seed: 5 }

describe('per-thread scratch (nibble tables)', () => {
  const { net } = build({ ...spec, batch: 1 })
  const c = compile(net, { backend: 'wasm', mode: 'mode' })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  const plan = c.right.plan
  const bytes = productsOf(plan.steps).find((k) => k._tag === 'ByteDense')
  if (bytes?._tag !== 'ByteDense' || bytes.nibbles === undefined) throw new Error('no nibble ByteDense in the plan')
  const tables = plan.buffers[bytes.nibbles.tables]!

  it('law: the tables are placed once per thread, whatever the batch', () => {
    expect(tables.perExample).toBe(false)
    expect(tables.perThread).toBe(true)
    const perExample = plan.buffers.filter((b) => b.perExample).reduce((s, b) => s + b.bytes, 0)
    const at = (rows: number, threads = 1): number => placeBuffers(plan, rows, threads).total
    // Growing the batch grows only the per-example buffers (up to 64-byte alignment of the end).
    expect(Math.abs(at(10001) - at(1) - 10000 * perExample)).toBeLessThan(64)
    expect(Math.abs(at(50, 3) - at(50, 1) - 2 * tables.bytes)).toBeLessThan(64)
  })

  it('law: each thread gets its own scratch, rows move only the per-example buffers', () => {
    const addr = (b: number): number => 1000 * b
    for (const thread of [0, 1, 2]) {
      const args = argsFor(bytes, plan.buffers, addr, 7, 9, thread)
      expect(args[0]).toBe(2)
      buffersOf(bytes).forEach((b, i) => {
        const s = plan.buffers[b]!
        expect(args[i + 1]).toBe(addr(b) + (s.perExample ? 7 * s.stride : s.perThread === true ? thread * s.bytes : 0))
      })
    }
  })

  it('law: infer from uint8 ≡ run across batches of 1, 2, 33 and 300 rows (tables rebuilt per row in one scratch)', () => {
    for (const batch of [1, 2, 33, 300]) {
      const { feed } = build({ ...spec, batch })
      const x = feed['x']!
      const want = c.right.run(feed)
      const got = c.right.infer({ x: { shape: x.shape, data: Uint8Array.from(x.data) } })
      if (E.isLeft(want) || E.isLeft(got)) throw new Error('run')
      for (const name of ['hidden', 'output']) expect(Array.from(got.right[name]!.data), `${name}, batch ${batch}`).toEqual(Array.from(want.right[name]!.data))
    }
  })
})

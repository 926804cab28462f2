/**
 * Buffer placement for uint8 calls (execute.ts `placeBuffers` with `unused`, entries.ts
 * `BytesEntry.unused`): `infer` with uint8 pixels into an 8-bit first layer writes them straight
 * into the bytes layout, so the float64 input buffer and the buffers of the layer's float64
 * branch get no rows. The laws: such a call takes less memory than `run` by at least those
 * buffers, gives the same bits as `run` on the same instance before and after (the placement
 * changes between the calls), and the placement keeps static buffers where they were and never
 * overlaps two placed buffers. Likewise uint8 images into a real first convolution
 * (`ConvEntry`): the call places the convolution's own uint8 buffer instead of the float64 input,
 * and `run` leaves that buffer unplaced (`Entries.idle`).
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pipe } from 'fp-ts/lib/function.js'
import { mlp } from '../../../src/dsl/composites.js'
import { initParams } from '../../../src/dsl/init.js'
import { none } from '../../../src/dsl/noise.js'
import { binarize, conv2d, input, matmul, param, reshape } from '../../../src/dsl/primitives.js'
import { key } from '../../../src/dsl/random.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { Compiled } from '../../../src/interpreters/compiled/index.js'
import { placeBuffers } from '../../../src/interpreters/compiled/execute.js'
import { checked, uniforms } from './nets.js'

const K = 784
const H = 512
const net = (() => {
  const output = pipe(input('pixels', ['batch', K]), mlp({ hidden: [H], outputs: 10, activation: { family: 'none' }, weightNoise: { family: 'none' } }))
  return checked({ outputs: { output }, params: initParams({ output }, key(2)) })
})()
const fresh = (threads = 1): Compiled => {
  const c = compile(net, { backend: 'wasm', mode: 'mode', threads })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  return c.right
}
const pixels = (rows: number, seed: number): Uint8Array => {
  const rnd = uniforms(seed)
  return Uint8Array.from({ length: rows * K }, () => Math.floor(rnd() * 256))
}
const runOf = (c: Compiled, px: Uint8Array): Float64Array => {
  const out = c.run({ pixels: { shape: [px.length / K, K], data: Float64Array.from(px) } })
  if (E.isLeft(out)) throw new Error(JSON.stringify(out.left))
  return out.right['output']!.data
}
const inferOf = (c: Compiled, px: Uint8Array): Float64Array => {
  const out = c.infer({ pixels: { shape: [px.length / K, K], data: px } })
  if (E.isLeft(out)) throw new Error(JSON.stringify(out.left))
  return out.right['output']!.data as Float64Array
}

describe('placement of uint8 calls', () => {
  it('law: infer from uint8 places neither the float64 input nor the float64 branch: less memory than run by at least their rows', () => {
    const rows = 600
    const px = pixels(rows, 7)
    const a = fresh()
    const b = fresh()
    const got = inferOf(a, px)
    const want = runOf(b, px)
    expect(got.every((v, i) => Object.is(v, want[i]))).toBe(true)
    // The float64 input (8·784 bytes) and the first layer's float64 sums (8·512 bytes) per example.
    const saved = rows * (8 * K + 8 * H)
    expect(b.executor.views().u8.length - a.executor.views().u8.length).toBeGreaterThanOrEqual(saved - 65536)
  })

  it('law: uint8 infer, run and infer again on one instance (1 and 2 threads, batches that change) ≡ run on a fresh one', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ rows: fc.integer({ min: 1, max: 9 }), seed: fc.integer({ min: 1, max: 1000 }), how: fc.constantFrom('infer', 'run') }), { minLength: 2, maxLength: 5 }), fc.constantFrom(1, 2), (calls, threads) => {
        const c = fresh(threads)
        const ref = fresh()
        for (const { rows, seed, how } of calls) {
          const px = pixels(rows, seed)
          const got = how === 'infer' ? inferOf(c, px) : runOf(c, px)
          const want = runOf(ref, px)
          expect(got.every((v, i) => Object.is(v, want[i])), `${how} of ${rows} rows`).toBe(true)
        }
        c.close()
      }),
      { numRuns: 12, seed: 1107 },
    )
  })

  it('placeBuffers with unused buffers: static buffers stay, unused ones get no rows, placed ones never overlap', () => {
    const c = fresh()
    const plan = c.plan
    const perExample = plan.buffers.filter((b) => b.perExample).map((b) => b.id)
    for (const unused of [new Set<number>(), new Set(perExample.slice(0, 1)), new Set(perExample.slice(1, 3))]) {
      const all = placeBuffers(plan, 37)
      const some = placeBuffers(plan, 37, 1, unused)
      for (const b of plan.buffers) if (!b.perExample) expect(some.addr[b.id]).toBe(all.addr[b.id])
      const spans = plan.buffers.map((b) => [some.addr[b.id]!, some.addr[b.id]! + (b.perExample ? (unused.has(b.id) ? 0 : 37 * b.bytes) : b.bytes)] as const).sort((x, y) => x[0] - y[0])
      spans.forEach((s, i) => i === 0 || expect(s[0]).toBeGreaterThanOrEqual(spans[i - 1]![1]))
      expect(some.total).toBeLessThanOrEqual(all.total - 37 * plan.buffers.filter((b) => unused.has(b.id)).reduce((t, b) => t + b.bytes, 0) + 128 * unused.size)
    }
  })
})

describe('placement of uint8 calls into a first convolution', () => {
  it('law: infer from uint8 places the convolution\'s bytes and not the float64 input, run the reverse: less memory by at least (8 − 1)·784 bytes per example, the same bits', () => {
    const rnd = uniforms(3)
    const values = (shape: number[]): Float64Array => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd() * 2 - 1)
    const params = { 'c.W': values([8, 1, 3, 3]), 'h.W': values([8 * 28 * 28, 3]) }
    const act = binarize(conv2d(input('x', ['batch', 1, 28, 28]), binarize(param('c.W', [8, 1, 3, 3]), none, 'c.W'), { stride: [1, 1], padding: 1, padValue: 0 }), none, 'c.act')
    const output = matmul(reshape(act, ['batch', 8 * 28 * 28]), param('h.W', [8 * 28 * 28, 3]))
    const convNet = checked({ outputs: { output }, params })
    const build = (): Compiled => {
      const c = compile(convNet, { backend: 'wasm', mode: 'mode' })
      if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
      return c.right
    }
    const rows = 300
    const px = Uint8Array.from({ length: rows * 784 }, () => Math.floor(rnd() * 256))
    const [a, b] = [build(), build()]
    const got = a.infer({ x: { shape: [rows, 1, 28, 28], data: px } })
    const want = b.run({ x: { shape: [rows, 1, 28, 28], data: Float64Array.from(px) } })
    if (E.isLeft(got) || E.isLeft(want)) throw new Error('infer or run failed')
    expect(Array.from(got.right['output']!.data)).toEqual(Array.from(want.right['output']!.data))
    expect(b.executor.views().u8.length - a.executor.views().u8.length).toBeGreaterThanOrEqual(rows * 7 * 784 - 65536)
  })
})

/**
 * The default row split of threads (`rowSplit: 'chunks'`, threads/pool.ts `runChunks`): every
 * thread claims chunks of rows from a shared counter. The chunks partition [0, rows) in order,
 * large first and small last, each even and at least the minimum but the last; end to end,
 * `infer` on two and three threads gives the one thread's bits in every split, from uint8 pixels
 * (whose stage now runs split like the products) and from int8 ±1, at odd batch sizes, batches
 * smaller than the threads and batch 1; a bad input is still an error value.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { CompileOptions, Compiled } from '../../../src/interpreters/compiled/index.js'
import { chunkRows } from '../../../src/threads/pool.js'
import { minChunk } from '../../../src/interpreters/compiled/threads/rowSplit.js'
import { build } from './nets.js'
import type { LayerSpec } from './nets.js'

const layer = (width: number): LayerSpec => ({ width, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } })

describe('chunked row split', () => {
  it('law: the chunks partition [0, rows) in order, even and ≥ min but the last, never growing', () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 700 }), fc.constantFrom(2, 4), fc.integer({ min: 2, max: 8 }))
    fc.assert(
      fc.property(arb, ([rows, min, parts]) => {
        let cur = 0
        let last = Infinity
        while (cur < rows) {
          const n = chunkRows(cur, rows, min, parts)
          expect(n).toBeGreaterThan(0)
          if (cur + n < rows) {
            expect(n % 2).toBe(0)
            expect(n).toBeGreaterThanOrEqual(min)
          }
          expect(n).toBeLessThanOrEqual(last + 1)
          last = n
          cur += n
        }
        expect(cur).toBe(rows)
      }),
      { seed: 20261207, numRuns: 300 },
    )
    expect(chunkRows(0, 256, 16, 2)).toBe(86)
    // 256 rows on two threads: 9 chunks, the first a third.
    const seq: number[] = []
    for (let cur = 0; cur < 256; cur += seq[seq.length - 1]!) seq.push(chunkRows(cur, 256, minChunk(256, 2), 2))
    expect(seq).toEqual([86, 58, 38, 26, 16, 12, 8, 8, 4])
    for (const [rows, parts] of [[1, 2], [7, 2], [61, 3], [10000, 2]] as const) expect(minChunk(rows, parts) % 2 === 0 && minChunk(rows, parts) >= 2 && minChunk(rows, parts) <= 8).toBe(true)
  })

  for (const input of ['uint8', 'binary'] as const)
    it(`law: infer from ${input === 'uint8' ? 'uint8 pixels' : 'int8 ±1'} on 2 and 3 threads ≡ one thread ≡ run, every split, batches 1–3, 7, 61`, () => {
      const spec = { input, inputWidth: 700, layers: [layer(601), layer(97)], head: 3, loss: false, seed: 11 }
      const make = (opts: Partial<CompileOptions>, net: Parameters<typeof compile>[0]): Compiled => {
        const c = compile(net, { backend: 'wasm', mode: 'mode', ...opts })
        if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
        return c.right
      }
      const { net } = build({ ...spec, batch: 1 })
      const one = make({}, net)
      const many = [
        ...(['chunks', 'adaptive', 'even'] as const).map((rowSplit) => make({ threads: 2, rowSplit }, net)),
        make({ threads: 3 }, net),
      ]
      for (const batch of [1, 2, 3, 7, 61, 2, 61]) {
        const { feed } = build({ ...spec, batch })
        const x = feed['x']!
        const data = input === 'uint8' ? Uint8Array.from(x.data) : Int8Array.from(x.data)
        const ask = { outputs: { output: 'float64', hidden: 'bits' } as const }
        const want = one.run(feed)
        const got1 = one.infer({ x: { shape: x.shape, data } }, ask)
        if (E.isLeft(want) || E.isLeft(got1)) throw new Error('one thread')
        expect(Array.from(got1.right['output']!.data)).toEqual(Array.from(want.right['output']!.data))
        for (const [i, c] of many.entries()) {
          const got = c.infer({ x: { shape: x.shape, data } }, ask)
          if (E.isLeft(got)) throw new Error(`threads ${i}`)
          expect(Array.from(got.right['output']!.data), `net ${i} batch ${batch}`).toEqual(Array.from(got1.right['output']!.data))
          expect(Array.from(got.right['hidden']!.data), `net ${i} batch ${batch}`).toEqual(Array.from(got1.right['hidden']!.data))
        }
      }
      for (const c of many) c.close()
    })

  it('a bad input is still an error value on threads (wrong length, a value that is not ±1)', () => {
    const spec = { input: 'binary' as const, inputWidth: 40, layers: [layer(600)], head: 2, loss: false, batch: 2, seed: 3 }
    const { net } = build(spec)
    const c = compile(net, { backend: 'wasm', mode: 'mode', threads: 2 })
    if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
    const short = c.right.infer({ x: { shape: [2, 40], data: new Int8Array(79).fill(1) } })
    expect(E.isLeft(short) && short.left._tag).toBe('Unsupported')
    const zero = new Int8Array(80).fill(-1)
    zero[45] = 0
    const bad = c.right.infer({ x: { shape: [2, 40], data: zero } })
    expect(E.isLeft(bad) && JSON.stringify(bad.left)).toContain('data.x[45] = 0')
    c.right.close()
  })
})

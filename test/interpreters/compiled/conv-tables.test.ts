/**
 * The lookup-table binary convolution (conv-tables.ts, kernels-wasm/conv-table.ts): the tables
 * sum to the XOR–popcount of every patch against every unit, the byte thresholds test the same
 * bit as the popcount thresholds, and end to end the table kernel ≡ the reference bit for bit on
 * generated convolutional networks (odd channel and unit counts, strides, ±1 padding, max-pools,
 * batch 1), on one thread and on two.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { none } from '../../../src/dsl/noise.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { productsOf } from '../../../src/interpreters/compiled/execute.js'
import { byteThresholds, packConvTables, tableUnits, tablesFit, tapBytes } from '../../../src/interpreters/compiled/conv-tables.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { ConvNetSpec, ConvSpec } from './nets.js'
import { buildConv } from './nets.js'

const geometry = fc.record({ o: fc.integer({ min: 1, max: 40 }), c: fc.integer({ min: 1, max: 28 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }) })

describe('lookup-table convolution', () => {
  it('law: Σ_q T[q][patch byte q][j] ≡ popcount(patch XOR w_j) for every unit (padding bits zero)', () => {
    fc.assert(fc.property(geometry, fc.integer({ min: 1, max: 2 ** 30 }), ({ o, c, kh, kw }, seed) => {
      const bit = (i: number): boolean => ((Math.imul(i + 1, 2654435761) + seed) >>> 9) % 2 === 1
      const w = Float64Array.from({ length: o * c * kh * kw }, (_, i) => (bit(i) ? 1 : -1))
      const t = packConvTables(w, o, c, kh, kw)
      const [units, per] = [tableUnits(o), tapBytes(c)]
      const x = Array.from({ length: kh * kw * c }, (_, i) => bit(i + 7919))
      for (let j = 0; j < units; j++) {
        let sum = 0
        for (let tap = 0; tap < kh * kw; tap++)
          for (let b = 0; b < per; b++) {
            let v = 0
            for (let i = 0; i < 8 && 8 * b + i < c; i++) if (x[tap * c + 8 * b + i]) v |= 1 << i
            sum += t[((tap * per + b) * 256 + v) * units + j]!
          }
        let want = 0
        if (j < o)
          for (let tap = 0; tap < kh * kw; tap++)
            for (let ic = 0; ic < c; ic++) if (x[tap * c + ic] !== (w[((j * c + ic) * kh + Math.floor(tap / kw)) * kw + (tap % kw)]! >= 0)) want++
        expect(sum).toBe(want)
      }
    }), { numRuns: 40, seed: 1361 })
  })

  it('law: byte thresholds hold each unit\'s (lo, span) in its lane of a 16-unit block, the lanes past o never +1', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 254 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }), (pairs) => {
      const b = byteThresholds(Int32Array.from(pairs.flat()), pairs.length)
      expect(b.length).toBe(2 * tableUnits(pairs.length))
      for (let j = 0; j < tableUnits(pairs.length); j++) {
        const [lo, span] = [b[32 * (j >> 4) + (j & 15)]!, b[32 * (j >> 4) + 16 + (j & 15)]!]
        expect([lo, span]).toEqual(j < pairs.length ? pairs[j] : [0, 0])
      }
    }), { numRuns: 60, seed: 1362 })
  })

  it('tables are used only where the popcount fits a byte and the tables fit the limit', () => {
    expect(tablesFit(32, 16, 3, 3)).toBe(true)
    expect(tablesFit(32, 24, 3, 3)).toBe(true) // 216 bits, 216 KiB of tables
    expect(tablesFit(32, 28, 3, 3)).toBe(false) // 288 KiB of tables
    expect(tablesFit(8, 29, 3, 3)).toBe(false) // 261 bits
    expect(tablesFit(64, 24, 3, 3)).toBe(false) // 432 KiB of tables
  })

  const conv = (over: Partial<ConvSpec>): ConvSpec => ({ filters: 32, kernel: 3, stride: 1, padding: 0, padValue: 1, weightNoise: none, bias: true, batchNorm: true, act: none, pool: true, ...over })
  const arbSpec: fc.Arbitrary<ConvNetSpec> = fc.record({
    channels: fc.integer({ min: 1, max: 4 }),
    height: fc.integer({ min: 4, max: 11 }),
    width: fc.integer({ min: 4, max: 11 }),
    first: fc.record({ filters: fc.integer({ min: 1, max: 28 }), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 1 }), padValue: fc.constantFrom(1, -1), bias: fc.boolean(), batchNorm: fc.boolean(), pool: fc.boolean() }),
    second: fc.record({ filters: fc.integer({ min: 1, max: 40 }), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 1 }), padValue: fc.constantFrom(1, -1), pool: fc.boolean() }),
    dense: fc.integer({ min: 0, max: 5 }),
    batch: fc.integer({ min: 1, max: 4 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  }).map(({ first, second, ...s }) => ({ ...s, inputNoise: none, convs: [conv(first), conv(second)] }))

  const reference = (net: Checked<Network>, feed: Feed): Record<string, number[]> => {
    const want = forward(net, feed, { mode: 'mode' })
    if (E.isLeft(want)) throw new Error('reference failed')
    return Object.fromEntries(Object.entries(net.outputs).map(([name, node]) => [name, Array.from(want.right.values.get(node)!.data)]))
  }

  it('law: the table kernel ≡ the reference, bit for bit, on one thread and two (batches 1–4)', () => {
    let used = 0
    fc.assert(fc.property(arbSpec, fc.constantFrom(1, 2), (s, threads) => {
      const { net, feed } = buildConv(s)
      const c = compile(net, { backend: 'wasm', mode: 'mode', threads })
      if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
      if (productsOf(c.right.plan.steps).some((k) => k._tag === 'BinaryConv' && k.tables !== undefined)) used++
      const got = c.right.run(feed)
      c.right.close()
      if (E.isLeft(got)) throw new Error(drawRunError(got.left))
      const want = reference(net, feed)
      for (const name of Object.keys(net.outputs)) expect(Array.from(got.right[name]!.data), `${threads} threads ${name}`).toEqual(want[name])
    }), { numRuns: 40, seed: 1363 })
    expect(used).toBeGreaterThan(20)
  })

  it('the conv:16,32 shape (16 channels, 3×3, 32 units, no padding) takes the table kernel', () => {
    const { net, feed } = buildConv({ channels: 1, height: 12, width: 12, inputNoise: none, convs: [conv({ filters: 16, padding: 1 }), conv({})], dense: 0, batch: 3, seed: 5 })
    const c = compile(net, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
    const tables = productsOf(c.right.plan.steps).filter((k) => k._tag === 'BinaryConv' && k.tables !== undefined)
    expect(tables.map((k) => k._tag === 'BinaryConv' && [k.c, k.o])).toEqual([[1, 16], [16, 32]])
    const got = c.right.run(feed)
    if (E.isLeft(got)) throw new Error(drawRunError(got.left))
    expect(Array.from(got.right['output']!.data)).toEqual(reference(net, feed)['output'])
  })
})

/**
 * Draws from any offset: a batch run in chunks, each with `offset` = the index of its first row,
 * gives the same bits as the batch run at once, in the sampling modes (per-example draws are
 * numbered over the whole batch, weights once per pass), on every back end, for the kernels
 * (FillRandom starting at any draw, odd ones included) and the generic steps alike. This is what
 * lets an ensemble be evaluated in chunks (src/train/evaluate-compiled.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { key } from '../../../src/dsl/random.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { Feed, NDArray } from '../../../src/interpreters/ndarray.js'
import { sliceFeed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { BackendName, CompiledMode } from '../../../src/interpreters/compiled/index.js'
import { arbConvNet, arbNet, build, buildConv } from './nets.js'

const perExample = (out: Readonly<Record<string, NDArray>>, rows: number): Record<string, Float64Array> =>
  Object.fromEntries(Object.entries(out).filter(([, v]) => v.shape[0] === rows).map(([n, v]) => [n, v.data]))

/** Whole-batch outputs, and the same outputs from chunks cut at `cuts`, concatenated. */
const chunked = (net: Checked<Network>, feed: Feed, rows: number, backend: BackendName, mode: CompiledMode, cuts: readonly number[]) => {
  const c = compile(net, { backend, mode, samples: 3 })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  const whole = c.right.run(feed, key(5))
  if (E.isLeft(whole)) throw new Error(drawRunError(whole.left))
  const bounds = [0, ...[...new Set(cuts.map((x) => x % rows))].filter((x) => x > 0).sort((a, b) => a - b), rows]
  const parts: Record<string, number[]> = {}
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, b] = [bounds[i]!, bounds[i + 1]!]
    const out = c.right.run(sliceFeed(feed, a, b), key(5), { offset: a })
    if (E.isLeft(out)) throw new Error(drawRunError(out.left))
    for (const [n, v] of Object.entries(perExample(out.right, b - a))) (parts[n] ??= []).push(...v)
  }
  return { whole: perExample(whole.right, rows), parts }
}

const expectSame = (w: Record<string, Float64Array>, p: Record<string, number[]>, what: string): void => {
  expect(Object.keys(p).sort(), what).toEqual(Object.keys(w).sort())
  for (const [n, v] of Object.entries(w)) expect(p[n]!.every((x, i) => Object.is(x, v[i])), `${what} ${n}`).toBe(true)
}

const modes: readonly CompiledMode[] = ['sample', 'ensemble']
const backends: readonly BackendName[] = ['wasm', 'js', 'jitless']

describe('compiled runs from an offset', () => {
  it('law: chunks with offsets ≡ one run on dense nets (every back end, sample and ensemble)', () => {
    fc.assert(fc.property(arbNet, fc.integer({ min: 2, max: 9 }), fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 3 }), fc.constantFrom(...modes), fc.constantFrom(...backends), (spec, rows, cuts, mode, backend) => {
      // (batch norm in training mode uses the batch's statistics: a chunk is another batch)
      const layers = spec.layers.map((l) => (l.batchNorm === 'train' ? { ...l, batchNorm: 'inference' as const } : l))
      const { net, feed } = build({ ...spec, layers, batch: rows })
      const { whole, parts } = chunked(net, feed, rows, backend, mode, cuts)
      expectSame(whole, parts, `${backend} ${mode}`)
    }), { numRuns: 40, seed: 1310 })
  })

  it('law: chunks with offsets ≡ one run on convolutional nets', () => {
    fc.assert(fc.property(arbConvNet, fc.integer({ min: 2, max: 5 }), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }), fc.constantFrom(...modes), fc.constantFrom(...backends), (spec, rows, cuts, mode, backend) => {
      const { net, feed } = buildConv({ ...spec, batch: rows })
      const { whole, parts } = chunked(net, feed, rows, backend, mode, cuts)
      expectSame(whole, parts, `${backend} ${mode}`)
    }), { numRuns: 20, seed: 1311 })
  })

  it('a negative or fractional offset is an InvalidOption naming the option', () => {
    const { net, feed } = build({ input: 'binary', inputWidth: 5, layers: [], head: 2, loss: false, batch: 2, seed: 3 })
    const c = compile(net, { backend: 'wasm', mode: 'sample' })
    if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
    for (const offset of [-1, 1.5]) {
      const r = c.right.run(feed, key(1), { offset })
      expect(E.isLeft(r) && r.left._tag === 'InvalidOption' && r.left.option === 'offset').toBe(true)
    }
  })
})

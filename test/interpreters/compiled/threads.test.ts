/**
 * compile(net, { threads }) ≡ one thread, bit for bit: batches split across worker threads over a
 * shared memory (threads/), on generated dense and convolutional networks, in every mode.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { key } from '../../../src/dsl/random.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { Compiled, CompiledMode } from '../../../src/interpreters/compiled/index.js'
import { arbConvNet, arbNet, build, buildConv } from './nets.js'

const opened: Compiled[] = []
afterAll(() => opened.forEach((c) => c.close()))

const compiled = (net: Checked<Network>, mode: CompiledMode, threads: number): Compiled => {
  const c = compile(net, { backend: 'wasm', mode, samples: 3, threads })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  opened.push(c.right)
  return c.right
}

const expectSameRuns = (net: Checked<Network>, feed: Feed, mode: CompiledMode, threads: number, what: string): void => {
  const c1 = compiled(net, mode, 1)
  const cn = compiled(net, mode, threads)
  const one = c1.run(feed, key(3))
  const many = cn.run(feed, key(3))
  cn.close()
  if (E.isLeft(one) || E.isLeft(many)) throw new Error(drawRunError(E.isLeft(one) ? one.left : (many as E.Left<never>).left))
  for (const [name, w] of Object.entries(one.right)) {
    const g = many.right[name]!.data
    expect(g.length, `${what}: ${name}`).toBe(w.data.length)
    expect(w.data.every((v, i) => Object.is(v, g[i])), `${what}: ${name}`).toBe(true)
  }
}

const modes: readonly CompiledMode[] = ['mode', 'sample', 'ensemble']

describe('compiled threads ≡ one thread', () => {
  it('law: threads ≡ one thread on dense nets (bit-exact, batches 1–12, 2 and 3 threads, every mode)', () => {
    fc.assert(
      fc.property(arbNet, fc.integer({ min: 1, max: 12 }), fc.constantFrom(2, 3), fc.constantFrom(...modes), (spec, batch, threads, mode) => {
        const { net, feed } = build({ ...spec, batch })
        expectSameRuns(net, feed, mode, threads, `${threads} threads ${mode} ${JSON.stringify(spec)}`)
      }),
      { numRuns: 12, seed: 4242 },
    )
  })

  it('law: threads ≡ one thread on convolutional nets', () => {
    fc.assert(
      fc.property(arbConvNet, fc.integer({ min: 2, max: 5 }), fc.constantFrom(...modes), (spec, batch, mode) => {
        const { net, feed } = buildConv({ ...spec, batch })
        expectSameRuns(net, feed, mode, 2, `${mode} ${JSON.stringify(spec)}`)
      }),
      { numRuns: 8, seed: 4243 },
    )
  })

  it('law: at batch 1, large layers split by units ≡ one thread (binary and 8-bit inputs)', () => {
    const layer = (width: number, act: 'sign' | 'none') => ({ width, weightNoise: { family: 'none' as const }, bias: 'integer' as const, scale: 'none' as const, batchNorm: 'none' as const, unary: 'none' as const, act: act === 'sign' ? { family: 'none' as const } : { family: 'logistic' as const, scale: 1 } })
    for (const [input, widths, threads] of [['binary', [700, 1030], 2], ['uint8', [1100, 513], 3], ['binary', [600], 2]] as const) {
      const { net, feed } = build({ input, inputWidth: 333, layers: widths.map((w) => layer(w, 'sign')), head: 4, loss: false, batch: 1, seed: 11 })
      expect(compiled(net, 'mode', threads).describe().filter((l) => l.startsWith('threads: split by units')).length, 'every layer is split').toBe(widths.length)
      expectSameRuns(net, feed, 'mode', threads, `${input} ${widths.join('→')} on ${threads} threads`)
    }
  })

  it('after close(), the network still runs (on the calling thread), with the same bits', () => {
    const { net, feed } = build({ input: 'uint8', inputWidth: 50, layers: [{ width: 37, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 3, loss: false, batch: 4, seed: 5 })
    const c = compiled(net, 'mode', 2)
    const before = c.run(feed)
    c.close()
    const after = c.run(feed)
    expect(E.isRight(before) && E.isRight(after) && Array.from(after.right['output']!.data)).toEqual(E.isRight(before) && Array.from(before.right['output']!.data))
  })

  it('threads need the wasm back end: a clear error otherwise', () => {
    const { net } = build({ input: 'binary', inputWidth: 5, layers: [{ width: 3, weightNoise: { family: 'none' }, bias: 'none', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: 1, seed: 1 })
    const c = compile(net, { backend: 'js', mode: 'mode', threads: 2 })
    expect(E.isLeft(c) && drawCompileError(c.left)).toMatch(/threads: expected 1 for backend 'js'/)
    const d = compile(net, { backend: 'wasm', mode: 'mode', threads: 0 })
    expect(E.isLeft(d) && drawCompileError(d.left)).toMatch(/threads: expected an integer from 1 to 64, found 0/)
  })
})

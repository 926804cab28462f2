/**
 * The public API of the compiled interpreter: option errors as values, a missing key, reuse of
 * one compiled network across batch sizes (buffers re-placed, memory grown), the plan's
 * description of kernels and fallbacks, and the shape of a benchmark report.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { key } from '../../../src/dsl/random.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import { benchNetwork } from '../../../src/bench/benchNetwork.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { BackendName, CompileOptions } from '../../../src/interpreters/compiled/index.js'
import { build } from './nets.js'
import type { NetSpec } from './nets.js'

const spec: NetSpec = {
  input: 'uint8', inputWidth: 37, head: 3, loss: false, batch: 3, seed: 5,
  layers: [
    { width: 70, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'inference', unary: 'none', act: { family: 'logistic', scale: 1 } },
    { width: 33, weightNoise: { family: 'logistic', scale: 1 }, bias: 'real', scale: 'none', batchNorm: 'none', unary: 'abs', act: { family: 'none' } },
  ],
}

describe('compile', () => {
  it('reports bad options as values', () => {
    const { net } = build(spec)
    const bad = compile(net, { backend: 'gpu', mode: 'mode' } as unknown as CompileOptions)
    expect(E.isLeft(bad) && drawCompileError(bad.left)).toBe("compile: option backend: expected 'wasm', 'js' or 'jitless', found gpu")
    const samples = compile(net, { backend: 'js', mode: 'ensemble', samples: 0 })
    expect(E.isLeft(samples) && samples.left._tag).toBe('InvalidOption')
  })

  it('asks for a key in sample mode', () => {
    const { net, feed } = build(spec)
    const c = compile(net, { backend: 'jitless', mode: 'sample' })
    if (E.isLeft(c)) throw new Error('compile failed')
    const r = c.right.run(feed)
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidOption')
  })

  it('refuses binary inputs that are not ±1, as a value', () => {
    const { net, feed } = build({ ...spec, input: 'binary' })
    const c = compile(net, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error('compile failed')
    const data = Float64Array.from(feed['x']!.data)
    data[4] = 0.5
    const r = c.right.run({ x: { shape: feed['x']!.shape, data } })
    expect(E.isLeft(r) && drawRunError(r.left)).toBe('compiled: data.x[4] = 0.5 for an input of dtype binary is not supported; feed ±1 values, or declare the input real')
    // The check is v·v = 1: the doubles next to ±1, ±0 and large values must not pass it.
    for (const v of [1 + Number.EPSILON, 1 - Number.EPSILON / 2, -1 - Number.EPSILON, -1 + Number.EPSILON / 2, 0, -0, 2, -3e300]) {
      const d = Float64Array.from(feed['x']!.data)
      d[d.length - 1] = v
      const rv = c.right.run({ x: { shape: feed['x']!.shape, data: d } })
      expect(E.isLeft(rv) && rv.left._tag, `value ${v}`).toBe('Unsupported')
    }
  })

  it('runs one compiled network on batches of 3, 1, 300 and 3 (re-placing buffers, growing memory)', () => {
    for (const backend of ['wasm', 'js', 'jitless'] as BackendName[]) {
      const c = compile(build(spec).net, { backend, mode: 'sample' })
      if (E.isLeft(c)) throw new Error('compile failed')
      for (const batch of [3, 1, 300, 3]) {
        const { net, feed } = build({ ...spec, batch })
        const ref = forward(net, feed, { mode: 'sample', key: key(batch) })
        if (E.isLeft(ref)) throw new Error('reference failed')
        const got = c.right.run(feed, key(batch))
        if (E.isLeft(got)) throw new Error('run failed')
        expect(Array.from(got.right['output']!.data), `${backend} batch ${batch}`).toEqual(Array.from(ref.right.values.get(net.outputs['output']!)!.data))
      }
    }
  })

  it('describes its plan: fused kernels, and every fallback with its reason', () => {
    const c = compile(build(spec).net, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error('compile failed')
    const plan = c.right.describe()
    expect(plan.some((l) => l.startsWith('choice PackBytes l0.act: kernel ByteDense l0.act'))).toBe(true)
    expect(plan).toContain('generic Binarize l1.act (abs is not monotone)')
    expect(c.right.kernels.every((k) => k.via === 'wasm')).toBe(true)
    const js = compile(build(spec).net, { backend: 'js', mode: 'mode' })
    if (E.isLeft(js)) throw new Error('compile failed')
    expect(js.right.artifact.kind === 'js' && js.right.artifact.source.includes('function dense_')).toBe(true)
  })

  it('benchNetwork reports runs, rates and a per-step breakdown', () => {
    const { net, feed } = build(spec)
    const c = compile(net, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error('compile failed')
    const r = benchNetwork(c.right, feed, { runs: 1, minMs: 1 })
    if (E.isLeft(r)) throw new Error('bench failed')
    expect(r.right.batch).toBe(3)
    expect(r.right.macsPerRun).toBe(3 * (37 * 70 + 70 * 33 + 33 * 3))
    expect(r.right.steps.length).toBe(c.right.plan.steps.length)
    expect(r.right.msPerRun.median).toBeGreaterThan(0)
  })
})

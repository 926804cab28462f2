/**
 * `infer` (typed inputs, output forms, caller buffers) against `run`, bit for bit, on generated
 * networks (nets.ts: dense with odd widths and batch 1–4, and convolutional), every back end and
 * mode; and bad typed arrays as clear errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { key } from '../../../src/dsl/random.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import type { RunError } from '../../../src/interpreters/runErrors.js'
import type { Feed, NDArray } from '../../../src/interpreters/ndarray.js'
import { compile, drawCompileError, packBits } from '../../../src/interpreters/compiled/index.js'
import type { BackendName, Compiled, CompiledMode, InferInput, InferOutput } from '../../../src/interpreters/compiled/index.js'
import { arbConvNet, arbNet, build, buildConv } from './nets.js'

const right = <A>(e: E.Either<RunError, A>): A => {
  if (E.isLeft(e)) throw new Error(drawRunError(e.left))
  return e.right
}

const compiled = (net: Checked<Network>, backend: BackendName, mode: CompiledMode): Compiled => {
  const c = compile(net, { backend, mode, samples: 3 })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  return c.right
}

/** The typed forms a float64 input can take without changing its values (and the float64 they stand for). */
const formsOf = (x: NDArray, binary: boolean): { readonly name: string; readonly input: InferInput; readonly same: Float64Array }[] => {
  const f32 = Float32Array.from(x.data)
  const forms: { name: string; input: InferInput; same: Float64Array }[] = [
    { name: 'float64', input: x, same: x.data },
    { name: 'float32', input: { shape: x.shape, data: f32 }, same: Float64Array.from(f32) },
  ]
  if (binary) {
    forms.push({ name: 'int8', input: { shape: x.shape, data: Int8Array.from(x.data) }, same: x.data })
    forms.push({ name: 'bits', input: right(packBits(x.shape, x.data)), same: x.data })
  } else if (x.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    forms.push({ name: 'uint8', input: { shape: x.shape, data: Uint8Array.from(x.data) }, same: x.data })
    forms.push({ name: 'int8 (as reals)', input: { shape: x.shape, data: Int8Array.from(x.data) }, same: Float64Array.from(Int8Array.from(x.data)) })
  }
  return forms
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]))

/** Every output of `run` in every form infer offers, compared with what `run` gives. */
const expectForms = (c: Compiled, net: Checked<Network>, input: Readonly<Record<string, InferInput>>, feed: Feed, mode: CompiledMode, what: string): void => {
  const k = key(5)
  const want = right(c.run(feed, k))
  for (const [name, w] of Object.entries(want)) {
    const binaryOut = net.outputs[name]?.type.dtype === 'binary' && mode !== 'ensemble'
    const outputs = { [name]: 'float64' as const }
    const got64 = right(c.infer(input, { key: k, outputs }))[name]!
    expect(sameBits(got64.data, w.data), `${what}: ${name} float64`).toBe(true)
    const got32 = right(c.infer(input, { key: k, outputs: { [name]: 'float32' } }))[name]!
    expect(sameBits(got32.data, Float32Array.from(w.data)), `${what}: ${name} float32`).toBe(true)
    if (w.shape.length === 2) {
      const into = new Int32Array(w.shape[0]!)
      const got: InferOutput = right(c.infer(input, { key: k, outputs: { [name]: 'classes' }, into: { [name]: into } }))[name]!
      const width = w.shape[1]!
      const argmax = Array.from({ length: w.shape[0]! }, (_, r) => {
        let best = 0
        for (let j = 1; j < width; j++) if (w.data[r * width + j]! > w.data[r * width + best]!) best = j
        return best
      })
      expect(got.data, `${what}: ${name} classes into the caller's buffer`).toBe(into)
      expect(Array.from(into), `${what}: ${name} classes`).toEqual(argmax)
    }
    if (binaryOut) {
      const got = right(c.infer(input, { key: k, outputs: { [name]: 'bits' } }))[name]!
      expect(Array.from(got.data), `${what}: ${name} bits`).toEqual(Array.from(right(packBits(w.shape, w.data)).data))
    }
  }
}

const modes: readonly CompiledMode[] = ['mode', 'sample', 'ensemble']
const backends: readonly BackendName[] = ['wasm', 'js', 'jitless']

describe('compiled infer ≡ run', () => {
  it('law: infer(typed inputs, every output form) ≡ run(float64) bit for bit on dense nets (every back end and mode)', () => {
    fc.assert(
      fc.property(arbNet, fc.constantFrom(...backends), fc.constantFrom(...modes), (spec, backend, mode) => {
        const { net, feed } = build(spec)
        const c = compiled(net, backend, mode)
        for (const form of formsOf(feed['x']!, spec.input === 'binary')) {
          const f: Feed = { ...feed, x: { shape: feed['x']!.shape, data: form.same } }
          expectForms(c, net, { ...feed, x: form.input }, f, mode, `${backend} ${mode} x as ${form.name} ${JSON.stringify(spec)}`)
        }
      }),
      { numRuns: 60, seed: 1313 },
    )
  })

  it('the shapes check kept per input-shape signature: batches that alternate, a bad shape and bad labels between them', () => {
    const layer = { width: 5, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } } as const
    const spec = { input: 'binary', inputWidth: 40, layers: [layer], head: 3, loss: true, batch: 2, seed: 9 } as const
    const c = compiled(build(spec).net, 'wasm', 'mode')
    for (const batch of [2, 3, 1, 2, 3]) {
      const { feed } = build({ ...spec, batch })
      const input = { x: { shape: feed['x']!.shape, data: Int8Array.from(feed['x']!.data) }, y: feed['y']! }
      const want = right(c.run(feed))
      const got = right(c.infer(input, { outputs: { output: 'float64', loss: 'float64' } }))
      expect(sameBits(got['output']!.data, want['output']!.data) && sameBits(got['loss']!.data, want['loss']!.data), `batch ${batch}`).toBe(true)
      const wrong = c.infer({ ...input, x: { shape: [batch, 41], data: new Int8Array(41 * batch).fill(1) } })
      expect(E.isLeft(wrong) && drawRunError(wrong.left)).toMatch(/x/)
      const badLabel = c.infer({ ...input, y: { shape: [batch], data: new Float64Array(batch).fill(7) } })
      expect(E.isLeft(badLabel) && drawRunError(badLabel.left)).toMatch(/y/)
    }
  })

  it('law: infer ≡ run bit for bit on convolutional nets (float32 and float64 NCHW inputs)', () => {
    fc.assert(
      fc.property(arbConvNet, fc.constantFrom(...modes), (spec, mode) => {
        const { net, feed } = buildConv(spec)
        const c = compiled(net, 'wasm', mode)
        for (const form of formsOf(feed['x']!, false)) {
          const f: Feed = { ...feed, x: { shape: feed['x']!.shape, data: form.same } }
          expectForms(c, net, { ...feed, x: form.input }, f, mode, `${mode} x as ${form.name} ${JSON.stringify(spec)}`)
        }
      }),
      { numRuns: 25, seed: 1314 },
    )
  })

  it('law: a packed binary output fed to the next network ≡ its float64 values', () => {
    const { net, feed } = build({ input: 'binary', inputWidth: 67, layers: [{ width: 65, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: 3, seed: 7 })
    const c = compiled(net, 'wasm', 'mode')
    const bits = right(c.infer({ x: { shape: [3, 67], data: Int8Array.from(feed['x']!.data) } }, { outputs: { hidden: 'bits' } }))['hidden']!
    const floats = right(c.run(feed))['hidden']!
    expect(bits.form).toBe('bits')
    expect(Array.from(bits.data)).toEqual(Array.from(right(packBits([3, 65], floats.data)).data))
  })
})

describe('compiled infer: bad typed arrays are clear errors', () => {
  const binary = build({ input: 'binary', inputWidth: 40, layers: [{ width: 33, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 3, loss: false, batch: 2, seed: 9 })
  const pixels = build({ input: 'uint8', inputWidth: 20, layers: [{ width: 9, weightNoise: { family: 'none' }, bias: 'integer', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: 2, seed: 9 })
  const error = (c: Compiled, input: Readonly<Record<string, InferInput>>, opts = {}): string => {
    const r = c.infer(input, opts)
    expect(E.isLeft(r)).toBe(true)
    return E.isLeft(r) ? drawRunError(r.left) : ''
  }
  for (const backend of backends) {
    const c = compiled(binary.net, backend, 'mode')
    const p = compiled(pixels.net, backend, 'mode')
    it(`${backend}: a value that is not ±1 (int8 0, float32 0.5, NaN) says where`, () => {
      const x8 = Int8Array.from(binary.feed['x']!.data)
      x8[45] = 0
      expect(error(c, { x: { shape: [2, 40], data: x8 } })).toMatch(/data\.x\[45\] = 0 for an input of dtype binary/)
      const x32 = Float32Array.from(binary.feed['x']!.data)
      x32[79] = 0.5
      expect(error(c, { x: { shape: [2, 40], data: x32 } })).toMatch(/data\.x\[79\] = 0\.5/)
      x32[79] = NaN
      expect(error(c, { x: { shape: [2, 40], data: x32 } })).toMatch(/data\.x\[79\] = NaN/)
      const r32 = Float32Array.from(pixels.feed['x']!.data)
      r32[3] = NaN
      expect(error(p, { x: { shape: [2, 20], data: r32 } })).toMatch(/x/)
    })
    it(`${backend}: wrong lengths, wrong array types, padding bits and caller buffers`, () => {
      expect(error(c, { x: { shape: [2, 40], data: new Int8Array(79) } })).toMatch(/79 values, shape \[2, 40\] needs 80/)
      expect(error(c, { x: { shape: [2, 41], data: new Int8Array(82) } })).toMatch(/x/)
      expect(error(c, { x: { shape: [2, 40], data: new Uint8Array(80) } })).toMatch(/Uint8Array for input x of dtype binary/)
      expect(error(c, { x: { form: 'bits', shape: [2, 40], data: new Int32Array(3) } })).toMatch(/3 words/)
      expect(error(c, { x: { form: 'bits', shape: [2, 40], data: Int32Array.of(0, 1 << 8, 0, 0) } })).toMatch(/row 0 has bits set beyond its 40 features/)
      const ok = { x: { shape: [2, 40], data: Int8Array.from(binary.feed['x']!.data) } }
      expect(error(c, ok, { outputs: { output: 'classes' }, into: { output: new Int32Array(3) } })).toMatch(/Int32Array of 2 elements/)
      expect(error(c, ok, { outputs: { output: 'bits' } })).toMatch(/not binary/)
      expect(error(c, ok, { outputs: { nope: 'float64' } })).toMatch(/nope/)
    })
  }
})

/**
 * The benchmarked networks, built with the public DSL and compiled with the public API:
 * one binary dense layer sign(x·W + b) (x binary, W = binarize(η)), and the MNIST-sized binary
 * MLP 784 → 4096 → 4096 → 10 on 8-bit pixels. Data come from a fixed-seed generator.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { Checked, Network } from '../src/dsl/node.js'
import { none, logistic } from '../src/dsl/noise.js'
import type { Noise } from '../src/dsl/noise.js'
import { add, binarize, input, matmul, param } from '../src/dsl/primitives.js'
import { mlp } from '../src/dsl/composites.js'
import { typecheck } from '../src/dsl/typecheck.js'
import { drawAll } from '../src/dsl/dslErrors.js'
import { initParams } from '../src/dsl/init.js'
import { key } from '../src/dsl/random.js'
import type { Key } from '../src/dsl/random.js'
import type { Feed } from '../src/interpreters/ndarray.js'
import { compile, drawCompileError } from '../src/interpreters/compiled/index.js'
import type { BackendName, Compiled, CompiledMode } from '../src/interpreters/compiled/index.js'
import { productsOf } from '../src/interpreters/compiled/execute.js'

/** A deterministic stream of uniforms in [0, 1) (xorshift32), for data and weights. */
export const uniforms = (seed: number) => {
  let s = seed >>> 0 || 1
  return (): number => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
}

const check = <N extends Network>(net: N): Checked<N> => {
  const c = typecheck(net)
  if (E.isLeft(c)) throw new Error(drawAll([c.left]))
  return c.right
}

export const compiled = (net: Checked<Network>, backend: BackendName, mode: CompiledMode): Compiled => {
  const c = compile(net, { backend, mode })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  return c.right
}

/** sign(x·W + b) with binary x [batch, k], W = binarize(η, none) [k, n], activation noise `act`. */
export const denseNet = (k: number, n: number, act: Noise, weightNoise: Noise = none, seed = 1, zeroBias = false): Checked<Network> => {
  const rnd = uniforms(seed)
  const x = input('x', ['batch', k], 'binary')
  const w = binarize(param('W', [k, n]), weightNoise, 'W')
  const y = binarize(add(matmul(x, w), param('b', [n], { kind: 'zeros' })), act, 'act')
  return check({
    outputs: { y },
    params: { W: Float64Array.from({ length: k * n }, () => rnd() * 2 - 1), b: Float64Array.from({ length: n }, () => (zeroBias ? 0 : Math.round((rnd() - 0.5) * 8))) },
  })
}

export const binaryFeed = (rows: number, k: number, seed = 2): Feed => {
  const rnd = uniforms(seed)
  return { x: { shape: [rows, k], data: Float64Array.from({ length: rows * k }, () => (rnd() < 0.5 ? -1 : 1)) } }
}

/** A compiled dense layer with closures that time its layer kernels alone (after one full run). */
export interface Timed {
  readonly compiled: Compiled
  readonly output: Float64Array
  /** The layer: every kernel whose label is the activation site (fill draws, product + epilogue). */
  readonly layer: () => void
}

export const timedLayer = (net: Checked<Network>, feed: Feed, backend: BackendName, mode: CompiledMode, k: Key = key(7)): Timed => {
  const c = compiled(net, backend, mode)
  const out = c.run(feed, k)
  if (E.isLeft(out)) throw new Error(JSON.stringify(out.left))
  const all = productsOf(c.plan.steps)
  const mine = all.flatMap((kern, i) => (kern.label === 'act' ? [i] : []))
  if (mine.length === 0) throw new Error('no layer kernel found')
  return {
    compiled: c,
    output: out.right['y']!.data,
    layer: () => {
      for (const i of mine) c.executor.kernel(i, k)
    },
  }
}

/** The MNIST-sized MLP: 784 → 4096 → 4096 → 10 (binary hidden layers, sign activations). */
export const mnistMlp = (hidden = 4096, act: Noise = none): Checked<Network> => {
  const x = input('pixels', ['batch', 784])
  const output = pipe(x, mlp({ hidden: [hidden, hidden], outputs: 10, activation: act, weightNoise: none }))
  const outputs = { output }
  return check({ outputs, params: initParams(outputs, key(3)) })
}

export const pixelFeed = (rows: number, seed = 4): Feed => {
  const rnd = uniforms(seed)
  return { pixels: { shape: [rows, 784], data: Float64Array.from({ length: rows * 784 }, () => Math.floor(rnd() * 256)) } }
}

export { logistic, none }

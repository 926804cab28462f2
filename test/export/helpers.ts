/** Helpers of the export tests: reference and compiled outputs, bit-exact comparison. */
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import { drawAll } from '../../src/dsl/dslErrors.js'
import { compile, drawCompileError } from '../../src/interpreters/compiled/index.js'
import type { BackendName } from '../../src/interpreters/compiled/index.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import { forward } from '../../src/interpreters/montecarlo/index.js'
import type { Feed, NDArray } from '../../src/interpreters/ndarray.js'
import { deploy } from '../../src/export/deploy.js'
import { drawExportError } from '../../src/export/exportErrors.js'
import { toNetwork } from '../../src/export/network.js'
import { key } from '../../src/dsl/random.js'
import { withParams } from '../../src/train/modes.js'
import { presetNetwork } from '../../src/train/presets.js'
import type { Preset } from '../../src/train/presets.js'
import { uniforms } from '../interpreters/compiled/nets.js'

/** The reference mode network's output `name`. */
export const modeOutput = (net: Checked<Network>, feed: Feed, name = 'output'): NDArray => {
  const ev = forward(net, feed, { mode: 'mode' })
  if (E.isLeft(ev)) throw new Error(drawRunError(ev.left))
  return ev.right.values.get(net.outputs[name]!)!
}

export const compiledOutput = (net: Checked<Network>, feed: Feed, backend: BackendName, name = 'output'): NDArray => {
  const c = compile(net, { backend, mode: 'mode' })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
  const r = c.right.run(feed)
  if (E.isLeft(r)) throw new Error(drawRunError(r.left))
  return r.right[name]!
}

export const rebuilt = (net: Checked<Network>, output = 'output'): Checked<Network> => {
  const d = deploy(net, output)
  if (E.isLeft(d)) throw new Error(drawExportError(d.left))
  const n = toNetwork(d.right)
  if (E.isLeft(n)) throw new Error(drawAll([n.left]))
  return n.right
}

export const expectBits = (got: NDArray, want: NDArray, what: string): void => {
  expect(got.shape, what).toEqual(want.shape)
  if (!got.data.every((v, i) => Object.is(v, want.data[i]))) expect(Array.from(got.data), what).toEqual(Array.from(want.data))
}


/** A preset with random batch-norm statistics (negative scales too) and a feed of `batch` images. */
export const trainedPreset = (p: Preset, inputShape: readonly number[], batch: number, seed: number): { net: Checked<Network>; feed: Feed } => {
  const n = presetNetwork(p, { inputShape, classes: 10, batchNorm: true, key: key(seed) })
  if (E.isLeft(n)) throw new Error(drawAll([n.left]))
  const rnd = uniforms(seed)
  const params = Object.fromEntries(Object.entries(n.right.params).map(([name, v]) => {
    const f = name.endsWith('.var') ? () => 0.01 + 9 * rnd() : name.endsWith('.gamma') ? () => 4 * rnd() - 1 : name.endsWith('.mean') || name.endsWith('.beta') || name.endsWith('.b') ? () => 4 * rnd() - 2 : undefined
    return [name, f === undefined ? v : Float64Array.from(v, f)]
  }))
  const size = inputShape.reduce((a, b) => a * b, 1)
  const x = Float64Array.from({ length: batch * size }, () => Math.floor(256 * rnd()) / 255)
  const y = new Float64Array(batch)
  return { net: withParams(n.right, params), feed: { x: { shape: [batch, ...inputShape], data: x }, y: { shape: [batch], data: y } } }
}


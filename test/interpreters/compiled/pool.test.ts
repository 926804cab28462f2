/**
 * A deterministic binarize of a max-pool of a convolution (the conv presets' blocks) is lowered
 * as the OR-pool of the convolution's bits (sign ∘ max = max ∘ sign): the same values as the
 * reference, bit for bit, on every back end.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { none } from '../../../src/dsl/noise.js'
import { key } from '../../../src/dsl/random.js'
import { typecheck } from '../../../src/dsl/typecheck.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import { forward } from '../../../src/interpreters/montecarlo/index.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import type { BackendName } from '../../../src/interpreters/compiled/index.js'
import { presetNetwork } from '../../../src/train/presets.js'
import { uniforms } from './nets.js'

const presetWithBiases = (c1: number, c2: number, seed: number) => {
  const net = presetNetwork({ kind: 'conv', channels: [c1, c2] }, { inputShape: [1, 12, 12], classes: 3, key: key(seed), activation: none, weightNoise: none })
  if (E.isLeft(net)) throw new Error('preset')
  const rnd = uniforms(seed)
  // Integer biases make some pre-activations exactly 0 (sign(0) = +1); real ones elsewhere.
  const params = { ...net.right.params, 'conv1.b': Float64Array.from({ length: c1 }, () => Math.round(rnd() * 8 - 4)), 'conv2.b': Float64Array.from({ length: c2 }, () => rnd() * 6 - 3) }
  const only = typecheck({ outputs: { output: net.right.outputs['output']! }, params })
  if (E.isLeft(only)) throw new Error('typecheck')
  return only.right
}

describe('compiled max-pool of a convolution, then sign', () => {
  for (const backend of ['wasm', 'js', 'jitless'] as readonly BackendName[])
    it(`${backend}: ≡ the reference bit for bit, and lowered as PoolOr of the convolution's bits`, () => {
      for (const [c1, c2, seed] of [[3, 5, 1], [16, 32, 2], [1, 33, 3]] as const) {
        const net = presetWithBiases(c1, c2, seed)
        const rnd = uniforms(seed + 10)
        const feed = { x: { shape: [3, 1, 12, 12], data: Float64Array.from({ length: 3 * 144 }, () => Math.floor(rnd() * 256)) } }
        const c = compile(net, { backend, mode: 'mode' })
        if (E.isLeft(c)) throw new Error(drawCompileError(c.left))
        expect(c.right.describe().filter((l) => l.startsWith('kernel PoolOr')).length).toBe(2)
        const got = c.right.run(feed)
        const want = forward(net, feed, { mode: 'mode' })
        if (E.isLeft(got) || E.isLeft(want)) throw new Error(E.isLeft(got) ? drawRunError(got.left) : 'reference')
        const w = want.right.values.get(net.outputs['output']!)!.data
        expect(Array.from(got.right['output']!.data)).toEqual(Array.from(w))
      }
    })
})

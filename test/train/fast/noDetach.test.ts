/**
 * The training kernels never detach an ArrayBuffer (src/train/fast/wasm-gemm.ts): growing a plain
 * WebAssembly memory detaches its old buffer, and the first detached buffer of a process makes
 * every typed-array access of optimised JavaScript check for detachment from then on (V8's
 * ArrayBufferDetaching protector; docs/training.md, "Speed"). So the kernels' memory is a shared
 * one, whose growth keeps the old buffer. Law: every growth during training steps (products,
 * sampler, convolutions) is of a shared memory, and a view taken before a growth stays readable.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { foldIn, key } from '../../../src/dsl/random.js'
import { prepareGradient } from '../../../src/estimators/gradient.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { wasmProducts } from '../../../src/train/fast/wasm-gemm.js'
import type { Preset } from '../../../src/train/presets.js'
import { presetNetwork } from '../../../src/train/presets.js'
import { withBatchNormMode } from '../../../src/train/modes.js'

const right = <T>(e: E.Either<unknown, T>): T => {
  if (E.isLeft(e)) throw new Error(JSON.stringify(e.left))
  return e.right
}

interface Grown { readonly shared: boolean; readonly before: ArrayBufferLike }
const Memory = (globalThis as unknown as { WebAssembly: { Memory: { prototype: { grow: (pages: number) => number; buffer: ArrayBufferLike } } } }).WebAssembly.Memory
const originalGrow = Memory.prototype.grow

/** Records every growth of a WebAssembly memory while `f` runs. */
const recordGrowth = (f: () => void): Grown[] => {
  const seen: Grown[] = []
  Memory.prototype.grow = function (this: { buffer: ArrayBufferLike }, pages: number): number {
    seen.push({ shared: typeof SharedArrayBuffer !== 'undefined' && this.buffer instanceof SharedArrayBuffer, before: this.buffer })
    return originalGrow.call(this, pages)
  }
  try {
    f()
  } finally {
    Memory.prototype.grow = originalGrow
  }
  return seen
}

afterEach(() => {
  Memory.prototype.grow = originalGrow
})

const steps = (preset: Preset, inputShape: number[], rows: number): void => {
  const net: Checked<Network> = withBatchNormMode(right(presetNetwork(preset, { inputShape, classes: 3, key: key(4), batchNorm: true })), 'train')
  const size = inputShape.reduce((a, b) => a * b, 1)
  const feed: Feed = {
    x: { shape: [rows, ...inputShape], data: Float64Array.from({ length: rows * size }, (_, i) => (Math.cos(0.3 * i) + 1) / 2) },
    y: { shape: [rows], data: Float64Array.from({ length: rows }, (_, i) => i % 3) },
  }
  const draw = right(prepareGradient(net, feed, { products: right(wasmProducts()) }))
  for (let s = 0; s < 2; s++) draw(foldIn(key(9), s))
}

describe('the training kernels detach no ArrayBuffer', () => {
  it('law: every growth of the kernels\' memory (MLP and conv steps) is of a shared memory, and old views stay readable', () => {
    // Sizes past the 16 initial pages (1 MiB): a 300×400 weight layer alone needs more.
    const grown = [
      ...recordGrowth(() => steps({ kind: 'mlp', hidden: [400, 64] }, [300], 16)),
      ...recordGrowth(() => steps({ kind: 'conv', channels: [8, 8] }, [1, 28, 28], 16)),
    ]
    expect(grown.length).toBeGreaterThan(0)
    expect(grown.filter((g) => !g.shared)).toEqual([])
    // A detached buffer has byteLength 0; a shared one keeps its length after growing.
    expect(grown.filter((g) => g.before.byteLength === 0)).toEqual([])
  })
})

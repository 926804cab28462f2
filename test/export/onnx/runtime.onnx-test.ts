/**
 * ONNX export ≡ sbnkit, checked by a real ONNX runtime (onnxruntime-node, CPU): the exported
 * graph gives the mode network's predictions on MNIST test images for the two presets, and its
 * logits agree to rounding on generated dense and conv networks. Run by `npm run test:onnx`
 * (the runtime is ~300 MB, so it is installed in this folder, apart from `npm test`).
 */
import { createRequire } from 'node:module'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../../src/dsl/node.js'
import { readPackage, mnistPackage } from '../../../src/data/packages.js'
import { toFeedRows } from '../../../src/data/images.js'
import type { Feed, NDArray } from '../../../src/interpreters/ndarray.js'
import { withBatchNormMode } from '../../../src/train/modes.js'
import { deploy, drawExportError } from '../../../src/export/index.js'
import { encodeOnnx } from '../../../src/export/onnx.js'
import { arbConvNet, arbNet, build, buildConv } from '../../interpreters/compiled/nets.js'
import { compiledOutput, modeOutput, trainedPreset } from '../helpers.js'

interface OrtTensor { readonly data: Float64Array; readonly dims: readonly number[] }
interface Ort {
  readonly Tensor: new (type: 'float64', data: Float64Array, dims: readonly number[]) => OrtTensor
  readonly InferenceSession: { create: (bytes: Uint8Array) => Promise<{ run: (feeds: Record<string, OrtTensor>) => Promise<Record<string, OrtTensor>> }> }
}
const ort = createRequire(import.meta.url)('onnxruntime-node') as Ort

const onnxOutput = async (net: Checked<Network>, feed: Feed): Promise<NDArray> => {
  const d = deploy(net)
  if (E.isLeft(d)) throw new Error(drawExportError(d.left))
  const session = await ort.InferenceSession.create(encodeOnnx(d.right))
  const x = feed['x']!
  const r = await session.run({ x: new ort.Tensor('float64', Float64Array.from(x.data), x.shape) })
  const out = r['output']!
  return { shape: [...out.dims], data: Float64Array.from(out.data) }
}

const argmax = (o: NDArray, row: number): number => {
  const k = o.shape[1]!
  let best = 0
  for (let j = 1; j < k; j++) if (o.data[row * k + j]! > o.data[row * k + best]!) best = j
  return best
}

/** Logits equal up to double rounding of the head's sums (k terms of size ≤ 2): 1e-12 relative. */
const expectClose = (got: NDArray, want: NDArray): void => {
  expect(got.shape).toEqual(want.shape)
  want.data.forEach((w, i) => expect(Math.abs(got.data[i]! - w)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(w)) * want.shape[1]!))
}

describe('ONNX export in onnxruntime-node', () => {
  it('generated dense nets: ONNX logits ≡ mode network', async () => {
    await fc.assert(
      fc.asyncProperty(arbNet.filter((s) => s.head > 0 && s.layers.every((l) => l.unary !== 'abs')), async (spec) => {
        const { net: trained, feed } = build(spec)
        const net = withBatchNormMode(trained, 'inference')
        expectClose(await onnxOutput(net, feed), modeOutput(net, feed))
      }),
      { seed: 7, numRuns: 40 },
    )
  })

  it('generated conv nets: ONNX logits ≡ mode network', async () => {
    await fc.assert(
      fc.asyncProperty(arbConvNet, async (spec) => {
        const { net, feed } = buildConv(spec)
        expectClose(await onnxOutput(net, feed), modeOutput(net, feed))
      }),
      { seed: 7, numRuns: 30 },
    )
  })

  it('presets on 1000 MNIST test images: the same predictions as sbnkit', async () => {
    const mnist = await readPackage(mnistPackage)
    if (E.isLeft(mnist)) throw new Error('the mnist package is a devDependency of sbnkit')
    const rows = Array.from({ length: 1000 }, (_, i) => (i * 10) % mnist.right.images.count)
    for (const [preset, layout, shape] of [[{ kind: 'mlp', hidden: [256, 256] }, 'flat', [784]], [{ kind: 'conv', channels: [16, 32] }, 'nchw', [1, 28, 28]]] as const) {
      const { net } = trainedPreset(preset, shape, 1, 11)
      const feed = toFeedRows(mnist.right.images, rows, { scale: '01', layout })
      // The compiled interpreter is the reference's bit-exact twin (test/interpreters/compiled), and faster.
      const want = compiledOutput(net, feed, 'wasm')
      const got = await onnxOutput(net, feed)
      expectClose(got, want)
      const differ = rows.filter((_, i) => argmax(got, i) !== argmax(want, i)).length
      expect(differ, `${preset.kind}: predictions that differ`).toBe(0)
    }
  })
})

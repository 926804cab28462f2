/**
 * The `conv:16,32` preset (src/train/presets.ts) as a bench:peers workload: our compiled mode
 * network (conv 1→16 3×3 pad 1 → max-pool 2 → sign; conv 16→32 3×3 → max-pool 2 → sign; real
 * head) on 8-bit pixels, and the same network written as ONNX (Conv, MaxPool, Add ½, Sign,
 * Flatten, MatMul, Add) for onnxruntime float32. The parameters are the preset's initial ones
 * (biases zero, so the pre-activations are integers and Sign(v + ½) is our sign).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import { none } from '../../src/dsl/noise.js'
import { key } from '../../src/dsl/random.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { presetNetwork } from '../../src/train/presets.js'
import type { Ort, Peer } from './peers.js'
import type { GraphSpec } from './onnx.js'
import { onnxModel } from './onnx.js'

/** The preset's inference network (the `output` head only) in the mode network's terms. */
export const convPresetNet = (c1: number, c2: number): Checked<Network> => {
  const full = presetNetwork({ kind: 'conv', channels: [c1, c2] }, { inputShape: [1, 28, 28], classes: 10, key: key(0), activation: none, weightNoise: none })
  if (E.isLeft(full)) throw new Error('conv preset: typecheck failed')
  const only = typecheck({ outputs: { output: full.right.outputs['output']! }, params: full.right.params })
  if (E.isLeft(only)) throw new Error('conv preset: typecheck of the output head failed')
  return only.right
}

const signs = (w: ArrayLike<number>): Float32Array => Float32Array.from(w, (v) => (v >= 0 ? 1 : -1))

export const ortConv = async (ort: Ort, net: Checked<Network>, batch: number, pixels: Float64Array, c1: number, c2: number, notes: string[]): Promise<Peer[]> => {
  const p = (name: string): Float64Array => net.params[name]!
  for (const b of ['conv1.b', 'conv2.b']) if (p(b).some((v) => v !== 0)) notes.push(`conv preset: ${b} is not zero, Sign(v + ½) may differ from sign`)
  const f = (name: string, dims: number[], data: Float32Array) => ({ name, type: 'float' as const, dims, data })
  const side = 6 // 28 → pool 14 → conv 12 → pool 6
  const g: GraphSpec = {
    inputs: [{ name: 'X', type: 'float', dims: [batch, 1, 28, 28] }],
    output: { name: 'Y', type: 'float', dims: [batch, 10] },
    initializers: [
      f('W1', [c1, 1, 3, 3], signs(p('conv1.W'))), f('B1', [c1], Float32Array.from(p('conv1.b'))),
      f('W2', [c2, c1, 3, 3], signs(p('conv2.W'))), f('B2', [c2], Float32Array.from(p('conv2.b'))),
      f('H', [1], Float32Array.of(0.5)), f('WH', [c2 * side * side, 10], Float32Array.from(p('head.W'))), f('BH', [10], Float32Array.from(p('head.b'))),
    ],
    nodes: [
      { op: 'Conv', inputs: ['X', 'W1', 'B1'], output: 'C1', attributes: [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'pads', ints: [1, 1, 1, 1] }] },
      { op: 'MaxPool', inputs: ['C1'], output: 'P1', attributes: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }] },
      { op: 'Add', inputs: ['P1', 'H'], output: 'A1' }, { op: 'Sign', inputs: ['A1'], output: 'S1' },
      { op: 'Conv', inputs: ['S1', 'W2', 'B2'], output: 'C2', attributes: [{ name: 'kernel_shape', ints: [3, 3] }] },
      { op: 'MaxPool', inputs: ['C2'], output: 'P2', attributes: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }] },
      { op: 'Add', inputs: ['P2', 'H'], output: 'A2' }, { op: 'Sign', inputs: ['A2'], output: 'S2' },
      { op: 'Flatten', inputs: ['S2'], output: 'F' },
      { op: 'MatMul', inputs: ['F', 'WH'], output: 'L' }, { op: 'Add', inputs: ['L', 'BH'], output: 'Y' },
    ],
  }
  try {
    const s = await ort.InferenceSession.create(onnxModel(g), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' })
    const feeds = { X: new ort.Tensor('float32', Float32Array.from(pixels), [batch, 1, 28, 28]) }
    return [{ name: 'onnxruntime-f32', run: () => s.run(feeds), output: async () => (await s.run(feeds))['Y']!.data }]
  } catch (err) {
    notes.push(`onnxruntime-f32 conv failed: ${String(err).split('\n')[0]}`)
    return []
  }
}

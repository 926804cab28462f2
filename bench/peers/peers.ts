/**
 * The peers of `bench:peers`, behind the small slices of their APIs we use (typed here, so the
 * root project type-checks without them installed): onnxruntime-node sessions built from ONNX
 * written by hand (onnx.ts), one intra-op thread, and tfjs-backend-wasm. Each peer is a timed
 * `run` and an `output` to check against ours first.
 */
import { createRequire } from 'node:module'
import { onnxModel } from './onnx.js'
import type { GraphSpec } from './onnx.js'

interface OrtTensor { readonly data: ArrayLike<number> }
export interface Ort {
  readonly Tensor: new (type: string, data: Float32Array | Uint8Array | Int8Array, dims: readonly number[]) => OrtTensor
  readonly InferenceSession: {
    create(model: Uint8Array, opts: Record<string, unknown>): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }>
  }
}
interface TfTensor { dataSync(): ArrayLike<number>; dispose(): void }
export interface Tf {
  setBackend(name: string): Promise<boolean>
  ready(): Promise<void>
  getBackend(): string
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor
  tensor1d(values: Float32Array): TfTensor
  tidy<T>(fn: () => T): T
  matMul(a: TfTensor, b: TfTensor): TfTensor
  add(a: TfTensor, b: number | TfTensor): TfTensor
  sign(a: TfTensor): TfTensor
}

export interface Peer {
  readonly name: string
  readonly run: () => unknown
  readonly output: () => Promise<ArrayLike<number>>
}

const load = async <T>(name: string): Promise<T> => (await import(name)) as T

export const loadPeers = async (notes: string[]): Promise<{ ort: Ort | undefined; tf: Tf | undefined }> => {
  const require = createRequire(import.meta.url)
  let ort: Ort | undefined
  let tf: Tf | undefined
  try {
    ort = await load<Ort>('onnxruntime-node')
  } catch (err) {
    notes.push(`onnxruntime-node not loaded: ${String(err).split('\n')[0]}`)
  }
  try {
    tf = await load<Tf>('@tensorflow/tfjs-core')
    await load<unknown>('@tensorflow/tfjs-backend-wasm')
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") returned false')
    await tf.ready()
    notes.push(`tfjs backend: ${tf.getBackend()} (${require.resolve('@tensorflow/tfjs-backend-wasm')})`)
  } catch (err) {
    notes.push(`tfjs-backend-wasm not loaded: ${String(err).split('\n')[0]}`)
    tf = undefined
  }
  return { ort, tf }
}

export const checkSigns = (ours: Float64Array, theirs: ArrayLike<number>, who: string): void => {
  if (ours.length !== theirs.length) throw new Error(`${who}: ${theirs.length} outputs, ours ${ours.length}`)
  for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) throw new Error(`${who}: output ${i} is ${theirs[i]}, ours ${ours[i]}`)
}

/** |ours − theirs| ≤ tol·(1 + |ours|) everywhere (float32 peers of our float64 head; 0 for float32 of ours). */
export const checkClose = (ours: Float64Array, theirs: ArrayLike<number>, tol: number, who: string): void => {
  if (ours.length !== theirs.length) throw new Error(`${who}: ${theirs.length} outputs, ours ${ours.length}`)
  for (let i = 0; i < ours.length; i++) {
    const want = tol === 0 ? Math.fround(ours[i]!) : ours[i]!
    if (!(Math.abs(want - theirs[i]!) <= tol * (1 + Math.abs(want)))) throw new Error(`${who}: output ${i} is ${theirs[i]}, ours ${ours[i]}`)
  }
}

const signs32 = (w: ArrayLike<number>): Float32Array => Float32Array.from(w, (v) => (v >= 0 ? 1 : -1))
const OPTS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' }

/** An onnxruntime session as a peer, or a note when onnxruntime rejects the model. */
const session = async (ort: Ort, name: string, graph: GraphSpec, feeds: Record<string, OrtTensor>, notes: string[]): Promise<Peer[]> => {
  try {
    const s = await ort.InferenceSession.create(onnxModel(graph), OPTS)
    return [{ name, run: () => s.run(feeds), output: async () => (await s.run(feeds))['Y']!.data }]
  } catch (err) {
    notes.push(`${name} failed: ${String(err).split('\n')[0]}`)
    return []
  }
}

/** sign(x·W) at batch × k → n in float32, u8×s8 and s8×s8. */
export const ortDense = async (ort: Ort, batch: number, k: number, n: number, xs: Float64Array, w: ArrayLike<number>, notes: string[]): Promise<Peer[]> => {
  const w32 = signs32(w)
  const i8 = Int8Array.from(w32)
  const y = { name: 'Y', type: 'int32' as const, dims: [batch, n] }
  const int = (x: 'int8' | 'uint8', zero: boolean): GraphSpec => ({
    inputs: [{ name: 'X', type: x, dims: [batch, k] }],
    output: y,
    initializers: [
      { name: 'W', type: 'int8', dims: [k, n], data: i8 },
      ...(zero ? [{ name: 'Z', type: 'uint8' as const, dims: [], data: Uint8Array.of(1) }] : []),
      { name: 'C', type: 'int32', dims: [1], data: Int32Array.of(1) },
    ],
    nodes: [{ op: 'MatMulInteger', inputs: zero ? ['X', 'W', 'Z'] : ['X', 'W'], output: 'P' }, { op: 'Add', inputs: ['P', 'C'], output: 'S' }, { op: 'Sign', inputs: ['S'], output: 'Y' }],
  })
  return [
    ...(await session(ort, 'onnxruntime-f32', {
      inputs: [{ name: 'X', type: 'float', dims: [batch, k] }],
      output: { name: 'Y', type: 'float', dims: [batch, n] },
      initializers: [{ name: 'W', type: 'float', dims: [k, n], data: w32 }, { name: 'C', type: 'float', dims: [1], data: Float32Array.of(0.5) }],
      nodes: [{ op: 'MatMul', inputs: ['X', 'W'], output: 'P' }, { op: 'Add', inputs: ['P', 'C'], output: 'S' }, { op: 'Sign', inputs: ['S'], output: 'Y' }],
    }, { X: new ort.Tensor('float32', Float32Array.from(xs), [batch, k]) }, notes)),
    // The usual quantized path: uint8 activations x + 1 ∈ {0, 2} with zero point 1, int8 weights.
    ...(await session(ort, 'onnxruntime-u8s8', int('uint8', true), { X: new ort.Tensor('uint8', Uint8Array.from(xs, (v) => v + 1), [batch, k]) }, notes)),
    ...(await session(ort, 'onnxruntime-s8s8', int('int8', false), { X: new ort.Tensor('int8', Int8Array.from(xs), [batch, k]) }, notes)),
  ]
}

export interface MlpWeights {
  readonly w1: Float64Array
  readonly w2: Float64Array
  readonly wh: Float64Array
  readonly bh: Float64Array
}

/**
 * The MLP sign(sign(x·W1)·W2)·Wh + bh on pixels in float32, and with u8×s8 products (pixels with
 * zero point 0; hidden ±1 as {0, 2} with zero point 1; sign of 2p + 1 so that p = 0 gives +1).
 * s8×s8 cannot take pixels above 127 and is not run on the MLP.
 */
export const ortMlp = async (ort: Ort, batch: number, pixels: Float64Array, w: MlpWeights, notes: string[]): Promise<Peer[]> => {
  const f = (name: string, dims: number[], data: Float32Array) => ({ name, type: 'float' as const, dims, data })
  const head = [f('WH', [4096, 10], Float32Array.from(w.wh)), f('BH', [10], Float32Array.from(w.bh))]
  const headNodes = (from: string) => [{ op: 'MatMul', inputs: [from, 'WH'], output: 'L' }, { op: 'Add', inputs: ['L', 'BH'], output: 'Y' }]
  const output = { name: 'Y', type: 'float' as const, dims: [batch, 10] }
  const i32 = (name: string, v: number) => ({ name, type: 'int32' as const, dims: [1], data: Int32Array.of(v) })
  const cast = (input: string, out: string, to: number) => ({ op: 'Cast', inputs: [input], output: out, attributes: [{ name: 'to', int: to }] })
  notes.push('onnxruntime-s8s8 is not run on the MLP: int8 cannot hold pixels above 127')
  return [
    ...(await session(ort, 'onnxruntime-f32', {
      inputs: [{ name: 'X', type: 'float', dims: [batch, 784] }],
      output,
      initializers: [f('W1', [784, 4096], signs32(w.w1)), f('W2', [4096, 4096], signs32(w.w2)), f('C', [1], Float32Array.of(0.5)), ...head],
      nodes: [
        { op: 'MatMul', inputs: ['X', 'W1'], output: 'P1' }, { op: 'Add', inputs: ['P1', 'C'], output: 'S1' }, { op: 'Sign', inputs: ['S1'], output: 'H1' },
        { op: 'MatMul', inputs: ['H1', 'W2'], output: 'P2' }, { op: 'Add', inputs: ['P2', 'C'], output: 'S2' }, { op: 'Sign', inputs: ['S2'], output: 'H2' },
        ...headNodes('H2'),
      ],
    }, { X: new ort.Tensor('float32', Float32Array.from(pixels), [batch, 784]) }, notes)),
    ...(await session(ort, 'onnxruntime-u8s8', {
      inputs: [{ name: 'X', type: 'uint8', dims: [batch, 784] }],
      output,
      initializers: [
        { name: 'W1', type: 'int8', dims: [784, 4096], data: Int8Array.from(signs32(w.w1)) },
        { name: 'W2', type: 'int8', dims: [4096, 4096], data: Int8Array.from(signs32(w.w2)) },
        { name: 'Z', type: 'uint8', dims: [], data: Uint8Array.of(1) },
        i32('ONE', 1), i32('TWO', 2), ...head,
      ],
      nodes: [
        { op: 'MatMulInteger', inputs: ['X', 'W1'], output: 'P1' }, { op: 'Mul', inputs: ['P1', 'TWO'], output: 'D1' }, { op: 'Add', inputs: ['D1', 'ONE'], output: 'S1' },
        { op: 'Sign', inputs: ['S1'], output: 'H1' }, { op: 'Add', inputs: ['H1', 'ONE'], output: 'U1' }, cast('U1', 'Q1', 2),
        { op: 'MatMulInteger', inputs: ['Q1', 'W2', 'Z'], output: 'P2' }, { op: 'Add', inputs: ['P2', 'ONE'], output: 'S2' },
        { op: 'Sign', inputs: ['S2'], output: 'H2' }, cast('H2', 'F2', 1),
        ...headNodes('F2'),
      ],
    }, { X: new ort.Tensor('uint8', Uint8Array.from(pixels), [batch, 784]) }, notes)),
  ]
}

export const tfDense = (tf: Tf, batch: number, k: number, n: number, xs: Float64Array, w: ArrayLike<number>): Peer => {
  const tx = tf.tensor2d(Float32Array.from(xs), [batch, k])
  const tw = tf.tensor2d(signs32(w), [k, n])
  const layer = (): ArrayLike<number> => {
    const y = tf.tidy(() => tf.sign(tf.add(tf.matMul(tx, tw), 0.5)))
    const d = y.dataSync()
    y.dispose()
    return d
  }
  return { name: 'tfjs-wasm-f32', run: layer, output: async () => layer() }
}

export const tfMlp = (tf: Tf, batch: number, pixels: Float64Array, w: MlpWeights): Peer => {
  const tx = tf.tensor2d(Float32Array.from(pixels), [batch, 784])
  const w1 = tf.tensor2d(signs32(w.w1), [784, 4096])
  const w2 = tf.tensor2d(signs32(w.w2), [4096, 4096])
  const wh = tf.tensor2d(Float32Array.from(w.wh), [4096, 10])
  const bh = tf.tensor1d(Float32Array.from(w.bh))
  const net = (): ArrayLike<number> => {
    const y = tf.tidy(() => tf.add(tf.matMul(tf.sign(tf.add(tf.matMul(tf.sign(tf.add(tf.matMul(tx, w1), 0.5)), w2), 0.5)), wh), bh))
    const d = y.dataSync()
    y.dispose()
    return d
  }
  return { name: 'tfjs-wasm-f32', run: net, output: async () => net() }
}

/**
 * `npm run bench:peers`: sbnkit's compiled binary layer against onnxruntime-node (float32
 * MatMul and int8 MatMulInteger, one thread) and TensorFlow.js's WebAssembly back end (float32
 * matMul), on the same layer sign(x·W) with x, W ∈ {±1}. Every peer's output is checked equal to
 * ours before it is timed. The peers are loaded with dynamic imports typed by the small
 * interfaces below, so the root project type-checks without them installed.
 *
 * The layer: ours is sign(x·W + 0) with sign(0) = +1; the peers compute Sign(x·W + ½) (float) and
 * Sign(x·W + 1) (int32), which agree because x·W is an even integer (k even).
 */
import { createRequire } from 'node:module'
import { none } from '../../src/dsl/noise.js'
import { binaryFeed, denseNet, timedLayer } from '../layers.js'
import type { Summary } from '../stats.js'
import { fmt, range, summary } from '../stats.js'
import { onnxModel } from './onnx.js'

// --- the peers' APIs, as far as we use them ----------------------------------------------------
interface OrtTensor { readonly data: ArrayLike<number> }
interface Ort {
  readonly Tensor: new (type: string, data: Float32Array | Uint8Array | Int8Array, dims: readonly number[]) => OrtTensor
  readonly InferenceSession: {
    create(model: Uint8Array, opts: Record<string, unknown>): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }>
  }
}
interface TfTensor { dataSync(): ArrayLike<number>; dispose(): void }
interface Tf {
  setBackend(name: string): Promise<boolean>
  ready(): Promise<void>
  getBackend(): string
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor
  tidy<T>(fn: () => T): T
  matMul(a: TfTensor, b: TfTensor): TfTensor
  add(a: TfTensor, b: number): TfTensor
  sign(a: TfTensor): TfTensor
}
const load = async <T>(name: string): Promise<T> => (await import(name)) as T

// --- timing (async peers): interleaved rounds, each sample ≥ minMs ------------------------------
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7)
const sampleAsync = async (fn: () => unknown, minMs: number): Promise<number> => {
  let calls = 0
  const start = performance.now()
  let now = start
  do {
    await fn()
    calls++
    now = performance.now()
  } while (now - start < minMs)
  return (now - start) / calls
}
const roundsAsync = async (c: Record<string, () => unknown>): Promise<Record<string, number[]>> => {
  const out: Record<string, number[]> = {}
  for (const [name, fn] of Object.entries(c)) {
    await fn()
    await fn()
    out[name] = []
  }
  for (let r = 0; r < ROUNDS; r++) for (const [name, fn] of Object.entries(c)) out[name]!.push(await sampleAsync(fn, 30))
  return out
}

const sameSigns = (ours: Float64Array, theirs: ArrayLike<number>, who: string): void => {
  if (ours.length !== theirs.length) throw new Error(`${who}: ${theirs.length} outputs, ours ${ours.length}`)
  for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) throw new Error(`${who}: output ${i} is ${theirs[i]}, ours ${ours[i]}`)
}

interface Case {
  readonly name: string
  readonly batch: number
  readonly k: number
  readonly n: number
}

const notes: string[] = []
const table: string[][] = []
const row = (measure: string, target: string, ratio: Summary | undefined, targetRatio: number, detail: string): void => {
  table.push([measure, target, ratio === undefined ? 'n/a' : `${range(ratio, 1)}×`, ratio === undefined ? 'not run' : ratio.median >= targetRatio ? 'met' : 'MISSED', detail])
}

const runCase = async (c: Case, ort: Ort | undefined, tf: Tf | undefined): Promise<Record<string, number[]>> => {
  const net = denseNet(c.k, c.n, none, none, 11, true)
  const feed = binaryFeed(c.batch, c.k, 12)
  const ours = timedLayer(net, feed, 'wasm', 'mode')
  const xs = feed['x']!.data
  const w = net.params['W']!
  const x32 = Float32Array.from(xs)
  const w32 = Float32Array.from(w, (v) => (v >= 0 ? 1 : -1))
  const contenders: Record<string, () => unknown> = {
    'sbnkit layer': ours.layer,
    'sbnkit run()': () => ours.compiled.run(feed),
  }
  if (ort !== undefined) {
    const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' }
    const fModel = onnxModel({
      inputs: [{ name: 'X', type: 'float', dims: [c.batch, c.k] }],
      output: { name: 'Y', type: 'float', dims: [c.batch, c.n] },
      initializers: [{ name: 'W', type: 'float', dims: [c.k, c.n], data: w32 }, { name: 'C', type: 'float', dims: [1], data: Float32Array.of(0.5) }],
      nodes: [{ op: 'MatMul', inputs: ['X', 'W'], output: 'P' }, { op: 'Add', inputs: ['P', 'C'], output: 'S' }, { op: 'Sign', inputs: ['S'], output: 'Y' }],
    })
    const fSession = await ort.InferenceSession.create(fModel, opts)
    const fX = new ort.Tensor('float32', x32, [c.batch, c.k])
    sameSigns(ours.output, (await fSession.run({ X: fX }))['Y']!.data, 'onnxruntime float32')
    contenders['onnxruntime float32'] = () => fSession.run({ X: fX })
    const iModel = onnxModel({
      inputs: [{ name: 'X', type: 'int8', dims: [c.batch, c.k] }],
      output: { name: 'Y', type: 'int32', dims: [c.batch, c.n] },
      initializers: [{ name: 'W', type: 'int8', dims: [c.k, c.n], data: Int8Array.from(w32) }, { name: 'C', type: 'int32', dims: [1], data: Int32Array.of(1) }],
      nodes: [{ op: 'MatMulInteger', inputs: ['X', 'W'], output: 'P' }, { op: 'Add', inputs: ['P', 'C'], output: 'S' }, { op: 'Sign', inputs: ['S'], output: 'Y' }],
    })
    try {
      const iSession = await ort.InferenceSession.create(iModel, opts)
      const iX = new ort.Tensor('int8', Int8Array.from(xs), [c.batch, c.k])
      sameSigns(ours.output, (await iSession.run({ X: iX }))['Y']!.data, 'onnxruntime int8')
      contenders['onnxruntime s8×s8'] = () => iSession.run({ X: iX })
    } catch (err) {
      notes.push(`onnxruntime int8 MatMulInteger (int8 × int8) failed on ${c.name}: ${String(err).split('\n')[0]}`)
    }
    // The usual quantized path: uint8 activations x + 1 ∈ {0, 2} with zero point 1, int8 weights.
    const uModel = onnxModel({
      inputs: [{ name: 'X', type: 'uint8', dims: [c.batch, c.k] }],
      output: { name: 'Y', type: 'int32', dims: [c.batch, c.n] },
      initializers: [
        { name: 'W', type: 'int8', dims: [c.k, c.n], data: Int8Array.from(w32) },
        { name: 'Z', type: 'uint8', dims: [], data: Uint8Array.of(1) },
        { name: 'C', type: 'int32', dims: [1], data: Int32Array.of(1) },
      ],
      nodes: [{ op: 'MatMulInteger', inputs: ['X', 'W', 'Z'], output: 'P' }, { op: 'Add', inputs: ['P', 'C'], output: 'S' }, { op: 'Sign', inputs: ['S'], output: 'Y' }],
    })
    try {
      const uSession = await ort.InferenceSession.create(uModel, opts)
      const uX = new ort.Tensor('uint8', Uint8Array.from(xs, (v) => v + 1), [c.batch, c.k])
      sameSigns(ours.output, (await uSession.run({ X: uX }))['Y']!.data, 'onnxruntime u8×s8')
      contenders['onnxruntime u8×s8'] = () => uSession.run({ X: uX })
    } catch (err) {
      notes.push(`onnxruntime MatMulInteger (uint8 × int8) failed on ${c.name}: ${String(err).split('\n')[0]}`)
    }
  }
  if (tf !== undefined) {
    const tx = tf.tensor2d(x32, [c.batch, c.k])
    const tw = tf.tensor2d(w32, [c.k, c.n])
    const layer = (): ArrayLike<number> => {
      const y = tf.tidy(() => tf.sign(tf.add(tf.matMul(tx, tw), 0.5)))
      const d = y.dataSync()
      y.dispose()
      return d
    }
    sameSigns(ours.output, layer(), 'tfjs-backend-wasm')
    contenders['tfjs-wasm float32'] = layer
  }
  const t = await roundsAsync(contenders)
  const macs = c.batch * c.k * c.n
  console.log(`\n${c.name} (batch ${c.batch}, ${c.k}→${c.n}): ms per layer, median (min–max), GMAC/s`)
  for (const [name, ms] of Object.entries(t)) console.log(`  ${name.padEnd(22)} ${range(summary(ms), 3).padEnd(26)} ${fmt(macs / summary(ms).median / 1e6)}`)
  return t
}

const ratio = (a: number[] | undefined, b: number[] | undefined): Summary | undefined =>
  a === undefined || b === undefined ? undefined : summary(a.map((x, i) => x / b[i]!))

/** The faster (by median) of two contenders' samples. */
const best = (a: number[] | undefined, b: number[] | undefined): number[] | undefined =>
  a === undefined ? b : b === undefined ? a : summary(a).median <= summary(b).median ? a : b

const main = async (): Promise<void> => {
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
  const a = await runCase({ name: 'layer 256×1024→1024', batch: 256, k: 1024, n: 1024 }, ort, tf)
  const b = await runCase({ name: 'batch 1, 4096×4096', batch: 1, k: 4096, n: 4096 }, ort, undefined)
  row('256×1024→1024 vs onnxruntime float32 MatMul+Sign, 1 thread', '≥ 2×', ratio(a['onnxruntime float32'], a['sbnkit layer']), 2, `end to end incl. pack/unpack: ${ratio(a['onnxruntime float32'], a['sbnkit run()']) ? range(ratio(a['onnxruntime float32'], a['sbnkit run()'])!, 1) + '×' : 'n/a'}`)
  row('256×1024→1024 vs tfjs-backend-wasm float32 matMul+sign', '≥ 8×', ratio(a['tfjs-wasm float32'], a['sbnkit layer']), 8, `end to end: ${ratio(a['tfjs-wasm float32'], a['sbnkit run()']) ? range(ratio(a['tfjs-wasm float32'], a['sbnkit run()'])!, 1) + '×' : 'n/a'}`)
  const int8 = best(b['onnxruntime u8×s8'], b['onnxruntime s8×s8'])
  row('batch 1, 4096×4096 vs onnxruntime int8 MatMulInteger (its faster of u8×s8, s8×s8), 1 thread', '≥ 4×', ratio(int8, b['sbnkit layer']), 4, `end to end: ${ratio(int8, b['sbnkit run()']) ? range(ratio(int8, b['sbnkit run()'])!, 1) + '×' : 'n/a'}`)
  row('batch 1, 4096×4096 vs onnxruntime float32, 1 thread', '≥ 10×', ratio(b['onnxruntime float32'], b['sbnkit layer']), 10, `end to end: ${ratio(b['onnxruntime float32'], b['sbnkit run()']) ? range(ratio(b['onnxruntime float32'], b['sbnkit run()'])!, 1) + '×' : 'n/a'}`)
  console.log('\n| measure | target | speed-up, median (min–max) | | |')
  console.log('|---|---|---|---|---|')
  for (const r of table) console.log(`| ${r.join(' | ')} |`)
  console.log(`\n${ROUNDS} interleaved rounds; node ${process.version}`)
  for (const n of notes) console.log(`note: ${n}`)
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)

/**
 * `npx tsx bench/peers/train-tfjs.ts` (after `npm install --prefix bench/peers`): the issue-6
 * training step written with TensorFlow.js on its WebAssembly back end, timed in the same
 * process and interleaved with sbnkit's step (bench/train.ts) on the same batches.
 *
 * The tfjs network is the same: 784→512→512→10, Bernoulli ±1 weights w = sign(η − Z) with
 * identity pass-through to η (mirror), logistic binary activations x = sign(a − Z) with the
 * matched ST gradient 2σ(a)(1 − σ(a))·g (a `tf.customGrad`), a real head, softmax cross-entropy
 * (batch mean), plain SGD — from the same initial parameters. Z is logistic noise made from
 * `tf.randomUniform` as log u − log(1 − u). tfjs computes in float32.
 *
 * Options: `--rounds N` (default 20). Prints ms per batch (wall and CPU), median (min–max),
 * the per-round ratio tfjs / sbnkit, and the mean loss of each over the timed batches.
 */
import * as E from 'fp-ts/lib/Either.js'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fastProducts } from '../../src/train/fast/index.js'
import type { Sample } from '../train.js'
import { BATCH, EPOCH_BATCHES, batchOf, issueNet, median, randomImages, spread, timeOnce, trainer } from '../train.js'

// --- the slice of the tfjs API used here (dynamic import: the root project builds without it) ---
interface Tensor { readonly shape: readonly number[]; dataSync(): Float32Array; dispose(): void }
interface Variable extends Tensor { readonly name: string }
type Save = (tensors: Tensor[]) => void
interface Tf {
  setBackend(name: string): Promise<boolean>
  ready(): Promise<void>
  getBackend(): string
  getGradient(kernel: string): unknown
  memory(): { readonly numTensors: number }
  tensor1d(values: Int32Array, dtype: 'int32'): Tensor
  tensor2d(values: Float32Array, shape: [number, number]): Tensor
  variable(t: Tensor, trainable: boolean, name: string): Variable
  oneHot(indices: Tensor, depth: number): Tensor
  matMul(a: Tensor, b: Tensor): Tensor
  add(a: Tensor, b: Tensor): Tensor
  sub(a: Tensor | number, b: Tensor | number): Tensor
  mul(a: Tensor | number, b: Tensor | number): Tensor
  log(a: Tensor): Tensor
  sign(a: Tensor): Tensor
  sigmoid(a: Tensor): Tensor
  randomUniform(shape: readonly number[], min: number, max: number): Tensor
  customGrad(f: (a: Tensor, save: Save) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor }): (a: Tensor) => Tensor
  readonly losses: { softmaxCrossEntropy(onehot: Tensor, logits: Tensor): Tensor }
  readonly train: { sgd(lr: number): { minimize(f: () => Tensor, returnCost: true): Tensor | null } }
}
/**
 * tfjs-core's Node build registers no gradient functions (the umbrella `@tensorflow/tfjs` does),
 * so training needs `@tensorflow/tfjs` next to `@tensorflow/tfjs-backend-wasm`: from
 * bench/peers, or from the prefix named by TFJS_PREFIX (`npm install --prefix DIR …`).
 */
const loadTf = (): Tf => {
  const prefix = process.env['TFJS_PREFIX']
  const req = createRequire(prefix === undefined ? import.meta.url : join(prefix, 'node_modules', 'noop.js'))
  let tf: Tf
  try {
    tf = req('@tensorflow/tfjs') as Tf
  } catch {
    tf = req('@tensorflow/tfjs-core') as Tf
  }
  if (tf.getGradient('BatchMatMul') === undefined)
    throw new Error('tfjs: no gradient functions registered; install @tensorflow/tfjs (4.22.0) in bench/peers or set TFJS_PREFIX to a prefix that has it')
  req('@tensorflow/tfjs-backend-wasm')
  return tf
}

const LR = 0.01

/** The tfjs step on the same data and initial parameters as `trainer`. */
const tfjsTrainer = (tf: Tf, data: { readonly x: Float64Array; readonly y: Float64Array }) => {
  const init = issueNet(0).params
  const v = (name: string, shape: [number, number] | [number]): Variable => {
    const values = Float32Array.from(init[name]!)
    const t = shape.length === 2 ? tf.tensor2d(values, shape) : tf.tensor2d(values, [1, shape[0]])
    return tf.variable(t, true, name)
  }
  const eta1 = v('layer1.W', [784, 512])
  const b1 = v('layer1.b', [512])
  const eta2 = v('layer2.W', [512, 512])
  const b2 = v('layer2.b', [512])
  const wh = v('head.W', [512, 10])
  const bh = v('head.b', [10])
  const logisticNoise = (shape: readonly number[]): Tensor => {
    const u = tf.randomUniform(shape, 0, 1)
    return tf.sub(tf.log(u), tf.log(tf.sub(1, u)))
  }
  // w = sign(η − Z); ∂/∂η := ∂/∂w (identity pass-through, the mirror rule).
  const sampleWeights = tf.customGrad((eta) => ({ value: tf.sign(tf.sub(eta, logisticNoise(eta.shape))), gradFunc: (dy) => dy }))
  // x = sign(a − Z); ∂/∂a := 2σ(a)(1 − σ(a))·g (matched ST for logistic noise).
  const activation = tf.customGrad((a, save) => {
    save([a])
    return {
      value: tf.sign(tf.sub(a, logisticNoise(a.shape))),
      gradFunc: (dy, [saved]) => {
        const s = tf.sigmoid(saved!)
        return tf.mul(dy, tf.mul(2, tf.mul(s, tf.sub(1, s))))
      },
    }
  })
  const opt = tf.train.sgd(LR)
  let b = 0
  return (): number => {
    const feed = batchOf(data, b++)
    const x = tf.tensor2d(Float32Array.from(feed['x']!.data), [BATCH, 784])
    const labels = tf.tensor1d(Int32Array.from(feed['y']!.data), 'int32')
    const y = tf.oneHot(labels, 10)
    const cost = opt.minimize(() => {
      const h1 = activation(tf.add(tf.matMul(x, sampleWeights(eta1)), b1))
      const h2 = activation(tf.add(tf.matMul(h1, sampleWeights(eta2)), b2))
      return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h2, wh), bh))
    }, true)
    const loss = cost!.dataSync()[0]!
    for (const t of [cost!, x, labels, y]) t.dispose()
    return loss
  }
}

const main = async (): Promise<void> => {
  const i = process.argv.indexOf('--rounds')
  const rounds = i < 0 ? 20 : Number(process.argv[i + 1])
  const tf = loadTf()
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: setBackend("wasm") returned false')
  await tf.ready()
  const kernels = fastProducts()
  if (E.isLeft(kernels)) throw new Error(`sbnkit wasm kernels unavailable: ${JSON.stringify(kernels.left)}`)
  const data = randomImages(BATCH * 50)
  const steps = { 'sbnkit (wasm kernels)': trainer(kernels.right, data), 'tfjs-backend-wasm': tfjsTrainer(tf, data) }
  for (const step of Object.values(steps)) for (let w = 0; w < 3; w++) step()
  const tensors = tf.memory().numTensors
  const samples: Record<string, Sample[]> = {}
  const losses: Record<string, number[]> = {}
  for (let r = 0; r < rounds; r++)
    for (const [name, step] of Object.entries(steps)) {
      let loss = 0
      ;(samples[name] ??= []).push(timeOnce(() => { loss = step() }))
      ;(losses[name] ??= []).push(loss)
    }
  if (tf.memory().numTensors !== tensors) console.log(`warning: tfjs tensors leaked (${tensors} → ${tf.memory().numTensors})`)
  const load1 = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')
  console.log(`one training step, batch ${BATCH}, one process, ${rounds} interleaved rounds; tfjs backend ${tf.getBackend()}; load average ${load1}`)
  console.log(`${''.padEnd(24)} ${'wall ms/batch'.padEnd(22)} ${'CPU ms/batch'.padEnd(22)} epoch (CPU)  mean loss`)
  for (const [name, s] of Object.entries(samples)) {
    const cpu = s.map((t) => t.cpu)
    const meanLoss = losses[name]!.reduce((a, b) => a + b, 0) / rounds
    console.log(`${name.padEnd(24)} ${spread(s.map((t) => t.wall)).padEnd(22)} ${spread(cpu).padEnd(22)} ${((median(cpu) * EPOCH_BATCHES) / 1000).toFixed(1).padStart(6)} s    ${meanLoss.toFixed(3)}`)
  }
  const [ours, theirs] = Object.values(samples) as [Sample[], Sample[]]
  const ratio = (f: (s: Sample) => number): string => {
    const xs = theirs.map((t, r) => f(t) / f(ours[r]!))
    return `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
  }
  console.log(`tfjs / sbnkit per round: wall ${ratio((s) => s.wall)}×, CPU ${ratio((s) => s.cpu)}×`)
}

await main()

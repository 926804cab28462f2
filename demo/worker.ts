/**
 * The demo's training worker: the network and data of MATH.md §7 (2 real inputs → three layers
 * of 5 stochastic binary units → one logit, logistic NLL), trained with sbnkit's loop and its
 * fast WebAssembly matrix products. After every epoch it reports the losses and accuracies (mode network
 * and ensemble), the decision regions of both on a grid, and every few epochs the cosine between
 * the chosen estimator's gradient and the exact gradient, per layer.
 *
 * Modules are imported by deep path, so only portable ones are bundled (sbnkit/train's barrel
 * also exports checkpoint files, which need node:fs).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../src/dsl/node.js'
import { foldIn, key } from '../src/dsl/random.js'
import { gradevalData } from '../src/data/gradevalData.js'
import { gradevalOutputs } from '../src/estimators/analysis/preset.js'
import { gradeval } from '../src/estimators/analysis/lab.js'
import { parseEstimator } from '../src/estimators/estimator.js'
import { initParams } from '../src/dsl/init.js'
import { typecheck } from '../src/dsl/typecheck.js'
import { compile } from '../src/interpreters/compiled/index.js'
import type { Feed } from '../src/interpreters/ndarray.js'
import { train } from '../src/train/loop.js'
import { feedDataset } from '../src/train/evaluate.js'
import { recipe, baseOptimizer } from '../src/train/recipes.js'
import { fastProducts, jsProducts } from '../src/train/fast/index.js'
import { installSetImmediate } from './immediate.js'
import type { EpochReport, Grid, TrainRequest, WorkerMessage } from './protocol.js'

const post = (m: WorkerMessage, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer)

const grid: Grid = { size: 48, x1: [-Math.PI / 2 - 0.1, Math.PI / 2 + 0.1], x2: [-1.1, 1.1] }

/** The grid's points as a feed (y is a placeholder: the predictive output needs the loss head). */
const gridFeed = (g: Grid): Feed => {
  const n = g.size * g.size
  const x = new Float64Array(2 * n)
  for (let r = 0; r < g.size; r++)
    for (let c = 0; c < g.size; c++) {
      const i = r * g.size + c
      x[2 * i] = g.x1[0] + ((c + 0.5) / g.size) * (g.x1[1] - g.x1[0])
      x[2 * i + 1] = g.x2[1] - ((r + 0.5) / g.size) * (g.x2[1] - g.x2[0])
    }
  return { x: { shape: [n, 2], data: x }, y: { shape: [n], data: new Float64Array(n).fill(1) } }
}

const regionsOf = (net: Checked<Network>, feed: Feed, k: ReturnType<typeof key>): EpochReport['regions'] => {
  const n = grid.size * grid.size
  const mode = new Uint8Array(n)
  const ensemble = new Float32Array(n)
  const m = compile(net, { backend: 'wasm', mode: 'mode' })
  const e = compile(net, { backend: 'wasm', mode: 'ensemble', samples: 32 })
  if (E.isRight(m)) {
    const r = m.right.run(feed)
    if (E.isRight(r)) r.right['output']!.data.forEach((v, i) => (mode[i] = v >= 0 ? 1 : 0))
  }
  if (E.isRight(e)) {
    const r = e.right.run(feed, k)
    if (E.isRight(r)) r.right['predictive']!.data.forEach((v, i) => (ensemble[i] = v))
  }
  return { grid, mode, ensemble }
}

const cosinesOf = (net: Checked<Network>, feed: Feed, estimator: string, k: ReturnType<typeof key>): Record<string, number> | undefined => {
  const est = parseEstimator(estimator)
  if (est === undefined) return undefined
  const r = gradeval(net, feed, { estimators: [est], draws: 4, key: k })
  if (E.isLeft(r)) return undefined
  const layers = r.right.estimators[0]!.layers
  return Object.fromEntries(Object.entries(layers).map(([name, c]) => [name, c.cosine[0]!.mean]))
}

const run = async (req: TrainRequest): Promise<void> => {
  const outputs = gradevalOutputs([5, 5, 5])
  const checked = typecheck({ outputs, params: initParams(outputs, key(req.seed)) })
  const data = gradevalData(req.seed, { perClass: 200 })
  const validation = gradevalData(req.seed + 1, { perClass: 200 })
  const est = parseEstimator(req.estimator)
  const rec = recipe('md', 'adam')
  const opt = baseOptimizer('adam')
  if (E.isLeft(checked) || E.isLeft(data) || E.isLeft(validation) || est === undefined || E.isLeft(rec) || E.isLeft(opt)) {
    post({ type: 'error', message: 'cannot set up the network, the data or the estimator' })
    return
  }
  const feed = data.right
  post({ type: 'data', points: Float64Array.from({ length: 3 * feed['y']!.shape[0]! }, (_, i) => (i % 3 === 2 ? feed['y']!.data[(i - 2) / 3]! : feed['x']!.data[2 * Math.floor(i / 3) + (i % 3)]!)) })
  const fast = fastProducts()
  const products = E.isRight(fast) ? { name: 'wasm', products: fast.right } : { name: 'js', products: jsProducts }
  const gf = gridFeed(grid)
  let started = performance.now()
  const result = await train(
    checked.right,
    { train: feedDataset(feed), validation: feedDataset(validation.right) },
    {
      estimator: est, weightEstimator: est, recipe: rec.right, optimizer: opt.right, lr: req.lr, schedule: { kind: 'constant' },
      epochs: req.epochs, batchSize: 40, seed: req.seed, ensemble: 16, products,
    },
    {
      onLog: (r) => {
        if (r.type !== 'epoch' || r.validation === undefined) return
        const ms = performance.now() - started
        const k = foldIn(key(req.seed), r.epoch)
        const report: EpochReport = {
          type: 'epoch', epoch: r.epoch, epochs: req.epochs, trainLoss: r.trainLoss,
          mode: { loss: r.validation.mode.loss, accuracy: r.validation.mode.accuracy },
          ensemble: { ...r.validation.ensemble },
          regions: { grid, mode: new Uint8Array(0), ensemble: new Float32Array(0) }, ms,
        }
        pending = report
        cosineDue = r.epoch === 1 || r.epoch % 5 === 0 || r.epoch === req.epochs
        keyOf = k
      },
      checkpoint: async (c) => {
        if (pending !== undefined) {
          const regions = regionsOf(c.net, gf, keyOf)
          const cosines = cosineDue ? cosinesOf(c.net, feed, req.estimator, keyOf) : undefined
          post({ ...pending, regions, ...(cosines === undefined ? {} : { cosines }) }, [regions.mode.buffer, regions.ensemble.buffer])
          pending = undefined
        }
        started = performance.now()
        return E.right(undefined)
      },
    },
  )
  if (E.isLeft(result)) post({ type: 'error', message: JSON.stringify(result.left) })
  else post({ type: 'done', products: products.name })
}

let pending: EpochReport | undefined
let cosineDue = false
let keyOf = key(0)

installSetImmediate()
self.onmessage = (ev: MessageEvent<TrainRequest>) => {
  if (ev.data.type === 'train') void run(ev.data).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }))
}

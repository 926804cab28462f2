import * as E from 'fp-ts/lib/Either.js'
import { readModelFile } from '../src/io/files.js'
import { loadSplits } from '../src/data/loaders.js'
import { imageDataset, evaluateSet } from '../src/train/evaluate.js'
import { recalibrateMode } from '../src/train/calibrate.js'
import { fastKernels } from '../src/train/kernels/index.js'
import { key } from '../src/dsl/random.js'
const path = process.argv[2]!
const net = await readModelFile(path) as any
if (E.isLeft(net)) throw new Error(JSON.stringify(net.left))
const sp = await loadSplits('mnist', { cacheDir: '.cache/sbnkit' })
if (E.isLeft(sp)) throw new Error('data')
const opts = { scale: 'pm1', layout: 'flat' } as const
const train = imageDataset(sp.right.train, opts), test = imageDataset(sp.right.test, opts)
const kernels = E.isRight(fastKernels()) ? (fastKernels() as any).right : undefined
const base = evaluateSet(net.right, test, { members: 1, key: key(0), kernels })
for (const n of [2000, 10000]) {
  const cal = recalibrateMode(net.right, train.slice(0, n), { kernels })
  if (E.isLeft(cal)) throw new Error('cal')
  const r = evaluateSet(cal.right, test, { members: 1, key: key(0), kernels })
  console.log(path, 'recal', n, E.isRight(r) ? r.right.mode.accuracy : r.left)
}
console.log(path, 'plain mode', E.isRight(base) ? base.right.mode.accuracy : base.left)

// Usage: tsx scratch/anneal-run.ts FINAL WHICH(both|act) EPOCHS HIDDEN SEED
import * as E from 'fp-ts/lib/Either.js'
import { loadData, buildConfig, defaults } from '../src/cli/trainSetup.js'
import type { Settings } from '../src/cli/trainSetup.js'
import { presetNetwork, parsePreset } from '../src/train/presets.js'
import { logistic } from '../src/dsl/noise.js'
import { key, siteKey, foldIn } from '../src/dsl/random.js'
import { trainAnnealed } from '../src/train/anneal.js'
import { recalibrateMode } from '../src/train/calibrate.js'
import { evaluateSet } from '../src/train/evaluate.js'
const [final = '0.25', which = 'both', epochs = '3', hidden = '256,256', seed = '0'] = process.argv.slice(2)
const s: Settings = { ...defaults('md'), dataset: 'mnist', preset: `mlp:${hidden}`, batchNorm: true, lr: 0.1, schedule: 'cosine', epochs: Number(epochs), seed: Number(seed), logEvery: 0 }
const d = await loadData(s, 'flat', '.cache/sbnkit')
if (E.isLeft(d)) throw new Error(d.left)
const cfg = buildConfig(s)
if (E.isLeft(cfg)) throw new Error(cfg.left)
const p = parsePreset(s.preset!)
if (E.isLeft(p)) throw new Error(p.left)
const t0 = performance.now()
const r = await trainAnnealed((sc) => E.mapLeft(() => 'build')(presetNetwork(p.right, {
  inputShape: d.right.inputShape, classes: d.right.classes, batchNorm: true, key: siteKey(key(s.seed), 'train:init'),
  activation: logistic(sc), ...(which === 'both' ? { weightNoise: logistic(sc) } : {}),
})), d.right.data, cfg.right.config, { final: Number(final) }, {
  onStep: (st) => { if (st.step % 100 === 0) process.stderr.write(`epoch ${st.epoch + 1} step ${st.step}/${st.steps} loss ${st.loss.toFixed(3)} ${((performance.now() - t0) / 1000).toFixed(0)}s\n`) },
  onLog: (rec) => { if (rec.type === 'epoch') process.stderr.write(`epoch ${rec.epoch} val mode ${rec.validation?.mode.accuracy} ens ${rec.validation?.ensemble.accuracy}\n`) },
})
if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
const kernels = cfg.right.config.kernels!.kernels
const test = d.right.data.test!
const last = evaluateSet(r.right.last, test, { members: 16, key: foldIn(key(0), 0x7e57), kernels })
const cal = recalibrateMode(r.right.last, d.right.data.train.slice(0, 2000), { kernels })
if (E.isLeft(cal)) throw new Error('cal')
const calT = evaluateSet(cal.right, test, { members: 1, key: foldIn(key(0), 0x7e57), kernels })
console.log(JSON.stringify({ final, which, epochs, hidden, seed, seconds: (performance.now() - t0) / 1000,
  mode: E.isRight(last) ? last.right.mode.accuracy : null, ensemble: E.isRight(last) ? last.right.ensemble.accuracy : null,
  recal: E.isRight(calT) ? calT.right.mode.accuracy : null }))

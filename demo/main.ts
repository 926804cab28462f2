/**
 * The demo page: starts the training worker, and draws what it reports after every epoch: the
 * loss and accuracy curves (src/plot/svg.ts), the decision regions of the mode network and of
 * the ensemble with the training points, and the cosine between the estimator's gradient and the
 * exact gradient per layer. It also exposes `window.sbnkit.predictPacked`, which loads a packed
 * export (sbnkit export --format packed) from bytes and runs it, for the browser test and for
 * anyone with a model file at hand.
 */
import * as E from 'fp-ts/lib/Either.js'
import { lineChart } from '../src/plot/svg.js'
import { decodePacked, loadPacked } from '../src/export/unpack.js'
import { drawCompileError } from '../src/interpreters/compiled/index.js'
import { drawRunError } from '../src/interpreters/runErrors.js'
import { drawExportError } from '../src/export/exportErrors.js'
import type { EpochReport, WorkerMessage } from './protocol.js'

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

interface History {
  epoch: number[]
  trainLoss: number[]
  modeLoss: number[]
  ensembleLoss: number[]
  modeAcc: number[]
  ensembleAcc: number[]
}
const history: History = { epoch: [], trainLoss: [], modeLoss: [], ensembleLoss: [], modeAcc: [], ensembleAcc: [] }
let points: Float64Array = new Float64Array(0)

const drawCurves = (): void => {
  const x = history.epoch
  $('curves').innerHTML = lineChart(
    [
      { title: 'Loss', xLabel: 'epoch', yLabel: 'logistic NLL', series: [
        { label: 'train (sampled passes)', x, y: history.trainLoss },
        { label: 'mode network (validation)', x, y: history.modeLoss },
        { label: 'ensemble (validation)', x, y: history.ensembleLoss },
      ] },
      { title: 'Accuracy', xLabel: 'epoch', yLabel: 'validation accuracy', yRange: [0.4, 1], series: [
        { label: 'mode network (validation)', x, y: history.modeAcc },
        { label: 'ensemble (validation)', x, y: history.ensembleAcc },
      ] },
    ],
    { title: 'Training on the data of MATH.md §7', columns: 2, panelWidth: 360, panelHeight: 240 },
  )
}

/** A region map: red for class +1, blue for −1 (the ensemble's shade is its probability). */
const drawRegions = (canvas: HTMLCanvasElement, r: EpochReport['regions'], p: (i: number) => number): void => {
  const ctx = canvas.getContext('2d')!
  const { size, x1, x2 } = r.grid
  const cell = canvas.width / size
  for (let i = 0; i < size * size; i++) {
    const v = p(i)
    ctx.fillStyle = `rgb(${Math.round(120 + 120 * v)}, ${Math.round(150 + 40 * (1 - Math.abs(2 * v - 1)))}, ${Math.round(240 - 120 * v)})`
    ctx.fillRect((i % size) * cell, Math.floor(i / size) * cell, cell + 1, cell + 1)
  }
  for (let i = 0; i < points.length; i += 3) {
    const px = ((points[i]! - x1[0]) / (x1[1] - x1[0])) * canvas.width
    const py = ((x2[1] - points[i + 1]!) / (x2[1] - x2[0])) * canvas.height
    ctx.fillStyle = points[i + 2]! > 0 ? '#7a0000' : '#00207a'
    ctx.fillRect(px - 1.5, py - 1.5, 3, 3)
  }
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`

const onEpoch = (m: EpochReport): void => {
  history.epoch.push(m.epoch)
  history.trainLoss.push(m.trainLoss)
  history.modeLoss.push(m.mode.loss)
  history.ensembleLoss.push(m.ensemble.loss)
  history.modeAcc.push(m.mode.accuracy)
  history.ensembleAcc.push(m.ensemble.accuracy)
  $('epoch').textContent = `${m.epoch} / ${m.epochs}`
  $('loss').textContent = m.trainLoss.toFixed(4)
  $('acc-mode').textContent = pct(m.mode.accuracy)
  $('acc-ensemble').textContent = pct(m.ensemble.accuracy)
  $('ms').textContent = `${m.ms.toFixed(0)} ms`
  drawCurves()
  drawRegions($<HTMLCanvasElement>('regions-mode'), m.regions, (i) => m.regions.mode[i]!)
  drawRegions($<HTMLCanvasElement>('regions-ensemble'), m.regions, (i) => m.regions.ensemble[i]!)
  if (m.cosines !== undefined) {
    // Layers in network order: layer1, layer2, …, then the head.
    $('cosines').innerHTML = Object.entries(m.cosines)
      .sort(([a], [b]) => (a === 'head' ? 1 : b === 'head' ? -1 : a.localeCompare(b, 'en', { numeric: true })))
      .map(([layer, c]) => `<tr><td>${layer}</td><td id="cos-${layer}">${c.toFixed(3)}</td><td>epoch ${m.epoch}</td></tr>`)
      .join('')
  }
}

let worker: Worker | undefined
const start = (): void => {
  worker?.terminate()
  Object.values(history).forEach((a: number[]) => (a.length = 0))
  $('status').textContent = 'training…'
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
  worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
    const m = ev.data
    if (m.type === 'data') points = m.points
    else if (m.type === 'epoch') onEpoch(m)
    else if (m.type === 'done') $('status').textContent = `done (training products: ${m.products})`
    else $('status').textContent = `error: ${m.message}`
  }
  worker.onerror = (e) => ($('status').textContent = `error: ${e.message}`)
  worker.postMessage({
    type: 'train',
    epochs: Number($<HTMLInputElement>('epochs').value),
    seed: Number($<HTMLInputElement>('seed').value),
    estimator: $<HTMLSelectElement>('estimator').value,
    lr: Number($<HTMLInputElement>('lr').value),
  })
}

/** Runs a packed model on rows of inputs in this page: the outputs, or the error's text. */
const predictPacked = (bytes: ArrayLike<number>, x: ArrayLike<number>, shape: readonly number[], backend: 'wasm' | 'js' | 'jitless' = 'wasm'): { output?: number[]; error?: string } => {
  const b = Uint8Array.from(bytes)
  const d = decodePacked(b)
  if (E.isLeft(d)) return { error: drawExportError(d.left) }
  const c = loadPacked(b, backend)
  if (E.isLeft(c)) return { error: c.left._tag === 'NotExportable' || c.left._tag === 'BadPackedFile' || c.left._tag === 'BadManifest' ? drawExportError(c.left) : drawCompileError(c.left) }
  const r = c.right.run({ [d.right.input.name]: { shape: [...shape], data: Float64Array.from(x) } })
  if (E.isLeft(r)) return { error: drawRunError(r.left) }
  return { output: Array.from(r.right[d.right.output]!.data) }
}

;(window as unknown as { sbnkit: unknown }).sbnkit = { predictPacked, start }
$('start').addEventListener('click', start)
if (new URLSearchParams(location.search).get('autostart') !== '0') start()

/**
 * `npx tsx bench/evaluation.ts [--rounds 3] [--json]`: the evaluation of the official 10 000 MNIST
 * test images by the `conv:16,32` preset with batch norm (issue 10's target: the mode network in
 * ≤ 2 s), as training evaluates: images as pixels scaled to [−1, 1] (`imageDataset`, NCHW), the
 * mode network's logits from the compiled interpreter in chunks of `COMPILED_CHUNK` rows, loss and
 * accuracy (`evaluateSet`'s mode loop); and `evaluateSet` itself with an ensemble of one member
 * (mode + one sampled network). Wall and process CPU time per round, median (min–max); the
 * network has the preset's initial parameters (the time does not depend on their values).
 * Progress on stderr; `--json` prints one JSON object on stdout.
 */
import * as E from 'fp-ts/lib/Either.js'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { Loss } from '../src/dsl/node.js'
import { key } from '../src/dsl/random.js'
import { loadSplits } from '../src/data/loaders.js'
import { lossPerExample, predictive } from '../src/interpreters/reference/ops.js'
import { lossOutput } from '../src/interpreters/outputs.js'
import { COMPILED_CHUNK, compiledLogits } from '../src/train/evaluate-compiled.js'
import { evaluateSet, imageDataset } from '../src/train/evaluate.js'
import { presetNetwork } from '../src/train/presets.js'
import { summary, range } from './stats.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } })
const rounds = Number(values.rounds)
const say = (line: string): void => {
  process.stderr.write(`bench:evaluation: ${line}\n`)
}

const main = async (): Promise<void> => {
  say('loading MNIST')
  const splits = await loadSplits('mnist')
  if (E.isLeft(splits)) throw new Error(JSON.stringify(splits.left))
  const test = imageDataset(splits.right.test, { scale: 'pm1', layout: 'nchw' })
  const net = presetNetwork({ kind: 'conv', channels: [16, 32] }, { inputShape: [1, 28, 28], classes: 10, key: key(0), batchNorm: true })
  if (E.isLeft(net)) throw new Error('preset')
  const l = lossOutput(net.right)
  if (E.isLeft(l)) throw new Error('loss')
  const loss: Loss = l.right
  const program = compiledLogits(net.right, loss, 'mode')
  if (E.isLeft(program)) throw new Error(program.left)
  /** The mode loop of evaluateSet: chunks of rows, compiled logits, loss and accuracy. */
  const modeEval = (): number => {
    let correct = 0
    for (let start = 0; start < test.size; start += COMPILED_CHUNK) {
      const feed = test.slice(start, Math.min(test.size, start + COMPILED_CHUNK))
      const logits = program.right.logits(feed)
      if (E.isLeft(logits)) throw new Error(JSON.stringify(logits.left))
      const labels = feed['y']!
      lossPerExample(loss.op, logits.right, labels)
      const p = predictive(loss.op, logits.right)
      const k = p.data.length / labels.data.length
      for (let e = 0; e < labels.data.length; e++) {
        let best = 0
        for (let j = 1; j < k; j++) if (p.data[e * k + j]! > p.data[e * k + best]!) best = j
        if (best === labels.data[e]) correct++
      }
    }
    return correct
  }
  const withEnsemble = (): number => {
    const r = evaluateSet(net.right, test, { members: 1, key: key(1) })
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right.examples
  }
  const time = (fn: () => unknown): { wall: number; cpu: number } => {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    fn()
    const c = process.cpuUsage(c0)
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }
  }
  modeEval()
  const rows: { name: string; wall: number[]; cpu: number[] }[] = [
    { name: 'mode network, 10 000 images (s)', wall: [], cpu: [] },
    { name: 'evaluateSet, mode + ensemble of 1 (s)', wall: [], cpu: [] },
  ]
  for (let r = 0; r < rounds; r++) {
    say(`round ${r + 1}/${rounds}`)
    for (const [i, fn] of [modeEval, withEnsemble].entries()) {
      const t = time(fn)
      rows[i]!.wall.push(t.wall)
      rows[i]!.cpu.push(t.cpu)
    }
  }
  const load = loadavg()
  const out = rows.map((r) => ({ name: r.name, wall: summary(r.wall), cpu: summary(r.cpu) }))
  for (const r of out) process.stderr.write(`${r.name.padEnd(42)} wall ${range(r.wall, 3)}   cpu ${range(r.cpu, 3)}\n`)
  process.stderr.write(`${rounds} rounds; load average ${load.map((x) => x.toFixed(1)).join(' ')}; target: the mode network ≤ 2 s\n`)
  if (values.json) console.log(JSON.stringify({ bench: 'evaluate', preset: 'conv:16,32 + batch norm', images: test.size, chunk: COMPILED_CHUNK, rounds, loadavg: load, rows: out }))
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)

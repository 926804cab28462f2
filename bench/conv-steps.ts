/**
 * `npx tsx bench/conv-steps.ts [--batch 64] [--rounds 15]`: where `infer` spends its time on the
 * conv:16,32 preset (bench:peers' conv16-32 workload): each top-level step of the mode plan timed
 * alone, and `infer` end to end from uint8 pixels to float32 logits. Lowest time of the rounds
 * (each round many calls), ms per batch.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseArgs } from 'node:util'
import { compiled, pixelFeed } from './layers.js'
import { convPresetNet } from './peers/conv.js'

const { values } = parseArgs({ options: { batch: { type: 'string', default: '64' }, rounds: { type: 'string', default: '15' } } })
const batch = Number(values.batch)
const rounds = Number(values.rounds)
const net = convPresetNet(16, 32)
const c = compiled(net, 'wasm', 'mode')
const px = pixelFeed(batch)['pixels']!.data
const input = { x: { shape: [batch, 1, 28, 28], data: Uint8Array.from(px) } }
const logits = new Float32Array(batch * 10)
const infer = (): void => {
  const r = c.infer(input, { outputs: { output: 'float32' }, into: { output: logits } })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
}
infer()
const best = (fn: () => void): number => {
  let lo = Infinity
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    let n = 0
    do {
      fn()
      n++
    } while (performance.now() - t0 < 20)
    lo = Math.min(lo, (performance.now() - t0) / n)
  }
  return lo
}
console.log(c.describe().join('\n'))
const steps = c.plan.steps.map((s, i) => ({ i, label: s._tag === 'Kernel' ? `${s.kernel._tag} ${s.kernel.label}` : s._tag === 'Generic' ? `Generic ${s.label}` : `Choice ${s.test.label}` }))
let sum = 0
for (const s of steps) {
  const ms = best(() => c.executor.step(s.i))
  sum += ms
  console.log(`${ms.toFixed(4).padStart(9)} ms  ${s.label}`)
}
console.log(`${sum.toFixed(4).padStart(9)} ms  sum of steps`)
console.log(`${best(infer).toFixed(4).padStart(9)} ms  infer uint8 → float32`)

/**
 * `npx tsx bench/conv-steps.ts [--batch 64] [--rounds 15]`: where `infer` spends its time on the
 * conv:16,32 preset (bench:peers' conv16-32 workload): each top-level step of the mode plan timed
 * alone, and `infer` end to end from uint8 pixels to float32 logits. Lowest CPU time of the
 * rounds (each round many calls), ms per batch.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseArgs } from 'node:util'
import { compiled, pixelFeed } from './layers.js'
import { convPresetNet } from './peers/conv.js'
import { entriesOf } from '../src/interpreters/compiled/entries.js'
import { productsOf } from '../src/interpreters/compiled/execute.js'

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
/** The lowest CPU time per call (user + system, so a loaded machine's waits do not count) over the rounds. */
const best = (fn: () => void): number => {
  let lo = Infinity
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    let n = 0
    do {
      fn()
      n++
    } while (performance.now() - t0 < 20)
    const c1 = process.cpuUsage(c0)
    lo = Math.min(lo, (c1.user + c1.system) / 1000 / n)
  }
  return lo
}
console.log(c.describe().join('\n'))
// The steps `infer` runs from uint8 pixels: the plan's, the first convolution replaced by its
// uint8 twin (entries.ts); each kernel timed alone by its index among the executor's kernels.
const entries = entriesOf(c.plan, true)
const kernels = [...productsOf(c.plan.steps), ...entries.kernels]
const twin = entries.convs.get('x')
const steps = c.plan.steps.map((s) => (twin !== undefined && s === twin.step ? twin.replacement : s))
let sum = 0
for (const s of steps) {
  const label = s._tag === 'Kernel' ? `${s.kernel._tag} ${s.kernel.label}` : s._tag === 'Generic' ? `generic ${s.label}` : `choice ${s.test.label}`
  const at = s._tag === 'Kernel' ? kernels.indexOf(s.kernel) : -1
  const ms = best(() => (at >= 0 ? c.executor.kernel(at) : c.executor.step(c.plan.steps.indexOf(s))))
  sum += ms
  console.log(`${ms.toFixed(4).padStart(9)} ms  ${label}`)
}
console.log(`${sum.toFixed(4).padStart(9)} ms  sum of steps`)
console.log(`${best(infer).toFixed(4).padStart(9)} ms  infer uint8 → float32`)

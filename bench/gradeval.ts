/**
 * Benchmark: the whole MATH.md §7 protocol (20 000 full-batch draws on 200 points of the
 * 2 → 5 → 5 → 5 → 1 preset) for matched ST, as `sbnkit gradeval --preset --estimators st` runs it.
 * Prints the median wall and CPU time over interleaved rounds, with min–max, and the load average seen.
 * Run: npx tsx bench/gradeval.ts [draws] [repeats] [estimators, e.g. st,reinforce,arm]
 */
import * as E from 'fp-ts/lib/Either.js'
import { loadavg } from 'node:os'
import { key } from '../src/dsl/random.js'
import { gradeval } from '../src/estimators/analysis/lab.js'
import { gradevalPreset } from '../src/estimators/analysis/preset.js'
import { parseEstimator } from '../src/estimators/estimator.js'

const draws = Number(process.argv[2] ?? 20000)
const repeats = Number(process.argv[3] ?? 3)
const preset = gradevalPreset(0)
if (E.isLeft(preset)) throw new Error('preset failed')
const { net, feed } = preset.right

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const names = (process.argv[4] ?? 'st,reinforce,arm').split(',')
const ests = names.map((n) => parseEstimator(n) ?? (() => { throw new Error(`unknown estimator ${n}`) })())
// Rounds are interleaved (every estimator once per round), so a change of load hits all alike.
const times = ests.map((): number[] => [])
const cpu = ests.map((): number[] => [])
for (let r = 0; r < repeats; r++)
  ests.forEach((est, e) => {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const out = gradeval(net, feed, { estimators: [est], draws, key: key(r) })
    if (E.isLeft(out)) throw new Error(JSON.stringify(out.left))
    times[e]!.push((performance.now() - t0) / 1000)
    const c = process.cpuUsage(c0)
    cpu[e]!.push((c.user + c.system) / 1e6)
  })
ests.forEach((est, e) => {
  const t = times[e]!
  const c = cpu[e]!
  console.log(
    `${est.label.padEnd(16)} ${draws} draws: median ${median(t).toFixed(2)} s (min ${Math.min(...t).toFixed(2)}, max ${Math.max(...t).toFixed(2)}), ` +
      `${((median(t) / draws) * 1e3).toFixed(3)} ms/draw; CPU median ${median(c).toFixed(2)} s (${((median(c) / draws) * 1e3).toFixed(3)} ms/draw, min ${Math.min(...c).toFixed(2)}, max ${Math.max(...c).toFixed(2)}); load average ${loadavg()[0]!.toFixed(1)}`,
  )
})

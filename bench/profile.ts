/**
 * `npx tsx bench/profile.ts --preset conv:16,32 --batch-norm [--steps N] [--top K] [--out FILE]`:
 * a CPU profile of the training step of `trainStep.ts` (the one `bench:train` times, fast kernels,
 * one thread), taken in-process with the inspector's sampling profiler after a warm-up, and
 * summarised as the top functions by self time with their share of the profiled steps (start-up
 * excluded). `--out` also writes the raw `.cpuprofile` (open it in Chrome's DevTools).
 *
 * Self time is attributed to the innermost JavaScript (or WebAssembly) function: time inside a
 * WebAssembly export shows under the export's name (`gemm`, `bitgemm`, `im2col`, …), and
 * "(garbage collector)" is V8's collector.
 */
import * as E from 'fp-ts/lib/Either.js'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { trainingKernels } from '../src/train/kernels/index.js'
import { stepper } from './trainStep.js'

interface ProfileNode { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }
export interface CpuProfile { readonly nodes: readonly ProfileNode[]; readonly samples: readonly number[] }

/** Self-time shares by function (name, file:line), largest first. */
export const selfShares = (p: CpuProfile): { readonly name: string; readonly share: number }[] => {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const counts = new Map<string, number>()
  for (const id of p.samples) {
    const cf = byId.get(id)!.callFrame
    const file = cf.url === '' ? '' : ` ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`
    const key = `${cf.functionName === '' ? '(anonymous)' : cf.functionName}${file}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const total = p.samples.length
  return [...counts].map(([name, c]) => ({ name, share: c / total })).sort((a, b) => b.share - a.share)
}

const post = <T>(s: Session, method: string, params: object = {}): Promise<T> =>
  new Promise((resolve, reject) => s.post(method, params, (err, res) => (err === null ? resolve(res as T) : reject(err))))

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string', default: 'conv:16,32' }, 'batch-norm': { type: 'boolean', default: false },
      steps: { type: 'string', default: '40' }, top: { type: 'string', default: '20' }, out: { type: 'string' },
    },
  })
  const steps = Number(values.steps)
  const step = stepper({ preset: values.preset, batchNorm: values['batch-norm'], kernels: trainingKernels() })
  if (E.isLeft(step)) {
    process.stderr.write(`bench/profile: --preset: ${step.left}\n`)
    process.exit(2)
  }
  for (let i = 0; i < 5; i++) step.right()
  const s = new Session()
  s.connect()
  await post(s, 'Profiler.enable')
  await post(s, 'Profiler.setSamplingInterval', { interval: 100 })
  await post(s, 'Profiler.start')
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) {
    step.right()
    process.stderr.write(`\rprofiling ${values.preset}: step ${i + 1}/${steps}`)
  }
  const ms = (performance.now() - t0) / steps
  const { profile } = await post<{ profile: CpuProfile }>(s, 'Profiler.stop')
  s.disconnect()
  process.stderr.write('\n')
  if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(profile))
  console.log(`${values.preset}${values['batch-norm'] ? ' + batch norm' : ''}, batch 64, ${steps} steps, ${ms.toFixed(1)} ms per step (profiled); self time:`)
  for (const { name, share } of selfShares(profile).slice(0, Number(values.top)))
    console.log(`${(100 * share).toFixed(1).padStart(6)} %  ${name}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()

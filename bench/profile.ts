/**
 * `npx tsx bench/profile.ts --preset conv:16,32 --batch-norm [--steps N] [--top K] [--parts P [--threads T]] [--batch B] [--out FILE]`:
 * a CPU profile of the training step of `trainStep.ts` (the one `bench:train` times, fast kernels,
 * one thread), taken in-process with the inspector's sampling profiler after a warm-up, and
 * summarised as the top functions by self time with their share of the profiled steps (start-up
 * excluded). `--parts P` (P ≥ 2) profiles the data-parallel step with the minibatch cut into P
 * parts, all on the calling thread (the partition's own cost), or with `--threads T` the calling
 * thread's replica of that step on T threads (its barrier waits show as `awaitGeneration`). `--out` also writes the raw `.cpuprofile` (open it in Chrome's DevTools).
 *
 * Under tsx every module is one long line of anonymous functions, so the script first bundles
 * itself with esbuild (unminified: functions keep their names) into `.cache/profile.mjs` and runs
 * that with plain node.
 *
 * Self time is attributed to the innermost JavaScript (or WebAssembly) function: time inside a
 * WebAssembly function shows as `wasm-function[i]` of the training module (no name section; with
 * the default blocking 0 is `gemm`, 1 `bitgemm`, 2 `unpack_f32`, 3–6 the packers, 7 the Threefry
 * draws, 8 the logistic comparison, 9–14 `conv_gather`, `conv_col2im`, `conv_pack_g`,
 * `conv_gather_bits`, `unpack_pop`, `fill_zero`, 15 `st_logistic`, 16 `gemm_acc`, 17–18 the sign
 * packers `pack_bits_rm` and `pack_bits_dm`), and
 * "(garbage collector)" is V8's collector.
 */
import * as E from 'fp-ts/lib/Either.js'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { trainingProducts } from '../src/train/fast/index.js'
import { STEP_BATCH, stepper, teamStepper } from './trainStep.js'

interface ProfileNode { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }
export interface CpuProfile { readonly nodes: readonly ProfileNode[]; readonly samples: readonly number[] }

/**
 * Self-time shares by function (name, file:line), largest first. `moduleOf(url, line)` names the
 * source module of a bundled line (default: the file itself).
 */
export const selfShares = (
  p: CpuProfile, moduleOf: (url: string, line: number) => string = (url, line) => `${url.split('/').slice(-2).join('/')}:${line}`,
): { readonly name: string; readonly share: number }[] => {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const counts = new Map<string, number>()
  for (const id of p.samples) {
    const cf = byId.get(id)!.callFrame
    const file = cf.url === '' ? '' : ` ${moduleOf(cf.url, cf.lineNumber + 1)}`
    const key = `${cf.functionName === '' ? '(anonymous)' : cf.functionName}${file}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const total = p.samples.length
  return [...counts].map(([name, c]) => ({ name, share: c / total })).sort((a, b) => b.share - a.share)
}

const post = <T>(s: Session, method: string, params: object = {}): Promise<T> =>
  new Promise((resolve, reject) => s.post(method, params, (err, res) => (err === null ? resolve(res as T) : reject(err))))

const BUNDLED = 'SBNKIT_PROFILE_BUNDLED'

/** Bundles this script (names kept) and runs the bundle with the same arguments; returns its exit status. */
const runBundled = async (): Promise<number> => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  const out = join(root, '.cache', 'profile.mjs')
  const { buildSync } = await import('esbuild')
  buildSync({ entryPoints: [fileURLToPath(import.meta.url)], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'warning' })
  // The data-parallel workers (`--threads`) start `./worker.js` beside the bundle.
  buildSync({ entryPoints: [join(root, 'src', 'train', 'parallel', 'worker.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: join(root, '.cache', 'worker.js'), logLevel: 'warning' })
  const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [BUNDLED]: '1' } })
  return r.status ?? 2
}

const main = async (): Promise<void> => {
  if (process.env[BUNDLED] !== '1') process.exit(await runBundled())
  const { values } = parseArgs({
    options: {
      preset: { type: 'string', default: 'conv:16,32' }, 'batch-norm': { type: 'boolean', default: false },
      steps: { type: 'string', default: '40' }, top: { type: 'string', default: '20' }, out: { type: 'string' },
      parts: { type: 'string', default: '1' }, threads: { type: 'string', default: '1' }, batch: { type: 'string', default: String(STEP_BATCH) },
    },
  })
  const steps = Number(values.steps)
  const parts = Number(values.parts)
  if (!Number.isSafeInteger(parts) || parts < 1) {
    process.stderr.write(`bench/profile: --parts: expected an integer ≥ 1, found ${values.parts}\n`)
    process.exit(2)
  }
  const batch = Number(values.batch)
  if (!Number.isSafeInteger(batch) || batch < 1) {
    process.stderr.write(`bench/profile: --batch: expected an integer ≥ 1, found ${values.batch}\n`)
    process.exit(2)
  }
  const setup = { preset: values.preset, batchNorm: values['batch-norm'], kernels: trainingProducts(), batch }
  // Parts ≥ 2: the data-parallel step on the calling thread alone (the partition's own cost).
  const threads = Number(values.threads)
  const team = parts === 1 ? undefined : await teamStepper({ ...setup, parts, threads })
  const step = team === undefined ? stepper(setup) : E.map((t: { readonly step: () => number }) => t.step)(team)
  if (E.isLeft(step)) {
    process.stderr.write(`bench/profile: ${step.left}\n`)
    process.exit(2)
  }
  for (let i = 0; i < 5; i++) step.right()
  const s = new Session()
  s.connect()
  await post(s, 'Profiler.enable')
  await post(s, 'Profiler.setSamplingInterval', { interval: 100 })
  await post(s, 'Profiler.start')
  const t0 = performance.now()
  const faults0 = process.resourceUsage().minorPageFault
  for (let i = 0; i < steps; i++) {
    step.right()
    process.stderr.write(`\rprofiling ${values.preset}: step ${i + 1}/${steps}`)
  }
  const ms = (performance.now() - t0) / steps
  const faults = (process.resourceUsage().minorPageFault - faults0) / steps
  const { profile } = await post<{ profile: CpuProfile }>(s, 'Profiler.stop')
  s.disconnect()
  process.stderr.write('\n')
  if (values.out !== undefined) writeFileSync(values.out, JSON.stringify(profile))
  // esbuild marks each module of the bundle with a `// path` line: name lines by their module.
  const self = fileURLToPath(import.meta.url)
  const marks = readFileSync(self, 'utf8').split('\n').flatMap((l, i) => (/^\/\/ \S+\.ts$/.test(l) ? [[i + 1, l.slice(3)] as const] : []))
  const moduleOf = (url: string, line: number): string => {
    if (!url.endsWith(self)) return `${url.split('/').slice(-2).join('/')}:${line}`
    let name = 'bundle'
    for (const [at, m] of marks) if (at <= line) name = m
    return name
  }
  // Fresh memory costs a page fault per 4 KiB on first touch (float64 temporaries of the step).
  console.log(`${values.preset}${values['batch-norm'] ? ' + batch norm' : ''}, batch ${batch}, ${parts} part${parts === 1 ? '' : 's'}, ${steps} steps, ${ms.toFixed(1)} ms per step (profiled), ${faults.toFixed(0)} page faults per step; self time:`)
  if (team !== undefined && E.isRight(team)) team.right.close()
  for (const { name, share } of selfShares(profile, moduleOf).slice(0, Number(values.top)))
    console.log(`${(100 * share).toFixed(1).padStart(6)} %  ${name}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()

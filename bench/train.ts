/**
 * `npm run bench:train -- --preset mlp:512,512 [--batch-norm] [--threads N] [--parts P] --json`:
 * one JSON object with the milliseconds per step of a preset (see `trainStep.ts` and
 * `presetMain`); `--parts P ≥ 2` times the data-parallel step (`teamStepper`).
 *
 * Without `--preset`, `npx tsx bench/train.ts`: one training step of the issue-6 network — 784→512→512→10 MLP with
 * binary (Bernoulli ±1) weights and logistic binary activations, softmax cross-entropy, matched
 * ST, batch 64 — timed with each set of matrix-product kernels: `prepareGradient(…)(key)` plus
 * a plain SGD update θ ← θ − lr·g (fresh arrays, as the optimizers do). Contenders run in
 * interleaved rounds, each on its own copy of the parameters and the same batches.
 *
 * Reports ms per batch, median (min–max), as wall time and as this process's CPU time (user +
 * system, from `process.cpuUsage`; on a shared machine it is the steadier of the two), the share
 * spent inside the products, and the projected epoch time for 60 000 images (938 batches).
 *
 * Options: `--real` trains on Fashion-MNIST (`loadSplits`) instead of random pixels of the same
 * shape; `--rounds N` (default 20); `--sweep` times the f32 micro-kernel for several register
 * blockings on the step's product shapes. Profile with
 * `node --cpu-prof --import tsx bench/train.ts --only wasm`.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import { mlp, softmaxCrossEntropy } from '../src/dsl/composites.js'
import { initParams } from '../src/dsl/init.js'
import type { Checked, Network, ParamValues } from '../src/dsl/node.js'
import { input } from '../src/dsl/primitives.js'
import { foldIn, key } from '../src/dsl/random.js'
import { typecheck } from '../src/dsl/typecheck.js'
import { prepareGradient } from '../src/estimators/gradient.js'
import type { Feed } from '../src/interpreters/ndarray.js'
import type { MatrixProducts } from '../src/interpreters/reference/ops.js'
import { referenceProducts } from '../src/interpreters/reference/ops.js'
import { gemmModule } from '../src/train/fast/emit-gemm.js'
import type { Blocking } from '../src/train/fast/index.js'
import { defaultBlocking, jsProducts, wasmProducts, wasmSupport } from '../src/train/fast/index.js'
import { ceilTo } from '../src/train/fast/panels.js'
import { fastThreadedProducts } from '../src/train/fast/index.js'
import { drawRunError } from '../src/interpreters/runErrors.js'
import { STEP_BATCH, stepper, teamStepper } from './trainStep.js'
import { xorshift } from './stats.js'
import { rerunUnderEsmOnly } from './esmOnly.js'
import { memoryCanary } from './canary.js'

export const BATCH = 64
export const EPOCH_BATCHES = Math.ceil(60000 / BATCH)
const LR = 0.01

// --- the network and data -----------------------------------------------------------------------

/** The issue-6 network with parameters initialised from `seed`. */
export const issueNet = (seed = 0): Checked<Network> => {
  const x = input('x', ['batch', 784])
  const y = input('y', ['batch'], 'index')
  const logits = pipe(x, mlp({ hidden: [512, 512], outputs: 10, weights: 'binary' }))
  const outputs = { output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) }
  const checked = typecheck({ outputs, params: initParams(outputs, key(seed)) })
  if (E.isLeft(checked)) throw new Error(`our bug: the benchmark network does not typecheck: ${JSON.stringify(checked.left)}`)
  return checked.right
}

/** `n` examples of Fashion-MNIST's shape: pixels j/255 (xorshift, seeded) and labels 0–9. */
export const randomImages = (n: number, seed = 1): { readonly x: Float64Array; readonly y: Float64Array } => {
  const next = xorshift(seed)
  return { x: Float64Array.from({ length: n * 784 }, () => Math.floor(next() * 256) / 255), y: Float64Array.from({ length: n }, () => Math.floor(next() * 10)) }
}

export const batchOf = (data: { readonly x: Float64Array; readonly y: Float64Array }, b: number): Feed => {
  const count = data.y.length / BATCH
  const i = b % count
  return {
    x: { shape: [BATCH, 784], data: data.x.subarray(i * BATCH * 784, (i + 1) * BATCH * 784) },
    y: { shape: [BATCH], data: data.y.subarray(i * BATCH, (i + 1) * BATCH) },
  }
}

/** One training step (gradient draw + SGD) on batch `b`, parameters carried between calls. */
export const trainer = (kernels: MatrixProducts, data: { readonly x: Float64Array; readonly y: Float64Array }, seed = 0) => {
  const base = issueNet(seed)
  let params: ParamValues = base.params
  let b = 0
  return (): number => {
    const net = { ...base, params } as Checked<Network>
    const prepared = prepareGradient(net, batchOf(data, b), { products: kernels })
    if (E.isLeft(prepared)) throw new Error(`our bug: ${JSON.stringify(prepared.left)}`)
    const r = prepared.right(foldIn(key(7), b))
    const next: Record<string, Float64Array> = {}
    for (const [name, theta] of Object.entries(params)) {
      const g = r.grad[name]
      if (g === undefined) next[name] = theta
      else {
        const t = new Float64Array(theta.length)
        for (let i = 0; i < t.length; i++) t[i] = theta[i]! - LR * g[i]!
        next[name] = t
      }
    }
    params = next
    b++
    return r.loss
  }
}

// --- timing -------------------------------------------------------------------------------------

export interface Sample { readonly wall: number; readonly cpu: number }

/** Wall and CPU milliseconds of one call. */
export const timeOnce = (fn: () => unknown): Sample => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  fn()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wall, cpu: (c.user + c.system) / 1000 }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const h = s.length >> 1
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2
}
export const spread = (xs: readonly number[]): string =>
  `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`

/** Products that add the time spent in each product to `spent.ms`. */
const timed = (k: MatrixProducts, spent: { ms: number }): MatrixProducts => {
  const wrap = (f: MatrixProducts['matmul']): MatrixProducts['matmul'] => (a, b) => {
    const t0 = performance.now()
    const r = f(a, b)
    spent.ms += performance.now() - t0
    return r
  }
  return { ...k, matmul: wrap(k.matmul), matmulNT: wrap(k.matmulNT), matmulTN: wrap(k.matmulTN) }
}

// --- the f32 micro-kernel alone, per register blocking --------------------------------------------

const sweep = (): void => {
  type WA = { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer }; Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> }; Module: new (b: Uint8Array) => object }
  const W = (globalThis as unknown as { WebAssembly: WA }).WebAssembly
  const shapes = [[64, 784, 512], [784, 64, 512], [64, 512, 512]] as const
  const macs = shapes.reduce((s, [m, k, n]) => s + m * k * n, 0)
  const blockings: Blocking[] = []
  const fma = E.isRight(wasmSupport({ ...defaultBlocking, fma: true }))
  for (const [mr, nr] of [[4, 8], [3, 8], [2, 16], [6, 8], [4, 12], [8, 8], [8, 4], [2, 8], [1, 16]] as const)
    for (const unroll of [1, 2]) for (const f of fma ? [false, true] : [false]) blockings.push({ mr, nr, unroll, fma: f })
  const fns = blockings.map((b) => {
    const mem = new W.Memory({ initial: 200 })
    const gemm = new W.Instance(new W.Module(gemmModule(b)), { env: { mem } }).exports['gemm']!
    new Float32Array(mem.buffer).fill(0.5)
    return () => {
      for (const [m, k, n] of shapes) {
        const mP = Math.ceil(m / b.mr)
        const nP = Math.ceil(n / b.nr)
        const kpad = ceilTo(k, b.unroll)
        const bAt = ceilTo(mP * b.mr * kpad, 4)
        gemm(0, bAt * 4, ceilTo(bAt + nP * b.nr * kpad, 4) * 4, mP, nP, kpad, nP * b.nr * 4)
      }
    }
  })
  const cpu = blockings.map(() => [] as number[])
  fns.forEach((f) => { for (let i = 0; i < 10; i++) f() })
  for (let r = 0; r < 7; r++) fns.forEach((f, i) => cpu[i]!.push(timeOnce(() => { for (let t = 0; t < 5; t++) f() }).cpu / 5))
  console.log(`f32 micro-kernel on the step's shapes (64×784·784×512, 784×64·64×512, 64×512·512×512), CPU ms, GMAC/s${fma ? '' : ' (no relaxed SIMD: fma variants skipped)'}`)
  blockings.forEach((b, i) => console.log(`  ${b.mr}×${b.nr} unroll ${b.unroll}${b.fma ? ' fma' : '    '}  ${spread(cpu[i]!).padEnd(20)} ${(macs / median(cpu[i]!) / 1e6).toFixed(1)}`))
}

// --- main -----------------------------------------------------------------------------------------

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1] ?? ''
}

/** The contenders this host can run, by name. */
export const contenders = (): Record<string, MatrixProducts> => {
  const out: Record<string, MatrixProducts> = { reference: referenceProducts, 'js f64': jsProducts }
  const w = wasmProducts()
  if (E.isRight(w)) out['wasm f32+bits'] = w.right
  const nb = wasmProducts({ bits: false })
  if (E.isRight(nb)) out['wasm f32 (no bits)'] = nb.right
  const fma = wasmProducts({ blocking: { ...defaultBlocking, fma: true } })
  if (E.isRight(fma)) out['wasm fma+bits'] = fma.right
  return out
}

/**
 * `--preset P [--batch-norm] [--threads N] [--rounds R] [--batch B] [--json]`: the step of `trainStep.ts`
 * with the fast kernels, timed in `rounds` rounds after a warm-up; ONE JSON object on stdout
 * (the interface the PyTorch runner reads), progress on stderr.
 */
const presetMain = async (presetText: string): Promise<void> => {
  const rounds = Number(arg('--rounds') ?? 15)
  const threads = Number(arg('--threads') ?? 1)
  const parts = Number(arg('--parts') ?? 1)
  const batch = Number(arg('--batch') ?? STEP_BATCH)
  const batchNorm = process.argv.includes('--batch-norm')
  const fail = (why: string): never => {
    process.stderr.write(`bench:train: ${why}\n`)
    process.exit(2)
  }
  if (!Number.isSafeInteger(rounds) || rounds < 1) fail(`--rounds: expected an integer ≥ 1, found ${arg('--rounds')}`)
  if (!Number.isSafeInteger(threads) || threads < 1) fail(`--threads: expected an integer ≥ 1, found ${arg('--threads')}`)
  if (!Number.isSafeInteger(parts) || parts < 1) fail(`--parts: expected an integer ≥ 1, found ${arg('--parts')}`)
  if (!Number.isSafeInteger(batch) || batch < 1) fail(`--batch: expected an integer ≥ 1, found ${arg('--batch')}`)
  // Parts ≥ 2: data parallelism (the threads take whole parts, each on one-thread kernels); else the products split over threads.
  const threaded = fastThreadedProducts(parts > 1 ? 1 : threads)
  if (E.isLeft(threaded)) return fail(`--threads ${threads}: ${drawRunError(threaded.left)}`)
  const kernels = threaded.right
  const team = parts > 1 ? await teamStepper({ preset: presetText, batchNorm, kernels, parts, threads, batch }) : undefined
  if (team !== undefined && E.isLeft(team)) return fail(`--parts ${parts}: ${team.left}`)
  const step = team !== undefined && E.isRight(team) ? E.right(team.right.step) : stepper({ preset: presetText, batchNorm, kernels, batch })
  if (E.isLeft(step)) return fail(`--preset: ${step.left}`)
  const warm = 3
  const samples: Sample[] = []
  const canary: number[] = []
  for (let r = 0; r < warm + rounds; r++) {
    const t = timeOnce(step.right)
    // The machine's memory mode between steps (canary.ts), in every round.
    const m = memoryCanary()
    if (r >= warm) {
      samples.push(t)
      canary.push(m)
    }
    process.stderr.write(`\rbench:train ${presetText}${batchNorm ? ' + batch norm' : ''}, ${threads} thread${threads === 1 ? '' : 's'}: step ${r + 1}/${warm + rounds} ${t.wall.toFixed(1)} ms   `)
  }
  process.stderr.write('\n')
  kernels.close()
  if (team !== undefined && E.isRight(team)) team.right.close()
  if (parts === 1 && threads > 1 && !kernels.started()) fail(`--threads ${threads}: no product of this step was large enough to split (MIN_SPLIT_MACS)`)
  const wall = samples.map((s) => s.wall)
  const cpu = samples.map((s) => s.cpu)
  const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) })
  const load = os.loadavg()
  const result = {
    preset: presetText, batchNorm, batch, threads, parts, rounds, input: 'random pixels j/255, 28×28',
    msPerStep: stats(wall), cpuMsPerStep: stats(cpu), canaryCpuMs: stats(canary), loadAverage: load[0], cores: os.cpus().length,
  }
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`)
  else console.log(`${presetText}${batchNorm ? ' + batch norm' : ''}, batch ${batch}, ${threads} thread(s), ${parts} part(s): ${spread(wall)} ms per step (wall), CPU ${spread(cpu)}; memory canary ${spread(canary)} ms of CPU (bench/canary.ts); load average ${load[0]!.toFixed(1)}`)
}

const main = async (): Promise<void> => {
  rerunUnderEsmOnly(import.meta.url)
  if (process.argv.includes('--sweep')) return sweep()
  const presetText = arg('--preset')
  if (presetText !== undefined) return presetMain(presetText)
  const rounds = Number(arg('--rounds') ?? 20)
  const only = arg('--only')
  let data = randomImages(BATCH * 50)
  let source = 'random pixels j/255 of Fashion-MNIST shape'
  if (process.argv.includes('--real')) {
    const { toFeedRows } = await import('../src/data/index.js')
    const { loadSplits } = await import('../src/node/index.js')
    const s = await loadSplits('fashion-mnist')
    if (E.isLeft(s)) throw new Error(`cannot load fashion-mnist: ${JSON.stringify(s.left)}`)
    // The first rounds + warm-up batches of the train split (a feed of all 60 000 would be 376 MB).
    const rows = Uint32Array.from({ length: BATCH * (rounds + 3) }, (_, i) => i)
    const feed = toFeedRows(s.right.train, rows, { scale: '01' })
    data = { x: feed['x']!.data, y: feed['y']!.data }
    source = `Fashion-MNIST train split (${s.right.source})`
  }
  const spent: Record<string, { ms: number }> = {}
  const steps = Object.entries(contenders())
    .filter(([name]) => only === undefined || name.includes(only))
    .map(([name, k]) => {
      spent[name] = { ms: 0 }
      return [name, trainer(timed(k, spent[name]!), data)] as const
    })
  for (const [, step] of steps) for (let i = 0; i < 3; i++) step() // compile, tier up
  for (const s of Object.values(spent)) s.ms = 0
  const samples: Record<string, Sample[]> = Object.fromEntries(steps.map(([n]) => [n, []]))
  for (let r = 0; r < rounds; r++) for (const [name, step] of steps) samples[name]!.push(timeOnce(step))
  const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')
  console.log(`one training step, batch ${BATCH}, ${source}; ${rounds} interleaved rounds; load average ${load}`)
  console.log(`${'kernels'.padEnd(20)} ${'wall ms/batch'.padEnd(22)} ${'CPU ms/batch'.padEnd(22)} products  epoch (938 batches, CPU)`)
  for (const [name, s] of Object.entries(samples)) {
    const wall = s.map((t) => t.wall)
    const cpu = s.map((t) => t.cpu)
    const share = spent[name]!.ms / wall.reduce((a, b) => a + b, 0)
    console.log(`${name.padEnd(20)} ${spread(wall).padEnd(22)} ${spread(cpu).padEnd(22)} ${(100 * share).toFixed(0).padStart(6)} %  ${((median(cpu) * EPOCH_BATCHES) / 1000).toFixed(1)} s`)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()

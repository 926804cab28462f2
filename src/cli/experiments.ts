/**
 * `sbnkit experiments` (`npm run experiments`): the results page docs/experiments.md. For each row
 * of `experimentRuns.ts` (dataset, network, recipe, deterministic path) and each seed it trains and
 * evaluates on the official test set: the mode network as trained, the mode network with
 * batch-norm statistics re-estimated under itself, and the 16-member ensemble. Results are
 * appended to `experiments.json` after every run (an interrupted regeneration keeps what it
 * finished and resumes from it); the Markdown table (`experiments-table.md`, mean ± std over
 * seeds, each row with its budget) and one SVG of validation curves per row are written from it,
 * and the page's generated parts (table, list of curves) are rewritten in place.
 * `--cifar` adds the CIFAR-10 VGG-small projection from a few measured steps.
 */
import * as E from 'fp-ts/lib/Either.js'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { standardCacheDir } from '../data/cache.js'
import { parseArgs } from 'node:util'
import { writeFileAtomic } from '../io/files.js'
import { drawModelError } from '../dsl/codec/modelErrors.js'
import { lineChart } from '../plot/svg.js'
import { splicePage } from './experimentsPage.js'
import type { CifarProjection, RowSpec, RunResult } from './experimentRuns.js'
import { cifarProjection, deployedMode, rows, runRow } from './experimentRuns.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'
import { MAX_THREADS } from '../train/config.js'
import { threadCount } from './args.js'

export interface ExperimentPlan {
  readonly rows: readonly string[]
  readonly seeds: readonly number[]
  readonly epochs: Readonly<Record<string, number>>
  readonly lr: number
}

const pct = (xs: readonly number[]): string => {
  if (xs.length === 0) return '—'
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : Number.NaN
  return xs.length > 1 ? `${(100 * m).toFixed(2)} ± ${(100 * s).toFixed(2)}` : `${(100 * m).toFixed(2)} (1 seed)`
}

/**
 * The mean CPU minutes of training when every run recorded them, and the range of the load
 * average over the runs that recorded it: ` (3.1 CPU-min, load 4.2–6.8)`.
 */
const cpuNote = (rs: readonly RunResult[]): string => {
  const cpu = rs.flatMap((x) => (x.cpuSeconds === undefined ? [] : [x.cpuSeconds]))
  const loads = rs.flatMap((x) => (x.loadAverage === undefined ? [] : [x.loadAverage]))
  const load = loads.length === 0 ? '' : `, load ${Math.min(...loads.map((l) => l.min)).toFixed(1)}–${Math.max(...loads.map((l) => l.max)).toFixed(1)}`
  return cpu.length === 0 || cpu.length < rs.length ? '' : ` (${(cpu.reduce((a, b) => a + b, 0) / cpu.length / 60).toFixed(1)} CPU-min${load})`
}

const slug = (id: string): string => id.replaceAll('/', '-')

/**
 * The Markdown table: per row, the budget and the test accuracies (mean ± std over seeds).
 * @example resultsTable(plan, results) // '| dataset | network | recipe | budget | …'
 */
export const resultsTable = (plan: ExperimentPlan, results: readonly RunResult[]): string => {
  const head = ['dataset', 'network', 'recipe', 'budget per run', 'mode, deployed (BN chosen on validation)', 'mode, training BN', 'ensemble of 16', 'seeds']
  const body = rows
    .filter((r) => plan.rows.includes(r.id) || results.some((x) => x.row === r.id))
    .map((r) => {
      const rs = results.filter((x) => x.row === r.id)
      const first = rs[0]
      const secs = rs.map((x) => x.seconds)
      const budget = first === undefined
        ? `${r.epochs ?? plan.epochs[r.dataset] ?? '?'} epochs${r.settings.batch === undefined ? '' : ` of batch ${r.settings.batch}`} (not run yet)`
        : `${first.epochs} epoch${first.epochs === 1 ? '' : 's'} × ${first.steps} steps of ${r.settings.batch ?? 64}, ${(secs.reduce((a, b) => a + b, 0) / secs.length / 60).toFixed(0)} min${cpuNote(rs)}`
      const members = [...new Set(rs.map((x) => x.members ?? 16))].filter((m) => m !== 16)
      const ensemble = pct(rs.map((x) => x.testEnsemble)) + (members.length > 0 ? ` (${members.join(', ')} members)` : '')
      return [r.dataset, r.preset, r.label, budget, pct(rs.map(deployedMode)), pct(rs.map((x) => x.testMode)), ensemble, rs.map((x) => x.seed).join(', ') || '—']
    })
  return [head, head.map(() => '---'), ...body].map((row) => `| ${row.join(' | ')} |`).join('\n') + '\n'
}

/** Validation accuracy per epoch for one row: mode and ensemble, per seed. */
export const curveChart = (spec: RowSpec, results: readonly RunResult[]): string =>
  lineChart(
    [{
      title: `${spec.dataset}, ${spec.preset}`, xLabel: 'epoch', yLabel: 'validation accuracy',
      series: results.filter((r) => r.row === spec.id).flatMap((r) => [
        { label: `mode, seed ${r.seed}`, x: r.curve.map((c) => c.epoch), y: r.curve.map((c) => c.valMode) },
        { label: `ensemble, seed ${r.seed}`, x: r.curve.map((c) => c.epoch), y: r.curve.map((c) => c.valEnsemble) },
      ]),
    }],
    { title: `Training curves: ${spec.label}`, columns: 1 },
  )

/** The CIFAR-10 projection as a sentence. */
export const cifarLine = (c: CifarProjection): string => {
  const several = (c.steps ?? 1) > 1
  const step = several ? `a training step at batch ${c.batch}` : `one training step at batch ${c.batch}`
  const which = several
    ? `the median of steps 2–${c.steps ?? 1}, on a shared machine; the first step, with compilation and first allocations, took ${(c.firstStepCpuSeconds ?? Number.NaN).toFixed(1)} s of CPU; ${c.data}`
    : `on a shared machine; ${c.data}`
  return `${c.preset}: ${step} took ${c.stepCpuSeconds.toFixed(1)} s of CPU time (${c.stepSeconds.toFixed(1)} s wall; ${which}); an epoch of ${c.trainImages} images is projected at ` +
    `${(c.epochSeconds / 3600).toFixed(1)} h of one core (${(c.epochSeconds / 3600 / 24).toFixed(1)} days).`
}

export const experimentsUsage = `usage: sbnkit experiments [options]

Trains every row of docs/experiments.md for each seed and writes the results (resumable).

options:
  --rows LIST            default all: ${rows.map((r) => r.id).join(',')} (none: only --cifar)
  --seeds LIST           default 0,1,2 (none: train nothing, rewrite the table and plots from experiments.json)
  --epochs-mnist N       default 3
  --epochs-fashion N     default 3
  --lr X                 Adam learning rate with a cosine schedule (default 0.1)
  --cifar                also measure VGG-small steps on CIFAR-10 and project an epoch
  --cifar-width M        width multiplier of that VGG-small (default 1)
  --cifar-batch B        its batch (default 8)
  --cifar-steps N        steps measured; the projection uses the median after the first (default 3)
  --data-dir DIR         CIFAR-10's cifar-10-batches-bin (default: random images in its format)
  --threads N            threads of the training kernels (default: every core, 1 for --cifar; results are identical)
  --out DIR              where experiments.json, experiments-table.md and img/ go (default docs)
  --work DIR             a checkpoint per epoch of the run in progress, so a stopped regeneration
                         continues inside its run (default: the cache directory's experiments/)
`

export const experiments: Command = async (argv, io) => {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        rows: { type: 'string' }, seeds: { type: 'string' }, 'epochs-mnist': { type: 'string' }, 'epochs-fashion': { type: 'string' },
        lr: { type: 'string' }, cifar: { type: 'boolean' }, 'cifar-width': { type: 'string' }, 'cifar-batch': { type: 'string' }, 'cifar-steps': { type: 'string' },
        'data-dir': { type: 'string' }, out: { type: 'string' }, work: { type: 'string' }, threads: { type: 'string' }, help: { type: 'boolean' },
      },
    })
  } catch (e) {
    io.err(`experiments: ${(e as Error).message}\n\n${experimentsUsage}`)
    return exitCode.badInput
  }
  const o = args.values
  if (o.help === true) { io.out(experimentsUsage); return exitCode.ok }
  const chosen = o.rows === undefined ? rows.map((r) => r.id) : o.rows === 'none' ? [] : o.rows.split(',')
  const unknown = chosen.filter((id) => !rows.some((r) => r.id === id))
  const plan: ExperimentPlan = {
    rows: chosen,
    seeds: o.seeds === 'none' ? [] : (o.seeds ?? '0,1,2').split(',').map(Number),
    epochs: { mnist: Number(o['epochs-mnist'] ?? 3), 'fashion-mnist': Number(o['epochs-fashion'] ?? 3) },
    lr: Number(o.lr ?? 0.1),
  }
  const numbers = [...plan.seeds, ...Object.values(plan.epochs)]
  if (unknown.length > 0 || !numbers.every((n) => Number.isSafeInteger(n) && n >= 0) || !(plan.lr > 0)) {
    io.err(`experiments: ${unknown.length > 0 ? `unknown rows ${unknown.join(', ')}` : 'seeds and epochs expect whole numbers ≥ 0, lr a number > 0'}\n\n${experimentsUsage}`)
    return exitCode.badInput
  }
  const cifarWidth = Number(o['cifar-width'] ?? 1)
  const cifarWhole = { 'cifar-batch': Number(o['cifar-batch'] ?? 8), 'cifar-steps': Number(o['cifar-steps'] ?? 3) }
  const badCifar = [
    ...(cifarWidth > 0 && Number.isFinite(cifarWidth) ? [] : [`--cifar-width expects a number > 0, found "${o['cifar-width'] ?? ''}"`]),
    ...Object.entries(cifarWhole).filter(([, n]) => !(Number.isSafeInteger(n) && n >= 1)).map(([k]) => `--${k} expects a whole number ≥ 1, found "${o[k as keyof typeof cifarWhole] ?? ''}"`),
  ]
  if (badCifar.length > 0) {
    io.err(`experiments: ${badCifar.join('; ')}\n\n${experimentsUsage}`)
    return exitCode.badInput
  }
  const threadsE = o.threads === undefined ? undefined : threadCount(o.threads, MAX_THREADS)
  if (threadsE !== undefined && E.isLeft(threadsE)) {
    io.err(`experiments: ${threadsE.left}\n\n${experimentsUsage}`)
    return exitCode.badInput
  }
  const threads = threadsE?.right
  const out = o.out ?? 'docs'
  const jsonPath = join(out, 'experiments.json')
  const readSaved = async (): Promise<{ readonly results: RunResult[]; readonly cifar?: CifarProjection } | undefined> => {
    try {
      const saved = JSON.parse(await readFile(jsonPath, 'utf8')) as { format?: string; results: RunResult[]; cifar?: CifarProjection }
      return saved.format === 'sbnkit-experiments/2' ? saved : undefined
    } catch {
      return undefined
    }
  }
  const first = await readSaved()
  let results: RunResult[] = first?.results ?? []
  let cifar: CifarProjection | undefined = first?.cifar
  /** Runs this process finished (they win over the file's when both have a row and seed). */
  let mine: RunResult[] = []
  /** Writes the results, the table and the curves into `out` (created if missing); the first failure's message, if any. */
  const save = async (): Promise<string | undefined> => {
    // Another regeneration may have saved since this one read the file: keep its runs too.
    const disk = await readSaved()
    if (disk !== undefined) {
      results = mergeResults(disk.results, mine)
      if (o.cifar !== true) cifar = disk.cifar ?? cifar
    }
    try {
      await mkdir(join(out, 'img'), { recursive: true })
    } catch (e) {
      return `cannot create the output folder ${join(out, 'img')} (${(e as Error).message})`
    }
    const table = resultsTable(plan, results) + (cifar === undefined ? '' : `\nCIFAR-10: ${cifarLine(cifar)}\n`)
    const plotted = rows.filter((r) => results.some((x) => x.row === r.id))
    const files: [string, string][] = [
      [jsonPath, `${JSON.stringify({ format: 'sbnkit-experiments/2', plan, results, ...(cifar === undefined ? {} : { cifar }) }, null, 1)}\n`],
      [join(out, 'experiments-table.md'), table],
      ...plotted.map((spec): [string, string] => [join(out, 'img', `curves-${slug(spec.id)}.svg`), curveChart(spec, results)]),
    ]
    for (const [path, text] of files) {
      const w = await writeFileAtomic(path, text)
      if (E.isLeft(w)) return drawModelError(w.left)
    }
    return updatePage(join(out, 'experiments.md'), {
      table,
      ...(cifar === undefined ? {} : { cifar: `Measured: ${cifarLine(cifar)}\n` }),
      curves: plotted.map((r) => `![${r.id}](img/curves-${slug(r.id)}.svg)`).join('\n') + '\n',
    })
  }
  /** Saves, or prints why it could not (the run's results are printed above it on stdout). */
  const saved = async (): Promise<boolean> => {
    const failed = await save()
    if (failed !== undefined) io.err(`experiments: the results were not saved: ${failed}\n`)
    return failed === undefined
  }
  if (o.cifar === true) {
    const c = await cifarProjection(cifarWidth, cifarWhole['cifar-batch'], o['data-dir'], io, cifarWhole['cifar-steps'], threads ?? 1)
    if (E.isLeft(c)) { io.err(`experiments: cifar10: ${c.left}\n`); return exitCode.failed }
    cifar = c.right
    io.out(`cifar10: ${cifarLine(cifar)}\n`)
    if (!(await saved())) return exitCode.failed
  }
  for (const spec of rows.filter((r) => chosen.includes(r.id)))
    for (const seed of plan.seeds) {
      if (results.some((r) => r.row === spec.id && r.seed === seed)) continue
      const r = await runRow(spec, seed, plan.epochs[spec.dataset] ?? 3, plan.lr, io, standardCacheDir(), threads, o.work ?? join(standardCacheDir(), 'experiments'))
      if (E.isLeft(r)) { io.err(`experiments: ${spec.id} seed ${seed}: ${r.left}\n`); return exitCode.failed }
      results = [...results, r.right]
      mine = [...mine, r.right]
      const x = r.right
      const v = x.validationMode === undefined ? '' : `; validation ${(100 * x.validationMode.recalibrated).toFixed(2)}% re-estimated, ${(100 * x.validationMode.trained).toFixed(2)}% as trained`
      io.out(`${spec.id} seed ${seed}: test mode ${(100 * x.testModeRecalibrated).toFixed(2)}% (BN re-estimated; ${(100 * x.testMode).toFixed(2)}% as trained${v}), deployed ${(100 * deployedMode(x)).toFixed(2)}%, ensemble ${(100 * x.testEnsemble).toFixed(2)}% (${x.seconds.toFixed(0)} s)\n`)
      if (!(await saved())) return exitCode.failed
    }
  if (!(await saved())) return exitCode.failed
  io.out(resultsTable(plan, results))
  return exitCode.ok
}

/**
 * Rewrites the generated parts of the results page at `path` (`splicePage`); a missing page is
 * left missing. The message of the first failure, if any.
 */
const updatePage = async (path: string, parts: Readonly<Record<string, string>>): Promise<string | undefined> => {
  let page: string
  try {
    page = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  const next = splicePage(page, parts)
  if (E.isLeft(next)) return `${path}: ${next.left}`
  if (next.right === page) return undefined
  const w = await writeFileAtomic(path, next.right)
  return E.isLeft(w) ? drawModelError(w.left) : undefined
}

/**
 * The results of experiments.json as another process saved them (`disk`) with this process's own
 * runs (`mine`): a run of the same row and seed replaces the file's in place, new ones are
 * appended in the order they finished. So two regenerations running at once lose nothing.
 * @example mergeResults([a0, b0], [b0new, c0]) // [a0, b0new, c0]
 */
export const mergeResults = (disk: readonly RunResult[], mine: readonly RunResult[]): RunResult[] => {
  const key = (r: RunResult): string => `${r.row}\u0000${r.seed}`
  const own = new Map(mine.map((r) => [key(r), r]))
  const merged = disk.map((r) => own.get(key(r)) ?? r)
  const present = new Set(disk.map(key))
  return [...merged, ...mine.filter((r) => !present.has(key(r)))]
}

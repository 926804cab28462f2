/**
 * `sbnkit experiments`: the comparison of training recipes published in docs/experiments.md.
 * For each dataset, recipe and seed it trains the preset binary MLP (binary weights and
 * activations, real first-layer input, real head, batch norm before each binary activation),
 * then evaluates the last parameters (a cosine schedule ends at rate 0) on the test split: mode
 * network and K-sample ensemble. Results are appended to a JSON file after every run (an interrupted regeneration
 * keeps what it finished and resumes from it), and the Markdown table and one training-curve SVG
 * per recipe are written from that file.
 */
import * as E from 'fp-ts/lib/Either.js'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { RecipeName } from '../train/recipes.js'
import { train } from '../train/loop.js'
import { drawTrainError } from '../train/loop.js'
import { drawRunError } from '../interpreters/errors.js'
import { drawRoutingError } from '../train/routing.js'
import { evaluateSet } from '../train/evaluate.js'
import { foldIn, key } from '../dsl/random.js'
import { referenceKernels } from '../interpreters/reference/ops.js'
import { lineChart } from '../plot/svg.js'
import type { Settings } from './trainSetup.js'
import { buildConfig, buildPreset, defaults, loadData } from './trainSetup.js'
import { writeFileAtomic } from '../io/files.js'
import type { Command, Io } from './io.js'
import { exitCode } from './io.js'
import { progressBar } from './progress.js'

export interface RecipeSpec {
  readonly id: string
  readonly label: string
  readonly settings: Partial<Settings> & { readonly recipe: RecipeName }
}

/** The recipes compared (docs/training.md explains each). */
export const recipes: readonly RecipeSpec[] = [
  { id: 'st-md', label: 'matched ST + mirror descent', settings: { recipe: 'md', estimator: 'st' } },
  { id: 'identity-md', label: 'identity ST (logistic sampling, identity backward) + mirror descent', settings: { recipe: 'md', estimator: 'identity' } },
  { id: 'bnn', label: 'deterministic hardtanh ST + clipping (BNN)', settings: { recipe: 'bnn', estimator: 'det:hardtanh', weightSampling: 'mode' } },
  { id: 'st-decay', label: 'matched ST + latent weight decay', settings: { recipe: 'decay', estimator: 'st', decay: 1e-4 } },
  { id: 'bop', label: 'Bop (matched ST activations)', settings: { recipe: 'bop', estimator: 'st', optimizer: 'sgd' } },
]

export interface RunResult {
  readonly dataset: string
  readonly recipe: string
  readonly seed: number
  readonly epochs: number
  readonly trainExamples: number
  readonly testMode: number
  readonly testEnsemble: number
  /** The epoch whose parameters scored best on validation (mode accuracy; for reference only). */
  readonly bestEpoch: number
  readonly seconds: number
  readonly curve: readonly { readonly epoch: number; readonly trainLoss: number; readonly valMode: number; readonly valEnsemble: number }[]
}

export interface ExperimentPlan {
  readonly datasets: readonly string[]
  readonly seeds: readonly number[]
  readonly epochs: Readonly<Record<string, number>>
  readonly limit: Readonly<Record<string, number | undefined>>
  readonly hidden: string
  readonly lr: number
}

const runId = (r: Pick<RunResult, 'dataset' | 'recipe' | 'seed'>): string => `${r.dataset}/${r.recipe}/${r.seed}`

const meanStd = (xs: readonly number[]): string => {
  if (xs.length === 0) return '—'
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0
  return `${(100 * m).toFixed(2)} ± ${(100 * s).toFixed(2)}`
}

/** The Markdown table: per recipe and dataset, test accuracy of the mode and the ensemble (mean ± std over seeds). */
export const resultsTable = (plan: ExperimentPlan, results: readonly RunResult[]): string => {
  const head = ['recipe', ...plan.datasets.flatMap((d) => [`${d} mode`, `${d} ensemble`])]
  const rows = recipes.map((r) => [
    r.label,
    ...plan.datasets.flatMap((d) => {
      const rs = results.filter((x) => x.dataset === d && x.recipe === r.id)
      return [`${meanStd(rs.map((x) => x.testMode))} (${rs.length})`, meanStd(rs.map((x) => x.testEnsemble))]
    }),
  ])
  return [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n') + '\n'
}

/** Validation accuracy per epoch, one panel per dataset, mode and ensemble per seed. */
export const curveChart = (spec: RecipeSpec, plan: ExperimentPlan, results: readonly RunResult[]): string =>
  lineChart(
    plan.datasets.map((d) => ({
      title: d,
      xLabel: 'epoch',
      yLabel: 'validation accuracy',
      yRange: [0, 1] as const,
      series: results
        .filter((r) => r.dataset === d && r.recipe === spec.id)
        .flatMap((r) => [
          { label: `mode, seed ${r.seed}`, x: r.curve.map((c) => c.epoch), y: r.curve.map((c) => c.valMode) },
          { label: `ensemble, seed ${r.seed}`, x: r.curve.map((c) => c.epoch), y: r.curve.map((c) => c.valEnsemble) },
        ]),
    })),
    { title: `Training curves: ${spec.label}`, columns: 2 },
  )

const runOne = async (
  plan: ExperimentPlan, dataset: string, spec: RecipeSpec, seed: number, io: Io, cacheDir: string | false,
): Promise<E.Either<string, RunResult>> => {
  const base = defaults(spec.settings.recipe)
  const limit = plan.limit[dataset]
  const s: Settings = {
    ...base, dataset, preset: `mlp:${plan.hidden}`, batchNorm: true, lr: plan.lr, schedule: 'cosine',
    epochs: plan.epochs[dataset] ?? 10, seed, logEvery: 0, ...spec.settings,
    ...(limit === undefined ? {} : { limit }),
  }
  const loaded = await loadData(s, 'flat', cacheDir)
  if (E.isLeft(loaded)) return loaded
  const netE = buildPreset(s, loaded.right)
  if (E.isLeft(netE)) return netE
  const cfg = buildConfig(s)
  if (E.isLeft(cfg)) return cfg
  const steps = Math.ceil(loaded.right.data.train.size / s.batch)
  const bar = progressBar(io, `${dataset} ${spec.id} seed ${seed}`, s.epochs * steps)
  const t0 = performance.now()
  const r = await train(netE.right.net, loaded.right.data, cfg.right.config, {
    onStep: (st) => bar.tick(st.globalStep, `loss ${st.loss.toFixed(3)}`),
  })
  if (E.isLeft(r)) return E.left(drawTrainError(r.left, drawRunError, drawRoutingError))
  bar.done()
  const hist = r.right.state.history
  // The runs use a cosine schedule to zero, so the last parameters are the trained model; they
  // are evaluated on test (mode network and K-sample ensemble) with a fixed key.
  const testSet = loaded.right.data.test
  if (testSet === undefined) return E.left('the dataset has no test split')
  const testE = evaluateSet(r.right.last, testSet, { members: s.ensemble, key: foldIn(key(seed), 0x7e57), kernels: cfg.right.config.kernels?.kernels ?? referenceKernels })
  if (E.isLeft(testE)) return E.left(drawRunError(testE.left))
  const test = testE.right
  return E.right({
    dataset, recipe: spec.id, seed, epochs: s.epochs, trainExamples: loaded.right.data.train.size,
    testMode: test.mode.accuracy, testEnsemble: test.ensemble.accuracy,
    bestEpoch: r.right.state.best?.epoch ?? hist.length, seconds: (performance.now() - t0) / 1000,
    curve: hist.map((h) => ({
      epoch: h.epoch, trainLoss: h.trainLoss,
      valMode: h.validation?.mode.accuracy ?? Number.NaN, valEnsemble: h.validation?.ensemble.accuracy ?? Number.NaN,
    })),
  })
}

export const experimentsUsage = `usage: sbnkit experiments [options]

Trains every recipe of docs/experiments.md on each dataset and seed and writes the results.

options:
  --datasets LIST        default mnist,fashion-mnist
  --seeds LIST           default 0,1,2
  --recipes LIST         default all: ${recipes.map((r) => r.id).join(',')}
  --epochs-mnist N       default 10
  --epochs-fashion N     default 3
  --limit-fashion N      use only N Fashion-MNIST training images (default: all 55 000)
  --hidden W1,W2         hidden widths of the MLP (default 256,256)
  --lr X                 Adam learning rate with a cosine schedule (default 0.1)
  --out DIR              where experiments.json, experiments.md and the SVG curves go (default docs)
`

export const experiments: Command = async (argv, io) => {
  let args
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        datasets: { type: 'string' }, seeds: { type: 'string' }, recipes: { type: 'string' }, 'epochs-mnist': { type: 'string' },
        'epochs-fashion': { type: 'string' }, 'limit-fashion': { type: 'string' }, hidden: { type: 'string' }, lr: { type: 'string' },
        out: { type: 'string' }, help: { type: 'boolean' },
      },
    })
  } catch (e) {
    io.err(`experiments: ${(e as Error).message}\n\n${experimentsUsage}`)
    return exitCode.badInput
  }
  const o = args.values
  if (o.help === true) { io.out(experimentsUsage); return exitCode.ok }
  const ints = (s: string): number[] => s.split(',').map(Number)
  const plan: ExperimentPlan = {
    datasets: (o.datasets ?? 'mnist,fashion-mnist').split(','),
    seeds: ints(o.seeds ?? '0,1,2'),
    epochs: { mnist: Number(o['epochs-mnist'] ?? 10), 'fashion-mnist': Number(o['epochs-fashion'] ?? 3) },
    limit: { 'fashion-mnist': o['limit-fashion'] === undefined ? undefined : Number(o['limit-fashion']) },
    hidden: o.hidden ?? '256,256',
    lr: Number(o.lr ?? 0.1),
  }
  const chosen = o.recipes === undefined ? recipes : recipes.filter((r) => o.recipes!.split(',').includes(r.id))
  const out = o.out ?? 'docs'
  const jsonPath = join(out, 'experiments.json')
  let results: RunResult[] = []
  try {
    results = (JSON.parse(await readFile(jsonPath, 'utf8')) as { results: RunResult[] }).results
  } catch {
    results = []
  }
  const save = async (): Promise<void> => {
    await writeFileAtomic(jsonPath, `${JSON.stringify({ format: 'sbnkit-experiments/1', plan, results }, null, 1)}\n`)
    await writeFileAtomic(join(out, 'experiments-table.md'), resultsTable(plan, results))
    for (const spec of recipes) await writeFileAtomic(join(out, 'img', `curves-${spec.id}.svg`), curveChart(spec, plan, results))
  }
  for (const dataset of plan.datasets)
    for (const spec of chosen)
      for (const seed of plan.seeds) {
        if (results.some((r) => runId(r) === runId({ dataset, recipe: spec.id, seed }))) continue
        const r = await runOne(plan, dataset, spec, seed, io, join('.cache', 'sbnkit'))
        if (E.isLeft(r)) { io.err(`experiments: ${dataset} ${spec.id} seed ${seed}: ${r.left}\n`); return exitCode.failed }
        results = [...results, r.right]
        io.out(`${dataset} ${spec.id} seed ${seed}: test mode ${(100 * r.right.testMode).toFixed(2)}%, ensemble ${(100 * r.right.testEnsemble).toFixed(2)}% (${r.right.seconds.toFixed(0)} s)\n`)
        await save()
      }
  await save()
  io.out(resultsTable(plan, results))
  return exitCode.ok
}

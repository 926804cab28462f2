/**
 * `sbnkit bench <model.json>`: whole-network throughput of the compiled interpreter on random
 * inputs of the model's shapes (8-bit-valued reals for real inputs, valid labels for label
 * inputs), per back end and mode.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseArgs } from 'node:util'
import { drawModelErrors } from '../dsl/codec.js'
import type { Checked, Input, Network } from '../dsl/node.js'
import { fillUnit, key } from '../dsl/random.js'
import { topoOrder } from '../dsl/fold.js'
import { drawCompileError } from '../interpreters/compiled/machine.js'
import { benchNetwork } from '../bench/benchNetwork.js'
import { compile } from '../interpreters/compiled/index.js'
import { drawRunError } from '../interpreters/runErrors.js'
import type { Feed } from '../interpreters/ndarray.js'
import { readModelFile } from '../io/files.js'
import { evaluationBytes, fits } from '../interpreters/budget.js'
import { budgetOf, threadCount, wholeNumber } from './args.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'

export const benchUsage = `usage: sbnkit bench <model.json> [--backend wasm|js|jitless] [--mode mode|sample|ensemble] [--batch N] [--runs N] [--threads N] [--json]

Compiles the model and times whole forward passes on random inputs of its shapes (pixels k/255
for real inputs, valid labels for label inputs), and prints the time per run, examples per
second, GMAC/s and the share of each step of the compiled plan.

options:
  --backend B   wasm (default), js or jitless
  --mode M      mode (default: the deterministic mode network), sample or ensemble
  --batch N     examples per pass (default 256; bounded by --max-memory)
  --runs N      timed passes (default 7); the median is reported
  --threads N   split each batch across N threads (wasm back end; default 1)
  --json        print the report as JSON
  -h, --help    print this help

exit status: 0 ok; 2 a bad model file or flag, or a model this machine cannot compile or run;
1 the generated code was rejected (a bug of sbnkit).
`

/** The most steps the text report lists (the slowest); `--json` has them all. */
const maxSteps = 40

/** Random inputs for every Input of the network: pixels k/255 for reals, valid labels otherwise. */
export const randomFeed = (net: Checked<Network>, batch: number, seed = 0): Feed => {
  const inputs = topoOrder(Object.values(net.outputs)).filter((n): n is Input => n._tag === 'Input')
  const feed: Record<string, { shape: number[]; data: Float64Array }> = {}
  inputs.forEach((inp, i) => {
    const shape = inp.type.shape.map((d) => (d === 'batch' ? batch : d))
    const u = fillUnit(key(seed + i), 0, new Float64Array(shape.reduce((a, b) => a * b, 1)))
    const classes = Object.values(net.outputs).flatMap((n) =>
      n._tag === 'Loss' && n.target === inp && n.op === 'softmax-ce' ? [n.logits.type.shape[1] as number] : [])
    const data =
      inp.type.dtype === 'binary' ? u.map((v) => (v < 0.5 ? -1 : 1))
      : inp.type.dtype === 'index' ? u.map((v) => Math.floor(v * (classes[0] ?? 2)))
      : u.map((v) => Math.floor(v * 256) / 255)
    feed[inp.name] = { shape, data }
  })
  return feed
}

export const benchCommand: Command = async (argv, io) => {
  let args
  try {
    args = parseArgs({
      args: [...argv], allowPositionals: true,
      options: { backend: { type: 'string' }, mode: { type: 'string' }, batch: { type: 'string' }, runs: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    })
  } catch (e) {
    io.err(`bench: ${(e as Error).message}\n\n${benchUsage}`)
    return exitCode.badInput
  }
  const o = args.values
  if (o.help === true) { io.out(benchUsage); return exitCode.ok }
  const [path, ...extra] = args.positionals
  if (path === undefined || extra.length > 0) { io.err(`bench: expected one model file, found ${args.positionals.length} arguments\n\n${benchUsage}`); return exitCode.badInput }
  const backend = o.backend ?? 'wasm'
  const mode = o.mode ?? 'mode'
  const batch = wholeNumber('--batch', o.batch ?? '256', 1)
  const runs = wholeNumber('--runs', o.runs ?? '7', 1, 1_000_000)
  const threads = threadCount(o.threads, 64, () => 1)
  if (backend !== 'wasm' && backend !== 'js' && backend !== 'jitless') { io.err(`bench: --backend expects wasm, js or jitless, found ${JSON.stringify(backend)}\n\n${benchUsage}`); return exitCode.badInput }
  if (mode !== 'mode' && mode !== 'sample' && mode !== 'ensemble') { io.err(`bench: --mode expects mode, sample or ensemble, found ${JSON.stringify(mode)}\n\n${benchUsage}`); return exitCode.badInput }
  if (E.isLeft(batch)) { io.err(`bench: ${batch.left}\n\n${benchUsage}`); return exitCode.badInput }
  if (E.isLeft(runs)) { io.err(`bench: ${runs.left}\n\n${benchUsage}`); return exitCode.badInput }
  if (E.isLeft(threads)) { io.err(`bench: ${threads.left}\n\n${benchUsage}`); return exitCode.badInput }
  const budget = budgetOf(io)
  const net = await readModelFile(path, { budget })
  if (E.isLeft(net)) { io.err(`${drawModelErrors(net.left, path)}\n`); return exitCode.badInput }
  // Inputs and every value of a pass on --batch examples, before anything of that size exists.
  const room = fits(budget, evaluationBytes(net.right, batch.right), `--batch ${batch.right} (the network on ${batch.right} examples)`)
  if (E.isLeft(room)) { io.err(`bench: ${room.left}\n`); return exitCode.badInput }
  const compiled = compile(net.right, { backend, mode, threads: threads.right })
  if (E.isLeft(compiled)) { io.err(`bench: ${drawCompileError(compiled.left)}\n`); return compiled.left._tag === 'WasmBuildFailed' || compiled.left._tag === 'JsBuildFailed' ? exitCode.failed : exitCode.badInput }
  const report = benchNetwork(compiled.right, randomFeed(net.right, batch.right), { runs: runs.right, key: key(0) })
  compiled.right.close()
  if (E.isLeft(report)) { io.err(`bench: ${drawRunError(report.left)}\n`); return exitCode.badInput }
  const r = report.right
  if (o.json === true) { io.out(`${JSON.stringify(r, null, 1)}\n`); return exitCode.ok }
  io.out(`${path}: backend ${r.backend}, mode ${r.mode}, batch ${r.batch}, ${r.runs} runs\n`)
  io.out(`  ${r.msPerRun.median.toFixed(3)} ms per run (min ${r.msPerRun.min.toFixed(3)}, max ${r.msPerRun.max.toFixed(3)}), ` +
    `${Math.round(r.examplesPerSecond.median).toLocaleString('en-US')} examples/s, ${r.gmacPerSecond.median.toFixed(1)} GMAC/s\n`)
  // A plan of thousands of steps (a deep chain) lists its slowest ones, in plan order.
  const shown = r.steps.length <= maxSteps ? r.steps : [...r.steps].sort((a, b) => b.ms - a.ms).slice(0, maxSteps)
  const listed = new Set(shown)
  for (const s of r.steps.filter((x) => listed.has(x))) io.out(`  ${(100 * s.share).toFixed(1).padStart(5)}%  ${s.ms.toFixed(3)} ms  ${s.step}\n`)
  const rest = r.steps.filter((x) => !listed.has(x))
  if (rest.length > 0)
    io.out(`  ${(100 * rest.reduce((a, s) => a + s.share, 0)).toFixed(1).padStart(5)}%  in the other ${rest.length.toLocaleString('en-US')} steps, none slower than those above (--json lists every step)\n`)
  return exitCode.ok
}

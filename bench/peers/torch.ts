/**
 * `npm run bench:torch`: sbnkit's training step against PyTorch's, side by side, in one run.
 *
 * For each preset (default `mlp:512,512` and `conv:16,32`; also `vgg-mnist[:M]`; all with batch
 * norm, batch 64 unless `--batch`, one thread each) it runs the two contenders one after the other, `--repeat N` times alternating
 * (default 1):
 *
 * - sbnkit: `npm run bench:train -- --preset P --batch-norm --threads 1 --json` (bench/train.ts);
 * - PyTorch: `/usr/bin/python3 bench/peers/torch_train.py --preset P --threads 1 --json`
 *   (Debian's python3-torch; the same networks and semantics, see that file).
 *
 * Each prints one JSON object `{ preset, batch, threads, msPerStep: { median, min, max } }`; the
 * runner prints a table of the medians (min–max) and the ratio sbnkit / PyTorch (> 1: sbnkit is
 * slower), and with `--json` one object `{ rows: [{ preset, sbnkit, torch, ratio }] }` on stdout
 * (a contender that failed is `null` there, with its reason in `errors`). A contender that cannot
 * run (no bench:train on this branch, no PyTorch) is reported as such and the other still runs.
 * Progress goes to stderr.
 *
 * Options: `--presets mlp:512,512,conv:16,32` (comma-separated list is split at `;` too),
 * `--repeat N` (default 3), `--rounds R` and `--batch B` (default 64; passed to both), `--python PATH`, `--json`, and
 * `--tunables`: both contenders run with `GLIBC_TUNABLES` keeping freed memory mapped
 * (`TUNABLES`). PyTorch's conv step takes its activations from glibc's malloc, and whether they
 * come from fresh pages (a page fault per 4 KiB on first touch) depends on the malloc state each
 * process happens to reach: that made its figure move 12–42 ms between runs. With `--tunables`
 * neither pays first touches, which is the steady figure of both; without, each pays what its
 * allocator does by default. The PyTorch peer reports its page faults per step (`faultsPerStep`).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import os from 'node:os'

interface Spread { readonly median: number; readonly min: number; readonly max: number }
interface StepReport { readonly preset: string; readonly batch: number; readonly threads: number; readonly msPerStep: Spread; readonly cpuMsPerStep?: Spread }
type Outcome = { readonly ok: true; readonly report: StepReport } | { readonly ok: false; readonly why: string }

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** glibc's malloc keeping freed memory mapped (no fresh pages for a step's large temporaries). */
export const TUNABLES = 'glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824'

/** The last line of stdout that parses as a step report, or why there is none. */
const parseReport = (what: string, stdout: string, stderr: string, status: number | null): Outcome => {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'))
  for (const line of lines.reverse()) {
    try {
      const r = JSON.parse(line) as Partial<StepReport>
      const m = r.msPerStep
      if (m !== undefined && typeof m.median === 'number' && typeof m.min === 'number' && typeof m.max === 'number')
        return { ok: true, report: r as StepReport }
    } catch {
      // not the report line; keep looking
    }
  }
  const tail = stderr.trim().split('\n').slice(-3).join(' | ')
  return { ok: false, why: `${what} exited with ${status ?? 'a signal'} and no JSON report${tail === '' ? '' : ` (${tail})`}` }
}

/** Whether package.json has the `bench:train` script (npm --silent hides "Missing script"). */
const hasBenchTrain = (): boolean => {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { readonly scripts?: Readonly<Record<string, string>> }
    return pkg.scripts?.['bench:train'] !== undefined
  } catch {
    return false
  }
}

const run = (what: string, command: string, args: readonly string[], tunables: boolean): Outcome => {
  process.stderr.write(`bench:torch: ${what}…\n`)
  const env = tunables ? { ...process.env, GLIBC_TUNABLES: TUNABLES } : process.env
  const r = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 })
  if (r.error !== undefined) return { ok: false, why: `${what}: cannot start ${command} (${r.error.message})` }
  return parseReport(what, r.stdout, r.stderr, r.status)
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Repeats of one contender merged: the median of medians, the extreme min and max. */
const mergeSpread = (ss: readonly Spread[]): Spread =>
  ({ median: median(ss.map((s) => s.median)), min: Math.min(...ss.map((s) => s.min)), max: Math.max(...ss.map((s) => s.max)) })
const merge = (rs: readonly StepReport[]): StepReport | undefined => {
  if (rs.length === 0) return undefined
  const cpu = rs.flatMap((r) => (r.cpuMsPerStep === undefined ? [] : [r.cpuMsPerStep]))
  return { ...rs[0]!, msPerStep: mergeSpread(rs.map((r) => r.msPerStep)), ...(cpu.length === rs.length ? { cpuMsPerStep: mergeSpread(cpu) } : {}) }
}

const fmtSpread = (s: Spread | undefined): string => (s === undefined ? '—' : `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`)
const fmt = (r: StepReport | undefined): string => fmtSpread(r?.msPerStep)
/** The ratio of CPU-time medians, when both contenders report CPU time. */
const cpuRatio = (a: StepReport | undefined, b: StepReport | undefined): number | undefined =>
  a?.cpuMsPerStep === undefined || b?.cpuMsPerStep === undefined ? undefined : a.cpuMsPerStep.median / b.cpuMsPerStep.median

const main = (): number => {
  let opts
  try {
    opts = parseArgs({
      options: {
        presets: { type: 'string', default: 'mlp:512,512;conv:16,32' }, repeat: { type: 'string', default: '3' },
        rounds: { type: 'string' }, batch: { type: 'string', default: '64' }, python: { type: 'string', default: '/usr/bin/python3' }, json: { type: 'boolean', default: false },
        tunables: { type: 'boolean', default: false },
      },
    }).values
  } catch (err) {
    process.stderr.write(`bench:torch: ${(err as Error).message}\n`)
    return 2
  }
  const repeat = Number(opts.repeat)
  if (!(Number.isSafeInteger(repeat) && repeat >= 1)) {
    process.stderr.write(`bench:torch: --repeat: expected a whole number ≥ 1, found "${opts.repeat}"\n`)
    return 2
  }
  const batch = Number(opts.batch)
  if (!(Number.isSafeInteger(batch) && batch >= 1)) {
    process.stderr.write(`bench:torch: --batch: expected a whole number ≥ 1, found "${opts.batch}"\n`)
    return 2
  }
  // "mlp:512,512;conv:16,32", or commas between presets when each is a plain kind ("mlp:512,512,conv:16,32" is split before each kind).
  const presets = opts.presets.split(/;|,(?=(?:mlp|conv|vgg-mnist)\b)/).map((p) => p.trim()).filter((p) => p !== '')
  const rounds = [...(opts.rounds === undefined ? [] : ['--rounds', opts.rounds]), '--batch', String(batch)]
  const rows = presets.map((preset) => {
    const mine: StepReport[] = []
    const theirs: StepReport[] = []
    const errors = new Set<string>()
    for (let i = 0; i < repeat; i++) {
      const s = !hasBenchTrain()
        ? { ok: false as const, why: 'sbnkit: this branch has no "bench:train" script in package.json yet (bench/train.ts --preset … --json)' }
        : run(`sbnkit ${preset} (${i + 1}/${repeat})`, 'npm', ['run', '--silent', 'bench:train', '--', '--preset', preset, '--batch-norm', '--threads', '1', '--json', ...rounds], opts.tunables)
      if (s.ok) mine.push(s.report)
      else errors.add(s.why)
      const t = run(`PyTorch ${preset} (${i + 1}/${repeat})`, opts.python, [join('bench', 'peers', 'torch_train.py'), '--preset', preset, '--threads', '1', '--json', ...rounds], opts.tunables)
      if (t.ok) theirs.push(t.report)
      else errors.add(t.why)
    }
    const sbnkit = merge(mine)
    const torch = merge(theirs)
    const ratio = sbnkit !== undefined && torch !== undefined ? sbnkit.msPerStep.median / torch.msPerStep.median : undefined
    return { preset, sbnkit, torch, ratio, errors: [...errors] }
  })
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ rows: rows.map((r) => ({ preset: r.preset, sbnkit: r.sbnkit ?? null, torch: r.torch ?? null, ratio: r.ratio ?? null, cpuRatio: cpuRatio(r.sbnkit, r.torch) ?? null, errors: r.errors })), tunables: opts.tunables, loadAverage: os.loadavg()[0] })}\n`)
  } else {
    process.stdout.write(`training step, batch ${batch}, 1 thread each${opts.tunables ? ', GLIBC_TUNABLES keeping freed memory mapped' : ''}: ms per step, median of ${repeat} runs' medians (min–max over all rounds), load average ${os.loadavg()[0]!.toFixed(1)}\n\n`)
    process.stdout.write('| preset (batch norm) | sbnkit wall | PyTorch wall | ratio | sbnkit CPU | PyTorch CPU | CPU ratio |\n|---|---:|---:|---:|---:|---:|---:|\n')
    const x = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(2)}×`)
    for (const r of rows)
      process.stdout.write(`| ${r.preset} | ${fmt(r.sbnkit)} | ${fmt(r.torch)} | ${x(r.ratio)} | ${fmtSpread(r.sbnkit?.cpuMsPerStep)} | ${fmtSpread(r.torch?.cpuMsPerStep)} | ${x(cpuRatio(r.sbnkit, r.torch))} |\n`)
    for (const r of rows) for (const e of r.errors) process.stdout.write(`\nnote: ${e}`)
    process.stdout.write('\n')
  }
  return rows.every((r) => r.ratio !== undefined) ? 0 : 1
}

process.exitCode = main()

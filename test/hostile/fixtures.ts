/**
 * Generated hostile fixtures: deep and wide model files, deep and truncated data files, shape
 * claims, side-file links, and a temporary folder per test that must be left as it was.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryIo } from '../../src/cli/io.js'
import { main } from '../../src/cli/main.js'

/** A model file: an input, a chain of `n` negations, and (with `loss`) a logistic-NLL head. */
export const chainModel = (n: number, loss = true): string => {
  const nodes: unknown[] = [{ id: 'x', op: 'Input', name: 'x', shape: ['batch', 1], dtype: 'real' }]
  for (let i = 0; i < n; i++) nodes.push({ id: `n${i}`, op: 'Unary', fn: 'neg', arg: i === 0 ? 'x' : `n${i - 1}` })
  const last = n === 0 ? 'x' : `n${n - 1}`
  if (loss) {
    nodes.push({ id: 'y', op: 'Input', name: 'y', shape: ['batch', 1], dtype: 'binary' })
    nodes.push({ id: 'L', op: 'Loss', fn: 'logistic-nll', logits: last, target: 'y' })
  }
  return JSON.stringify({ format: 'sbnkit-model/1', nodes, outputs: loss ? { output: last, loss: 'L' } : { output: last }, params: {} })
}

/** The tiny model of the CLI tests (x [batch, 2] real, y [batch, 1] ±1), with names to replace. */
export const tinyModel = (o: { input?: string; param?: string; site?: string; label?: string } = {}): string => JSON.stringify({
  format: 'sbnkit-model/1',
  nodes: [
    { id: 'x', op: 'Input', name: o.input ?? 'x', shape: ['batch', 2], dtype: 'real' },
    { id: 'W', op: 'Param', name: o.param ?? 'W', shape: [2, 1], init: { kind: 'glorot' }, trainable: true },
    { id: 'Wb', op: 'Binarize', input: 'W', noise: 'logistic(1)', site: o.site ?? 'W', ...(o.label === undefined ? {} : { label: o.label }) },
    { id: 'h', op: 'MatMul', lhs: 'x', rhs: 'Wb' },
    { id: 'y', op: 'Input', name: 'y', shape: ['batch', 1], dtype: 'binary' },
    { id: 'L', op: 'Loss', fn: 'logistic-nll', logits: 'h', target: 'y' },
  ],
  outputs: { output: 'h', loss: 'L' },
  params: { [o.param ?? 'W']: { shape: [2, 1], values: [0.5, -0.25] } },
})

/** Data for the tiny model, with the input's name replaceable. */
export const tinyData = (input = 'x'): string =>
  JSON.stringify({ format: 'sbnkit-data/1', inputs: { [input]: [[1, 2], [2, -1], [0.5, 0.5]], y: [[1], [-1], [1]] } })

/** A side-file model: W in `side.bin` (16 bytes). */
export const sideModel = (file = 'side.bin'): string => JSON.stringify({
  format: 'sbnkit-model/1',
  nodes: JSON.parse(tinyModel()).nodes,
  outputs: { output: 'h', loss: 'L' },
  params: { W: { shape: [2, 1], file, offset: 0, encoding: 'float64le' } },
  sideFiles: { [file]: { bytes: 16 } },
})

/** A conv model whose padding of 20 000 claims a 40 004 × 40 004 output from a 4 × 4 input. */
export const paddedConvModel = (): string => JSON.stringify({
  format: 'sbnkit-model/1',
  nodes: [
    { id: 'x', op: 'Input', name: 'x', shape: ['batch', 1, 4, 4], dtype: 'real' },
    { id: 'K', op: 'Param', name: 'K', shape: [1, 1, 3, 3], init: { kind: 'glorot' }, trainable: true },
    { id: 'c', op: 'Conv2d', input: 'x', kernel: 'K', stride: [1, 1], padding: [20000, 20000], padValue: 0 },
    { id: 'f', op: 'Reshape', input: 'c', shape: ['batch', 40002 * 40002] },
    { id: 'y', op: 'Input', name: 'y', shape: ['batch', 40002 * 40002], dtype: 'real' },
    { id: 'L', op: 'Loss', fn: 'squared', logits: 'f', target: 'y' },
  ],
  outputs: { output: 'f', loss: 'L' },
  params: { K: { shape: [1, 1, 3, 3], values: [1, 1, 1, 1, 1, 1, 1, 1, 1] } },
})

/** Nested data `depth` arrays deep around one number (or cut off after the opening brackets). */
export const deepData = (depth: number, truncated = false): string =>
  `{"format":"sbnkit-data/1","inputs":{"x":${'['.repeat(depth)}${truncated ? '' : `1${']'.repeat(depth)}}}`}`

/**
 * A shape claim: 30 levels whose first elements have length 2 (a claimed 2^30 values), the
 * second element at each level empty: about 200 bytes.
 */
export const shapeClaim = (depth = 30): string => {
  let v = '[1,1]'
  for (let d = 1; d < depth; d++) v = `[${v},[]]`
  return `{"format":"sbnkit-data/1","inputs":{"x":${v}}}`
}

/** A fresh temporary folder. */
export const tempFolder = (): { readonly dir: string; readonly at: (...p: string[]) => string; readonly listing: () => string; readonly remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'sbnkit-hostile-'))
  const listing = (): string => readdirSync(dir, { recursive: true }).map(String).sort()
    .map((f) => { const s = statSync(join(dir, f), { throwIfNoEntry: false }); return `${f}:${s?.isFile() === true ? s.size : '-'}` }).join('\n')
  return { dir, at: (...p) => join(dir, ...p), listing, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Heap and array-buffer bytes in use now. */
export const memoryNow = (): number => {
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** A field of /proc/self/status in bytes (`VmRSS`, `VmHWM`), or undefined off Linux. */
const statusBytes = (field: string): number | undefined => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  return m === null ? undefined : 1024 * Number(m[1])
}

/**
 * Measures the PEAK of memory while a command runs, not what is left after it. On Linux the
 * kernel's high-water mark of resident memory (VmHWM) is reset to the current resident size
 * (writing 5 to /proc/self/clear_refs), so it also sees the peak of a synchronous stretch no
 * timer could sample; the result is that peak minus the resident size before. Elsewhere, heap
 * and array buffers are sampled every 5 ms (the maximum seen, a lower bound of the peak).
 * Vitest runs each test file in its own process (`pool: 'forks'`), so the mark is this file's.
 */
export const peakMeter = (): (() => number) => {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
    const before = statusBytes('VmRSS')
    if (before !== undefined && statusBytes('VmHWM') !== undefined) return () => statusBytes('VmHWM')! - before
  } catch {
    // not Linux, or /proc not writable: sample instead
  }
  const before = memoryNow()
  let most = before
  const timer = setInterval(() => void (most = Math.max(most, memoryNow())), 5)
  return () => {
    clearInterval(timer)
    return Math.max(most, memoryNow()) - before
  }
}

/** Runs `sbnkit …` in process: exit code, output, and the peak growth of memory meanwhile (`peakMeter`). */
export const sbnkit = async (...argv: string[]): Promise<{ readonly code: number; readonly out: string; readonly err: string; readonly grew: number }> => {
  const io = memoryIo()
  const peak = peakMeter()
  const start = performance.now()
  const code = await main(argv, io)
  const grew = peak()
  // The figures of docs/reliability.md: SBNKIT_HOSTILE_FIGURES=file npx vitest run test/hostile
  const figures = process.env['SBNKIT_HOSTILE_FIGURES']
  if (figures !== undefined)
    appendFileSync(figures, `${[argv.map((a) => a.replace(/^.*sbnkit-hostile-[^/]+\//, '')).join(' '), code, (grew / 1e6).toFixed(0), ((performance.now() - start) / 1000).toFixed(1)].join('\t')}\n`)
  return { code, out: io.stdout(), err: io.stderr(), grew }
}

/** A cycle `n` nodes long: each node negates the one before it, and the first the last. */
export const cycleModel = (n: number): string => {
  const nodes: unknown[] = [{ id: 'x', op: 'Input', name: 'x', shape: ['batch', 1], dtype: 'real' }]
  for (let i = 0; i < n; i++) nodes.push({ id: `n${i}`, op: 'Unary', fn: 'neg', arg: i === 0 ? `n${n - 1}` : `n${i - 1}` })
  return JSON.stringify({ format: 'sbnkit-model/1', nodes, outputs: { output: `n${n - 1}` }, params: {} })
}

/** A chain of `n` negations listed backwards: every node refers to one that comes later. */
export const reversedChain = (n: number): string => {
  const nodes: unknown[] = []
  for (let i = 0; i < n; i++) nodes.push({ id: `n${i}`, op: 'Unary', fn: 'neg', arg: i === n - 1 ? 'x' : `n${i + 1}` })
  nodes.push({ id: 'x', op: 'Input', name: 'x', shape: ['batch', 1], dtype: 'real' })
  return JSON.stringify({ format: 'sbnkit-model/1', nodes, outputs: { output: 'n0' }, params: {} })
}

/** A chain of `n` additions, each of a parameter that the file gives no values: `n` unbound parameters, deep. */
export const unboundChain = (n: number): string => {
  const nodes: unknown[] = [{ id: 'x', op: 'Input', name: 'x', shape: ['batch', 1], dtype: 'real' }]
  for (let i = 0; i < n; i++) {
    nodes.push({ id: `p${i}`, op: 'Param', name: `p${i}`, shape: [1], init: { kind: 'zeros' }, trainable: true })
    nodes.push({ id: `a${i}`, op: 'Add', lhs: i === 0 ? 'x' : `a${i - 1}`, rhs: `p${i}` })
  }
  return JSON.stringify({ format: 'sbnkit-model/1', nodes, outputs: { output: `a${n - 1}` }, params: {} })
}

/** The tiny model's inputs through a batch norm in inference mode with the given running variance. */
export const batchNormModel = (variance: readonly [number, number]): string => JSON.stringify({
  format: 'sbnkit-model/1',
  nodes: [
    { id: 'x', op: 'Input', name: 'x', shape: ['batch', 2], dtype: 'real' },
    { id: 'g', op: 'Param', name: 'bn.gamma', shape: [2], init: { kind: 'ones' }, trainable: true },
    { id: 'b', op: 'Param', name: 'bn.beta', shape: [2], init: { kind: 'zeros' }, trainable: true },
    { id: 'm', op: 'Param', name: 'bn.mean', shape: [2], init: { kind: 'zeros' }, trainable: false },
    { id: 'v', op: 'Param', name: 'bn.var', shape: [2], init: { kind: 'ones' }, trainable: false },
    { id: 'n', op: 'BatchNorm', input: 'x', gamma: 'g', beta: 'b', runningMean: 'm', runningVar: 'v', mode: 'inference', eps: 1e-5, momentum: 0.1 },
    { id: 'W', op: 'Param', name: 'W', shape: [2, 1], init: { kind: 'glorot' }, trainable: true },
    { id: 'h', op: 'MatMul', lhs: 'n', rhs: 'W' },
    { id: 'y', op: 'Input', name: 'y', shape: ['batch', 1], dtype: 'binary' },
    { id: 'L', op: 'Loss', fn: 'logistic-nll', logits: 'h', target: 'y' },
  ],
  outputs: { output: 'h', loss: 'L' },
  params: {
    'bn.gamma': { shape: [2], values: [1, 1] }, 'bn.beta': { shape: [2], values: [0, 0] }, 'bn.mean': { shape: [2], values: [0, 0] },
    'bn.var': { shape: [2], values: variance }, W: { shape: [2, 1], values: [0.5, -0.25] },
  },
})

/**
 * `batchNormModel([1, 0.5])` whose running variance is computed: `neg` (−v: negative), `twice`
 * (−(−v): fine), or `input` (v + x's first row: it varies with the input).
 */
export const computedVarianceModel = (how: 'neg' | 'twice' | 'input'): string => {
  const m = JSON.parse(batchNormModel([1, 0.5])) as { nodes: Record<string, unknown>[] }
  const extra = how === 'neg' ? [{ id: 'nv', op: 'Unary', fn: 'neg', arg: 'v' }]
    : how === 'twice' ? [{ id: 'nv0', op: 'Unary', fn: 'neg', arg: 'v' }, { id: 'nv', op: 'Unary', fn: 'neg', arg: 'nv0' }]
    : [{ id: 'x0', op: 'Input', name: 'x0', shape: [2], dtype: 'real' }, { id: 'nv', op: 'Add', lhs: 'v', rhs: 'x0' }]
  const bn = m.nodes.findIndex((n) => n['op'] === 'BatchNorm')
  m.nodes.splice(bn, 0, ...extra)
  m.nodes[bn + extra.length]!['runningVar'] = 'nv'
  return JSON.stringify(m)
}

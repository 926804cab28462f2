/**
 * `npm run bench:peers [-- --json]`: sbnkit's compiled networks against onnxruntime-node (float32
 * MatMul, int8 MatMulInteger u8×s8 and s8×s8, one thread) and TensorFlow.js's WebAssembly back end
 * (float32), on three workloads: one binary layer 256×1024→1024, one layer at batch 1 4096×4096,
 * and the MNIST MLP 784→4096→4096→10 from 8-bit pixels. Every peer's output is checked against
 * ours before it is timed; contenders of one workload are timed in interleaved rounds.
 *
 * Contenders (the names are an interface: other tools read `--json`):
 * - `sbnkit-kernel`: the product kernels alone, inputs already packed in memory, outputs packed
 *   (until the tenth session the binary layers' row also ran the float64 unpack of the output,
 *   now timed beside as `#kernel+unpack`);
 * - `sbnkit-run`: `infer` end to end from the caller's typed array (int8 ±1, or uint8 pixels) to
 *   the caller's output buffer (packed bits for a binary layer, float32 logits for the MLP);
 * - `sbnkit-run-2threads`: the same, compiled with `threads: 2`;
 * - `onnxruntime-f32`, `onnxruntime-u8s8`, `onnxruntime-s8s8`, `tfjs-wasm-f32`.
 *
 * With `--json`, stdout holds one JSON object `{ rows: [{ layer, contender, ms: { median, min,
 * max }, cpuMs }], ratios, cpuRatios, notes, ... }` and the human table goes to stderr; progress
 * is always on stderr. `cpuMs` is the process CPU time per call (every thread: user + system),
 * which a loaded machine inflates far less than wall time; `cpuRatios` are the target ratios in it
 * (meaningless for the two-thread row, whose CPU time is both threads'). The MLP's share of the
 * layer's MAC rate is taken per round against the 256×1024→1024 kernel timed in the same rounds
 * (`mlpShareOfLayerMacRate`), and reported against that layer's `infer` end to end
 * (`mlpShareOfLayerInferMacRate`) and against the kernel with its float64 unpack, the
 * definition until the tenth session (`mlpShareOfKernelAndUnpackMacRate`).
 * `--relaxed-simd` calls `enableRelaxedSimd()` first (Node 20's opt-in to relaxed SIMD, used by the
 * 8-bit first layer's nibble kernel; a note says whether it took).
 * The layers are sign(x·W + 0) with sign(0) = +1; the peers compute Sign(x·W + ½) (float) or
 * Sign(2·x·W + 1) (int32), which agree on integer products.
 */
import * as E from 'fp-ts/lib/Either.js'
import { loadavg } from 'node:os'
import { none } from '../../src/dsl/noise.js'
import { compile, enableRelaxedSimd } from '../../src/interpreters/compiled/index.js'
import type { Compiled } from '../../src/interpreters/compiled/index.js'
import { productsOf } from '../../src/interpreters/compiled/execute.js'
import { binaryFeed, compiled, denseNet, mnistMlp, pixelFeed, timedLayer } from '../layers.js'
import type { Timed } from '../layers.js'
import type { Summary } from '../stats.js'
import { fmt, range, summary } from '../stats.js'
import { convPresetNet, ortConv } from './conv.js'
import type { Ort, Peer, Tf } from './peers.js'
import { checkClose, checkSigns, loadPeers, ortDense, ortMlp, tfDense, tfMlp } from './peers.js'

const JSON_OUT = process.argv.includes('--json')
/** `--only <layer>` (repeatable): run only those workloads (the ratios of the others are null). */
const ONLY = process.argv.flatMap((a, i) => (a === '--only' && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : []))
const wanted = (layer: string): boolean => ONLY.length === 0 || ONLY.includes(layer)
/** `--relaxed-simd`: call `enableRelaxedSimd()` first (Node 20's opt-in; the 8-bit nibble kernel then uses relaxed swizzles). */
const RELAXED = process.argv.includes('--relaxed-simd')
const out = (line: string): void => {
  if (JSON_OUT) process.stderr.write(line + '\n')
  else console.log(line)
}
const progress = (line: string): void => {
  process.stderr.write(`bench:peers: ${line}\n`)
}

// --- timing (async peers): interleaved rounds, each sample ≥ minMs ------------------------------
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7)
/**
 * One sample: wall ms per call and process CPU ms per call (user + system of every thread of the
 * process, so the peers' own threads count; a loaded machine's waits do not).
 */
const sampleAsync = async (fn: () => unknown, minMs: number): Promise<{ wall: number; cpu: number }> => {
  let calls = 0
  const c0 = process.cpuUsage()
  const start = performance.now()
  let now = start
  do {
    await fn()
    calls++
    now = performance.now()
  } while (now - start < minMs)
  const c = process.cpuUsage(c0)
  return { wall: (now - start) / calls, cpu: (c.user + c.system) / 1000 / calls }
}
const cpuTimes: Record<string, Record<string, number[]>> = {}
const roundsAsync = async (layer: string, c: Record<string, () => unknown>): Promise<Record<string, number[]>> => {
  const t: Record<string, number[]> = {}
  const cpu: Record<string, number[]> = {}
  for (const [name, fn] of Object.entries(c)) {
    await fn()
    await fn()
    t[name] = []
    cpu[name] = []
  }
  for (let r = 0; r < ROUNDS; r++) {
    progress(`${layer}: round ${r + 1}/${ROUNDS}`)
    for (const [name, fn] of Object.entries(c)) {
      const s = await sampleAsync(fn, 30)
      t[name]!.push(s.wall)
      cpu[name]!.push(s.cpu)
    }
  }
  cpuTimes[layer] = cpu
  return t
}

interface Row {
  readonly layer: string
  readonly contender: string
  readonly ms: Summary
  /** Process CPU time per call (all threads): robust to a loaded machine, not to a second thread. */
  readonly cpuMs: Summary
}
const rows: Row[] = []
const notes: string[] = []
const times: Record<string, Record<string, number[]>> = {}

const must = <A>(e: E.Either<unknown, A>, what: string): A => {
  if (E.isLeft(e)) throw new Error(`${what}: ${JSON.stringify(e.left)}`)
  return e.right
}
const threaded = (net: Parameters<typeof compile>[0], threads: number): Compiled => must(compile(net, { backend: 'wasm', mode: 'mode', threads }), 'compile with threads')

/**
 * The product kernel of a timed layer alone (`BinaryDense` with its fused sign epilogue, packed
 * bits in and out). `timedLayer`'s `layer` also runs the layer's `Unpack` of its output to
 * float64 (0.15 ms at 256×1024→1024, 15 % of the kernel): until the tenth session that sum was
 * `sbnkit-kernel` and the MAC rate the MLP's share is taken of; it is still timed beside
 * (`#kernel+unpack`) and its ratios reported next to the kernel's own.
 */
const productOnly = (t: Timed): (() => void) => {
  const all = productsOf(t.compiled.plan.steps)
  const mine = all.flatMap((k, i) => (k.label === 'act' && k._tag !== 'Unpack' ? [i] : []))
  return () => {
    for (const i of mine) t.compiled.executor.kernel(i)
  }
}

const record = (layer: string, macs: number, t: Record<string, number[]>): void => {
  times[layer] = t
  out(`\n${layer}: ms per call, median (min–max), GMAC/s; process CPU ms per call, median (min–max)`)
  for (const [contender, ms] of Object.entries(t)) {
    if (contender.startsWith('#')) continue // timed beside the contenders for a ratio, not a row
    const s = summary(ms)
    const cpu = summary(cpuTimes[layer]![contender]!)
    rows.push({ layer, contender, ms: s, cpuMs: cpu })
    out(`  ${contender.padEnd(22)} ${range(s, 3).padEnd(28)} ${fmt(macs / s.median / 1e6).padEnd(8)} cpu ${range(cpu, 3)}`)
  }
}

/** One binary layer sign(x·W) of `batch` × k → n. */
const denseCase = async (layer: string, batch: number, k: number, n: number, ort: Ort | undefined, tf: Tf | undefined): Promise<void> => {
  progress(`${layer}: building`)
  const net = denseNet(k, n, none, none, 11, true)
  const feed = binaryFeed(batch, k, 12)
  const ours = timedLayer(net, feed, 'wasm', 'mode')
  const two = threaded(net, 2)
  const x8 = Int8Array.from(feed['x']!.data)
  const input = { x: { shape: [batch, k], data: x8 } }
  const bits = new Int32Array(batch * Math.ceil(n / 32))
  const bits2 = new Int32Array(batch * Math.ceil(n / 32))
  const runOne = (): unknown => ours.compiled.infer(input, { outputs: { y: 'bits' }, into: { y: bits } })
  const runTwo = (): unknown => two.infer(input, { outputs: { y: 'bits' }, into: { y: bits2 } })
  must(runOne() as E.Either<unknown, unknown>, 'infer')
  must(runTwo() as E.Either<unknown, unknown>, 'infer 2 threads')
  for (let r = 0; r < batch; r++)
    for (let j = 0; j < n; j++) {
      const want = ours.output[r * n + j]! > 0 ? 1 : 0
      const w = r * Math.ceil(n / 32) + (j >>> 5)
      if (((bits[w]! >>> (j & 31)) & 1) !== want || ((bits2[w]! >>> (j & 31)) & 1) !== want) throw new Error(`${layer}: infer's bits differ from run() at ${r}, ${j}`)
    }
  const contenders: Record<string, () => unknown> = { 'sbnkit-kernel': productOnly(ours), '#kernel+unpack': ours.layer, 'sbnkit-run': runOne, 'sbnkit-run-2threads': runTwo }
  const w = net.params['W']!
  const peers: Peer[] = [
    ...(ort === undefined ? [] : await ortDense(ort, batch, k, n, feed['x']!.data, w, notes)),
    ...(tf === undefined ? [] : [tfDense(tf, batch, k, n, feed['x']!.data, w)]),
  ]
  for (const p of peers) {
    checkSigns(ours.output, await p.output(), `${layer} ${p.name}`)
    contenders[p.name] = p.run
  }
  record(layer, batch * k * n, await roundsAsync(layer, contenders))
  two.close()
}

/** The MNIST MLP 784 → 4096 → 4096 → 10 on uint8 pixels, batch 256. */
const mlpCase = async (layer: string, ort: Ort | undefined, tf: Tf | undefined): Promise<void> => {
  progress(`${layer}: building`)
  const batch = 256
  const net = mnistMlp()
  const ours = compiled(net, 'wasm', 'mode')
  const two = threaded(net, 2)
  const px = pixelFeed(batch)
  const want = must(ours.run(px), 'run')['output']!.data
  const input = { pixels: { shape: [batch, 784], data: Uint8Array.from(px['pixels']!.data) } }
  const logits = new Float32Array(batch * 10)
  const logits2 = new Float32Array(batch * 10)
  const runOne = (): unknown => ours.infer(input, { outputs: { output: 'float32' }, into: { output: logits } })
  const runTwo = (): unknown => two.infer(input, { outputs: { output: 'float32' }, into: { output: logits2 } })
  must(runOne() as E.Either<unknown, unknown>, 'infer')
  must(runTwo() as E.Either<unknown, unknown>, 'infer 2 threads')
  checkClose(want, logits, 0, `${layer} sbnkit-run`)
  checkClose(want, logits2, 0, `${layer} sbnkit-run-2threads`)
  const all = productsOf(ours.plan.steps)
  const products = all.flatMap((k, i) => (['ByteDense', 'BinaryDense', 'BinaryHead'].includes(k._tag) ? [i] : []))
  // The 256×1024→1024 layer, timed in the same rounds for the MAC-rate shares: its product kernel
  // alone, the kernel and its float64 unpack (the share's denominator until the tenth session),
  // and its `infer` end to end (int8 ±1 in, packed bits out: like the MLP, from the caller's
  // array to the caller's buffer).
  const denseFeed = binaryFeed(256, 1024, 12)
  const beside = timedLayer(denseNet(1024, 1024, none, none, 11, true), denseFeed, 'wasm', 'mode')
  const besideIn = { x: { shape: [256, 1024], data: Int8Array.from(denseFeed['x']!.data) } }
  const besideOut = new Int32Array(256 * 32)
  const contenders: Record<string, () => unknown> = {
    '#layer-kernel': productOnly(beside),
    '#layer-kernel+unpack': beside.layer,
    '#layer-run': () => beside.compiled.infer(besideIn, { outputs: { y: 'bits' }, into: { y: besideOut } }),
    'sbnkit-kernel': () => {
      for (const i of products) ours.executor.kernel(i)
    },
    'sbnkit-run': runOne,
    'sbnkit-run-2threads': runTwo,
  }
  const p = (name: string): Float64Array => net.params[name]!
  const weights = { w1: p('layer1.W'), w2: p('layer2.W'), wh: p('head.W'), bh: p('head.b') }
  const peers: Peer[] = [
    ...(ort === undefined ? [] : await ortMlp(ort, batch, px['pixels']!.data, weights, notes)),
    ...(tf === undefined ? [] : [tfMlp(tf, batch, px['pixels']!.data, weights)]),
  ]
  for (const peer of peers) {
    checkClose(want, await peer.output(), 1e-3, `${layer} ${peer.name}`)
    contenders[peer.name] = peer.run
  }
  record(layer, batch * (784 * 4096 + 4096 * 4096 + 4096 * 10), await roundsAsync(layer, contenders))
  two.close()
}

/** The conv:16,32 preset on 8-bit pixels (issue 13's conv row), images per second vs onnxruntime float32. */
const convCase = async (layer: string, ort: Ort | undefined): Promise<void> => {
  progress(`${layer}: building`)
  const batch = 64
  const net = convPresetNet(16, 32)
  const ours = compiled(net, 'wasm', 'mode')
  const two = threaded(net, 2)
  const px = pixelFeed(batch)['pixels']!.data
  const want = must(ours.run({ x: { shape: [batch, 1, 28, 28], data: px } }), 'run')['output']!.data
  const input = { x: { shape: [batch, 1, 28, 28], data: Uint8Array.from(px) } }
  const logits = new Float32Array(batch * 10)
  const runOne = (): unknown => ours.infer(input, { outputs: { output: 'float32' }, into: { output: logits } })
  const runTwo = (): unknown => two.infer(input, { outputs: { output: 'float32' }, into: { output: logits } })
  must(runOne() as E.Either<unknown, unknown>, 'infer')
  checkClose(want, logits, 0, `${layer} sbnkit-run`)
  const contenders: Record<string, () => unknown> = { 'sbnkit-run': runOne, 'sbnkit-run-2threads': runTwo }
  for (const peer of ort === undefined ? [] : await ortConv(ort, net, batch, px, 16, 32, notes)) {
    checkClose(want, await peer.output(), 1e-3, `${layer} ${peer.name}`)
    contenders[peer.name] = peer.run
  }
  record(layer, batch * ours.macsPerExample, await roundsAsync(layer, contenders))
  out(`  plan: ${ours.describe().join(' · ')}`)
  two.close()
}

const ratio = (layer: string, a: string, b: string, of = times): Summary | undefined => {
  const x = of[layer]?.[a]
  const y = of[layer]?.[b]
  return x === undefined || y === undefined ? undefined : summary(x.map((v, i) => v / y[i]!))
}
/** The faster (by median) of two contenders' samples, by name. */
const best = (layer: string, a: string, b: string): string => {
  const x = times[layer]?.[a]
  const y = times[layer]?.[b]
  return x === undefined ? b : y === undefined ? a : summary(x).median <= summary(y).median ? a : b
}

const main = async (): Promise<void> => {
  if (RELAXED) {
    const r = enableRelaxedSimd()
    notes.push(E.isRight(r) ? `--relaxed-simd: relaxed SIMD ${r.right} (enableRelaxedSimd)` : `--relaxed-simd: ${r.left.reason}`)
  }
  const { ort, tf } = await loadPeers(notes)
  if (wanted('256x1024x1024')) await denseCase('256x1024x1024', 256, 1024, 1024, ort, tf)
  if (wanted('1x4096x4096')) await denseCase('1x4096x4096', 1, 4096, 4096, ort, undefined)
  if (wanted('mlp784-4096-4096-10')) await mlpCase('mlp784-4096-4096-10', ort, tf)
  if (wanted('conv16-32')) await convCase('conv16-32', ort)
  const int8 = best('1x4096x4096', 'onnxruntime-u8s8', 'onnxruntime-s8s8')
  /** A ratio a / b of two contenders' per-round times (wall, and process CPU). */
  const r = (layer: string, a: string, b: string): { r: Summary | undefined; cpu: Summary | undefined } => ({ r: ratio(layer, a, b), cpu: ratio(layer, a, b, cpuTimes) })
  const targets: { measure: string; target: string; r: Summary | undefined; cpu: Summary | undefined; ok: (m: number) => boolean }[] = [
    { measure: 'run() end to end, 256×1024→1024, vs onnxruntime-node float32 (1 thread each)', target: '≥ 2.5×', ...r('256x1024x1024', 'onnxruntime-f32', 'sbnkit-run'), ok: (m) => m >= 2.5 },
    { measure: 'run() overhead over the kernel alone at batch 256 (run / kernel)', target: '≤ 1.25×', ...r('256x1024x1024', 'sbnkit-run', 'sbnkit-kernel'), ok: (m) => m <= 1.25 },
    { measure: 'run() over the kernel and its float64 unpack (the overhead until the tenth session)', target: '', ...r('256x1024x1024', 'sbnkit-run', '#kernel+unpack'), ok: () => true },
    { measure: `batch 1, 4096×4096, run() vs onnxruntime int8 (${int8}, the faster)`, target: '≥ 4×', ...r('1x4096x4096', int8, 'sbnkit-run'), ok: (m) => m >= 4 },
    { measure: 'two threads vs one, batch 256 MLP end to end', target: '≥ 1.8×', ...r('mlp784-4096-4096-10', 'sbnkit-run', 'sbnkit-run-2threads'), ok: (m) => m >= 1.8 },
    { measure: 'MLP end to end vs onnxruntime-node float32 (1 thread each)', target: '', ...r('mlp784-4096-4096-10', 'onnxruntime-f32', 'sbnkit-run'), ok: () => true },
    { measure: 'conv:16,32 preset, images per second, run() vs onnxruntime-node float32 (batch 64, 1 thread each)', target: '≥ 2×', ...r('conv16-32', 'onnxruntime-f32', 'sbnkit-run'), ok: (m) => m >= 2 },
    { measure: 'kernel, 256×1024→1024, vs onnxruntime float32', target: '≥ 2×', ...r('256x1024x1024', 'onnxruntime-f32', 'sbnkit-kernel'), ok: (m) => m >= 2 },
    { measure: 'kernel, 256×1024→1024, vs tfjs-backend-wasm float32', target: '≥ 8×', ...r('256x1024x1024', 'tfjs-wasm-f32', 'sbnkit-kernel'), ok: (m) => m >= 8 },
  ]
  // The MLP's share of the dense layer's MAC rate: per round, against the 256×1024→1024 layer
  // timed beside it in the same rounds (mlpCase's `#layer-…`), so both see the same machine.
  const mlpMacs = 256 * (784 * 4096 + 4096 * 4096 + 4096 * 10)
  const layerMacs = 256 * 1024 * 1024
  const shareOf = (of: Record<string, Record<string, number[]>>, layer = '#layer-kernel'): Summary | undefined => {
    const t = ratio('mlp784-4096-4096-10', layer, 'sbnkit-run', of)
    return t === undefined ? undefined : { median: (t.median * mlpMacs) / layerMacs, min: (t.min * mlpMacs) / layerMacs, max: (t.max * mlpMacs) / layerMacs }
  }
  const share = shareOf(times)
  const shareCpu = shareOf(cpuTimes)
  const shareUnpack = shareOf(times, '#layer-kernel+unpack')
  const shareUnpackCpu = shareOf(cpuTimes, '#layer-kernel+unpack')
  const shareRun = shareOf(times, '#layer-run')
  const shareRunCpu = shareOf(cpuTimes, '#layer-run')
  const pct = (x: Summary | undefined): string => (x === undefined ? 'n/a' : `${fmt(100 * x.median, 0)} % (${fmt(100 * x.min, 0)}–${fmt(100 * x.max, 0)})`)
  out('\n| measure | target | median (min–max) | | by process CPU time |')
  out('|---|---|---|---|---|')
  for (const t of targets)
    out(`| ${t.measure} | ${t.target} | ${t.r === undefined ? 'n/a' : `${range(t.r, 2)}×`} | ${t.r === undefined ? 'not run' : t.target === '' ? '' : t.ok(t.r.median) ? 'met' : 'MISSED'} | ${t.cpu === undefined ? 'n/a' : `${range(t.cpu, 2)}×`} |`)
  out(`| MLP 784→4096→4096→10 from uint8 pixels, share of the 256×1024→1024 kernel's MAC rate (per round, the kernel timed beside it) | ≥ 80 % | ${pct(share)} | ${share === undefined ? 'not run' : share.median >= 0.8 ? 'met' : 'MISSED'} | ${pct(shareCpu)} |`)
  out(`| the same share of the layer's infer() end to end (int8 in, bits out) | | ${pct(shareRun)} | | ${pct(shareRunCpu)} |`)
  out(`| the same share of the kernel and its float64 unpack (the definition until the tenth session) | | ${pct(shareUnpack)} | | ${pct(shareUnpackCpu)} |`)
  out(`\n${ROUNDS} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  for (const n of notes) out(`note: ${n}`)
  if (JSON_OUT) {
    const ratios = Object.fromEntries(targets.map((t) => [t.measure, t.r ?? null]))
    const cpuRatios = Object.fromEntries(targets.map((t) => [t.measure, t.cpu ?? null]))
    const shares = (s: Summary | undefined, run: Summary | undefined, unpack: Summary | undefined) => ({ mlpShareOfLayerMacRate: s?.median ?? null, mlpShareOfLayerInferMacRate: run?.median ?? null, mlpShareOfKernelAndUnpackMacRate: unpack?.median ?? null })
    console.log(JSON.stringify({ bench: 'peers', node: process.version, rounds: ROUNDS, loadavg: loadavg(), rows, ratios: { ...ratios, ...shares(share, shareRun, shareUnpack) }, cpuRatios: { ...cpuRatios, ...shares(shareCpu, shareRunCpu, shareUnpackCpu) }, notes }))
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)

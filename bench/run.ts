/**
 * `npm run bench`: the benchmark table of issue 5, measured in one process. Every contender is
 * checked against the others' outputs before it is timed; times are medians over interleaved
 * rounds, with the min–max range in parentheses. Peers that need heavy packages are in
 * bench/peers (`npm run bench:peers`).
 */
import * as E from 'fp-ts/lib/Either.js'
import { logistic, none } from '../src/dsl/noise.js'
import { loadavg } from 'node:os'
import { compile, drawCompileError } from '../src/interpreters/compiled/index.js'
import type { Compiled } from '../src/interpreters/compiled/index.js'
import { ceiling } from './ceiling.js'
import { binaryFeed, compiled, denseNet, mnistMlp, pixelFeed, timedLayer } from './layers.js'
import { naiveLayer } from './naive.js'
import { fmt, range, ratios, rounds, summary } from './stats.js'

const B = 256
const K = 1024
const N = 1024
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7)
const started = performance.now()

const rows: string[][] = []
const row = (measure: string, target: string, value: string, ok: boolean | undefined): void => {
  rows.push([measure, target, value, ok === undefined ? '' : ok ? 'met' : 'MISSED'])
}

// --- the binary dense layer, three ways, outputs checked equal -------------------------------
const net = denseNet(K, N, none)
const feed = binaryFeed(B, K)
const wasm = timedLayer(net, feed, 'wasm', 'mode')
const js = timedLayer(net, feed, 'js', 'mode')
const xs = feed['x']!.data
const wv = (net.params['W'] as Float64Array)
const bias = net.params['b'] as Float64Array
const x32 = Float32Array.from(xs)
const wT = new Float32Array(K * N)
for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) wT[j * K + k] = wv[k * N + j]! >= 0 ? 1 : -1
// The naive loop computes sign(x·W) with the bias folded into one extra input of value 1.
const naive = naiveLayer(
  (() => { const a = new Float32Array(B * (K + 1)); for (let i = 0; i < B; i++) { a.set(x32.subarray(i * K, (i + 1) * K), i * (K + 1)); a[i * (K + 1) + K] = 1 } return a })(),
  (() => { const a = new Float32Array(N * (K + 1)); for (let j = 0; j < N; j++) { a.set(wT.subarray(j * K, (j + 1) * K), j * (K + 1)); a[j * (K + 1) + K] = bias[j]! } return a })(),
  B, K + 1, N,
)
naive.run()
for (let i = 0; i < B * N; i++) {
  if (naive.out[i] !== wasm.output[i] || js.output[i] !== wasm.output[i]) throw new Error(`outputs differ at ${i}: naive ${naive.out[i]} wasm ${wasm.output[i]} js ${js.output[i]}`)
}
const ceil = ceiling()
const t = rounds(
  { naive: { fn: naive.run, minMs: 1 }, wasm: { fn: wasm.layer }, js: { fn: js.layer }, ceiling: { fn: ceil.run } },
  ROUNDS,
)
const macs = B * K * N
const gmac = (ms: number): number => macs / ms / 1e6
const wasmRate = summary(t['wasm']!.map(gmac))
const ceilRate = summary(t['ceiling']!.map((ms) => ceil.bitsPerRun / ms / 1e6))
const vsNaive = summary(ratios(t['naive']!, t['wasm']!))
const jsVsNaive = summary(ratios(t['naive']!, t['js']!))
const ofCeiling = summary(t['wasm']!.map((ms, i) => gmac(ms) / (ceil.bitsPerRun / t['ceiling']![i]! / 1e6)))
row(`binary dense ${B}×${K}→${N}, WebAssembly vs naive Float32Array loop`, '≥ 150×', `${range(vsNaive, 0)}×`, vsNaive.median >= 150)
row('the same, as a fraction of the wasm XOR+popcount L1 ceiling', '≥ 0.7', range(ofCeiling), ofCeiling.median >= 0.7)
row('the same, JavaScript back end vs naive loop', '≥ 25×', `${range(jsVsNaive, 1)}×`, jsVsNaive.median >= 25)

// --- stochastic layer: the same layer with logistic(1) activations, sampled with a key --------
const snet = denseNet(K, N, logistic(1))
const swasm = timedLayer(snet, feed, 'wasm', 'sample')
const sjs = timedLayer(snet, feed, 'js', 'sample')
const sjit = timedLayer(snet, feed, 'jitless', 'sample')
for (let i = 0; i < B * N; i++)
  if (swasm.output[i] !== sjs.output[i] || swasm.output[i] !== sjit.output[i]) throw new Error(`stochastic outputs differ at ${i}`)
const st = rounds({ det: { fn: wasm.layer }, sto: { fn: swasm.layer } }, ROUNDS)
const stoRatio = summary(ratios(st['sto']!, st['det']!))
row('stochastic layer time / deterministic layer time (wasm)', '≤ 1.5', range(stoRatio), stoRatio.median <= 1.5)

// --- batch 1, 4096×4096 (the peers' row; ours alone here) ------------------------------------
const big = denseNet(4096, 4096, none)
const one = timedLayer(big, binaryFeed(1, 4096), 'wasm', 'mode')
const bt = rounds({ one: { fn: one.layer } }, ROUNDS)
const oneMs = summary(bt['one']!)

// --- run() end to end (infer from the caller's int8 ±1 to the caller's packed bits) ----------
const x8 = { x: { shape: [B, K], data: Int8Array.from(xs) } }
const bitsOut = new Int32Array(B * (N / 32))
const inferLayer = (): void => {
  const r = wasm.compiled.infer(x8, { outputs: { y: 'bits' }, into: { y: bitsOut } })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
}
const ot = rounds({ kernel: { fn: wasm.layer }, run: { fn: inferLayer } }, ROUNDS)
const overhead = summary(ratios(ot['run']!, ot['kernel']!))
row(`run() end to end (int8 in, packed bits out) / kernel alone, ${B}×${K}→${N}`, '≤ 1.25×', `${range(overhead)}×`, overhead.median <= 1.25)

// --- the MNIST-sized MLP, end to end from 8-bit pixels, one thread and two -------------------
const mlpNet = mnistMlp()
const mlp = compiled(mlpNet, 'wasm', 'mode')
const mlp2 = compile(mlpNet, { backend: 'wasm', mode: 'mode', threads: 2 })
if (E.isLeft(mlp2)) throw new Error(drawCompileError(mlp2.left))
const pixels = pixelFeed(B)
const u8 = { pixels: { shape: [B, 784], data: Uint8Array.from(pixels['pixels']!.data) } }
const logits = new Float32Array(B * 10)
const mlpRun = (c: Compiled) => (): void => {
  const r = c.infer(u8, { outputs: { output: 'float32' }, into: { output: logits } })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
}
const mt = rounds({ mlp: { fn: mlpRun(mlp), minMs: 1 }, mlp2: { fn: mlpRun(mlp2.right), minMs: 1 }, layer: { fn: wasm.layer } }, ROUNDS)
const mlpMacs = B * (784 * 4096 + 4096 * 4096 + 4096 * 10)
const mlpShare = summary(mt['mlp']!.map((ms, i) => mlpMacs / ms / 1e6 / gmac(mt['layer']![i]!)))
row(`MNIST MLP 784→4096→4096→10, batch ${B}, from uint8 pixels (infer), share of the dense layer's MAC/s`, '≥ 80%', `${fmt(mlpShare.median * 100, 0)}% (${fmt(mlpShare.min * 100, 0)}–${fmt(mlpShare.max * 100, 0)}%)`, mlpShare.median >= 0.8)
const twoThreads = summary(ratios(mt['mlp']!, mt['mlp2']!))
row(`the same MLP, two threads vs one`, '≥ 1.8×', `${range(twoThreads)}×`, twoThreads.median >= 1.8)
mlp2.right.close()

// --- report ---------------------------------------------------------------------------------
const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['measure', 'target', 'measured median (min–max)', ''][c]!.length))
const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
console.log(line(['measure', 'target', 'measured median (min–max)', '']))
console.log(line(widths.map((w) => '-'.repeat(w))))
for (const r of rows) console.log(line(r))
console.log()
console.log(`rates (GMAC/s = 10^9 binary multiply-accumulates per second, one thread):`)
console.log(`  naive Float32Array loop   ${range(summary(t['naive']!.map(gmac)))}`)
console.log(`  binary dense, JavaScript  ${range(summary(t['js']!.map(gmac)))}`)
console.log(`  binary dense, WebAssembly ${range(wasmRate)}`)
console.log(`  wasm XOR+popcount ceiling ${range(ceilRate)} Gbit/s (loop '${ceil.chosen}'; calibration: ${Object.entries(ceil.candidates).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`)
console.log(`  stochastic layer (wasm)   ${range(summary(st['sto']!.map(gmac)))}`)
console.log(`  batch-1 4096×4096 layer   ${range(oneMs, 3)} ms (${fmt((4096 * 4096) / oneMs.median / 1e6)} GMAC/s)`)
console.log(`  MNIST MLP end to end      ${range(summary(mt['mlp']!))} ms per batch of ${B} (${fmt(mlpMacs / summary(mt['mlp']!).median / 1e6)} GMAC/s); two threads ${range(summary(mt['mlp2']!))} ms`)
console.log(`  run() 256×1024→1024       ${range(summary(ot['run']!), 3)} ms (kernel ${range(summary(ot['kernel']!), 3)} ms)`)
console.log(`  load average              ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
console.log(`\n${ROUNDS} interleaved rounds; total ${((performance.now() - started) / 1000).toFixed(1)} s; node ${process.version}`)
console.log('MLP plan:\n  ' + mlp.describe().join('\n  '))

/**
 * `npx tsx bench/mlpSteps.ts`: where the MNIST MLP's time goes (issue 13's MLP share). The MLP
 * 784 → 4096 → 4096 → 10 (batch 256, uint8 pixels, one thread) is timed end to end (`infer`) and
 * kernel by kernel (`executor.kernel`, each on the memory of the last call), beside the
 * 256 × 1024 → 1024 layer's product kernel (the share's denominator), in interleaved rounds
 * (`ROUNDS`, default 7): wall and process CPU ms per call, median (min–max), and the share of the
 * layer's MAC rate, each kernel's GMAC/s (CPU time) and the binary products' ns per row-word (one
 * `i64.popcnt`: Intel runs it on one port, so about one cycle is their floor); `--relaxed-simd` calls `enableRelaxedSimd()` first. The `RealDense` of the first layer's float64 branch is not timed (infer takes
 * the integer branch).
 */
import { none } from '../src/dsl/noise.js'
import { enableRelaxedSimd } from '../src/interpreters/compiled/index.js'
import { productsOf } from '../src/interpreters/compiled/execute.js'
import type { Kernel } from '../src/interpreters/compiled/kernels.js'
import { compiled, denseNet, binaryFeed, mnistMlp, pixelFeed, timedLayer } from './layers.js'
import { summary, range } from './stats.js'

// `--relaxed-simd`: Node 20's opt-in first (the nibble kernel's relaxed swizzle).
if (process.argv.includes('--relaxed-simd')) console.log('relaxed SIMD', JSON.stringify(enableRelaxedSimd()))
const batch = 256
const net = mnistMlp()
const c = compiled(net, 'wasm', 'mode')
const px = pixelFeed(batch)
const input = { pixels: { shape: [batch, 784], data: Uint8Array.from(px['pixels']!.data) } }
const logits = new Float32Array(batch * 10)
const infer = (): unknown => c.infer(input, { outputs: { output: 'float32' }, into: { output: logits } })
infer()
console.log(c.describe().join('\n'))
const all = productsOf(c.plan.steps)
const beside = timedLayer(denseNet(1024, 1024, none, none, 11, true), binaryFeed(256, 1024, 12), 'wasm', 'mode')
const bAll = productsOf(beside.compiled.plan.steps)
const bMine = bAll.flatMap((k, i) => (k.label === 'act' && k._tag !== 'Unpack' ? [i] : []))
const fns: Record<string, () => unknown> = {
  layer1024: () => { for (const i of bMine) beside.compiled.executor.kernel(i) },
  infer,
}
// (PackBytes reads the float64 input, which infer from uint8 does not place)
all.forEach((k, i) => { if (k._tag !== 'RealDense' && k._tag !== 'PackBytes') fns[`${i}:${k._tag}:${k.label}`] = () => c.executor.kernel(i) })
const t: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((n) => [n, []]))
const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((n) => [n, []]))
for (let r = 0; r < Number(process.env['ROUNDS'] ?? 7); r++)
  for (const [n, f] of Object.entries(fns)) {
    let calls = 0
    const c0 = process.cpuUsage(); const s = performance.now(); let now = s
    do { f(); calls++; now = performance.now() } while (now - s < 40)
    const u = process.cpuUsage(c0)
    t[n]!.push((now - s) / calls); cpu[n]!.push((u.user + u.system) / 1000 / calls)
  }
// Multiply-adds per call, for GMAC/s (from the CPU-time medians) and, for the binary products,
// ns per row-word (one 64-bit word of one row against one unit: one popcnt).
const macsOf = (k: Kernel): number =>
  k._tag === 'ByteDense' || k._tag === 'BinaryDense' || k._tag === 'BinaryHead' ? batch * k.k * k.n : 0
const macs: Record<string, number> = { layer1024: 256 * 1024 * 1024, infer: batch * (784 * 4096 + 4096 * 4096 + 4096 * 10) }
all.forEach((k, i) => { macs[`${i}:${k._tag}:${k.label}`] = macsOf(k) })
for (const n of Object.keys(fns)) {
  const ms = summary(cpu[n]!).median
  const rate = macs[n]! > 0 ? `${(macs[n]! / ms / 1e6).toFixed(0).padStart(4)} GMAC/s` : ''
  const perWord = n === 'layer1024' || n.includes(':BinaryDense:') ? ` ${((ms * 1e6 * 64) / macs[n]!).toFixed(3)} ns per row-word` : ''
  console.log(n.padEnd(40), range(summary(t[n]!), 3).padEnd(30), 'cpu', range(summary(cpu[n]!), 3).padEnd(28), rate + perWord)
}
const L = summary(t['layer1024']!).median, M = summary(t['infer']!).median
console.log('share', (L / M) * (784 * 4096 + 4096 * 4096 + 40960) / (1024 * 1024))

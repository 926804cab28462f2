/**
 * `npx tsx bench/batch1.ts`: the batch-1 4096×4096 binary layer, where its time goes and which
 * popcount scheme (`src/wasm/popcount.ts`) counts it faster. One process, interleaved rounds,
 * medians (min–max) of wall time and of process CPU time per call:
 *
 * - `infer`: `Compiled.infer` end to end, int8 ±1 in, packed bits out into a caller buffer (the
 *   `sbnkit-run` of bench:peers), and `kernel`: the same compiled layer's product kernel alone
 *   (bench:peers' `sbnkit-kernel` also unpacks the output to float64); their difference is the
 *   fixed cost of a call (the ±1 check and pack, the JavaScript around the kernels);
 * - `scalar`, `x loads` and `mixed`: the dense product kernel (`binaryDense`, sign epilogue) as
 *   emitted today (scalar words, x's words held in locals), the scalar scheme loading x per word
 *   (a fence store every four words), and the former mixed scheme, in one module over the same
 *   memory, outputs checked equal first; also at 256×1024→1024 (`… b256`), the batch-256 row of
 *   bench:peers, whose rows are 16 words;
 * - `dot, 2 MiB` / `dot, 8 KiB`: the scalar scheme's dot loop alone over the 2 MiB of weight rows,
 *   and the same number of dots over 16 rows (L1-resident) run 256 times (its compute ceiling);
 * - `read, 2 MiB`: a plain read of the bytes (v128 loads OR'd into four accumulators).
 *
 * If `dot, 2 MiB` ≈ `dot, 8 KiB` ≪ `read, 2 MiB`, the layer is bound by its arithmetic, not by
 * where its weights live. `BENCH_ROUNDS` sets the rounds (default 9).
 */
import * as E from 'fp-ts/lib/Either.js'
import { loadavg } from 'node:os'
import { doLoop, func, get, i32c, i32Store, set, simd, v128i32, v128Load } from '../src/wasm/code.js'
import type { Code, WasmFunction } from '../src/wasm/code.js'
import { assemble } from '../src/wasm/module.js'
import { op } from '../src/wasm/opcodes.js'
import { wasmApi } from '../src/wasm/runtime.js'
import { loadWords, xorPopcount } from '../src/wasm/popcount.js'
import type { DotScheme } from '../src/wasm/popcount.js'
import { binaryDense } from '../src/interpreters/compiled/kernels-wasm/dense.js'
import { productsOf } from '../src/interpreters/compiled/execute.js'
import { rowBytes } from '../src/interpreters/compiled/layout.js'
import { binaryFeed, denseNet, none, timedLayer } from './layers.js'
import { fmt, range, roundsWithCpu, summary } from './stats.js'

const ROW = 512 // bytes per unit at k = 4096
const UNITS = 4096
const BYTES = ROW * UNITS // 2 MiB
const L1_UNITS = 16
const X = BYTES // x row after the weights
const FENCE = X + ROW

/** Σ_units popcount(x XOR w_unit) over `units` rows from w, `reps` times (the kernel's dot code: x's words in locals). */
const dotLoop: WasmFunction = func('dots', ['i32', 'i32', 'i32'], ['i32'], ([units, reps], local) => {
  const rep = local('i32'), j = local('i32'), xa = local('i32'), wa = local('i32'), fence = local('i32'), total = local('i32')
  const xWords = Array.from({ length: ROW / 8 }, () => local('i64'))
  return [
    set(xa, i32c(X)), set(fence, i32c(FENCE)), set(total, i32c(0)), loadWords(xa, xWords),
    doLoop(rep, i32c(0), get(reps!), 1, [
      set(wa, i32c(0)),
      doLoop(j, i32c(0), get(units!), 1, [
        set(total, [get(total), xorPopcount({ x: xa, w: wa, words: ROW / 8, local, fence, xWords }), op.i32_add]),
        set(wa, [get(wa), i32c(ROW), op.i32_add]),
      ]),
    ]),
    get(total),
  ]
})

/** OR of every 16 bytes of [0, bytes), `reps` times, into four accumulators (a plain read). */
const readLoop: WasmFunction = func('read', ['i32', 'i32'], ['i32'], ([bytes, reps], local) => {
  const rep = local('i32'), i = local('i32')
  const acc = [local('v128'), local('v128'), local('v128'), local('v128')]
  const body: Code[] = []
  for (let q = 0; q < 8; q++) body.push(set(acc[q % 4]!, [get(acc[q % 4]!), v128Load(get(i), 16 * q), simd('v128_or')]))
  return [
    acc.map((a) => set(a, v128i32([0, 0, 0, 0]))),
    doLoop(rep, i32c(0), get(reps!), 1, doLoop(i, i32c(0), get(bytes!), 128, body)),
    i32Store(i32c(FENCE), [get(acc[0]!), get(acc[1]!), simd('v128_or'), get(acc[2]!), simd('v128_or'), get(acc[3]!), simd('v128_or'), simd('i32x4_extract_lane'), 0]),
    i32c(0),
  ]
})

/** A layer of `rows` × k → n for the scheme comparison: its kernel in both schemes, placed in memory from `base`. */
interface Layer {
  readonly rows: number
  readonly k: number
  readonly n: number
  readonly at: { readonly w: number; readonly x: number; readonly out: number; readonly thr: number; readonly end: number }
  readonly fns: Record<Variant, WasmFunction>
}
/** The kernel as emitted today (`scalar`: x's words in locals), with x loaded per word, and the former `mixed` scheme. */
type Variant = 'scalar' | 'one-pair' | 'scalar, x loads' | 'mixed'
const VARIANTS: Record<Variant, [DotScheme, boolean, boolean]> = { scalar: ['scalar', true, true], 'one-pair': ['scalar', true, false], 'scalar, x loads': ['scalar', false, false], mixed: ['mixed', false, false] }
const layerAt = (label: string, rows: number, k: number, n: number, base: number): Layer => {
  const stride = rowBytes(k, 64)
  const w = base
  const x = w + n * stride
  const out = x + rows * stride
  const thr = out + rows * rowBytes(n, 64)
  const kernel = { _tag: 'BinaryDense', label, x: 0, w: 1, out: 2, k, width: k, n, epilogue: { kind: 'sign', thresholds: 3 } } as const
  return {
    rows, k, n, at: { w, x, out, thr, end: thr + 8 * n },
    fns: Object.fromEntries(Object.entries(VARIANTS).map(([v, [scheme, locals, tiled]], i) => [v, { ...binaryDense(kernel, scheme, locals, tiled), name: `${label}_${i}` }])) as Record<Variant, WasmFunction>,
  }
}

const main = (): void => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const one = layerAt('b1', 1, 4096, 4096, FENCE + 64)
  const b256 = layerAt('b256', 256, 1024, 1024, one.at.end)
  const mem = new WA.Memory({ initial: Math.ceil(b256.at.end / 65536) })
  const u32 = new Uint32Array(mem.buffer)
  let s = 2463534242
  for (let i = 0; i < b256.at.end / 4; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    u32[i] = s >>> 0
  }
  const i32 = new Int32Array(mem.buffer)
  for (const l of [one, b256]) {
    // Rows with their padding bits zero; thresholds (lo, span) = (0, 2^31): bit = [dot ≥ 0].
    for (let j = 0; j < l.n; j++) i32.set([0, 0x7fffffff], l.at.thr / 4 + 2 * j)
    i32.fill(0, l.at.out / 4, l.at.thr / 4)
  }
  const ex = new WA.Instance(new WA.Module(assemble([dotLoop, readLoop, ...Object.values(one.fns), ...Object.values(b256.fns)], 1)), { env: { mem } }).exports
  const dots = ex['dots'] as (units: number, reps: number) => number
  const read = ex['read'] as (bytes: number, reps: number) => number
  const kernelOf = (l: Layer, v: Variant): (() => void) => {
    const f = ex[l.fns[v].name] as (rows: number, x: number, w: number, out: number, thr: number) => void
    return () => f(l.rows, l.at.x, l.at.w, l.at.out, l.at.thr)
  }
  for (const l of [one, b256]) {
    kernelOf(l, 'mixed')()
    const want = i32.slice(l.at.out / 4, l.at.thr / 4)
    for (const v of ['scalar', 'one-pair', 'scalar, x loads'] as const) {
      i32.fill(-1, l.at.out / 4, l.at.thr / 4)
      kernelOf(l, v)()
      const got = i32.subarray(l.at.out / 4, l.at.thr / 4)
      const at = got.findIndex((b, i) => b !== want[i])
      if (at >= 0) throw new Error(`${l.rows}×${l.k}→${l.n}: '${v}' word ${at} is ${got[at]}, the mixed scheme's ${want[at]}`)
    }
  }
  const net = denseNet(4096, 4096, none, none, 11, true)
  const feed = binaryFeed(1, 4096, 12)
  const layer = timedLayer(net, feed, 'wasm', 'mode')
  const input = { x: { shape: [1, 4096], data: Int8Array.from(feed['x']!.data) } }
  const bits = new Int32Array(4096 / 32)
  const opts = { outputs: { y: 'bits' as const }, into: { y: bits } }
  const dense = productsOf(layer.compiled.plan.steps).findIndex((k) => k._tag === 'BinaryDense')
  const infer = (): void => {
    if (E.isLeft(layer.compiled.infer(input, opts))) throw new Error('infer failed')
  }
  const contenders: Record<string, () => unknown> = {
    infer,
    kernel: () => layer.compiled.executor.kernel(dense),
    scalar: kernelOf(one, 'scalar'),
    'one-pair': kernelOf(one, 'one-pair'),
    'x loads': kernelOf(one, 'scalar, x loads'),
    mixed: kernelOf(one, 'mixed'),
    'scalar b256': kernelOf(b256, 'scalar'),
    'one-pair b256': kernelOf(b256, 'one-pair'),
    'x loads b256': kernelOf(b256, 'scalar, x loads'),
    'mixed b256': kernelOf(b256, 'mixed'),
    'dot, 2 MiB': () => dots(UNITS, 1),
    'dot, 8 KiB': () => dots(L1_UNITS, UNITS / L1_UNITS),
    'read, 2 MiB': () => read(BYTES, 1),
  }
  const { rounds, wall: t, cpu } = roundsWithCpu(contenders, { label: 'bench:batch1', minMs: 30, warmMs: 200 })
  console.log('batch 1, 4096×4096 (2 MiB of weight bytes) unless b256: ms per call, median (min–max); process CPU ms per call; GB/s of weights')
  for (const [name, ms] of Object.entries(t)) {
    const m = summary(ms)
    const rate = name.endsWith('b256') ? '' : `${fmt(BYTES / m.median / 1e6)} GB/s`
    console.log(`  ${name.padEnd(12)} ${range(m, 4).padEnd(28)} cpu ${range(summary(cpu[name]!), 4).padEnd(28)} ${rate}`)
  }
  /** b / a per round (how many times faster a is), in wall and CPU time. */
  const speedup = (a: string, b: string): string =>
    `${range(summary(t[a]!.map((_, i) => t[b]![i]! / t[a]![i]!)), 3)} (cpu ${range(summary(cpu[a]!.map((_, i) => cpu[b]![i]! / cpu[a]![i]!)), 3)})`
  const extra = (a: string, b: string): string =>
    `${range(summary(t[a]!.map((v, i) => 1000 * (v - t[b]![i]!))), 1)} (cpu ${range(summary(cpu[a]!.map((v, i) => 1000 * (v - cpu[b]![i]!))), 1)})`
  console.log(`  scalar vs mixed, batch 1: ${speedup('scalar', 'mixed')}×; batch 256 × 1024²: ${speedup('scalar b256', 'mixed b256')}×`)
  console.log(`  tiles vs one-pair loop, batch 1: ${speedup('scalar', 'one-pair')}×; batch 256 × 1024²: ${speedup('scalar b256', 'one-pair b256')}×`)
  console.log(`  x in locals vs x loads (one-pair loop), batch 1: ${speedup('one-pair', 'x loads')}×; batch 256 × 1024²: ${speedup('one-pair b256', 'x loads b256')}×`)
  console.log(`  infer − kernel per round: ${extra('infer', 'kernel')} µs`)
  console.log(`  dot loop over 2 MiB / in L1 ${speedup('dot, 8 KiB', 'dot, 2 MiB')}; read of 2 MiB / kernel ${speedup('read, 2 MiB', 'kernel')}`)
  console.log(`${rounds} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
}

main()

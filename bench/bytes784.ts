/**
 * `npx tsx bench/bytes784.ts`: the 8-bit first layer of bench:peers' MNIST MLP (256 × 784 → 4096,
 * uint8 pixels × ±1 weights, sign epilogue), A/B in one process: the byte-mask GEMM of bytes.ts
 * (`byteDense`, tiles of 2 rows × 4 units) against the nibble lookup tables of bytes-nibbles.ts
 * (`nibbleDense`, tiles of 1–3 rows; `q`: the sign test by quads of units, as compiled), all in one module over the same memory, outputs checked
 * equal first. Interleaved rounds; medians (min–max) of wall and process CPU ms per call, GMAC/s.
 * `BENCH_ROUNDS` sets the rounds (default 9); `--rows 1,2,…` the nibble tiles to compare.
 */
import { loadavg } from 'node:os'
import type { WasmFunction } from '../src/wasm/code.js'
import { assemble } from '../src/wasm/module.js'
import { wasmApi } from '../src/wasm/runtime.js'
import { byteDense } from '../src/interpreters/compiled/kernels-wasm/bytes.js'
import { nibbleDense } from '../src/interpreters/compiled/kernels-wasm/bytes-nibbles.js'
import type { ByteDense } from '../src/interpreters/compiled/kernels.js'
import { quadThresholds } from '../src/interpreters/compiled/patches.js'
import { bytesPerExample, bytesRow, nibbleTablesBytes, packByteMasks, packNibblePatterns, rowBytes } from '../src/interpreters/compiled/layout.js'
import { fmt, range, roundsWithCpu, summary, xorshift } from './stats.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const TILES = (arg('--rows') ?? '1,2,3').split(',').map(Number)
/** `--unroll 2,3`: runs of four chunks per loop iteration to compare (one row, quads). */
const UNROLLS = (arg('--unroll') ?? '').split(',').filter((u) => u !== '').map(Number)
const [ROWS, K, N] = [256, 784, Number(arg('--n') ?? 4096)]

const main = (): void => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const rnd = xorshift(5)
  const w = Float64Array.from({ length: K * N }, () => rnd() * 2 - 1)
  const masks = packByteMasks(w, K, N)
  const patterns = packNibblePatterns(w, K, N)
  const at = { x: 64, masks: 64 + ROWS * bytesPerExample(K) }
  const pat = at.masks + masks.byteLength
  const tab = pat + patterns.byteLength
  const thr = tab + ROWS * nibbleTablesBytes(K)
  const quads = thr + 8 * N
  const out = quads + 8 * N
  const end = out + ROWS * rowBytes(N, 64) + 64
  const mem = new WA.Memory({ initial: Math.ceil(end / 65536) })
  const u8 = new Uint8Array(mem.buffer)
  const i32 = new Int32Array(mem.buffer)
  for (let r = 0; r < ROWS; r++) {
    let sum = 0
    for (let i = 0; i < K; i++) {
      const v = Math.floor(rnd() * 256)
      u8[at.x + r * bytesPerExample(K) + i] = v
      sum += v
    }
    i32[(at.x + r * bytesPerExample(K) + bytesRow(K)) / 4] = sum
  }
  i32.set(masks, at.masks / 4)
  i32.set(patterns, pat / 4)
  // Thresholds (lo, span): +1 iff dot ≥ lo, lo around 0 (dots spread over about ±4000).
  for (let j = 0; j < N; j++) i32.set([Math.round((rnd() - 0.5) * 2000), 0x7fffffff], thr / 4 + 2 * j)
  const kernel: ByteDense = { _tag: 'ByteDense', label: 'L', bytes: 0, w: 1, out: 2, k: K, n: N, epilogue: { kind: 'sign', thresholds: 3 } }
  const fns: Record<string, WasmFunction> = { masks: { ...byteDense(kernel), name: 'masks' } }
  i32.set(quadThresholds(i32.slice(thr / 4, thr / 4 + 2 * N)), quads / 4)
  for (const t of TILES) fns[`nibbles ${t}`] = { ...nibbleDense(kernel, t), name: `nibbles_${t}` }
  // the sign test four units at once (ByteDense.nibbles.quads, as compile emits it)
  for (const t of TILES) fns[`nibbles ${t} q`] = { ...nibbleDense({ ...kernel, nibbles: { patterns: 4, tables: 5, quads: 6 } }, t), name: `nibbles_${t}_q` }
  if (process.argv.includes('--relaxed')) fns['nibbles 1 q relaxed'] = { ...nibbleDense({ ...kernel, nibbles: { patterns: 4, tables: 5, quads: 6 } }, 1, 1, true), name: 'nibbles_1_q_relaxed' }
  for (const u of UNROLLS) fns[`nibbles 1 q u${u}`] = { ...nibbleDense({ ...kernel, nibbles: { patterns: 4, tables: 5, quads: 6 } }, 1, u), name: `nibbles_1_q_u${u}` }
  const ex = new WA.Instance(new WA.Module(assemble(Object.values(fns), 1)), { env: { mem } }).exports
  const call = (name: string): (() => void) => {
    const f = ex[fns[name]!.name] as (...a: number[]) => void
    return () => f(ROWS, at.x, at.masks, out, thr, pat, tab, quads)
  }
  const outWords = (ROWS * rowBytes(N, 64)) / 4
  call('masks')()
  const want = i32.slice(out / 4, out / 4 + outWords)
  for (const name of Object.keys(fns)) {
    i32.fill(-1, out / 4, out / 4 + outWords)
    call(name)()
    const got = i32.subarray(out / 4, out / 4 + outWords)
    const bad = got.findIndex((b, i) => b !== want[i])
    if (bad >= 0) throw new Error(`'${name}' word ${bad} is ${got[bad]}, the masks' ${want[bad]}`)
  }
  const names = Object.keys(fns)
  const { rounds, wall: t, cpu } = roundsWithCpu(Object.fromEntries(names.map((name) => [name, call(name)])), { label: 'bench:bytes784', minMs: 60, warmMs: 100 })
  console.log(`8-bit layer ${ROWS} × ${K} → ${N}, sign epilogue: ms per call, median (min–max); GMAC/s; process CPU ms per call; speed-up over the masks per round (wall, cpu)`)
  for (const name of names) {
    const m = summary(t[name]!)
    const up = summary(t[name]!.map((x, i) => t['masks']![i]! / x))
    const upCpu = summary(cpu[name]!.map((x, i) => cpu['masks']![i]! / x))
    console.log(`  ${name.padEnd(10)} ${range(m, 3).padEnd(24)} ${fmt((ROWS * K * N) / m.median / 1e6).padEnd(6)} cpu ${range(summary(cpu[name]!), 3).padEnd(24)} × ${range(up, 3)} (cpu ${range(upCpu, 3)})`)
  }
  console.log(`${rounds} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
}

main()

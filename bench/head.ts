/**
 * `npx tsx bench/head.ts [--n 10] [--k 4096] [--variants LANES:UNROLL:PAIRS,…]`: the real head over binary activations (`BinaryHead`,
 * the MNIST MLP's 256 × 4096 → 10), in one module over the same memory: the kernel as compiled
 * (kernels-wasm/head.ts: tiles of two rows, bits word by word) and, with `--variants`, the same
 * kernel with other vectors per pass, inputs per iteration and tiles of two rows (1) or one (0),
 * each checked equal to it bit for bit first. (The tenth session's kernel, one row with each
 * input's bit read at its position, measured 1.24 against 1.15 ms here: it is in git before
 * 8b0cf42.) Interleaved rounds, medians (min–max) of wall and process CPU ms per call.
 */
import { loadavg } from 'node:os'
import type { WasmFunction } from '../src/wasm/code.js'
import { assemble } from '../src/wasm/module.js'
import { wasmApi } from '../src/wasm/runtime.js'
import { binaryHead } from '../src/interpreters/compiled/kernels-wasm/head.js'
import type { BinaryHead } from '../src/interpreters/compiled/kernels.js'
import { rowBytes } from '../src/interpreters/compiled/layout.js'
import { range, roundsWithCpu, summary, xorshift } from './stats.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const [ROWS, K, N] = [256, Number(arg('--k') ?? 4096), Number(arg('--n') ?? 10)]

const main = (): void => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const rnd = xorshift(9)
  const xStride = rowBytes(K, 64)
  const at = { x: 64, w: 64 + ROWS * xStride }
  const out = at.w + 8 * K * N
  const end = out + 8 * ROWS * N + 64
  const mem = new WA.Memory({ initial: Math.ceil(end / 65536) })
  const u8 = new Uint8Array(mem.buffer)
  const f64 = new Float64Array(mem.buffer)
  for (let r = 0; r < ROWS; r++) for (let b = 0; b < K / 8; b++) u8[at.x + r * xStride + b] = Math.floor(rnd() * 256)
  for (let i = 0; i < K * N; i++) f64[at.w / 8 + i] = (rnd() * 2 - 1) * 2 ** Math.floor(rnd() * 20 - 10)
  const kernel: BinaryHead = { _tag: 'BinaryHead', label: 'h', x: 0, w: 1, out: 2, k: K, width: K, n: N }
  const fns: Record<string, WasmFunction> = { current: { ...binaryHead(kernel), name: 'current' } }
  for (const v of (arg('--variants') ?? '').split(',').filter((s) => s !== '')) {
    const [lanes, unroll, pairs] = v.split(':').map(Number)
    fns[v] = { ...binaryHead(kernel, lanes, unroll, pairs === 1), name: `v${v.replaceAll(':', '_')}` }
  }
  const ex = new WA.Instance(new WA.Module(assemble(Object.values(fns), 1)), { env: { mem } }).exports
  const call = (name: string): (() => void) => {
    const f = ex[fns[name]!.name] as (...a: number[]) => void
    return () => f(ROWS, at.x, at.w, out)
  }
  call('current')()
  const want = f64.slice(out / 8, out / 8 + ROWS * N)
  for (const name of Object.keys(fns)) {
    f64.fill(NaN, out / 8, out / 8 + ROWS * N)
    call(name)()
    const got = f64.subarray(out / 8, out / 8 + ROWS * N)
    const bad = got.findIndex((v, i) => !Object.is(v, want[i]))
    if (bad >= 0) throw new Error(`head ${name}: value ${bad} is ${got[bad]}, the current kernel's ${want[bad]}`)
  }
  const { rounds, wall: t, cpu } = roundsWithCpu(Object.fromEntries(Object.keys(fns).map((n) => [n, call(n)])), { label: 'bench:head', minMs: 60, warmMs: 100 })
  console.log(`head ${ROWS} × ${K} → ${N}: ms per call, median (min–max); process CPU ms; current / it per round`)
  for (const name of Object.keys(fns))
    console.log(`  ${name.padEnd(8)} ${range(summary(t[name]!), 3).padEnd(24)} cpu ${range(summary(cpu[name]!), 3).padEnd(24)} current / it × ${range(summary(t['current']!.map((x, i) => x / t[name]![i]!)), 2)} (cpu × ${range(summary(cpu['current']!.map((x, i) => x / cpu[name]![i]!)), 2)})`)
  console.log(`${rounds} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
}

main()

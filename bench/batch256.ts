/**
 * `npx tsx bench/batch256.ts`: the batch binary dense kernel of bench:peers' 256×1024→1024 row
 * (and the MLP's 4096→4096 layer at batch 256), A/B in one process: the one-pair loop of
 * `dense.ts` (`binaryDense`: one (row, unit) dot at a time, one accumulator, x's words in locals)
 * against the register-blocked tiles of `dense-tiled.ts` (`tiledBinaryDense`, rows × 1 unit), all
 * in one module over the same memory with the sign epilogue, outputs checked equal first.
 * Interleaved rounds; medians (min–max) of wall and process CPU ms per call, and GMAC/s.
 * `BENCH_ROUNDS` sets the rounds (default 9); `--rows 1,2,…` the tiles to compare; `--small`
 * only the 1024² layer.
 */
import { loadavg } from 'node:os'
import type { WasmFunction } from '../src/wasm/code.js'
import { assemble } from '../src/wasm/module.js'
import { wasmApi } from '../src/wasm/runtime.js'
import { binaryDense } from '../src/interpreters/compiled/kernels-wasm/dense.js'
import { tiledBinaryDense } from '../src/interpreters/compiled/kernels-wasm/dense-tiled.js'
import { rowBytes } from '../src/interpreters/compiled/layout.js'
import { fmt, range, roundsWithCpu, summary } from './stats.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i < 0 ? undefined : process.argv[i + 1]
}
const TILES: number[] = (arg('--rows') ?? '1,2,3,4').split(',').map(Number)

interface Layer {
  readonly label: string
  readonly rows: number
  readonly k: number
  readonly n: number
  readonly at: { readonly w: number; readonly x: number; readonly out: number; readonly thr: number; readonly end: number }
  readonly fns: Record<string, WasmFunction>
}

const layerAt = (label: string, rows: number, k: number, n: number, base: number): Layer => {
  const stride = rowBytes(k, 64)
  const w = base
  const x = w + n * stride
  const out = x + rows * stride
  const thr = out + rows * rowBytes(n, 64)
  const kernel = { _tag: 'BinaryDense', label, x: 0, w: 1, out: 2, k, width: k, n, epilogue: { kind: 'sign', thresholds: 3 } } as const
  const fns: Record<string, WasmFunction> = { 'one-pair': { ...binaryDense(kernel, 'scalar', true, false), name: `${label}_pair` } }
  for (const r of TILES) fns[`${r}x1`] = { ...tiledBinaryDense(kernel, r), name: `${label}_${r}x1` }
  return { label, rows, k, n, at: { w, x, out, thr, end: thr + 8 * n }, fns }
}

const main = (): void => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const layers = [layerAt('b256k1024', 256, 1024, 1024, 64)]
  if (!process.argv.includes('--small')) layers.push(layerAt('b256k4096', 256, 4096, 4096, layers[0]!.at.end))
  const end = layers[layers.length - 1]!.at.end
  const mem = new WA.Memory({ initial: Math.ceil(end / 65536) })
  const u32 = new Uint32Array(mem.buffer)
  let s = 2463534242
  for (let i = 0; i < end / 4; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    u32[i] = s >>> 0
  }
  const i32 = new Int32Array(mem.buffer)
  for (const l of layers) {
    // Thresholds (lo, span) = (0, 2^31): bit = [dot ≥ 0]. Rows have no padding (k multiple of 64).
    for (let j = 0; j < l.n; j++) i32.set([0, 0x7fffffff], l.at.thr / 4 + 2 * j)
  }
  const ex = new WA.Instance(new WA.Module(assemble(layers.flatMap((l) => Object.values(l.fns)), 1)), { env: { mem } }).exports
  const kernelOf = (l: Layer, v: string): (() => void) => {
    const f = ex[l.fns[v]!.name] as (rows: number, x: number, w: number, out: number, thr: number) => void
    return () => f(l.rows, l.at.x, l.at.w, l.at.out, l.at.thr)
  }
  const contenders: Record<string, () => void> = {}
  for (const l of layers) {
    kernelOf(l, 'one-pair')()
    const want = i32.slice(l.at.out / 4, l.at.thr / 4)
    for (const v of Object.keys(l.fns)) {
      i32.fill(-1, l.at.out / 4, l.at.thr / 4)
      kernelOf(l, v)()
      const got = i32.subarray(l.at.out / 4, l.at.thr / 4)
      const at = got.findIndex((b, i) => b !== want[i])
      if (at >= 0) throw new Error(`${l.label}: '${v}' word ${at} is ${got[at]}, the one-pair loop's ${want[at]}`)
      contenders[`${l.label} ${v}`] = kernelOf(l, v)
    }
  }
  const { rounds, wall: t, cpu } = roundsWithCpu(contenders, { label: 'bench:batch256', minMs: 40, warmMs: 100 })
  console.log('binary dense kernel, sign epilogue: ms per call, median (min–max); GMAC/s; process CPU ms per call; speed-up over the one-pair loop per round (wall, cpu)')
  for (const l of layers) {
    const macs = l.rows * l.k * l.n
    const base = `${l.label} one-pair`
    for (const v of Object.keys(l.fns)) {
      const name = `${l.label} ${v}`
      const m = summary(t[name]!)
      const up = summary(t[name]!.map((x, i) => t[base]![i]! / x))
      const upCpu = summary(cpu[name]!.map((x, i) => cpu[base]![i]! / x))
      console.log(`  ${name.padEnd(20)} ${range(m, 4).padEnd(26)} ${fmt(macs / m.median / 1e6).padEnd(6)} cpu ${range(summary(cpu[name]!), 4).padEnd(26)} × ${range(up, 3)} (cpu ${range(upCpu, 3)})`)
    }
  }
  console.log(`${rounds} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
}

main()

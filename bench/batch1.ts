/**
 * `npx tsx bench/batch1.ts`: is the batch-1 4096×4096 binary layer bound by memory or by its
 * XOR+popcount? One process, interleaved rounds, medians (min–max) of wall time per call:
 *
 * - `kernel`: the compiled layer's product kernel (sign epilogue), 4096 units × 512 weight bytes;
 * - `dot, 2 MiB`: the kernel's own dot loop (`xorPopcount`, the same emitted code) over the same
 *   2 MiB of weight rows, without the epilogue, x one 512-byte row;
 * - `dot, 8 KiB`: the same loop and the same number of dots over 16 rows (8 KiB, L1-resident) run
 *   256 times: the compute ceiling of that loop;
 * - `read, 2 MiB` and `read, 8 KiB`: a plain read of the bytes (v128 loads OR'd into four
 *   accumulators), the memory ceilings.
 *
 * Rates are in GB/s of weight bytes. If `kernel` ≈ `dot, 8 KiB` ≪ `read, 2 MiB`, the layer is
 * bound by its arithmetic, not by where its weights live.
 */
import { loadavg } from 'node:os'
import { doLoop, func, get, i32c, i32Store, set, simd, v128i32, v128Load } from '../src/wasm/code.js'
import type { Code, WasmFunction } from '../src/wasm/code.js'
import { assemble } from '../src/wasm/module.js'
import { op } from '../src/wasm/opcodes.js'
import { wasmApi } from '../src/wasm/runtime.js'
import { xorPopcount } from '../src/wasm/popcount.js'
import { binaryFeed, denseNet, none, timedLayer } from './layers.js'
import { fmt, range, summary } from './stats.js'

const ROW = 512 // bytes per unit at k = 4096
const UNITS = 4096
const BYTES = ROW * UNITS // 2 MiB
const L1_UNITS = 16
const X = BYTES // x row after the weights
const FENCE = X + ROW

/** Σ_units popcount(x XOR w_unit) over `units` rows from w, `reps` times (the kernel's dot code). */
const dotLoop: WasmFunction = func('dots', ['i32', 'i32', 'i32'], ['i32'], ([units, reps], local) => {
  const rep = local('i32'), j = local('i32'), xa = local('i32'), wa = local('i32'), fence = local('i32'), total = local('i32')
  return [
    set(xa, i32c(X)), set(fence, i32c(FENCE)), set(total, i32c(0)),
    doLoop(rep, i32c(0), get(reps!), 1, [
      set(wa, i32c(0)),
      doLoop(j, i32c(0), get(units!), 1, [
        set(total, [get(total), xorPopcount({ x: xa, w: wa, words: ROW / 8, local, fence }), op.i32_add]),
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

const main = (): void => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const mem = new WA.Memory({ initial: Math.ceil((FENCE + 64) / 65536) })
  const u32 = new Uint32Array(mem.buffer)
  let s = 2463534242
  for (let i = 0; i < (X + ROW) / 4; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    u32[i] = s >>> 0
  }
  const ex = new WA.Instance(new WA.Module(assemble([dotLoop, readLoop], 1)), { env: { mem } }).exports
  const dots = ex['dots'] as (units: number, reps: number) => number
  const read = ex['read'] as (bytes: number, reps: number) => number
  const layer = timedLayer(denseNet(4096, 4096, none, none, 11, true), binaryFeed(1, 4096, 12), 'wasm', 'mode')
  const contenders: Record<string, () => unknown> = {
    kernel: layer.layer,
    'dot, 2 MiB': () => dots(UNITS, 1),
    'dot, 8 KiB': () => dots(L1_UNITS, UNITS / L1_UNITS),
    'read, 2 MiB': () => read(BYTES, 1),
    'read, 8 KiB': () => read(L1_UNITS * ROW, UNITS / L1_UNITS),
  }
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 9)
  const t: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
  for (const f of Object.values(contenders)) for (const t0 = performance.now(); performance.now() - t0 < 200; ) f()
  for (let r = 0; r < rounds; r++) {
    process.stderr.write(`bench:batch1: round ${r + 1}/${rounds}\n`)
    for (const [name, f] of Object.entries(contenders)) {
      let calls = 0
      const t0 = performance.now()
      let now = t0
      do {
        f()
        calls++
        now = performance.now()
      } while (now - t0 < 30)
      t[name]!.push((now - t0) / calls)
    }
  }
  console.log('batch 1, 4096×4096: ms per call (2 MiB of weight bytes each), median (min–max), GB/s of weights')
  for (const [name, ms] of Object.entries(t)) {
    const m = summary(ms)
    console.log(`  ${name.padEnd(12)} ${range(m, 4).padEnd(30)} ${fmt(BYTES / m.median / 1e6)} GB/s`)
  }
  /** rate of a / rate of b, per round. */
  const rate = (a: string, b: string): string => range(summary(t[a]!.map((_, i) => t[b]![i]! / t[a]![i]!)), 2)
  console.log(`  rates: kernel / dot loop in L1 ${rate('kernel', 'dot, 8 KiB')}; dot loop over 2 MiB / in L1 ${rate('dot, 2 MiB', 'dot, 8 KiB')}; read of 2 MiB / kernel ${rate('read, 2 MiB', 'kernel')}`)
  console.log(`${rounds} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
}

main()

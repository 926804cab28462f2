/**
 * `npx tsx bench/convKernels.ts [--width 1] [--batch 64] [--rounds 9]`: the four convolutions of
 * `vgg-mnist:M` (M = `--width`) on the training kernels, timed alone on one thread: forward,
 * backward (kernel and input gradients) and the kernel gradient alone, on ±1 inputs and kernels
 * as the preset's later layers see them (the first layer on pixels, padded with 0; the others
 * padded with −1). Prints the median and lowest CPU ms per call over the rounds, and the wall
 * ms per call spent in each exported WebAssembly function (the module's exports wrapped with a
 * timer), largest first.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parseArgs } from 'node:util'
import type { NDArray } from '../src/interpreters/ndarray.js'
import { gemmInstance, productsOn } from '../src/train/fast/wasm-gemm.js'
import { defaultBlocking } from '../src/train/fast/emit-gemm.js'
import { localRunner } from '../src/threads/jobs.js'
import { xorshift } from './stats.js'

const { values } = parseArgs({ options: { batch: { type: 'string', default: '64' }, rounds: { type: 'string', default: '9' }, width: { type: 'string', default: '1' } } })
const n = Number(values.batch)
const rounds = Number(values.rounds)
const width = Number(values.width)

const inst = gemmInstance(defaultBlocking, true)
if (E.isLeft(inst)) throw new Error(`bench/convKernels: no shared WebAssembly memory here: ${JSON.stringify(inst.left)}`)
/** Wall ms spent in each exported function since the last `drain`, by name. */
const spent = new Map<string, number>()
const timedExports = Object.fromEntries(Object.entries(inst.right.exports).map(([name, f]) => [name, typeof f !== 'function' ? f : (...args: number[]) => {
  const t0 = performance.now()
  ;(f as (...a: number[]) => void)(...args)
  spent.set(name, (spent.get(name) ?? 0) + performance.now() - t0)
}]))
const kernels = productsOn(inst.right, defaultBlocking, true, localRunner(timedExports))

const next = xorshift(3)
const signs = (length: number): Float64Array => Float64Array.from({ length }, () => (next() < 0.5 ? -1 : 1))
const reals = (length: number): Float64Array => Float64Array.from({ length }, () => next() * 2 - 1)
const [c1, c2] = [32, 64].map((c) => Math.max(1, Math.round(c * width))) as [number, number]
const layers = [
  { name: 'conv1', c: 1, o: c1, hw: 28, pad: 0 },
  { name: 'conv2', c: c1, o: c1, hw: 28, pad: -1 },
  { name: 'conv3', c: c1, o: c2, hw: 14, pad: -1 },
  { name: 'conv4', c: c2, o: c2, hw: 14, pad: -1 },
]

const cpuMs = (fn: () => void): number => {
  const c0 = process.cpuUsage()
  fn()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
/** Adds the per-call share of `spent` to `to` and clears it. */
const drain = (to: Map<string, number>): void => {
  for (const [k, v] of spent) to.set(k, (to.get(k) ?? 0) + v / rounds)
  spent.clear()
}
const show = (s: Map<string, number>): string => [...s].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')

for (const L of layers) {
  const pixels = L.pad === 0
  const x: NDArray = { shape: [n, L.c, L.hw, L.hw], data: pixels ? reals(n * L.c * L.hw * L.hw).map(Math.abs) : signs(n * L.c * L.hw * L.hw) }
  const k: NDArray = { shape: [L.o, L.c, 3, 3], data: signs(L.o * L.c * 9) }
  const g: NDArray = { shape: [n, L.o, L.hw, L.hw], data: reals(n * L.o * L.hw * L.hw) }
  const contenders = {
    forward: () => kernels.release!([kernels.conv2d!(x, k, [1, 1], [1, 1], L.pad).data]),
    backward: () => kernels.release!([kernels.conv2dBackward!(x, k, g, [1, 1], [1, 1], L.pad, !pixels).input.data]),
    'kernel gradient': () => kernels.release!([kernels.conv2dBackward!(x, k, g, [1, 1], [1, 1], L.pad, false).input.data]),
  }
  const entries = Object.entries(contenders).map(([name, fn]) => ({ name, fn, cpu: [] as number[], exports: new Map<string, number>() }))
  for (const e of entries) e.fn()
  spent.clear()
  for (let r = 0; r < rounds; r++) for (const e of entries) {
    e.cpu.push(cpuMs(e.fn))
    drain(e.exports)
  }
  console.log(`${L.name} ${L.c}→${L.o} on ${L.hw}×${L.hw}, batch ${n} (${((n * L.hw * L.hw * L.o * L.c * 9) / 1e6).toFixed(0)} M MAC per product):`)
  for (const e of entries) console.log(`  ${e.name.padEnd(16)} ${median(e.cpu).toFixed(1)} ms CPU (min ${Math.min(...e.cpu).toFixed(1)}); ${show(e.exports)}`)
}

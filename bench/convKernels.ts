/**
 * `npx tsx bench/convKernels.ts [--preset vgg-mnist:1] [--batch 64] [--rounds 9]`: the training
 * kernels' convolutions of a preset's layers timed alone, one thread: forward, and backward
 * (kernel and input gradients), on ±1 inputs as the preset's later layers see them (the first
 * layer on pixels). Lowest and median CPU ms per call over the rounds.
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
const m = Number(values.width)
const inst = gemmInstance(defaultBlocking, true)
if (E.isLeft(inst)) throw new Error('no wasm')
/** CPU ms spent in each exported function, by name (the exports wrapped with a timer). */
const spent = new Map<string, number>()
const timedExports = Object.fromEntries(Object.entries(inst.right.exports).map(([name, f]) => [name, typeof f !== 'function' ? f : (...args: number[]) => {
  const t0 = performance.now()
  ;(f as (...a: number[]) => void)(...args)
  spent.set(name, (spent.get(name) ?? 0) + performance.now() - t0)
}]))
const kern = productsOn(inst.right, defaultBlocking, true, localRunner(timedExports))
const next = xorshift(3)
const signs = (len: number) => Float64Array.from({ length: len }, () => (next() < 0.5 ? -1 : 1))
const reals = (len: number) => Float64Array.from({ length: len }, () => next() * 2 - 1)
const c1 = Math.round(32 * m), c2 = Math.round(64 * m)
const layers = [
  { name: 'conv1', c: 1, o: c1, hw: 28, pad: 0, pixels: true },
  { name: 'conv2', c: c1, o: c1, hw: 28, pad: -1, pixels: false },
  { name: 'conv3', c: c1, o: c2, hw: 14, pad: -1, pixels: false },
  { name: 'conv4', c: c2, o: c2, hw: 14, pad: -1, pixels: false },
]
const cpu = (fn: () => void): number => {
  const c0 = process.cpuUsage()
  fn()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const L of layers) {
  const x: NDArray = { shape: [n, L.c, L.hw, L.hw], data: L.pixels ? reals(n * L.c * L.hw * L.hw).map((v) => Math.abs(v)) : signs(n * L.c * L.hw * L.hw) }
  const w: NDArray = { shape: [L.o, L.c, 3, 3], data: signs(L.o * L.c * 9) }
  const g: NDArray = { shape: [n, L.o, L.hw, L.hw], data: reals(n * L.o * L.hw * L.hw) }
  const fwd = () => void kern.release!([kern.conv2d!(x, w, [1, 1], [1, 1], L.pad).data])
  const bwd = () => { const r = kern.conv2dBackward!(x, w, g, [1, 1], [1, 1], L.pad, !L.pixels); kern.release!([r.input.data]) }
  const kgrad = () => void kern.conv2dBackward!(x, w, g, [1, 1], [1, 1], L.pad, false)
  fwd(); bwd()
  const tf: number[] = [], tb: number[] = []
  const sf = new Map<string, number>(), sb = new Map<string, number>(), sk = new Map<string, number>()
  const tk: number[] = []
  const into = (to: Map<string, number>) => { for (const [k, v] of spent) to.set(k, (to.get(k) ?? 0) + v / rounds); spent.clear() }
  spent.clear()
  for (let r = 0; r < rounds; r++) { tf.push(cpu(fwd)); into(sf); tb.push(cpu(bwd)); into(sb); tk.push(cpu(kgrad)); into(sk) }
  const show = (s: Map<string, number>) => [...s].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')
  const macs = n * L.hw * L.hw * L.o * L.c * 9 / 1e6
  console.log(`${L.name} ${L.c}→${L.o} ${L.hw}×${L.hw} (${macs.toFixed(0)} M MAC): forward ${med(tf).toFixed(1)} (min ${Math.min(...tf).toFixed(1)}) ms, backward ${med(tb).toFixed(1)} (min ${Math.min(...tb).toFixed(1)}) ms`)
  console.log(`  forward: ${show(sf)}\n  backward: ${show(sb)}\n  kernel gradient alone ${med(tk).toFixed(1)} ms: ${show(sk)}`)
}

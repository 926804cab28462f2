/**
 * The sampling rule of a training pass in WebAssembly: x = +1 iff u < floor(F(a/s)·2³²), with u
 * the draws `fillBits(key, 0, ·)` of the site's key. The draws come from the compiled back end's
 * Threefry kernel (`fillRandom`, the very code the compiled interpreter runs), so they are the
 * same bits; the comparison is decided in WebAssembly for logistic noise and in JavaScript's
 * exact rule (`signsFromBits`) for every other family and for the rare near-ties.
 *
 * Logistic comparison (`emit-logistic.ts`): σ̃(z)·2³² in single precision, four units at a
 * time, within about 2 200 units of σ(z)·2³²; if u is farther than MARGIN_F32 = 2¹⁵ from it the
 * answer is the exact rule's, otherwise the index goes to a tie list that JavaScript decides with
 * `signsFromBits` (about 1.5·10⁻⁵ of the units). The result is therefore bit-identical to the
 * rule for every input, by construction.
 */
import type { ProperNoise } from '../../dsl/noise.js'
import type { Key } from '../../dsl/random.js'
import { signsFromBits } from '../../interpreters/noise.js'
import { fillRandom } from '../../interpreters/compiled/kernels-wasm/random.js'
import { assemble } from '../../interpreters/compiled/wasm/module.js'
import type { WasmApi, WasmMemory } from '../../interpreters/compiled/wasm/runtime.js'
import type { SiteId } from '../../dsl/node.js'
import { logisticSigns4 } from './emit-logistic.js'

const PAGE = 65536

type DrawFn = (rows: number, out: number, k0: number, k1: number) => void
type SignsFn = (pre: number, u: number, out: number, ties: number, count: number, inv: number) => number

/** ±1 by the sampling rule for pre-activations `a` and the draws of `key`: a fresh array. */
export type SampleSigns = (noise: ProperNoise, a: Float64Array, key: Key) => Float64Array

/**
 * The WebAssembly sampler on its own memory (grown on demand); the host must have WebAssembly
 * SIMD (Threefry runs on i32x4 lanes), which `wasmKernels` checks before building it.
 */
export const wasmSampler = (WA: WasmApi): SampleSigns => {
  const draw = fillRandom({ _tag: 'FillRandom', label: 'draws', out: 0, count: 1, perExample: true, site: 'training' as SiteId })
  const bytes = assemble([draw, logisticSigns4()])
  const memory: WasmMemory = new WA.Memory({ initial: 1 })
  const exports = new WA.Instance(new WA.Module(bytes), { env: { mem: memory } }).exports
  const drawFn = exports['random_draws'] as DrawFn
  const signsFn = exports['logistic_signs4'] as SignsFn
  const ensure = (bytes: number): void => {
    const need = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE
    if (need > 0) memory.grow(need)
  }
  return (noise, a, key) => {
    const n = a.length
    const out = new Float64Array(n)
    if (n === 0) return out
    // Layout: u (n u32 + 32 slack for the 32-draw groups), ties, pre, out (rounded up to whole
    // quads of units; the extra lanes read a zero pre-activation and their results are ignored).
    const quads = Math.ceil(n / 4)
    const uAt = 0
    const tiesAt = Math.ceil(((n + 32) * 4) / 16) * 16
    const preAt = tiesAt + quads * 16
    const outAt = preAt + quads * 32
    ensure(outAt + quads * 32)
    drawFn(n, uAt, key[0], key[1])
    const u = new Uint32Array(memory.buffer, uAt, n)
    if (noise.family !== 'logistic') {
      signsFromBits(u, a, 0, noise, out, 0, n)
      return out
    }
    const preV = new Float64Array(memory.buffer, preAt, 4 * quads)
    preV.set(a)
    preV.fill(0, n)
    const ties = signsFn(preAt, uAt, outAt, tiesAt, quads, 1 / noise.scale)
    out.set(new Float64Array(memory.buffer, outAt, n))
    const tie = new Uint32Array(memory.buffer, tiesAt, ties)
    for (let j = 0; j < ties; j++) {
      const i = tie[j]!
      if (i >= n) continue
      signsFromBits(u.subarray(i, i + 1), a, i, noise, out, i, 1)
    }
    return out
  }
}

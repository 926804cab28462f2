/**
 * One 8-bit layer in a WebAssembly memory, run by the byte-mask kernel (bytes.ts) and by the
 * nibble kernel (bytes-nibbles.ts), for bytes-nibbles.test.ts and for its relaxed-SIMD twin
 * (nibbleRelaxed.ts, run in a Node with relaxed SIMD).
 */
import fc from 'fast-check'
import type { ByteDense } from '../../../src/interpreters/compiled/kernels.js'
import { byteDense } from '../../../src/interpreters/compiled/kernels-wasm/bytes.js'
import { nibbleDense } from '../../../src/interpreters/compiled/kernels-wasm/bytes-nibbles.js'
import { bytesPerExample, bytesRow, NIBBLE_LIMIT, nibbleTablesBytes, packByteMasks, packNibblePatterns, rowBytes } from '../../../src/interpreters/compiled/layout.js'
import { quadThresholds } from '../../../src/interpreters/compiled/patches.js'
import { assemble } from '../../../src/wasm/module.js'
import { wasmApi } from '../../../src/wasm/runtime.js'
import { uniforms } from './nets.js'

const WA = wasmApi()!

export type Pixels = 'random' | 'zeros' | 'max' | 'extremes'
export interface Shape {
  readonly rows: number
  readonly k: number
  readonly n: number
  readonly tile: number
  readonly pixels: Pixels
  readonly weights: 'random' | 'plus'
  readonly epilogue: 'sign' | 'dot'
  readonly quads: boolean
  readonly seed: number
}

export const arbShape: fc.Arbitrary<Shape> = fc.record({
  rows: fc.integer({ min: 1, max: 7 }),
  k: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 770, max: 800 }), fc.integer({ min: NIBBLE_LIMIT - 20, max: NIBBLE_LIMIT })),
  n: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 90, max: 100 })),
  tile: fc.constantFrom(1, 2, 3),
  pixels: fc.constantFrom<Pixels>('random', 'random', 'zeros', 'max', 'extremes'),
  weights: fc.constantFrom('random' as const, 'random' as const, 'plus' as const),
  epilogue: fc.constantFrom('sign' as const, 'dot' as const),
  quads: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
})

/** The byte-mask kernel's output words and the nibble kernel's, on the same layer and memory. */
export const outputs = (s: Shape, relaxed = false): { want: Int32Array; got: Int32Array } => {
  const rnd = uniforms(s.seed)
  const w = Float64Array.from({ length: s.k * s.n }, () => (s.weights === 'plus' ? 1 : rnd() * 2 - 1))
  const masks = packByteMasks(w, s.k, s.n)
  const patterns = packNibblePatterns(w, s.k, s.n)
  const xStride = bytesPerExample(s.k)
  const at = { x: 64, masks: 64 + s.rows * xStride }
  const pat = at.masks + masks.byteLength
  const tab = pat + patterns.byteLength
  const thr = tab + s.rows * nibbleTablesBytes(s.k) + 64
  const quads = thr + 8 * s.n + 64
  const out = quads + 128 * Math.ceil(s.n / 16) + 64
  const outBytes = s.epilogue === 'sign' ? s.rows * rowBytes(s.n, 64) : 8 * s.rows * s.n
  const mem = new WA.Memory({ initial: Math.ceil((out + outBytes + 64) / 65536) })
  const u8 = new Uint8Array(mem.buffer)
  const i32 = new Int32Array(mem.buffer)
  const pixel = (): number => (s.pixels === 'zeros' ? 0 : s.pixels === 'max' ? 255 : s.pixels === 'extremes' ? (rnd() < 0.5 ? 0 : 255) : Math.floor(rnd() * 256))
  for (let r = 0; r < s.rows; r++) {
    let sum = 0
    for (let i = 0; i < s.k; i++) {
      const v = pixel()
      u8[at.x + r * xStride + i] = v
      sum += v
    }
    // garbage in the row's padding bytes: neither kernel may read it into a sum
    for (let i = s.k; i < bytesRow(s.k); i++) u8[at.x + r * xStride + i] = Math.floor(rnd() * 256)
    i32[(at.x + r * xStride + bytesRow(s.k)) / 4] = sum
  }
  i32.set(masks, at.masks / 4)
  i32.set(patterns, pat / 4)
  for (let j = 0; j < s.n; j++) {
    const kind = Math.floor(rnd() * 4)
    i32.set(kind === 0 ? [0, 0] : kind === 1 ? [-(2 ** 31), -1] : [Math.round((rnd() * 2 - 1) * 255 * Math.sqrt(s.k)), Math.floor(rnd() * 255 * s.k)], thr / 4 + 2 * j)
  }
  i32.set(quadThresholds(new Int32Array(mem.buffer, thr, 2 * s.n)), quads / 4)
  const kernel: ByteDense = { _tag: 'ByteDense', label: 'L', bytes: 0, w: 1, out: 2, k: s.k, n: s.n, epilogue: s.epilogue === 'sign' ? { kind: 'sign', thresholds: 3 } : { kind: 'dot' } }
  // With the sign epilogue, the nibble kernel tests its units one by one or (`quads`) four at once.
  const byQuads = s.epilogue === 'sign' && s.quads
  const nibbles: ByteDense = byQuads ? { ...kernel, nibbles: { patterns: 4, tables: 5, quads: 6 } } : kernel
  const ex = new WA.Instance(new WA.Module(assemble([{ ...byteDense(kernel), name: 'masks' }, { ...nibbleDense(nibbles, s.tile, undefined, relaxed), name: 'nibbles' }], 1)), { env: { mem } }).exports
  const run = (name: string): Int32Array => {
    i32.fill(-1, out / 4, (out + outBytes) / 4)
    const args = s.epilogue === 'sign' ? [s.rows, at.x, at.masks, out, thr, pat, tab, quads] : [s.rows, at.x, at.masks, out, pat, tab]
    ;(ex[name] as (...a: number[]) => void)(...args)
    return i32.slice(out / 4, (out + outBytes) / 4)
  }
  return { want: run('masks'), got: run('nibbles') }
}


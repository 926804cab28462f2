/**
 * The WebAssembly ceiling: XOR + popcount summed over two 8 KiB arrays (L1-resident), built with
 * sbnkit's own module builder. Its rate in bit-operations per second is the most a popcount
 * layer kernel can expect on this machine.
 *
 * Which loop is fastest depends on the CPU and on V8's code generation, so the ceiling is the
 * fastest of several loops, chosen by timing them when `ceiling()` is called:
 *
 * - `scalar ×8, 4 acc`: `i64.popcnt` unrolled ×8 into four accumulators;
 * - `scalar ×16, 1 acc`: unrolled ×16 into one accumulator;
 * - `scalar ×16, fenced`: the dense kernel's scheme since the eighth session (`scalar` in
 *   src/wasm/popcount.ts): `i64.popcnt` unrolled ×16 into one accumulator, with a store of the
 *   count after every four words that keeps V8 from hoisting every load to the top of the body;
 * - `mixed`: the dense kernel's former scheme: in each group of eight words two go through
 *   `v128.xor` + `i8x16.popcnt` and six through `i64.popcnt`, with a store between groups.
 *
 * Every loop's count is checked against a JavaScript popcount before it is timed.
 */
import { doLoop, func, get, i32c, i32Store, i64c, i64Load, laneI32, set, simd, sumI32x4, v128i32, v128Load } from '../src/wasm/code.js'
import type { Code, WasmFunction } from '../src/wasm/code.js'
import { assemble } from '../src/wasm/module.js'
import { op } from '../src/wasm/opcodes.js'
import { wasmApi } from '../src/wasm/runtime.js'

const WORDS = 1024 // 8 KiB per operand
const SCRATCH = 2 * WORDS * 8 // the fence's store target, past both operands

export interface Ceiling {
  /** One sweep of `reps` passes over the arrays. */
  readonly run: () => void
  /** Bit operations (XOR + count) per `run`. */
  readonly bitsPerRun: number
  /** The loop chosen, and every loop's rate in the calibration (Gbit/s). */
  readonly chosen: string
  readonly candidates: Readonly<Record<string, number>>
}

type Loop = (a: number, b: number, n: number) => number

const scalar = (name: string, unroll: number, accN: number, fenceEvery = 0): WasmFunction =>
  func(name, ['i32', 'i32', 'i32'], ['i32'], ([a, b, n], local) => {
    const rep = local('i32')
    const i = local('i32')
    const accs = Array.from({ length: accN }, () => local('i64'))
    const body: Code[] = []
    for (let w = 0; w < unroll; w++) {
      const acc = accs[w % accN]!
      body.push(set(acc, [get(acc), i64Load([get(a!), get(i), op.i32_add], 8 * w), i64Load([get(b!), get(i), op.i32_add], 8 * w), op.i64_xor, op.i64_popcnt, op.i64_add]))
      if (fenceEvery > 0 && (w + 1) % fenceEvery === 0) body.push(i32Store(i32c(SCRATCH), [get(acc), op.i32_wrap_i64]))
    }
    return [
      accs.map((acc) => set(acc, i64c(0))),
      doLoop(rep, i32c(0), get(n!), 1, doLoop(i, i32c(0), i32c(WORDS * 8), 8 * unroll, body)),
      accs.map((acc, k) => [get(acc), k === 0 ? [] : op.i64_add]), op.i32_wrap_i64,
    ]
  })

/** Two groups of eight words per iteration; 16-bit lanes per pass, 32-bit lanes across passes. */
const mixed = (name: string): WasmFunction =>
  func(name, ['i32', 'i32', 'i32'], ['i32'], ([a, b, n], local) => {
    const rep = local('i32')
    const i = local('i32')
    const acc = local('i64')
    const v16 = local('v128')
    const v32 = local('v128')
    const at = (p: number): Code => [get(p), get(i), op.i32_add]
    const group = (off: number): Code => [
      set(v16, [get(v16), v128Load(at(a!), off), v128Load(at(b!), off), simd('v128_xor'), simd('i8x16_popcnt'), simd('i16x8_extadd_pairwise_i8x16_u'), simd('i16x8_add')]),
      Array.from({ length: 6 }, (_, q) => set(acc, [get(acc), i64Load(at(a!), off + 16 + 8 * q), i64Load(at(b!), off + 16 + 8 * q), op.i64_xor, op.i64_popcnt, op.i64_add])),
    ]
    return [
      set(acc, i64c(0)), set(v32, v128i32([0, 0, 0, 0])),
      doLoop(rep, i32c(0), get(n!), 1, [
        set(v16, v128i32([0, 0, 0, 0])),
        doLoop(i, i32c(0), i32c(WORDS * 8), 128, [group(0), i32Store(i32c(SCRATCH), [get(acc), op.i32_wrap_i64, laneI32(v16, 0), op.i32_add]), group(64)]),
        set(v32, [get(v32), get(v16), simd('i32x4_extadd_pairwise_i16x8_u'), simd('i32x4_add')]),
      ]),
      get(acc), op.i32_wrap_i64, sumI32x4(v32), op.i32_add,
    ]
  })

const popcount32 = (v: number): number => {
  let x = v - ((v >>> 1) & 0x55555555)
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)
}

const medianMs = (f: () => void, times: number): number => {
  const ms: number[] = []
  for (let t = 0; t < times; t++) {
    const t0 = performance.now()
    f()
    ms.push(performance.now() - t0)
  }
  ms.sort((x, y) => x - y)
  return ms[times >> 1]!
}

export const ceiling = (reps = 64): Ceiling => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const loops: Record<string, WasmFunction> = {
    'scalar ×8, 4 acc': scalar('s8x4', 8, 4),
    'scalar ×16, 1 acc': scalar('s16x1', 16, 1),
    'scalar ×16, fenced': scalar('s16f', 16, 1, 4),
    mixed: mixed('mixed'),
  }
  const mem = new WA.Memory({ initial: 1 })
  const words = new Uint32Array(mem.buffer, 0, 4 * WORDS)
  for (let i = 0; i < words.length; i++) words[i] = (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0
  let want = 0
  for (let i = 0; i < 2 * WORDS; i++) want += popcount32((words[i]! ^ words[i + 2 * WORDS]!) >>> 0)
  const exports = new WA.Instance(new WA.Module(assemble(Object.values(loops))), { env: { mem } }).exports
  const bitsPerRun = WORDS * 64 * reps
  const candidates: Record<string, number> = {}
  const fns: Record<string, Loop> = {}
  for (const [label, fn] of Object.entries(loops)) {
    const f = exports[fn.name] as Loop
    const got = f(0, WORDS * 8, 1)
    if (got !== want) throw new Error(`ceiling loop '${label}' counts ${got} bits, expected ${want}`)
    fns[label] = f
    // Warm up for 150 ms: V8 runs a function in its baseline compiler (Liftoff) until it is hot.
    for (const t0 = performance.now(); performance.now() - t0 < 150; ) f(0, WORDS * 8, reps)
    candidates[label] = bitsPerRun / medianMs(() => f(0, WORDS * 8, reps), 15) / 1e6
  }
  const chosen = Object.entries(candidates).reduce((best, c) => (c[1] > best[1] ? c : best))[0]
  const f = fns[chosen]!
  let sink = 0
  return {
    run: () => {
      sink ^= f(0, WORDS * 8, reps)
      if (sink === 0.5) console.log(sink)
    },
    bitsPerRun,
    chosen,
    candidates,
  }
}

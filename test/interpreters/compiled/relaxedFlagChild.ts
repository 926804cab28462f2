/**
 * Run by relaxedFlag.test.ts in a child Node without `--experimental-wasm-relaxed-simd` (so the
 * test process's own V8 flags stay as they are): networks with an 8-bit first layer compiled
 * before `enableRelaxedSimd()` use the plain swizzle, those compiled after it the relaxed one
 * (on one thread and two), and `infer` gives the same bits either way on generated networks and
 * batches. Prints one line, or throws the first difference.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { compile, enableRelaxedSimd } from '../../../src/interpreters/compiled/index.js'
import type { Compiled } from '../../../src/interpreters/compiled/index.js'
import { hasRelaxedSwizzle } from '../../../src/wasm/relaxed.js'
import { arbLayer, build } from './nets.js'
import type { NetSpec } from './nets.js'

const native = hasRelaxedSwizzle()
/** Whether a module's bytes hold `i8x16.relaxed_swizzle` (0xfd, LEB128 256). */
const usesRelaxed = (c: Compiled): boolean => {
  if (c.artifact.kind !== 'wasm') return false
  const m = c.artifact.module
  return m.some((b, i) => b === 0xfd && m[i + 1] === 0x80 && m[i + 2] === 0x02)
}
const specs = fc.sample(
  fc.record({
    input: fc.constant('uint8' as const),
    inputWidth: fc.integer({ min: 1, max: 70 }),
    layers: fc.array(arbLayer, { minLength: 1, maxLength: 2 }),
    head: fc.integer({ min: 0, max: 3 }),
    loss: fc.constant(false),
    batch: fc.integer({ min: 1, max: 7 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  }),
  { numRuns: 16, seed: 20261207 },
) as NetSpec[]
const compiled = (spec: NetSpec, threads: number): { c: Compiled; infer: () => Record<string, Float64Array> } => {
  const { net, feed } = build(spec)
  const c = compile(net, { backend: 'wasm', mode: 'mode', threads })
  if (E.isLeft(c)) throw new Error(JSON.stringify(c.left))
  const x = feed['x']!
  const input = { x: { shape: x.shape, data: Uint8Array.from(x.data) } }
  return {
    c: c.right,
    infer: () => {
      const out = c.right.infer(input)
      if (E.isLeft(out)) throw new Error(JSON.stringify(out.left))
      return Object.fromEntries(Object.entries(out.right).map(([name, o]) => [name, Float64Array.from(o.data as ArrayLike<number>)]))
    },
  }
}
const before = specs.map((s) => compiled(s, 1))
const plain = before.map((b) => b.infer())
if (!native && before.some((b) => usesRelaxed(b.c))) throw new Error('a kernel used relaxed SIMD before it was enabled')
const r = enableRelaxedSimd()
if (E.isLeft(r)) throw new Error(r.left.reason)
if (r.right !== (native ? 'native' : 'enabled')) throw new Error(`enableRelaxedSimd gave ${r.right}`)
let relaxedKernels = 0
specs.forEach((s, i) => {
  for (const threads of [1, 2]) {
    const after = compiled(s, threads)
    if (usesRelaxed(after.c)) relaxedKernels++
    const got = after.infer()
    for (const [name, want] of Object.entries(plain[i]!)) {
      const at = got[name]!.findIndex((v, j) => !Object.is(v, want[j]))
      if (at >= 0) throw new Error(`${JSON.stringify(s)}, ${threads} threads: ${name}[${at}] is ${got[name]![at]}, ${want[at]} before relaxed SIMD`)
    }
    after.c.close()
  }
})
// Every spec's first layer is an 8-bit one with constant weights (mode network): a nibble kernel.
if (relaxedKernels === 0) throw new Error('no network compiled after enableRelaxedSimd used i8x16.relaxed_swizzle')
console.log(`relaxed SIMD ${r.right}: the same bits on ${specs.length} networks, 1 and 2 threads`)

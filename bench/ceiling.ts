/**
 * The WebAssembly ceiling: XOR + i64.popcnt summed over two 8 KiB arrays (L1-resident), unrolled
 * ×8 with four accumulators, built with sbnkit's own module builder. Its rate in bit-operations
 * per second is the most a popcount layer kernel can reach on this machine.
 */
import { doLoop, func, get, i32c, i64Load, set } from '../src/interpreters/compiled/wasm/code.js'
import type { Code } from '../src/interpreters/compiled/wasm/code.js'
import { assemble } from '../src/interpreters/compiled/wasm/module.js'
import { op } from '../src/interpreters/compiled/wasm/opcodes.js'
import { wasmApi } from '../src/interpreters/compiled/wasm/runtime.js'

const WORDS = 1024 // 8 KiB per operand

export interface Ceiling {
  /** One sweep of `reps` passes over the arrays. */
  readonly run: () => void
  /** Bit operations (XOR + count) per `run`. */
  readonly bitsPerRun: number
}

export const ceiling = (reps = 64): Ceiling => {
  const WA = wasmApi()
  if (WA === undefined) throw new Error('no WebAssembly')
  const fn = func('ceil', ['i32', 'i32', 'i32'], ['i32'], ([a, b, n], local) => {
    const rep = local('i32')
    const i = local('i32')
    const accs = [local('i64'), local('i64'), local('i64'), local('i64')]
    const body: Code[] = []
    for (let w = 0; w < 8; w++) {
      const acc = accs[w % 4]!
      body.push(set(acc, [get(acc), i64Load([get(a!), get(i), op.i32_add], 8 * w), i64Load([get(b!), get(i), op.i32_add], 8 * w), op.i64_xor, op.i64_popcnt, op.i64_add]))
    }
    return [
      doLoop(rep, i32c(0), get(n!), 1, doLoop(i, i32c(0), i32c(WORDS * 8), 64, body)),
      get(accs[0]!), get(accs[1]!), op.i64_add, get(accs[2]!), op.i64_add, get(accs[3]!), op.i64_add, op.i32_wrap_i64,
    ]
  })
  const mem = new WA.Memory({ initial: 1 })
  const words = new Uint32Array(mem.buffer, 0, 4 * WORDS)
  for (let i = 0; i < words.length; i++) words[i] = (Math.imul(i + 1, 2654435761) ^ (i << 7)) >>> 0
  const exports = new WA.Instance(new WA.Module(assemble([fn])), { env: { mem } }).exports
  const f = exports['ceil'] as (a: number, b: number, n: number) => number
  let sink = 0
  return {
    run: () => {
      sink ^= f(0, WORDS * 8, reps)
      if (sink === 0.5) console.log(sink)
    },
    bitsPerRun: WORDS * 64 * reps,
  }
}

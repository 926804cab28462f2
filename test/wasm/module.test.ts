import { describe, expect, it } from 'vitest'
import { doLoop, func, get, i32c, i64Load, set } from '../../src/wasm/code.js'
import { assemble } from '../../src/wasm/module.js'
import { op } from '../../src/wasm/opcodes.js'
import { wasmApi } from '../../src/wasm/runtime.js'

describe('WebAssembly module builder', () => {
  it('assembles a valid module whose function computes Σ popcount(a XOR b) over memory', () => {
    const WA = wasmApi()!
    const f = func('xorpop', ['i32', 'i32', 'i32'], ['i32'], ([a, b, n], local) => {
      const i = local('i32')
      const acc = local('i32')
      return [
        set(acc, i32c(0)),
        doLoop(i, i32c(0), get(n!), 8, set(acc, [get(acc), i64Load([get(a!), get(i), op.i32_add]), i64Load([get(b!), get(i), op.i32_add]), op.i64_xor, op.i64_popcnt, op.i32_wrap_i64, op.i32_add])),
        get(acc),
      ]
    })
    const bytes = assemble([f])
    expect(WA.validate(bytes)).toBe(true)
    const mem = new WA.Memory({ initial: 1 })
    const words = new Uint32Array(mem.buffer)
    words.set([0xffffffff, 0, 0x0f0f0f0f, 1], 0) // a: two i64 words
    words.set([0, 0, 0x0f0f0f0f, 0], 4) //           b
    const run = new WA.Instance(new WA.Module(bytes), { env: { mem } }).exports['xorpop'] as (a: number, b: number, n: number) => number
    expect(run(0, 16, 16)).toBe(32 + 1)
  })

  it('shares one type between functions of one signature and exports each by name', () => {
    const WA = wasmApi()!
    const g = (name: string, v: number) => func(name, [], ['i32'], () => i32c(v))
    const bytes = assemble([g('one', 1), g('two', 2)])
    const mem = new WA.Memory({ initial: 1 })
    const ex = new WA.Instance(new WA.Module(bytes), { env: { mem } }).exports
    expect([(ex['one'] as () => number)(), (ex['two'] as () => number)()]).toEqual([1, 2])
    // type section: id 1, size, count 1, one functype 0x60 with no params and one i32 result
    expect(Array.from(bytes.slice(8, 15))).toEqual([1, 5, 1, 0x60, 0, 1, 0x7f])
  })
})

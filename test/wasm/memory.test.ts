import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { WasmLinearMemory } from '../../src/wasm/memory.js'
import { MAX_BYTES, PAGE, alignUp, arena, arrayMemory, growTo, wasmMemory } from '../../src/wasm/memory.js'
import { wasmApi } from '../../src/wasm/runtime.js'

const WA = wasmApi()!

const managed = (shared: boolean): WasmLinearMemory => {
  const m = wasmMemory(WA, { initialPages: 1, shared, who: 'test' })
  if (E.isLeft(m)) throw new Error(m.left)
  return m.right
}

describe('src/wasm/memory: the one memory manager', () => {
  for (const [name, make] of [
    ['WebAssembly memory', () => managed(false)],
    ['shared WebAssembly memory', () => managed(true)],
    ['ArrayBuffer memory', () => arrayMemory()],
  ] as const) {
    it(`law (${name}): ensure(b) leaves at least b bytes, keeps the contents, and views follow the growth`, () => {
      const m = make()
      m.views().u8.set([1, 2, 3], 10)
      const before = m.views()
      expect(m.ensure(100)).toBe(false)
      expect(m.views() === before).toBe(true)
      expect(m.ensure(3 * PAGE + 5)).toBe(true)
      const after = m.views()
      expect(after.buffer.byteLength).toBeGreaterThanOrEqual(3 * PAGE + 5)
      expect([...after.u8.subarray(10, 13)]).toEqual([1, 2, 3])
      expect(after.f64.length).toBe(after.buffer.byteLength / 8)
      expect(() => m.ensure(MAX_BYTES + 1)).toThrow(/2 GiB/)
    })
  }

  it('views re-read a memory that another holder grew (growTo on the bare WebAssembly.Memory)', () => {
    const m = managed(false)
    const before = m.views()
    expect(growTo(m.wasm, 2 * PAGE)).toBe(true)
    expect(m.views() === before).toBe(false) // the old views are detached
    expect(m.views().u8.length).toBe(2 * PAGE)
  })

  it('law: arena regions are aligned, in order, and disjoint', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(1000), fc.constantFrom(1, 4, 8, 16, 64)), { maxLength: 20 }), fc.nat(100), (reqs, start) => {
      const a = arena(start)
      let end = start
      for (const [bytes, align] of reqs) {
        const at = a.alloc(bytes, align)
        expect(at % align).toBe(0)
        expect(at).toBeGreaterThanOrEqual(end)
        expect(at).toBe(alignUp(end, align))
        end = at + bytes
      }
      expect(a.end()).toBe(end)
    }), { seed: 10 })
  })
})

/**
 * The WebAssembly Threefry fill (kernels-wasm/random.ts) on its own: the draws equal
 * `fillBits(key, 0, ·)`, and its writes past the last draw stay inside the slack every buffer has
 * (execute.ts BUFFER_SLACK), for every draw count modulo its group size.
 */
import { describe, expect, it } from 'vitest'
import { fillBits, key } from '../../../src/dsl/random.js'
import { BUFFER_SLACK } from '../../../src/interpreters/compiled/execute.js'
import { fillRandom } from '../../../src/interpreters/compiled/kernels-wasm/threefry.js'
import { assemble } from '../../../src/wasm/module.js'
import { wasmApi } from '../../../src/wasm/runtime.js'
import type { SiteId } from '../../../src/dsl/node.js'

const CANARY = 0xdeadbeef

describe('WebAssembly Threefry fill', () => {
  it('writes fillBits(key, 0, rows·count) and nothing beyond the buffer slack', () => {
    const WA = wasmApi()!
    const mem = new WA.Memory({ initial: 1 })
    const words = new Uint32Array(mem.buffer)
    const k = key(20261126)
    let overrun = 0
    for (const count of [1, 2, 3, 5, 7, 31, 32, 33, 63, 64, 65, 100]) {
      for (const rows of [1, 2, 3]) {
        const fn = fillRandom({ _tag: 'FillRandom', label: 't', out: 0, count, perExample: true, site: 'act' as SiteId })
        const run = new WA.Instance(new WA.Module(assemble([fn])), { env: { mem } }).exports[fn.name] as (rows: number, out: number, k0: number, k1: number) => void
        words.fill(CANARY)
        const OUT = 256 // bytes; the draws start here
        run(rows, OUT, k[0], k[1])
        const n = rows * count
        expect(Array.from(words.subarray(OUT / 4, OUT / 4 + n)), `count ${count}, rows ${rows}`).toEqual(Array.from(fillBits(k, 0, new Uint32Array(n))))
        expect(words.subarray(0, OUT / 4).every((w) => w === CANARY), 'nothing written before the buffer').toBe(true)
        let last = OUT / 4 + n
        for (let i = last; i < words.length; i++) if (words[i] !== CANARY) last = i + 1
        overrun = Math.max(overrun, 4 * last - (OUT + 4 * n))
        expect(4 * last - (OUT + 4 * n), `count ${count}, rows ${rows}: bytes written past the last draw`).toBeLessThanOrEqual(BUFFER_SLACK)
      }
    }
    expect(overrun).toBeGreaterThan(0) // the kernel does write whole groups; the bound above is what matters
  })
})

describe('WebAssembly Threefry fill from a start draw', () => {
  it('writes fillBits(key, start, ·) at the buffer for even and odd starts, and at most the 4 bytes before it', () => {
    const WA = wasmApi()!
    const mem = new WA.Memory({ initial: 1 })
    const words = new Uint32Array(mem.buffer)
    const k = key(20261206)
    for (const count of [1, 3, 32, 33])
      for (const start of [0, 1, 2, 5, 64, 99, 2 ** 31 + 1]) {
        const fn = fillRandom({ _tag: 'FillRandom', label: 't', out: 0, count, perExample: true, site: 'act' as SiteId })
        const run = new WA.Instance(new WA.Module(assemble([fn])), { env: { mem } }).exports[fn.name] as (rows: number, out: number, k0: number, k1: number, block: number, odd: number) => void
        words.fill(CANARY)
        const OUT = 256
        run(2, OUT, k[0], k[1], Math.floor(start / 2) | 0, start % 2)
        const n = 2 * count
        expect(Array.from(words.subarray(OUT / 4, OUT / 4 + n)), `count ${count}, start ${start}`).toEqual(Array.from(fillBits(k, start, new Uint32Array(n))))
        expect(words.subarray(0, OUT / 4 - 1).every((w) => w === CANARY), 'nothing written before out − 4').toBe(true)
      }
  })
})

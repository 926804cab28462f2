/**
 * `enableRelaxedSimd()` (src/wasm/relaxedFlag.ts), the opt-in to relaxed SIMD on Node 20. It sets
 * a V8 flag for the whole process, so the law runs in a child Node (relaxedFlagChild.ts) and this
 * test process's own flags never change: networks compiled after the call use
 * `i8x16.relaxed_swizzle` in their nibble kernels and give the same bits as before it, on one
 * thread and two.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('enableRelaxedSimd', () => {
  it('law: after enableRelaxedSimd() the nibble kernels use i8x16.relaxed_swizzle, with the same bits as before it (1 and 2 threads, generated 8-bit networks)', () => {
    const script = fileURLToPath(new URL('./relaxedFlagChild.ts', import.meta.url))
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' })
    expect(out.trim()).toMatch(/^relaxed SIMD (enabled|native): the same bits on 16 networks, 1 and 2 threads$/)
  }, 60_000)
})

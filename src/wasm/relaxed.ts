/**
 * Whether the host validates relaxed SIMD's `i8x16.relaxed_swizzle` (Node ≥ 22, Chromium ≥ 114;
 * Node 20 only with `--experimental-wasm-relaxed-simd`). For indices below 16 its result is the
 * plain swizzle's on every engine (the relaxation is only in out-of-range lanes), so a kernel
 * whose indices are always in range may use it with the same bits; on x64 it is one `vpshufb`,
 * where V8 lowers the plain swizzle to a saturating add of a range constant first (three
 * instructions with the constant's address). Probed once per process.
 */
import { func, i32c, simd } from './code.js'
import { assemble } from './module.js'
import { wasmApi } from './runtime.js'

/** A one-function module using `i8x16.relaxed_swizzle`. */
export const relaxedSwizzleProbe = (): Uint8Array =>
  assemble([func('probe', [], ['v128'], () => [i32c(0), simd('i32x4_splat'), i32c(0), simd('i32x4_splat'), simd('i8x16_relaxed_swizzle')])])

let relaxed: boolean | undefined
export const hasRelaxedSwizzle = (): boolean => (relaxed ??= (() => {
  try {
    return wasmApi()?.validate(relaxedSwizzleProbe()) === true
  } catch {
    return false
  }
})())

/** Probes again (after the host's flags changed: relaxedFlag.ts `enableRelaxedSimd`). */
export const reprobeRelaxedSwizzle = (): boolean => {
  relaxed = undefined
  return hasRelaxedSwizzle()
}

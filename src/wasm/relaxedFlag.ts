/**
 * An explicit opt-in to relaxed SIMD on Node 20, whose V8 (11.3) implements it behind
 * `--experimental-wasm-relaxed-simd` only. `enableRelaxedSimd()` sets that V8 flag at run time
 * (`v8.setFlagsFromString`), then probes again: the 8-bit first layer's nibble kernel then uses
 * `i8x16.relaxed_swizzle` in every network compiled afterwards (one `vpshufb` per lookup instead
 * of a saturating add of a range constant, two loads and the `vpshufb`: 1.6× that layer). Its
 * indices are always below 16, where the relaxed and the plain swizzle agree on every engine, so
 * the results are the same bits.
 *
 * It changes the whole process (V8's flags are per process: workers started later see it too),
 * which is why it is a call of its own, made once at start-up, and never done by `compile`.
 * Node documents flags set after start-up as unsupported: this one only lets the validator accept
 * more instructions. Where relaxed SIMD is there already (Node ≥ 22, Chromium ≥ 114) nothing is
 * changed; elsewhere (a browser, Node without `process.getBuiltinModule`, an engine that still
 * refuses it) a Left says why, and the plain kernel is kept.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hasRelaxedSwizzle, reprobeRelaxedSwizzle } from './relaxed.js'

/** `native`: the engine had relaxed SIMD already; `enabled`: the flag was set and the probe passes. */
export type RelaxedSimd = 'native' | 'enabled'

/** The reason relaxed SIMD could not be enabled (`enableRelaxedSimd`'s Left). */
export interface RelaxedSimdUnavailable {
  readonly _tag: 'RelaxedSimdUnavailable'
  readonly reason: string
}

const left = (reason: string): E.Either<RelaxedSimdUnavailable, RelaxedSimd> => E.left({ _tag: 'RelaxedSimdUnavailable', reason })

interface V8Module {
  readonly setFlagsFromString: (flags: string) => void
}

/**
 * Lets this process's WebAssembly use relaxed SIMD (see the module comment).
 * @example enableRelaxedSimd() // E.right('enabled') on Node 20.16+, E.right('native') on Node 22
 */
export const enableRelaxedSimd = (): E.Either<RelaxedSimdUnavailable, RelaxedSimd> => {
  if (hasRelaxedSwizzle()) return E.right('native')
  const proc = (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process
  const v8 = proc?.getBuiltinModule?.('node:v8') as V8Module | undefined
  if (v8 === undefined) return left('relaxed SIMD is not in this engine, and only Node (≥ 20.16, process.getBuiltinModule) can turn it on at run time')
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd')
  } catch (e) {
    return left(`V8 refused the flag --experimental-wasm-relaxed-simd: ${String(e)}`)
  }
  return reprobeRelaxedSwizzle() ? E.right('enabled') : left('the flag --experimental-wasm-relaxed-simd was set, but this engine still does not validate i8x16.relaxed_swizzle')
}

/**
 * The fused epilogue in generated JavaScript: the integer rule of `Epilogue` (kernels.ts), the
 * twin of `kernels-wasm/epilogue.ts`. Word addresses (not bytes) throughout.
 */
import type { Epilogue } from '../kernels.js'
import { unreachable } from '../../../dsl/dslErrors.js'

/**
 * Statements that declare `const <bit>` (0 or 1) for the int32 `dot`, with the unit's header at
 * word `hdr`, its uint32 draw at word `draw` and the window table at word `table`.
 */
export const epilogueBitJs = (e: Epilogue, dot: string, hdr: string, draw: string, table: string, bit: string): string => {
  // Branch-free: d ∈ [0, span) iff d and span − 1 − d are both non-negative (no int32 overflow
  // because |dot|, |lo| ≤ 2^29 and span < 2^30, see epilogue.ts).
  if (e.kind === 'sign') return `const d_ = ${dot} - I32[${hdr}]; const ${bit} = ((d_ | (I32[${hdr} + 1] - 1 - d_)) >>> 31) ^ 1;`
  if (e.kind === 'dot') return unreachable('the dot epilogue writes floats, not bits')
  return `const d_ = ${dot} - I32[${hdr}];
        const ${bit} = (d_ >>> 0) < I32[${hdr} + 1] ? (U32[${draw}] < U32[${table} + I32[${hdr} + 2] + d_] ? 1 : 0) : (I32[${hdr} + 3] >>> (d_ < 0 ? 0 : 1)) & 1;`
}

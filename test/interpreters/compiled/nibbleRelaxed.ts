/**
 * Run by bytes-nibbles.test.ts in a Node with `--experimental-wasm-relaxed-simd` (Node 20 lacks
 * relaxed SIMD by default): the nibble kernel with `i8x16.relaxed_swizzle` ≡ the byte masks on
 * generated shapes; prints one line, or throws the first difference.
 */
import fc from 'fast-check'
import { hasRelaxedSwizzle } from '../../../src/wasm/relaxed.js'
import { arbShape, outputs } from './nibbleCase.js'

if (!hasRelaxedSwizzle()) throw new Error('this Node has no relaxed SIMD')
fc.assert(
  fc.property(arbShape, (s) => {
    const { want, got } = outputs(s, true)
    const at = got.findIndex((v, i) => v !== want[i])
    if (at >= 0) throw new Error(`${JSON.stringify(s)}: word ${at} is ${got[at]}, the masks' ${want[at]}`)
  }),
  { numRuns: 30, seed: 20261214 },
)
console.log('relaxed ≡ masks on 30 shapes')

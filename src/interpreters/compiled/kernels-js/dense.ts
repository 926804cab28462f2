/**
 * The binary dense kernel as generated JavaScript: sizes baked in as literals, the k-loop fully
 * unrolled (up to 256 words) with the row's x words hoisted into locals (up to 64 words), and
 * a Harley–Seal popcount of x XOR w over 32-bit words. The epilogue is the same integer rule as
 * the WebAssembly kernel's.
 *
 * The source defines `function(rows, x, w, out, ...epilogue buffers)` (byte addresses) over the
 * views `I32`, `U32`, `F64` of the shared memory, which the factory receives.
 */
import type { BinaryDense } from '../kernels.js'
import { rowWords32 } from '../layout.js'
import { harleySeal } from './popcount.js'
import { epilogueBitJs } from './epilogue.js'

const HOIST_LIMIT = 64
const UNROLL_LIMIT = 256

/** The JS source of the kernel: a function expression. */
export const binaryDenseJs = (k: BinaryDense): string => {
  const e = k.epilogue
  const xs = rowWords32(k.width, 32)
  const hoist = xs <= HOIST_LIMIT
  const xWord = (at: string): string => (hoist ? `x${at}` : `I32[xb + ${at}]`)
  const pop = harleySeal(xs, (at) => `(${xWord(at)} ^ I32[wb + ${at}])`, 'pc', xs > UNROLL_LIMIT ? 'kb' : undefined)
  const hoisted = hoist ? `const ${Array.from({ length: xs }, (_, i) => `x${i} = I32[xb + ${i}]`).join(', ')};` : ''
  const header = `function dense_${k.label.replace(/\W/g, '_')}(rows, x, w, out, h, t, rnd) {
  x >>= 2; w >>= 2; h >>= 2; t >>= 2; rnd >>= 2;`
  if (e.kind === 'dot') {
    return `${header}
  out >>= 3;
  for (let r = 0; r < rows; r++) {
    const xb = x + r * ${xs};
    ${hoisted}
    let wb = w, ob = out + r * ${k.n};
    for (let j = 0; j < ${k.n}; j++, wb += ${xs}) {
      let pc = 0;
      ${pop};
      F64[ob + j] = ${k.k} - 2 * pc;
    }
  }
}`
  }
  const os = rowWords32(k.n, 32)
  const hb = e.kind === 'sign' ? 2 : 4
  return `${header}
  out >>= 2;
  for (let r = 0; r < rows; r++) {
    const xb = x + r * ${xs};
    ${hoisted}
    let wb = w, hb = h, db = rnd + r * ${k.n};
    const ob = out + r * ${os};
    for (let jw = 0; jw < ${os}; jw++) {
      const count = jw < ${Math.floor(k.n / 32)} ? 32 : ${k.n % 32};
      let bits = 0;
      for (let jj = 0; jj < count; jj++, wb += ${xs}, hb += ${hb}, db++) {
        let pc = 0;
        ${pop};
        const dot = ${k.k} - 2 * pc;
        ${epilogueBitJs(e, 'dot', 'hb', 'db', 't', 'bit')}
        bits |= bit << jj;
      }
      I32[ob + jw] = bits;
    }
  }
}`
}

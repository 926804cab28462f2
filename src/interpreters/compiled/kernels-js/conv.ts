/**
 * Generated JavaScript for the other popcount kernels, with sizes and offsets baked in:
 *
 * - BinaryConv: per output position and channel, a Harley–Seal popcount over every tap × word
 *   of (x XOR w) (AND the mask for a 0 pad), the tap offsets being literals;
 * - PlaneDense: per unit, the eight plane popcounts of (plane AND w), Harley–Seal each.
 *
 * The epilogue is the dense kernel's (epilogue.ts). Word addresses throughout.
 */
import type { BinaryConv, PlaneDense } from '../kernels.js'
import { planesBytes, planesSumOffset, rowWords32 } from '../layout.js'
import { epilogueBitJs } from './epilogue.js'
import { harleySeal } from './popcount.js'

const UNROLL_LIMIT = 256

export const binaryConvJs = (k: BinaryConv): string => {
  const e = k.epilogue
  const ws = rowWords32(k.c, 32)
  const masked = k.mask !== undefined
  const words: string[] = []
  for (let dy = 0; dy < k.kh; dy++)
    for (let dx = 0; dx < k.kw; dx++)
      for (let i = 0; i < ws; i++) {
        const off = (dy * k.wp + dx) * ws + i
        const wOff = (dy * k.kw + dx) * ws + i
        words.push(masked ? `((I32[xa + ${off}] ^ I32[wa + ${wOff}]) & I32[ma + ${off}])` : `(I32[xa + ${off}] ^ I32[wa + ${wOff}])`)
      }
  const tapsPerUnit = k.kh * k.kw * ws
  // Beyond the unroll limit, loop over kernel rows (dy) with the row's taps unrolled.
  const pop = words.length <= UNROLL_LIMIT
    ? harleySeal(words.length, (at) => words[Number(at)]!, 'pc')
    : `for (let dy = 0; dy < ${k.kh}; dy++) {
        const xr = xa + dy * ${k.wp * ws}, wr = wa + dy * ${k.kw * ws}, mr = ma + dy * ${k.wp * ws};
        ${harleySeal(k.kw * ws, (at) => {
          const q = Number(at)
          const off = Math.floor(q / ws) * ws + (q % ws)
          return masked ? `((I32[xr + ${off}] ^ I32[wr + ${off}]) & I32[mr + ${off}])` : `(I32[xr + ${off}] ^ I32[wr + ${off}])`
        }, 'pc')}
      }`
  const hw = k.ho * k.wo
  const kEff = masked ? `I32[valid + y * ${k.wo} + xo]` : String(k.c * k.kh * k.kw)
  const head = `function conv_${k.label.replace(/\W/g, '_')}(rows, x, w, out, ${masked ? 'mask, valid, ' : ''}h, t, rnd) {
  x >>= 2; w >>= 2; h >>= 2; t >>= 2; rnd >>= 2; ${masked ? 'mask >>= 2; valid >>= 2;' : 'const ma = 0;'}
  for (let r = 0; r < rows; r++) for (let y = 0; y < ${k.ho}; y++) for (let xo = 0; xo < ${k.wo}; xo++) {
    const xa = x + ((r * ${k.hp} + y * ${k.sh}) * ${k.wp} + xo * ${k.sw}) * ${ws};
    ${masked ? `const ma = mask + ((y * ${k.sh}) * ${k.wp} + xo * ${k.sw}) * ${ws};` : ''}
    const kEff = ${kEff};
    const nchw = (r * ${k.o * hw}) + y * ${k.wo} + xo;`
  if (e.kind === 'dot') {
    return `${head}
    out >>= 3;
    for (let o = 0, wa = w; o < ${k.o}; o++, wa += ${tapsPerUnit}) {
      let pc = 0;
      ${pop};
      F64[out + nchw + o * ${hw}] = kEff - 2 * pc;
    }
    out <<= 3;
  }
}`
  }
  const orow = rowWords32(k.o, 32)
  const hb = e.kind === 'sign' ? 2 : 4
  return `${head}
    const ob = (out >> 2) + ((r * ${k.ho} + y) * ${k.wo} + xo) * ${orow};
    let wa = w, hb = h, db = rnd + nchw;
    for (let jw = 0; jw < ${orow}; jw++) {
      const count = jw < ${Math.floor(k.o / 32)} ? 32 : ${k.o % 32};
      let bits = 0;
      for (let jj = 0; jj < count; jj++, wa += ${tapsPerUnit}, hb += ${hb}, db += ${hw}) {
        let pc = 0;
        ${pop};
        const dot = kEff - 2 * pc;
        ${epilogueBitJs(e, 'dot', 'hb', 'db', 't', 'bit')}
        bits |= bit << jj;
      }
      I32[ob + jw] = bits;
    }
  }
}`
}

export const planeDenseJs = (k: PlaneDense): string => {
  const e = k.epilogue
  const ws = rowWords32(k.k, 32)
  const per = planesBytes(k.k, 32) / 4
  const sumAt = planesSumOffset(k.k, 32) / 4
  const planes = Array.from({ length: 8 }, (_, p) =>
    `c = 0; ${harleySeal(ws, (at) => `(I32[pb + ${p * ws} + ${at}] & I32[wb + ${at}])`, 'c', ws > UNROLL_LIMIT ? 'kb' : undefined)}; both += c << ${p};`).join('\n        ')
  const head = `function planes_${k.label.replace(/\W/g, '_')}(rows, planes, w, out, h, t, rnd) {
  planes >>= 2; w >>= 2; h >>= 2; t >>= 2; rnd >>= 2;
  for (let r = 0; r < rows; r++) {
    const pb = planes + r * ${per};
    const sum = I32[pb + ${sumAt}];`
  if (e.kind === 'dot') {
    return `${head}
    for (let j = 0, wb = w; j < ${k.n}; j++, wb += ${ws}) {
      let both = 0, c = 0;
      ${planes}
      F64[(out >> 3) + r * ${k.n} + j] = 2 * both - sum;
    }
  }
}`
  }
  const os = rowWords32(k.n, 32)
  const hb = e.kind === 'sign' ? 2 : 4
  return `${head}
    let wb = w, hb = h, db = rnd + r * ${k.n};
    const ob = (out >> 2) + r * ${os};
    for (let jw = 0; jw < ${os}; jw++) {
      const count = jw < ${Math.floor(k.n / 32)} ? 32 : ${k.n % 32};
      let bits = 0;
      for (let jj = 0; jj < count; jj++, wb += ${ws}, hb += ${hb}, db++) {
        let both = 0, c = 0;
        ${planes}
        const dot = 2 * both - sum;
        ${epilogueBitJs(e, 'dot', 'hb', 'db', 't', 'bit')}
        bits |= bit << jj;
      }
      I32[ob + jw] = bits;
    }
  }
}`
}

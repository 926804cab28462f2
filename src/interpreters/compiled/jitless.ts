/**
 * The jitless back end: every kernel as a plain typed-array loop (no `eval`, no WebAssembly), for
 * environments that forbid both (strict CSP, some embedded runtimes). Sizes are read from the
 * kernel descriptor at run time; the bit layout is the 32-bit one of `layout.ts`.
 *
 * The WebAssembly and JavaScript back ends reuse these loops for the kernels they do not
 * specialise (`Unpack`, for instance): a rule table entry per kernel tag, like theirs.
 */
import { keyOfWords, fillBits } from '../../dsl/random.js'
import type { Epilogue, KernelOf, KernelTag } from './kernels.js'
import { bytesPerExample, bytesRow, onesRow, planesBytes, planesSumOffset, rowWords32 } from './layout.js'
import type { WordBits } from './layout.js'
import type { Views } from './plan.js'
import { packPm1Loop, stageBytesLoop } from './jitless-entry.js'
import { realConvLoop } from './jitless-realconv.js'
import type { Bind, KernelFn } from './boundKernel.js'

export type { Bind, KernelFn } from './boundKernel.js'

export type JitlessRules = { readonly [K in KernelTag]: (k: KernelOf<K>, wordBits: WordBits) => Bind }

/** SWAR popcount of an int32. */
export const pop32 = (v: number): number => {
  v = v - ((v >>> 1) & 0x55555555)
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333)
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24
}

/**
 * The epilogue rule for one output: writes the bit of unit j into packed row r, or the float64
 * dot at element `idx` (the flat row-major / NCHW index, which is also the draw's index).
 * `ep` are the epilogue buffers' byte addresses in `buffersOf` order.
 */
const epilogueWriter = (e: Epilogue, n: number, wordBits: WordBits) => (views: Views, out: number, ep: readonly number[]) => {
  const { i32, u32, f64 } = views
  if (e.kind === 'dot') return (_r: number, _j: number, dot: number, idx: number): void => { f64[out / 8 + idx] = dot }
  const os = rowWords32(n, wordBits)
  const setBit = (r: number, j: number, bit: number): void => {
    if (bit) i32[out / 4 + r * os + (j >>> 5)]! |= 1 << (j & 31)
  }
  if (e.kind === 'sign') {
    const t = ep[0]! / 4
    return (r: number, j: number, dot: number, _idx: number): void => setBit(r, j, (dot - i32[t + 2 * j]!) >>> 0 < i32[t + 2 * j + 1]! ? 1 : 0)
  }
  const [h, tab, rnd] = [ep[0]! / 4, ep[1]! / 4, ep[2]! / 4]
  return (r: number, j: number, dot: number, idx: number): void => {
    const d = dot - i32[h + 4 * j]!
    const bit = d >>> 0 < i32[h + 4 * j + 1]!
      ? (u32[rnd + idx]! < u32[tab + i32[h + 4 * j + 2]! + d]! ? 1 : 0)
      : (i32[h + 4 * j + 3]! >>> (d < 0 ? 0 : 1)) & 1
    setBit(r, j, bit)
  }
}

const clearRows = (views: Views, out: number, rows: number, words: number): void => {
  views.i32.fill(0, out / 4, out / 4 + rows * words)
}

export const jitlessRules: JitlessRules = {
  BinaryDense: (k, wb) => (views) => {
    const xs = rowWords32(k.width, wb)
    const writer = epilogueWriter(k.epilogue, k.n, wb)
    return (rows, x, w, out, ...ep) => {
      const I = views.i32
      const put = writer(views, out!, ep)
      if (k.epilogue.kind !== 'dot') clearRows(views, out!, rows, rowWords32(k.n, wb))
      for (let r = 0; r < rows; r++) {
        const xb = x! / 4 + r * xs
        for (let j = 0; j < k.n; j++) {
          const wbase = w! / 4 + j * xs
          let pc = 0
          for (let i = 0; i < xs; i++) pc += pop32(I[xb + i]! ^ I[wbase + i]!)
          put(r, j, k.k - 2 * pc, r * k.n + j)
        }
      }
    }
  },
  RealDense: (k, wb) => (views) => (rows, x, w, out) => {
    const { i32, f64 } = views
    const ws = rowWords32(k.k, wb)
    for (let r = 0; r < rows; r++) {
      const xb = x! / 8 + r * k.k
      for (let j = 0; j < k.n; j++) {
        const wbase = w! / 4 + j * ws
        let acc = 0
        // Sign-select in the reference's order (k ascending): x·(±1) is exactly ±x.
        for (let i = 0; i < k.k; i++) acc += (i32[wbase + (i >>> 5)]! >>> (i & 31)) & 1 ? f64[xb + i]! : -f64[xb + i]!
        f64[out! / 8 + r * k.n + j] = acc
      }
    }
  },
  PackPlanes: (k, wb) => (views) => (rows, x, planes) => {
    const { i32, f64 } = views
    const ws = rowWords32(k.k, wb)
    const per = planesBytes(k.k, wb) / 4
    const sumAt = planesSumOffset(k.k, wb) / 4
    i32.fill(0, planes! / 4, planes! / 4 + rows * per)
    let ok = 1
    for (let r = 0; r < rows; r++) {
      const base = planes! / 4 + r * per
      let sum = 0
      for (let i = 0; i < k.k; i++) {
        const v = f64[x! / 8 + r * k.k + i]!
        if (!(v >= 0 && v <= 255 && Math.floor(v) === v)) ok = 0
        const iv = v & 255
        sum += iv
        for (let p = 0; p < 8; p++) if ((iv >>> p) & 1) i32[base + p * ws + (i >>> 5)]! |= 1 << (i & 31)
      }
      i32[base + sumAt] = sum
    }
    return ok
  },
  PlaneDense: (k, wb) => (views) => {
    const ws = rowWords32(k.k, wb)
    const writer = epilogueWriter(k.epilogue, k.n, wb)
    const per = planesBytes(k.k, wb) / 4
    const sumAt = planesSumOffset(k.k, wb) / 4
    // dot = Σ_p 2^p (2·popcount(plane_p AND w) − popcount(plane_p)) = 2·Σ_p 2^p popcount(plane_p AND w) − Σ x.
    return (rows, planes, w, out, ...ep) => {
      const I = views.i32
      const put = writer(views, out!, ep)
      if (k.epilogue.kind !== 'dot') clearRows(views, out!, rows, rowWords32(k.n, wb))
      for (let r = 0; r < rows; r++) {
        const pb = planes! / 4 + r * per
        for (let j = 0; j < k.n; j++) {
          const wbase = w! / 4 + j * ws
          let both = 0
          for (let p = 0; p < 8; p++) {
            let c = 0
            for (let i = 0; i < ws; i++) c += pop32(I[pb + p * ws + i]! & I[wbase + i]!)
            both += c << p
          }
          put(r, j, 2 * both - I[pb + sumAt]!, r * k.n + j)
        }
      }
    }
  },
  PackBytes: (k) => (views) => (rows, x, bytes) => {
    const { u8, i32, f64 } = views
    const row = bytesPerExample(k.k)
    let ok = 1
    for (let r = 0; r < rows; r++) {
      const base = bytes! + r * row
      let sum = 0
      for (let i = 0; i < k.k; i++) {
        const v = f64[x! / 8 + r * k.k + i]!
        if (!(v >= 0 && v <= 255 && Math.floor(v) === v)) ok = 0
        u8[base + i] = v & 255
        sum += v & 255
      }
      u8.fill(0, base + k.k, base + bytesRow(k.k))
      i32[(base + bytesRow(k.k)) / 4] = sum
    }
    return ok
  },
  ByteDense: (k, wb) => (views) => {
    const row = bytesPerExample(k.k)
    const wrow = bytesRow(k.k)
    const writer = epilogueWriter(k.epilogue, k.n, wb)
    return (rows, bytes, w, out, ...ep) => {
      const { u8, i32 } = views
      const put = writer(views, out!, ep)
      if (k.epilogue.kind !== 'dot') clearRows(views, out!, rows, rowWords32(k.n, wb))
      for (let r = 0; r < rows; r++) {
        const xb = bytes! + r * row
        for (let j = 0; j < k.n; j++) {
          let s = 0
          for (let i = 0; i < k.k; i++) s += u8[xb + i]! & u8[w! + j * wrow + i]!
          put(r, j, 2 * s - i32[(xb + wrow) / 4]!, r * k.n + j)
        }
      }
    }
  },
  BinaryHead: (k, wb) => (views) => (rows, x, w, out, order) => {
    const { i32, f64 } = views
    const xs = rowWords32(k.width, wb)
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < k.n; j++) {
        let acc = 0
        for (let i = 0; i < k.k; i++) {
          const f = order === undefined ? i : i32[order / 4 + i]!
          const v = f64[w! / 8 + i * k.n + j]!
          acc += (i32[x! / 4 + r * xs + (f >>> 5)]! >>> (f & 31)) & 1 ? v : -v
        }
        f64[out! / 8 + r * k.n + j] = acc
      }
  },
  PackSign: (k, wb) => (views) => (rows, src, dst) => {
    const { i32, f64 } = views
    const g = k.geometry
    if (g.form === 'rows') {
      const ws = rowWords32(g.n, wb)
      clearRows(views, dst!, rows, ws)
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < g.n; i++) if (f64[src! / 8 + r * g.n + i]! >= 0) i32[dst! / 4 + r * ws + (i >>> 5)]! |= 1 << (i & 31)
      return
    }
    const ws = rowWords32(g.c, wb)
    clearRows(views, dst!, rows * g.h * g.w, ws)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < g.c; c++)
        for (let y = 0; y < g.h; y++)
          for (let x = 0; x < g.w; x++)
            if (f64[src! / 8 + ((r * g.c + c) * g.h + y) * g.w + x]! >= 0) i32[dst! / 4 + ((r * g.h + y) * g.w + x) * ws + (c >>> 5)]! |= 1 << (c & 31)
  },
  Unpack: (k, wb) => (views) => (rows, src, dst) => {
    const { i32, f64 } = views
    const g = k.geometry
    if (g.form === 'rows') {
      const ws = rowWords32(g.n, wb)
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < g.n; i++) f64[dst! / 8 + r * g.n + i] = (i32[src! / 4 + r * ws + (i >>> 5)]! >>> (i & 31)) & 1 ? 1 : -1
      return
    }
    const ws = rowWords32(g.c, wb)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < g.c; c++)
        for (let y = 0; y < g.h; y++)
          for (let x = 0; x < g.w; x++)
            f64[dst! / 8 + ((r * g.c + c) * g.h + y) * g.w + x] = (i32[src! / 4 + ((r * g.h + y) * g.w + x) * ws + (c >>> 5)]! >>> (c & 31)) & 1 ? 1 : -1
  },
  PadBits: (k, wb) => (views) => (rows, src, dst) => {
    const i32 = views.i32
    const ws = rowWords32(k.c, wb)
    const hp = k.h + 2 * k.ph
    const wp = k.w + 2 * k.pw
    const ones = onesRow(k.c, wb)
    for (let r = 0; r < rows; r++)
      for (let y = 0; y < hp; y++)
        for (let x = 0; x < wp; x++) {
          const d = dst! / 4 + ((r * hp + y) * wp + x) * ws
          const sy = y - k.ph
          const sx = x - k.pw
          if (sy >= 0 && sy < k.h && sx >= 0 && sx < k.w) i32.copyWithin(d, src! / 4 + ((r * k.h + sy) * k.w + sx) * ws, src! / 4 + ((r * k.h + sy) * k.w + sx + 1) * ws)
          else if (k.ones) i32.set(ones, d)
          else i32.fill(0, d, d + ws)
        }
  },
  PoolOr: (k, wb) => (views) => (rows, src, dst, invert) => {
    const i32 = views.i32
    const ws = rowWords32(k.c, wb)
    for (let r = 0; r < rows; r++)
      for (let y = 0; y < k.ho; y++)
        for (let x = 0; x < k.wo; x++) {
          const d = dst! / 4 + ((r * k.ho + y) * k.wo + x) * ws
          for (let i = 0; i < ws; i++) {
            // AND-pooled channels: ¬OR(¬x) (the padding bits of `invert` are zero).
            const inv = invert === undefined ? 0 : i32[invert / 4 + i]!
            let v = 0
            for (let dy = 0; dy < k.kh; dy++)
              for (let dx = 0; dx < k.kw; dx++) v |= i32[src! / 4 + ((r * k.h + y * k.sh + dy) * k.w + x * k.sw + dx) * ws + i]! ^ inv
            i32[d + i] = v ^ inv
          }
        }
  },
  BinaryConv: (k, wb) => (views) => {
    const ws = rowWords32(k.c, wb)
    const writer = epilogueWriter(k.epilogue, k.o, wb)
    const full = k.c * k.kh * k.kw
    return (rows, x, w, out, ...rest) => {
      const I = views.i32
      const [mask, valid] = k.mask === undefined ? [undefined, undefined] : [rest[0]! / 4, rest[1]! / 4]
      const put = writer(views, out!, k.mask === undefined ? rest : rest.slice(2))
      if (k.epilogue.kind !== 'dot') clearRows(views, out!, rows * k.ho * k.wo, rowWords32(k.o, wb))
      for (let r = 0; r < rows; r++)
        for (let y = 0; y < k.ho; y++)
          for (let xo = 0; xo < k.wo; xo++) {
            const row = (r * k.ho + y) * k.wo + xo
            for (let o = 0; o < k.o; o++) {
              let pc = 0
              for (let dy = 0; dy < k.kh; dy++)
                for (let dx = 0; dx < k.kw; dx++) {
                  const at = (y * k.sh + dy) * k.wp + xo * k.sw + dx
                  const xr = x! / 4 + (r * k.hp * k.wp + at) * ws
                  const wr = w! / 4 + ((o * k.kh + dy) * k.kw + dx) * ws
                  for (let i = 0; i < ws; i++) {
                    const v = I[xr + i]! ^ I[wr + i]!
                    pc += pop32(mask === undefined ? v : v & I[mask + at * ws + i]!)
                  }
                }
              const kEff = valid === undefined ? full : I[valid + y * k.wo + xo]!
              put(row, o, kEff - 2 * pc, ((r * k.o + o) * k.ho + y) * k.wo + xo)
            }
          }
    }
  },
  RealConv: realConvLoop,
  PackPm1: packPm1Loop,
  StageBytes: stageBytesLoop,
  FillRandom: (k) => (views) => (rows, out, k0, k1, first, odd) => {
    const count = k.perExample ? rows * k.count : k.count
    fillBits(keyOfWords(k0!, k1!), 2 * (first! >>> 0) + odd!, views.u32.subarray(out! / 4, out! / 4 + count))
  },
}

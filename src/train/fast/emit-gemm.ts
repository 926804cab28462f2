/**
 * WebAssembly code of the training products, generated as bytes by our own builder:
 *
 * - `gemm`: C = A·B in single precision over packed panels (BLIS-style). A is packed in panels
 *   of `mr` rows stored depth-major (the `mr` values of one depth index are adjacent), B in
 *   panels of `nr` columns stored the same way, both zero-padded, so the micro-kernel always
 *   computes a full `mr × nr` block held in `mr·nr/4` f32x4 accumulators: per depth index it
 *   loads `nr/4` vectors of B, broadcasts `mr` scalars of A, and does `mr·nr/4` multiply-adds.
 *   Each output element is one lane of one accumulator summed in depth order, so the rounding is
 *   that of a sequential single-precision dot product.
 * - `bitgemm`: ±1 × ±1 products as XOR + popcount over rows packed in the one bit layout
 *   (`src/wasm/bitLayout.ts`), by the one XOR–popcount emitter (`src/wasm/popcount.ts`).
 */
import type { Code, WasmFunction } from '../../wasm/code.js'
import { doLoop, func, get, i32c, i32Store, set, i32Add as add, i32Mul as mul } from '../../wasm/code.js'
import { assemble } from '../../wasm/module.js'
import { op } from '../../wasm/opcodes.js'
import { xorPopcount } from '../../wasm/popcount.js'
import { packDepthMajor, packRowMajor, unpackF32 } from './emit-pack.js'
import { samplerFunctions } from './sample-wasm.js'
import { convFunctions } from './emit-conv.js'
import { bitPackers } from './emit-bits.js'
import { stLogistic } from './emit-st.js'
import { f32x4Add, f32x4Madd, f32x4Mul, vload, vsplat32, vstore, vzero } from '../../wasm/simd.js'
import { InternalError } from '../../dsl/dslErrors.js'

/** Register blocking of the micro-kernel. */
export interface Blocking {
  /** Rows of A per panel (broadcast scalars). */
  readonly mr: number
  /** Columns of B per panel, a multiple of 4 (f32x4 vectors). */
  readonly nr: number
  /** Depth indices per loop iteration; packed depth is padded to a multiple of it. */
  readonly unroll: number
  /** Use the relaxed-SIMD multiply-add (only if the host validates it). */
  readonly fma: boolean
}

/** The blocking measured fastest on the project's machines (see bench/train.ts and the report). */
export const defaultBlocking: Blocking = { mr: 4, nr: 8, unroll: 1, fma: false }


/**
 * `gemm(aPack, bPack, c, mPanels, nPanels, kpad, ldcBytes)`: for every panel pair, C block =
 * A panel · B panel (overwritten, not accumulated). Byte addresses; `kpad ≥ unroll` and a
 * multiple of it; `ldcBytes` is the padded row length of C in bytes; both panel counts ≥ 1.
 * `gemm_acc` (`accumulate`): C block += A panel · B panel, the accumulators starting from C's
 * f32 values, so a product over a long depth taken in consecutive blocks of it is the same
 * sequential sum per element as one call over the whole depth.
 */
export const gemmFunction = ({ mr, nr, unroll, fma }: Blocking, accumulate = false): WasmFunction =>
  func(accumulate ? 'gemm_acc' : 'gemm', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (p, local) => {
    const [aPack, bPack, c, mPanels, nPanels, kpad, ldc] = p as [number, number, number, number, number, number, number]
    if (nr % 4 !== 0 || mr < 1 || unroll < 1) throw new InternalError(`bad blocking ${mr}×${nr}/${unroll}`)
    const nv = nr / 4
    const jp = local('i32')
    const ip = local('i32')
    const ap = local('i32')
    const bp = local('i32')
    const aEnd = local('i32')
    const cp = local('i32')
    const aBytes = local('i32')
    const bBytes = local('i32')
    const acc = Array.from({ length: mr * nv }, () => local('v128'))
    const bv = Array.from({ length: nv }, () => local('v128'))
    const av = local('v128')
    const step: Code[] = []
    for (let u = 0; u < unroll; u++) {
      for (let v = 0; v < nv; v++) step.push(set(bv[v]!, vload(get(bp), (u * nr + 4 * v) * 4)))
      for (let r = 0; r < mr; r++) {
        step.push(set(av, vsplat32(get(ap), (u * mr + r) * 4)))
        for (let v = 0; v < nv; v++) {
          const a = acc[r * nv + v]!
          step.push(set(a, fma ? f32x4Madd(get(av), get(bv[v]!), get(a)) : f32x4Add(get(a), f32x4Mul(get(av), get(bv[v]!)))))
        }
      }
    }
    const loads: Code[] = []
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nv; v++) loads.push(set(acc[r * nv + v]!, vload(get(cp), 16 * v)))
      if (r + 1 < mr) loads.push(set(cp, add(get(cp), get(ldc))))
    }
    const cBlock = set(cp, add(add(get(c), mul(mul(get(ip), i32c(mr)), get(ldc))), mul(get(jp), i32c(nr * 4))))
    const stores: Code[] = []
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < nv; v++) stores.push(vstore(get(cp), get(acc[r * nv + v]!), 16 * v))
      if (r + 1 < mr) stores.push(set(cp, add(get(cp), get(ldc))))
    }
    return [
      set(aBytes, mul(get(kpad), i32c(mr * 4))),
      set(bBytes, mul(get(kpad), i32c(nr * 4))),
      doLoop(jp, i32c(0), get(nPanels), 1, [
        doLoop(ip, i32c(0), get(mPanels), 1, [
          accumulate ? [cBlock, loads] : acc.map((a) => set(a, vzero)),
          set(bp, add(get(bPack), mul(get(jp), get(bBytes)))),
          set(ap, add(get(aPack), mul(get(ip), get(aBytes)))),
          set(aEnd, add(get(ap), get(aBytes))),
          doLoop(ap, get(ap), get(aEnd), unroll * mr * 4, [step, set(bp, add(get(bp), i32c(unroll * nr * 4)))]),
          cBlock,
          stores,
        ]),
      ]),
    ]
  })

/**
 * `bitgemm(aBits, bBits, c, m, n, words)`: c[i·n + j] (i32) = popcount(A row i XOR B row j)
 * over `words` 64-bit words (any count ≥ 1: rows of the one bit layout, zero padding adds
 * nothing), by the back end's XOR–popcount emitter (`src/wasm/popcount.ts`, the inner loop of
 * the compiled dense kernels). Row i of A starts at `aBits + 8·words·i`, row j of B at
 * `bBits + 8·words·j`; all of B is swept for each row of A.
 */
export const bitgemmFunction = (): WasmFunction =>
  func('bitgemm', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], (p, local) => {
    const [aBits, bBits, c, m, n, words] = p as [number, number, number, number, number, number]
    const i = local('i32')
    const j = local('i32')
    const pa = local('i32')
    const pb = local('i32')
    const cp = local('i32')
    const rowBytes = local('i32')
    const pairsEnd = local('i32')
    const odd = local('i32')
    // pb walks B's rows in place: the dot leaves it at the next row.
    const pop = xorPopcount({ x: pa, w: pb, words: { pairsEnd, odd }, local })
    return [
      set(rowBytes, mul(get(words), i32c(8))),
      set(odd, [get(words), i32c(1), op.i32_and]),
      set(cp, get(c)),
      set(pa, get(aBits)),
      doLoop(i, i32c(0), get(m), 1, [
        set(pb, get(bBits)),
        set(pairsEnd, add(get(pa), [get(rowBytes), i32c(-16), op.i32_and])),
        doLoop(j, i32c(0), get(n), 1, [
          i32Store(get(cp), pop),
          set(cp, add(get(cp), i32c(4))),
        ]),
        set(pa, add(get(pa), get(rowBytes))),
      ]),
    ]
  })

/**
 * The module of the training kernels: `gemm` with the given blocking, `bitgemm`, `unpack_f32`, the
 * WebAssembly packers `pack_dm<w>` / `pack_rm<w>` for each panel width that is a multiple of 4,
 * the sampler's `random_draws` and `logistic_signs` (`sample-wasm.ts`), the convolution's
 * gathers and col2im (`emit-conv.ts`), the logistic ST factor `st_logistic` (`emit-st.ts`) and
 * `gemm_acc`
 * (`shared`: on a shared memory, for threads).
 */
export const gemmModule = (blocking: Blocking, shared = false): Uint8Array => {
  const widths = [...new Set([blocking.mr, blocking.nr])].filter((w) => w % 4 === 0)
  const packers = widths.flatMap((w) => [packDepthMajor(w), packRowMajor(w)])
  return assemble([gemmFunction(blocking), bitgemmFunction(), unpackF32(), ...packers, ...samplerFunctions(), ...convFunctions(), stLogistic(), gemmFunction(blocking, true), ...bitPackers()], 1, shared)
}

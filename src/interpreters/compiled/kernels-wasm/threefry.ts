/**
 * The uint32 draws of a stochastic site in WebAssembly SIMD: Threefry-2x32-20 (dsl/random.ts) on
 * four counter blocks per iteration (one per i32x4 lane), 20 rounds of add / rotate / xor with a
 * key injection every four, then the two output words interleaved so that draw i = word (i mod 2)
 * of block floor(i/2), exactly `fillBits(key, 0, ·)`. Writes whole groups of 32 draws (the buffer
 * has slack for the overrun); block counters stay below 2^32, so the high counter word is 0.
 *
 * Signature: (rows, out, k0, k1, block, odd) → (); `count` draws per example (or in total, if
 * static), the first being word `odd` of counter block `block` (a chunk of a larger batch, see
 * execute.ts `drawStart`): the blocks are written from out − 4·odd, so the draws land at out.
 * (The counters' low words are block + i, which must not wrap: the executor checks it.)
 */
import type { FillRandom } from '../kernels.js'
import type { Code, WasmFunction } from '../../../wasm/code.js'
import { forLoop, func, get, i32c, set, shuffle, simd, v128i32, v128Store } from '../../../wasm/code.js'
import { op } from '../../../wasm/opcodes.js'

const PARITY = 0x1bd11bda
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24]

/** Independent i32x4 streams per iteration, interleaved round by round so that one stream's
 * add–rotate–xor chain runs while the others wait (the rounds are a serial dependency chain; one
 * stream left the core idle most of the time: for 262 144 draws 0.52 ms with one stream, 0.32 ms
 * with four, on the Zen 4 bench machine). 32 draws per iteration, so the overrun past the last
 * draw is at most 31 uint32 (124 bytes), within the buffers' 128-byte slack (execute.ts). */
const STREAMS = 4

export const fillRandom = (k: FillRandom): WasmFunction =>
  func(`random_${k.label}`, new Array(6).fill('i32'), [], ([rows, out, k0, k1, first, odd], local) => {
    const oa = local('i32'), blk = local('i32'), end = local('i32')
    const xs = Array.from({ length: STREAMS }, () => [local('v128'), local('v128')] as const)
    const c = local('v128')
    const ks = [local('v128'), local('v128'), local('v128')] as const
    const splat = (v: Code): Code => [v, simd('i32x4_splat')]
    const add = (a: Code, b: Code): Code => [a, b, simd('i32x4_add')]
    const rounds: Code[] = []
    for (let round = 0; round < 20; round++) {
      const rot = ROTATIONS[round % 8]!
      for (const [x0, x1] of xs) {
        rounds.push(
          set(x0, add(get(x0), get(x1))),
          set(x1, [get(x1), i32c(rot), simd('i32x4_shl'), get(x1), i32c(32 - rot), simd('i32x4_shr_u'), simd('v128_or'), get(x0), simd('v128_xor')]),
        )
      }
      if (round % 4 === 3) {
        const s = (round + 1) / 4
        for (const [x0, x1] of xs) {
          rounds.push(
            set(x0, add(get(x0), get(ks[s % 3]!))),
            set(x1, add(add(get(x1), get(ks[(s + 1) % 3]!)), splat(i32c(s)))),
          )
        }
      }
    }
    return [
      set(ks[0], splat(get(k0!))),
      set(ks[1], splat(get(k1!))),
      set(ks[2], splat([get(k0!), get(k1!), op.i32_xor, i32c(PARITY), op.i32_xor])),
      set(oa, [get(out!), get(odd!), i32c(2), op.i32_shl, op.i32_sub]),
      // blocks needed: ceil((odd + draws) / 2), in steps of 4 per stream
      set(end, k.perExample ? [get(rows!), i32c(k.count), op.i32_mul, get(odd!), op.i32_add, i32c(1), op.i32_add, i32c(1), op.i32_shr_u] : i32c((k.count + 1) >> 1)),
      set(c, add(v128i32([0, 1, 2, 3]), splat(get(first!)))),
      forLoop(blk, i32c(0), get(end), 4 * STREAMS, [
        xs.map(([x0, x1], q) => [set(x0, add(q === 0 ? get(c) : add(get(c), splat(i32c(4 * q))), get(ks[0]))), set(x1, get(ks[1]))]),
        rounds,
        xs.map(([x0, x1], q) => [
          v128Store(get(oa), shuffle([0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23], get(x0), get(x1)), 32 * q),
          v128Store(get(oa), shuffle([8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31], get(x0), get(x1)), 32 * q + 16),
        ]),
        set(oa, [get(oa), i32c(32 * STREAMS), op.i32_add]),
        set(c, add(get(c), splat(i32c(4 * STREAMS)))),
      ]),
    ]
  })

/**
 * Sequential random draws for data generation and dataset splits, on top of the project's
 * counter-based PRNG (`src/dsl/random.ts`, Threefry-2x32-20). A `Stream` reads the draws
 * bits(k, 0), bits(k, 1), … of one key in order, buffered with `fillBits`, so a generator's output
 * is a pure function of its key. Each use derives its own key from the user's seed with a purpose
 * label (`siteKey(key(seed), 'data:<purpose>')`), so the split with seed 0 and the gradeval data
 * with seed 0 are independent.
 *
 * Splits and generated datasets are defined by these exact rules (and by random.ts), so changing
 * them changes the data: any change must bump the split-rule version in docs/datasets.md.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Key } from '../dsl/random.js'
import { fillBits, seedKey, siteKey } from '../dsl/random.js'
import type { DataError } from './dataErrors.js'
import { invalidData } from './dataErrors.js'

/** A mutable reader over one key's draws; create one per generator call, never share it. */
export interface Stream {
  /** The next uint32 draw. */
  readonly uint32: () => number
  /** A uniform float in [0, 1) from the next two draws (53 random bits). */
  readonly float: () => number
}

const CHUNK = 512

/**
 * The draws of `k` in order: bits(k, 0), bits(k, 1), …
 * @example const s = stream(key(1)); s.float() // the same value on every run
 */
export const stream = (k: Key): Stream => {
  const buffer = new Uint32Array(CHUNK)
  let start = 0
  let at = CHUNK
  const uint32 = (): number => {
    if (at === CHUNK) {
      fillBits(k, start, buffer)
      start += CHUNK
      at = 0
    }
    return buffer[at++]!
  }
  // High 27 bits of the first draw, high 26 of the second: 53 bits, exactly as in Math.random ports.
  const float = (): number => ((uint32() >>> 5) * 0x4000000 + (uint32() >>> 6)) / 0x20000000000000
  return { uint32, float }
}

/**
 * The key of a user seed for one purpose: `siteKey(key(seed), 'data:' + purpose)`; a seed that
 * is not an integer in [0, 2^53) is an error naming `where`.
 * @example seededKey(0, 'split') // right(Key)
 */
export const seededKey = (seed: number, purpose: string, where = 'seed'): E.Either<DataError, Key> =>
  E.bimap(
    (message: string) => invalidData(where, message),
    (k: Key) => siteKey(k, `data:${purpose}`),
  )(seedKey(seed))

/** A uniform integer in [0, n): floor(float · n); each value's probability is off by at most n/2^53 relative. */
export const uniformInt = (s: Stream, n: number): number => Math.floor(s.float() * n)

/** A uniform float in [lo, hi). */
export const uniform = (s: Stream, lo: number, hi: number): number => lo + (hi - lo) * s.float()

/** A standard normal draw by Box–Muller (cosine branch only; 1 − u keeps the log finite). */
export const normal = (s: Stream): number => {
  const u = 1 - s.float()
  const v = s.float()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/**
 * A uniformly random permutation of 0..n−1 (Fisher–Yates from the top: for i = n−1 down to 1,
 * swap positions i and j = uniformInt(s, i + 1)), a pure function of `k`.
 * @example permutation(5, key(1)) // e.g. Uint32Array [3, 0, 4, 1, 2], the same on every run
 */
export const permutation = (n: number, k: Key): Uint32Array => {
  const s = stream(k)
  const p = new Uint32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(s, i + 1)
    const tmp = p[i]!
    p[i] = p[j]!
    p[j] = tmp
  }
  return p
}

/**
 * The pure, counter-based, splittable PRNG of sbnkit: Threefry-2x32 with 20 rounds (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11), used the way JAX uses it.
 *
 * A `Key` is two uint32 words. Every draw is a pure function of (key, counter): there is no state to
 * advance, so the Monte Carlo interpreter, the estimators and the compiled WebAssembly interpreter
 * all see the same bits for (key, site, index). The counter space of one key is split in three
 * disjoint domains (the high counter word tells them apart), so a key's draws, its children and
 * its folded-in keys never reuse a counter:
 *
 *   bits(k, i)      counter (floor(i/2) mod 2^32, floor(i/2^33))   high word < 2^20, word i mod 2
 *   foldIn(k, d)    counter (d, 0xFFFFFFFE)                         both output words
 *   split(k, n)[j]  counter (j, 0xFFFFFFFF)                         both output words
 *
 * Full specification, statistical quality and test vectors: docs/random.md.
 */
import * as E from 'fp-ts/lib/Either.js'

// ---------------------------------------------------------------------------------------------
// Model

/** A PRNG key: two uint32 words. Mint with `key`, `split`, `foldIn` or `siteKey`. */
export type Key = readonly [number, number] & { readonly Key: unique symbol }

const TWO32 = 4294967296
const TWO53 = 9007199254740992
/** The Threefry key-schedule parity constant (Random123, from Skein). */
const PARITY = 0x1bd11bda
const SPLIT_DOMAIN = 0xffffffff
const FOLD_DOMAIN = 0xfffffffe

const mint = (k0: number, k1: number): Key => [k0 >>> 0, k1 >>> 0] as unknown as Key

// ---------------------------------------------------------------------------------------------
// The block function

/**
 * Threefry-2x32-20 of `count` consecutive counters starting at (c0, c1) (the low word c0 carries
 * into c1) under key (k0, k1); block b writes its two output words to out[at + 2b], out[at + 2b + 1].
 * Arithmetic is int32 (`| 0`), which is addition mod 2^32; a Uint32Array store reinterprets the
 * int32 bits as the unsigned word. Rotations per round: 13 15 26 6 | 17 29 16 24, repeated; a key
 * injection after every 4 rounds. The rounds are unrolled inside the loop because a call per block
 * costs V8 about three times the block itself.
 */
export const threefryBlocksInto = (
  k0: number, k1: number, c0: number, c1: number, count: number, out: Uint32Array, at: number,
): void => {
  const ks0 = k0 | 0
  const ks1 = k1 | 0
  const ks2 = (PARITY ^ ks0 ^ ks1) | 0
  let lo = c0 | 0
  let hi = c1 | 0
  for (let b = 0, j = at; b < count; b++, j += 2) {
    let x0 = (lo + ks0) | 0
    let x1 = (hi + ks1) | 0
    // rounds 0–3
    x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0
    x0 = (x0 + ks1) | 0; x1 = (x1 + ks2 + 1) | 0
    // rounds 4–7
    x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0
    x0 = (x0 + ks2) | 0; x1 = (x1 + ks0 + 2) | 0
    // rounds 8–11
    x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0
    x0 = (x0 + ks0) | 0; x1 = (x1 + ks1 + 3) | 0
    // rounds 12–15
    x0 = (x0 + x1) | 0; x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0
    x0 = (x0 + ks1) | 0; x1 = (x1 + ks2 + 4) | 0
    // rounds 16–19
    x0 = (x0 + x1) | 0; x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0
    x0 = (x0 + x1) | 0; x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0
    x0 = (x0 + ks2) | 0; x1 = (x1 + ks0 + 5) | 0
    out[j] = x0
    out[j + 1] = x1
    lo = (lo + 1) | 0
    if (lo === 0) hi = (hi + 1) | 0
  }
}

/**
 * Threefry-2x32-20 as a value: the output words (uint32) of counter `ctr` under key `k`.
 * @example threefry2x32([0, 0], [0, 0]) // [0x6b200159, 0x99ba4efe] (Random123 known answer)
 */
export const threefry2x32 = (k: readonly [number, number], ctr: readonly [number, number]): [number, number] => {
  const out = new Uint32Array(2)
  threefryBlocksInto(k[0], k[1], ctr[0], ctr[1], 1, out, 0)
  return [out[0]!, out[1]!]
}

// ---------------------------------------------------------------------------------------------
// Constructors

const seedError = (seed: number): string | undefined =>
  Number.isSafeInteger(seed) && seed >= 0 ? undefined : `a PRNG seed must be an integer in [0, 2^53), found ${seed}`

/**
 * The key of an integer seed in [0, 2^53): [floor(seed / 2^32), seed mod 2^32] (JAX's
 * `PRNGKey`: high word first). Throws RangeError for any other number; use `seedKey` for
 * seeds that come from users.
 * @example key(42) // [0, 42]
 */
export const key = (seed: number): Key => {
  const err = seedError(seed)
  if (err !== undefined) throw new RangeError(err)
  return mint(Math.floor(seed / TWO32), seed % TWO32)
}

/** `key`, with a bad seed (negative, fractional, ≥ 2^53, NaN) as a value. */
export const seedKey = (seed: number): E.Either<string, Key> => {
  const err = seedError(seed)
  return err === undefined ? E.right(key(seed)) : E.left(err)
}

/** A key from its two words (as printed in logs or stored in checkpoints), each taken mod 2^32. */
export const keyOfWords = (k0: number, k1: number): Key => mint(k0, k1)

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * `n` independent child keys (default 2): child j is Threefry(k, (j, 0xFFFFFFFF)).
 * Their counters differ from those of every draw and every folded-in key of `k`.
 * @example const [kInit, kTrain] = split(key(0))
 */
export const split = (k: Key, n = 2): Key[] => {
  if (!(Number.isSafeInteger(n) && n >= 0 && n <= TWO32))
    throw new RangeError(`split: n must be an integer in [0, 2^32], found ${n}`)
  const out = new Uint32Array(2)
  const keys: Key[] = []
  for (let j = 0; j < n; j++) {
    threefryBlocksInto(k[0], k[1], j, SPLIT_DOMAIN, 1, out, 0)
    keys.push(mint(out[0]!, out[1]!))
  }
  return keys
}

/**
 * The key for datum `data` (a uint32, e.g. a sample or step index): Threefry(k, (data, 0xFFFFFFFE)).
 * @example const kStep = foldIn(key(0), 17)
 */
export const foldIn = (k: Key, data: number): Key => {
  if (!(Number.isInteger(data) && data >= 0 && data < TWO32))
    throw new RangeError(`foldIn: data must be an integer in [0, 2^32), found ${data}`)
  const out = new Uint32Array(2)
  threefryBlocksInto(k[0], k[1], data, FOLD_DOMAIN, 1, out, 0)
  return mint(out[0]!, out[1]!)
}

const utf8 = new TextEncoder()

/**
 * FNV-1a (32-bit) of the UTF-8 bytes of a site id: offset basis 0x811C9DC5, prime 16777619.
 * @example siteHash('') // 0x811c9dc5
 */
export const siteHash = (site: string): number => {
  let h = 0x811c9dc5
  for (const byte of utf8.encode(site)) h = Math.imul(h ^ byte, 16777619)
  return h >>> 0
}

/**
 * The key of a stochastic site: `foldIn(k, siteHash(site))`.
 * @example const kSite = siteKey(key(0), 'hidden1')
 */
export const siteKey = (k: Key, site: string): Key => foldIn(k, siteHash(site))

// ---------------------------------------------------------------------------------------------
// Draws

// Compares count with 2^53 − start, which is exact, where start + count could round down.
const checkRange = (what: string, start: number, count: number): void => {
  if (!(Number.isSafeInteger(start) && start >= 0 && count <= TWO53 - start))
    throw new RangeError(`${what}: draw indices must be integers in [0, 2^53), found ${start}..${start + count - 1}`)
}

/**
 * Uint32 draw number `index` (0 ≤ index < 2^53) of key `k`: word (index mod 2) of Threefry(k, (block
 * mod 2^32, floor(block / 2^32))) with block = floor(index / 2). For many draws use `fillBits`.
 * @example bits(key(0), 0) === bits(key(0), 0) // true: a pure function of (key, index)
 */
export const bits = (k: Key, index: number): number => {
  checkRange('bits', index, 1)
  const block = Math.floor(index / 2)
  const out = new Uint32Array(2)
  threefryBlocksInto(k[0], k[1], block % TWO32, Math.floor(block / TWO32), 1, out, 0)
  return out[index % 2]!
}

/**
 * Fills `out[j] = bits(k, start + j)` two draws per Threefry block, without allocating per draw.
 * Returns `out`.
 * @example fillBits(key(0), 0, new Uint32Array(1024))
 */
export const fillBits = (k: Key, start: number, out: Uint32Array): Uint32Array => {
  const n = out.length
  if (n === 0) return out
  checkRange('fillBits', start, n)
  const odd = start % 2
  const block = (start - odd) / 2
  const edge = new Uint32Array(2)
  // An odd start takes the second word of its block; the whole blocks go straight into `out`.
  let j = 0
  if (odd === 1) {
    threefryBlocksInto(k[0], k[1], block % TWO32, Math.floor(block / TWO32), 1, edge, 0)
    out[j++] = edge[1]!
  }
  const b = block + odd
  const whole = Math.floor((n - j) / 2)
  threefryBlocksInto(k[0], k[1], b % TWO32, Math.floor(b / TWO32), whole, out, j)
  j += 2 * whole
  if (j < n) {
    const last = b + whole
    threefryBlocksInto(k[0], k[1], last % TWO32, Math.floor(last / TWO32), 1, edge, 0)
    out[j] = edge[0]!
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Utilities

/**
 * A uint32 as a uniform in the open interval (0, 1): (u + 0.5) / 2^32 (exact in float64).
 * @example toUnit(0) // 2^-33
 */
export const toUnit = (u: number): number => (u + 0.5) / TWO32

/** Fills `out[j] = toUnit(bits(k, start + j))`; `scratch` is reused for the bits if given. */
export const fillUnit = (k: Key, start: number, out: Float64Array, scratch?: Uint32Array): Float64Array => {
  const u = scratch !== undefined && scratch.length >= out.length ? scratch.subarray(0, out.length) : new Uint32Array(out.length)
  fillBits(k, start, u)
  for (let j = 0; j < out.length; j++) out[j] = (u[j]! + 0.5) / TWO32
  return out
}

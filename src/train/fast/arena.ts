/**
 * A per-pass arena for the large float64 results of the training kernels (convolutions, pooling,
 * batch norm, bias adds, and their reverse rules).
 *
 * Why: a training step makes the same large temporaries every step (a 64×16×28×28 conv
 * activation is 6.4 MB), and a fresh `Float64Array` of that size comes from fresh pages: on the
 * project's VM its first touch cost 17 µs per 4 KiB page fault, about half of the conv step's CPU
 * time (docs/training.md, Speed). The arena hands out buffers that were already touched.
 *
 * Lifetime is explicit. Outside `scoped`, `alloc` returns a fresh array (so any caller, e.g. an
 * evaluation that keeps its values, is safe). Inside `scoped(f)`, arrays of at least
 * `ARENA_MIN` elements come from free lists by exact length and all return to them when the
 * outermost scope ends: the gradient interpreter runs one draw (forward, reverse, and the copies
 * of the parameter gradients it returns) in one scope, and nothing handed out escapes it.
 * Buffers of a length not taken in the last two scopes are dropped, so a run whose shapes change
 * (a last, smaller batch) does not hold memory for ever.
 *
 * The arena changes where results live, never their values: `alloc`'s contents are unspecified
 * and every user writes every element (or clears first).
 */

/** Smaller arrays come from V8's heap, where allocation is cheap (32 KiB and up go to malloc). */
export const ARENA_MIN = 4096

export interface Arena {
  /** A float64 array of `length` elements with unspecified contents (fresh outside a scope). */
  readonly alloc: (length: number) => Float64Array
  /** Runs `f` with the arena's buffers handed out until the outermost scope returns. */
  readonly scoped: <T>(f: () => T) => T
}

/**
 * A new arena (one per matrix-products value; not shared between threads: only the calling
 * thread allocates).
 * @example
 * const a = passArena()
 * a.scoped(() => a.alloc(8192).fill(0).length) // 8192, a buffer reused by the next scope
 */
export const passArena = (): Arena => {
  const free = new Map<number, Float64Array[]>()
  let taken: Float64Array[] = []
  let lastLengths = new Set<number>()
  let depth = 0
  const alloc = (length: number): Float64Array => {
    if (depth === 0 || length < ARENA_MIN) return new Float64Array(length)
    const buf = free.get(length)?.pop() ?? new Float64Array(length)
    taken.push(buf)
    return buf
  }
  const release = (): void => {
    const lengths = new Set(taken.map((b) => b.length))
    for (const b of taken) {
      const list = free.get(b.length)
      if (list === undefined) free.set(b.length, [b])
      else list.push(b)
    }
    for (const length of [...free.keys()]) if (!lengths.has(length) && !lastLengths.has(length)) free.delete(length)
    lastLengths = lengths
    taken = []
  }
  const scoped = <T>(f: () => T): T => {
    depth++
    try {
      return f()
    } finally {
      depth--
      if (depth === 0) release()
    }
  }
  return { alloc, scoped }
}

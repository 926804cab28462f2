/**
 * Result arrays of the training kernels, recycled across steps. Every product, sampled site,
 * convolution, pooling, batch norm, bias add and ST factor returns a new Float64Array, and on
 * this VM a fresh multi-megabyte array costs a page fault per 4 KiB page on its first write
 * (docs/training.md, "Fresh memory is expensive"): for the MLP step that is the 663 552 sampled
 * weights and the products around them, for the conv step its 6.4 MB activation maps, every
 * step. The gradient interpreter knows which of a pass's arrays die with it and hands them back
 * (`release`), and the next results of the same length are written into them (`take`, `copyOf`)
 * instead of fresh memory.
 *
 * Only arrays this recycler issued are taken back (a `WeakSet` of them), each at most once per
 * issue, so a caller's own arrays are never reused; what a caller may still hold is for the caller
 * not to release (perSite.ts releases only the temporaries of a pass, never anything its result
 * or its inputs share memory with). The values written are the same either way.
 */

/**
 * Bytes of released arrays kept for reuse at most; the rest are left to the collector. A step
 * holds no more than its own temporaries; the cap matters only past it: at 256 MiB a
 * `vgg-mnist:1` step at batch 256 (about 0.5 GB of temporaries) paid 65 000 page faults.
 */
export const RECYCLE_BYTES = 1 << 30

export interface Recycler {
  /** A new or recycled array of `length` elements, contents unspecified (the caller writes every one). */
  readonly take: (length: number) => Float64Array
  /** A new or recycled array holding a copy of `view`. */
  readonly copyOf: (view: Float64Array) => Float64Array
  /** Takes back arrays that nobody holds any more (others are ignored). */
  readonly release: (arrays: Iterable<Float64Array>) => void
  /** Bytes held for reuse (for tests). */
  readonly held: () => number
}

/** A recycler with an empty store. */
export const recycler = (): Recycler => {
  const issued = new WeakSet<Float64Array>()
  const free = new Map<number, Float64Array[]>()
  let bytes = 0
  /** A released array of `length` elements, if one is held. */
  const reuse = (length: number): Float64Array | undefined => {
    const r = free.get(length)?.pop()
    if (r !== undefined) bytes -= r.byteLength
    return r
  }
  const issue = (a: Float64Array): Float64Array => {
    issued.add(a)
    return a
  }
  return {
    take: (length) => issue(reuse(length) ?? new Float64Array(length)),
    copyOf: (view) => {
      const r = reuse(view.length)
      // A fresh one is constructed from the view: no zero-fill before the copy.
      if (r === undefined) return issue(new Float64Array(view))
      r.set(view)
      return issue(r)
    },
    release: (arrays) => {
      for (const a of arrays) {
        if (!issued.has(a) || bytes + a.byteLength > RECYCLE_BYTES) continue
        issued.delete(a)
        const list = free.get(a.length)
        if (list === undefined) free.set(a.length, [a])
        else list.push(a)
        bytes += a.byteLength
      }
    },
    held: () => bytes,
  }
}

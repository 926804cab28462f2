/**
 * The parts of a minibatch and the two ways of summing over them (`RowParts` of
 * interpreters/reference/ops.ts): one pass holding every part (`localRows`, no threads), or
 * replicas each holding a contiguous range of parts that exchange their partials through shared
 * memory (`sharedRows`). Both compute each part's partial into a zeroed array and add the
 * partials in part order, element by element from part 0's, so the sum has the same bits whoever
 * computed which part: a step is a function of the minibatch and the number of parts, not of threads.
 */
import { InternalError } from '../../base/internalError.js'
import type { MatrixProducts, RowParts } from '../../interpreters/reference/ops.js'
import { fresh } from '../../interpreters/reference/ops.js'
import { evenRanges, shareOf } from '../../threads/jobs.js'
import type { Barrier } from './barrier.js'

/**
 * The parts a minibatch of `rows` rows is cut into: min(parts, rows) contiguous ranges
 * [⌊rows·p/P⌋, ⌊rows·(p+1)/P⌋) (a last minibatch with fewer rows than parts has one per row).
 * @example partsOf(10, 3) // [[0, 3], [3, 6], [6, 10]]
 */
export const partsOf = (rows: number, parts: number): [number, number][] => evenRanges(rows, Math.max(1, Math.min(parts, rows)))

/**
 * Which parts replica r of `replicas` holds: a contiguous range [p0, p1) of `parts`.
 * @example replicaParts(4, 2, 1) // [2, 4]
 */
export const replicaParts = (parts: number, replicas: number, r: number): readonly [number, number] => evenRanges(parts, replicas)[r]!

/** Where a sum's result lives (contents unspecified): `MatrixProducts.alloc`, by default a new array. */
type Alloc = (length: number) => Float64Array

/** total[i] = slot₀[i] + slot₁[i] + … in part order (`localRows` adds the same way as it goes), into `total` (default a new array). */
const addInOrder = (slots: Float64Array, stride: number, parts: number, len: number, alloc: Alloc, total = alloc(len)): Float64Array => {
  total.set(slots.subarray(0, len))
  for (let p = 1; p < parts; p++) {
    const at = p * stride
    for (let i = 0; i < len; i++) total[i]! += slots[at + i]!
  }
  return total
}

/** The local rows of parts [p0, p1) of a minibatch's `ranges`, relative to the first of them. */
const localRanges = (ranges: readonly (readonly [number, number])[], p0: number, p1: number): [number, number][] => {
  const first = ranges[p0]?.[0] ?? 0
  return ranges.slice(p0, p1).map(([lo, hi]) => [lo - first, hi - first])
}

/** A scratch array that grows on demand and is reused from sum to sum (and step to step). */
export const scratchArray = (): ((length: number) => Float64Array) => {
  let buf = new Float64Array(0)
  return (n) => {
    if (buf.length < n) buf = new Float64Array(Math.max(n, 2 * buf.length))
    return buf
  }
}

/**
 * Every part of a minibatch of `rows` rows in one pass (one thread): the same partials and the
 * same ordered sum as the replicas of `sharedRows`, without any exchange. `scratch` holds the
 * partials (reuse one across steps); `alloc` gives the totals' arrays.
 * @example prepareGradient(net, feed, { products: { ...kernels, rows: localRows(64, 2) } })
 */
export const localRows = (rows: number, parts: number, scratch = scratchArray(), alloc: Alloc = fresh): RowParts => {
  const ranges = partsOf(rows, parts)
  const sum: RowParts['sum'] = (len, partial, fills = false) => {
      // addInOrder's arithmetic without its copy of slot 0: part 0 is written into the total itself.
      const total = alloc(len)
      if (!fills) total.fill(0)
      partial(ranges[0]![0], ranges[0]![1], total)
      const slot = scratch(len).subarray(0, len)
      for (let p = 1; p < ranges.length; p++) {
        if (!fills) slot.fill(0)
        partial(ranges[p]![0], ranges[p]![1], slot)
        for (let i = 0; i < len; i++) total[i]! += slot[i]!
      }
      return total
  }
  return {
    batch: rows, first: 0, ranges, allRanges: ranges, sum,
    // Completed at once (nothing to meet for), so that the deferrable sums and products are the
    // replicas' (`sharedRows`): a deferred weight gradient is one product over every row.
    later: sum,
    settle: () => undefined,
    productLater: (lhs, g, kernels) => kernels.matmulTN(lhs, g).data,
  }
}

/** The shared memory of a team's sums. */
export interface SumSlots {
  /** Two alternating halves of one slot per part, for the sums whose totals every replica copies. */
  readonly scratch: Float64Array
  /** Float64 values per slot (the longest sum a pass may take). */
  readonly slotLength: number
  /** Parts (slots per half). */
  readonly parts: number
  /**
   * The step's area: the sums of at least `splitFrom` values and the spreads take their slots
   * here one after the other, and their totals stay there (returned as views) until the next step.
   */
  readonly area: Float64Array
  readonly splitFrom: number
}

/**
 * Replica r's `RowParts` for one minibatch of `rows` rows over `replicas` replicas (create one
 * per step: the step's area is filled from its start). Its parts' partials go into their slots of
 * the shared memory, then every replica waits at the barrier and:
 * - a short sum (under `splitFrom` values, or past the area): every replica adds all the slots in
 *   part order into its own total. The halves alternate from sum to sum, so a slot is rewritten
 *   only after every replica has passed the barrier of the sum that read it;
 * - a long one: replica r adds, for its own range of the elements, the slots of parts 1, 2, … in
 *   order into part 0's, a second barrier, and part 0's slot is every replica's total (a view of
 *   the area). Each element is the same sum in the same order as `addInOrder`'s, and nobody copies
 *   or adds the whole gradient: the work that does not shrink with the rows is split too.
 */
export const sharedRows = (rows: number, parts: number, replicas: number, r: number, slots: SumSlots, barrier: Barrier, alloc: Alloc = fresh): RowParts => {
  const ranges = partsOf(rows, parts)
  const active = Math.min(replicas, ranges.length)
  const [p0, p1] = replicaParts(ranges.length, active, r)
  const first = ranges[p0]?.[0] ?? 0
  const area = slots.area
  let half = 0
  let at = 0
  // The work between meetings (element ranges of long sums, draws, rows of deferred products): a fixed even share each.
  const share = shareOf(active, r)
  /** The next `n` values of the step's area, or undefined when they do not fit. */
  const take = (n: number): number | undefined => {
    if (at + n > area.length) return undefined
    const base = at
    at += n
    return base
  }
  /** Each of this replica's parts' partial into its slot of a sum at `base` (stride `stride`) of `mem`. */
  const partials = (mem: Float64Array, base: number, stride: number, len: number, partial: (lo: number, hi: number, out: Float64Array) => void, fills: boolean): void => {
    for (let p = p0; p < p1; p++) {
      const out = mem.subarray(base + p * stride, base + p * stride + len)
      // (Zeroing shared memory is slow: skipped when the partial writes every element anyway.)
      if (!fills) out.fill(0)
      partial(ranges[p]![0] - first, ranges[p]![1] - first, out)
    }
  }
  /** Replica r's range of the area sum at `base`: the slots of parts 1, 2, … added in order into part 0's. */
  const addRange = (base: number, len: number): void =>
    share(len, (lo, hi) => {
      for (let p = 1; p < ranges.length; p++) {
        const from = base + p * len
        for (let i = base + lo; i < base + hi; i++) area[i]! += area[from - base + i]!
      }
    })
  /** The area sums of `later` not yet completed: [base, len, the total returned for a short one]. */
  const pending: (readonly [number, number, Float64Array | undefined])[] = []
  /** The products of `productLater` not yet computed: where the gathered rows of lhs and g and the total are. */
  const products: { readonly x: number; readonly g: number; readonly total: number; readonly k: number; readonly n: number; readonly kernels: MatrixProducts }[] = []
  /** This replica's range of rows of a gathered product's total. */
  const productRows = (p: (typeof products)[number]): void => share(p.k, (i0, i1) => productChunk(p, i0, i1))
  /** Rows [i0, i1) of a gathered product's total (lhs's columns i0…i1: a copy, unless all). */
  const productChunk = ({ x, g, total, k, n, kernels }: (typeof products)[number], i0: number, i1: number): void => {
    const w = i1 - i0
    let a = area.subarray(x, x + rows * k)
    if (w < k) {
      a = (kernels.alloc ?? fresh)(rows * w)
      for (let row = 0; row < rows; row++) a.set(area.subarray(x + row * k + i0, x + row * k + i1), row * w)
    }
    const lhs = { shape: [rows, w], data: a }
    const rhs = { shape: [rows, n], data: area.subarray(g, g + rows * n) }
    const out = area.subarray(total + i0 * n, total + i1 * n)
    if (kernels.matmulTNInto !== undefined) kernels.matmulTNInto(lhs, rhs, out)
    else {
      const d = kernels.matmulTN(lhs, rhs).data
      out.set(d)
      kernels.release?.([d])
    }
    if (w < k) kernels.release?.([a])
  }
  const sum: RowParts['sum'] = (len, partial, fills = false) => {
    if (len > slots.slotLength) throw new InternalError(`a sum of ${len} values over parts exceeds the slots of ${slots.slotLength}`)
    const inArea = len >= slots.splitFrom ? take(ranges.length * len) : undefined
    const base = inArea ?? half * slots.parts * slots.slotLength
    const stride = inArea === undefined ? slots.slotLength : len
    const mem = inArea === undefined ? slots.scratch : area
    if (inArea === undefined) half ^= 1
    partials(mem, base, stride, len, partial, fills)
    barrier.wait()
    if (inArea === undefined) return addInOrder(mem.subarray(base, base + ranges.length * stride), stride, ranges.length, len, alloc)
    addRange(base, len)
    barrier.wait()
    return area.subarray(base, base + len)
  }
  return {
    batch: rows, first, ranges: localRanges(ranges, p0, p1), allRanges: ranges,
    sum,
    // The slots in the area whatever the length, the total completed by `settle` (or at once where
    // it does not fit): a short one (or one read at once) into this replica's own array, a long
    // one in part 0's slot.
    later: (len, partial, fills = false, now = false) => {
      const base = len <= slots.slotLength ? take(ranges.length * len) : undefined
      if (base === undefined) return sum(len, partial, fills)
      partials(area, base, len, len, partial, fills)
      const own = now || len < slots.splitFrom ? alloc(len) : undefined
      pending.push([base, len, own])
      return own ?? area.subarray(base, base + len)
    },
    // Each replica's rows of lhs and g into the step's area at their global rows; after `settle`'s
    // meeting, replica r computes its range of the total's rows over all of them.
    productLater: (lhs, g, kernels) => {
      const k = lhs.shape[1]!
      const n = g.shape[1]!
      const x = take(rows * k)
      const gAt = take(rows * n)
      const total = take(k * n)
      if (x === undefined || gAt === undefined || total === undefined) throw new InternalError(`a product over ${rows} rows (${k}×${n}) exceeds the step's area of ${area.length} values`)
      area.set(lhs.data, x + first * k)
      area.set(g.data, gAt + first * n)
      products.push({ x, g: gAt, total, k, n, kernels })
      return area.subarray(total, total + k * n)
    },
    // One meeting: after it every slot and every gathered row is written; each replica then adds
    // every short total whole, its element range of every long one and its rows of every product.
    // Nobody meets again: a long total is complete once every replica's pass has returned, which
    // the team's step waits for anyway (team.ts).
    settle: () => {
      if (pending.length === 0 && products.length === 0) return
      barrier.wait()
      for (const [base, len, own] of pending) {
        if (own === undefined) addRange(base, len)
        else addInOrder(area.subarray(base, base + ranges.length * len), len, ranges.length, len, alloc, own)
      }
      for (const p of products) productRows(p)
      pending.length = 0
      products.length = 0
    },
    spreads: (items) => {
      // Every item's share at once, then one meeting for all (each in the area, as a view).
      const start = at
      const bases: number[] = []
      for (const { n } of items) {
        const base = take(n)
        if (base === undefined) {
          at = start
          return undefined
        }
        bases.push(base)
      }
      items.forEach(({ n, fill }, i) => share(n, (lo, hi) => fill(lo, hi, area.subarray(bases[i]! + lo, bases[i]! + hi))))
      if (items.length > 0) barrier.wait()
      return items.map(({ n }, i) => area.subarray(bases[i]!, bases[i]! + n))
    },
    spread: (n, fill) => {
      // Replica r fills its share of [0, n), then all read the whole: in the area (a view), or
      // else in the current half (parts · slotLength ≥ n values), copied.
      const inArea = take(n)
      if (inArea === undefined && n > slots.parts * slots.slotLength) throw new InternalError(`${n} values to spread exceed the slots of ${slots.parts * slots.slotLength}`)
      const base = inArea ?? half * slots.parts * slots.slotLength
      const mem = inArea === undefined ? slots.scratch : area
      if (inArea === undefined) half ^= 1
      share(n, (lo, hi) => fill(lo, hi, mem.subarray(base + lo, base + hi)))
      barrier.wait()
      if (inArea !== undefined) return area.subarray(base, base + n)
      const out = alloc(n)
      out.set(mem.subarray(base, base + n))
      return out
    },
  }
}

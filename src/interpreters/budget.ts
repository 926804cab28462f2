/**
 * The memory budget: every size that comes from a model file, a data file or a count on the
 * command line is compared with a limit before anything of that size is allocated, so a 726-byte
 * model that claims a 20 000-pixel padding, or `--batch 1e9`, is a clear error rather than an
 * out-of-memory abort: `the network on 1000000000 examples would need 12.8 GB; the limit is 4 GB`.
 *
 * Estimates are deliberately simple upper-ish bounds: one float64 per element of every node's
 * value (what the reference interpreters keep), plus whatever the caller adds. Portable: the
 * default limit is a constant here; the CLI derives it from the machine's memory.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network, Node } from '../dsl/node.js'
import { topoOrder } from '../dsl/fold.js'

/** The most bytes a computation may ask for. */
export interface Budget {
  readonly maxBytes: number
}

/** Without a machine to ask: 2 GB. */
export const defaultBudget: Budget = { maxBytes: 2e9 }

/** Bytes as people read them: `512 B`, `3.1 MB`, `12.8 GB` (decimal units, 3 significant digits). */
export const showBytes = (bytes: number): string => {
  if (!Number.isFinite(bytes)) return 'an unbounded amount of memory'
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']
  let v = bytes
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${Number(v.toFixed(digits))} ${units[u]}`
}

/** Parses `4GB`, `512 MB`, `1.5g`, `2e9` (bytes) into bytes; undefined when it is not a size. */
export const parseBytes = (text: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(text)
  if (m === null) return undefined
  const unit = (m[2] ?? 'b').toLowerCase()
  const scale: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 }
  const bytes = Number(m[1]) * (unit === 'b' ? 1 : (scale[unit.replace(/b$/, '')] ?? Number.NaN))
  return Number.isFinite(bytes) && bytes >= 1 ? Math.floor(bytes) : undefined
}

/** Right when `bytes` fit the budget; else the sentence `<what> would need X; the limit is Y`. */
export const fits = (budget: Budget, bytes: number, what: string): E.Either<string, void> =>
  bytes <= budget.maxBytes
    ? E.right(undefined)
    : E.left(`${what} would need ${showBytes(bytes)}; the limit is ${showBytes(budget.maxBytes)} (change it with --max-memory)`)

/** Elements of a node's value for `rows` examples (a batch-free node counts once). */
export const elementsOf = (n: Node, rows: number): number =>
  n.type.shape.reduce<number>((a, d) => a * (d === 'batch' ? rows : d), 1)

/**
 * Bytes to evaluate the network once on `rows` examples, keeping every node's value as float64
 * (what the exact and Monte Carlo interpreters do), computed from the types alone.
 */
export const evaluationBytes = (net: Pick<Network, 'outputs'>, rows: number): number =>
  topoOrder(Object.values(net.outputs)).reduce((bytes, n) => bytes + 8 * elementsOf(n, rows), 0)

/** Bytes of the network's distinct parameters (float64), from the Param nodes' types alone. */
export const parameterBytes = (net: Pick<Network, 'outputs'>): number => {
  const seen = new Set<string>()
  let bytes = 0
  for (const n of topoOrder(Object.values(net.outputs)))
    if (n._tag === 'Param' && !seen.has(n.name)) {
      seen.add(n.name)
      bytes += 8 * elementsOf(n, 1)
    }
  return bytes
}

/**
 * Bytes a training run holds, roughly: the parameters 6 times (values, gradients, two optimizer
 * moments, the best parameters so far, a checkpoint's copy) and 3 passes on a minibatch (the
 * forward values, their gradients, one evaluation chunk).
 */
export const trainingBytes = (net: Pick<Network, 'outputs'>, batch: number): number =>
  6 * parameterBytes(net) + 3 * evaluationBytes(net, batch)

/** Bytes of the widest single value on `rows` examples (the compiled interpreter's largest buffer). */
export const widestBytes = (net: Checked<Network>, rows: number): number =>
  topoOrder(Object.values(net.outputs)).reduce((most, n) => Math.max(most, 8 * elementsOf(n, rows)), 0)

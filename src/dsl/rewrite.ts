/**
 * Rewrites of a checked network that keep it checked, in one place: parameter replacement, the
 * batch-norm mode, a hidden output, and the sharing-preserving `rebuild` they (and the coding
 * conversions of `codings.ts`) stand on. A rewrite changes some nodes and rebuilds only the nodes
 * above them; every other node stays the very same object, and a shared node is rebuilt once, so
 * it stays shared (a shared random node stays one random variable).
 */
import { InternalError } from './dslErrors.js'
import { topoOrder } from './fold.js'
import type { BatchNorm, Checked, Network, Node, ParamValues } from './node.js'
import { children } from './node.js'
import { brand } from './checked.js'
import { isStochastic } from './noise.js'

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * Rebuilds the DAG below `roots` bottom-up. Each node first gets its rebuilt children (a copy
 * only when one changed), then `change(original, withChildren, rebuilt)` may replace it. Returns the new
 * node of every node (itself when nothing below it changed).
 * @example rebuild(roots, (_, n) => (n._tag === 'Const' ? { ...n, value: 0 } : n))
 */
export const rebuild = (
  roots: readonly Node[],
  /** `rebuilt(n)` is the new node of an already visited node n (any descendant of `original`). */
  change: (original: Node, withChildren: Node, rebuilt: (n: Node) => Node) => Node,
): Map<Node, Node> => {
  const rebuilt = new Map<Node, Node>()
  const fresh = (n: Node): Node => rebuilt.get(n) ?? n
  for (const node of topoOrder(roots)) {
    const changed = children(node).filter(([, c]) => fresh(c) !== c)
    const copy = changed.length === 0 ? node : ({ ...node, ...Object.fromEntries(changed.map(([role, c]) => [role, fresh(c)])) } as Node)
    rebuilt.set(node, change(node, copy, fresh))
  }
  return rebuilt
}

/** A network's outputs after `rebuild`; the same record when no output changed. */
const outputsAfter = (net: Network, rebuilt: ReadonlyMap<Node, Node>): Network['outputs'] | undefined => {
  const entries = Object.entries(net.outputs)
  if (entries.every(([, n]) => rebuilt.get(n) === n)) return undefined
  return Object.fromEntries(entries.map(([name, n]) => [name, rebuilt.get(n) ?? n]))
}

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * The same network with every BatchNorm node in `mode`; the very same object when nothing
 * changes (no batch norm, or already in that mode). Types are unchanged by the mode, so the
 * result is still checked.
 * @example
 * const evalNet = withBatchNormMode(trainNet, 'inference')
 */
export const withBatchNormMode = <N extends Network>(net: Checked<N>, mode: BatchNorm['mode']): Checked<N> => {
  const rebuilt = rebuild(Object.values(net.outputs), (_, n) => (n._tag === 'BatchNorm' && n.mode !== mode ? { ...n, mode } : n))
  const outputs = outputsAfter(net, rebuilt)
  return outputs === undefined ? net : brand({ ...net, outputs })
}

/**
 * A checked network with new values for its parameters: `params` must have exactly the names and
 * lengths of `net.params` (a `RangeError` naming the first parameter that differs otherwise, a
 * caller's precondition like the PRNG's). The values are not scanned (one pass over every weight
 * per training step would cost): finiteness is the trainer's check, made on every step before
 * it keeps one, and `typecheck`'s.
 * @example withParams(net, { ...net.params, 'head.b': Float64Array.of(0, 0) })
 */
export const withParams = <N extends Network>(net: Checked<N>, params: ParamValues): Checked<N> => {
  const mismatch = paramsMismatch(net.params, params)
  if (mismatch !== undefined) throw new RangeError(`withParams: ${mismatch}`)
  return brand({ ...net, params })
}

/** The first difference of names or lengths between two parameter sets, in words, or undefined. */
const paramsMismatch = (have: ParamValues, next: ParamValues): string | undefined => {
  for (const [name, v] of Object.entries(have)) {
    const w = next[name]
    if (w === undefined) return `parameter ${JSON.stringify(name)} is missing from the new values`
    if (w.length !== v.length) return `parameter ${JSON.stringify(name)} must have ${v.length} values (its size in the network), found ${w.length}`
  }
  const extra = Object.keys(next).find((name) => !(name in have))
  return extra === undefined ? undefined : `the new values name ${JSON.stringify(extra)}, which is not a parameter of the network (it has ${Object.keys(have).length})`
}

/**
 * The network with one more output, `name`, naming a node already in it (the compiled
 * interpreter's hidden `#logits` output in ensemble mode). The DAG is unchanged, so it stays
 * checked; a node outside the network is our bug.
 * @example withOutput(net, '#logits', lossHead.logits)
 */
export const withOutput = (net: Checked<Network>, name: string, node: Node): Checked<Network> => {
  if (!topoOrder(Object.values(net.outputs)).includes(node)) throw new InternalError(`withOutput: the node for output ${name} is not in the network`)
  return brand({ ...net, outputs: { ...net.outputs, [name]: node } })
}

/** Binarize sites by kind: weights (no batch axis: one draw per pass) or units (per example). */
export type NoiseSites = 'all' | 'weights' | 'units'

/**
 * The same network with the scale of every stochastic binarize noise multiplied by `factor`
 * (weights and units alike, or only the `sites` asked for; `none` stays the sign); the very same
 * object for factor 1. Shapes do not change, so the result is still checked.
 * @example withNoiseScale(net, 0.5) // logistic(1) sites become logistic(0.5)
 */
export const withNoiseScale = <N extends Network>(net: Checked<N>, factor: number, sites: NoiseSites = 'all'): Checked<N> => {
  if (factor === 1) return net
  const chosen = (n: Node): boolean => sites === 'all' || (sites === 'units') === n.type.shape.includes('batch')
  const rebuilt = rebuild(Object.values(net.outputs), (_, n) =>
    n._tag === 'Binarize' && isStochastic(n.noise) && chosen(n) ? { ...n, noise: { ...n.noise, scale: n.noise.scale * factor } } : n)
  const outputs = outputsAfter(net, rebuilt)
  return outputs === undefined ? net : brand({ ...net, outputs })
}

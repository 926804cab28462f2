/**
 * The stochastic structure of a network, as the exact interpreter sees it: weight sites
 * (binarized tensors without a batch axis, drawn once per pass and shared by all examples) and
 * activation sites (drawn per example), the number of binary units of each, and whether the
 * activation sites form a chain x → S₁ → S₂ → … → S_K → loss (MATH.md §5), which allows layer
 * messages instead of joint enumeration.
 */
import type { Binarize, Input, Loss, Node } from '../../dsl/node.js'
import { children } from '../../dsl/node.js'
import { isStochastic } from '../../dsl/noise.js'
import { hasBatch, sizeOf } from '../../dsl/shape.js'
import { topoOrder } from '../../dsl/fold.js'

export interface Site {
  readonly node: Binarize
  /** Binary units per example (activations) or in the whole tensor (weights). */
  readonly units: number
}

export interface Structure {
  readonly weights: readonly Site[]
  readonly activations: readonly Site[]
  /** Activation sites in chain order, when they form a chain ending at the loss. */
  readonly chain: readonly Site[] | undefined
}

const isSite = (n: Node): n is Binarize => n._tag === 'Binarize' && isStochastic(n.noise)

/** The activation sites and inputs that `node` depends on without crossing another activation site. */
const frontier = (node: Node): { readonly sites: Set<Binarize>; readonly inputs: Set<Input> } => {
  const sites = new Set<Binarize>()
  const inputs = new Set<Input>()
  const seen = new Set<Node>()
  const stack = [node]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (seen.has(n)) continue
    seen.add(n)
    if (isSite(n) && hasBatch(n.type.shape) && n !== node) { sites.add(n); continue }
    if (n._tag === 'Input') { inputs.add(n); continue }
    for (const [, c] of children(n)) stack.push(c)
  }
  return { sites, inputs }
}

const only = <T>(s: Set<T>): T | undefined => (s.size === 1 ? [...s][0] : undefined)

/**
 * The joint states the exact interpreter visits for one state of the weights, by `method`:
 * every joint state of all activation units for each example (enumeration), or each layer on the
 * states of the one before (layer messages: N·2^{n₁} + Σ 2^{n_{k−1}+n_k} + N·2^{n_K}); N when
 * there are no stochastic activations. The budget check multiplies it by the 2^W weight states.
 */
export const cost = (st: Structure, batch: number, method: 'chain' | 'enumeration'): number => {
  const A = st.activations.map((s) => s.units)
  if (A.length === 0) return batch
  if (method === 'enumeration') return batch * 2 ** A.reduce((a, b) => a + b, 0)
  return batch * 2 ** A[0]! + A.slice(1).reduce((a, u, i) => a + 2 ** (A[i]! + u), 0) + batch * 2 ** A[A.length - 1]!
}

export const structure = (loss: Loss): Structure => {
  const all = topoOrder([loss]).filter(isSite)
  const site = (node: Binarize): Site => ({ node, units: sizeOf(node.type.shape) })
  const weights = all.filter((n) => !hasBatch(n.type.shape)).map(site)
  const activations = all.filter((n) => hasBatch(n.type.shape)).map(site)
  return { weights, activations, chain: chainOf(loss, activations) }
}

/**
 * S₁ reads only data inputs; each S_k reads only S_{k−1} (no data); the logits read only S_K;
 * the loss target is an input. Then P(S_k | S_{k−1}) is one matrix shared by all examples.
 */
const chainOf = (loss: Loss, activations: readonly Site[]): readonly Site[] | undefined => {
  if (activations.length === 0 || loss.target._tag !== 'Input') return undefined
  const bySite = new Map(activations.map((s) => [s.node as Node, s]))
  const order: Site[] = []
  let head = frontier(loss.logits)
  for (;;) {
    if (head.inputs.size > 0) return undefined
    const s = only(head.sites)
    if (s === undefined) return undefined
    order.unshift(bySite.get(s)!)
    const below = frontier(s.input)
    if (below.sites.size === 0) return order.length === activations.length ? order : undefined
    head = below
  }
}

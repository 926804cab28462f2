/**
 * Batch-norm modes of a whole network. A network is trained with its BatchNorm nodes in `train`
 * mode (normalised by the statistics of each minibatch, which the trainer averages into the
 * running statistics) and evaluated, checkpointed and shipped with them in `inference` mode
 * (normalised by the running statistics). `withBatchNormMode` is that switch: a pure rewrite of
 * the DAG that rebuilds only the nodes above a changed BatchNorm, keeping every shared node
 * shared (a shared random node stays one random variable) and every other node identical.
 */
import type { BatchNorm, Checked, Network, Node, ParamValues } from '../dsl/node.js'
import { children } from '../dsl/node.js'
import { topoOrder } from '../dsl/fold.js'

// ---------------------------------------------------------------------------------------------
// Model

export type BatchNormMode = BatchNorm['mode']

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * The same network with every BatchNorm node in `mode`; the very same object when nothing
 * changes (no batch norm, or already in that mode). Types are unchanged by the mode, so the
 * result is still checked.
 * @example
 * const evalNet = withBatchNormMode(trainNet, 'inference')
 */
export const withBatchNormMode = <N extends Network>(net: Checked<N>, mode: BatchNormMode): Checked<N> => {
  const roots = Object.values(net.outputs)
  const rebuilt = new Map<Node, Node>()
  let changed = false
  for (const node of topoOrder(roots)) {
    // A node is copied when one of its children was copied or when it is a BatchNorm to switch.
    const kids = children(node)
    const replaced = kids.filter(([, c]) => rebuilt.get(c) !== c)
    const switchMode = node._tag === 'BatchNorm' && node.mode !== mode
    if (replaced.length === 0 && !switchMode) {
      rebuilt.set(node, node)
      continue
    }
    changed = true
    const fields: Record<string, unknown> = { ...node }
    for (const [role, c] of replaced) fields[role] = rebuilt.get(c)
    if (switchMode) fields['mode'] = mode
    rebuilt.set(node, fields as unknown as Node)
  }
  if (!changed) return net
  const outputs = Object.fromEntries(Object.entries(net.outputs).map(([name, n]) => [name, rebuilt.get(n)!]))
  return { ...net, outputs } as Checked<N>
}

/**
 * The BatchNorm nodes of a network (training needs their running statistics).
 * @example batchNorms(net).map((b) => b.mode) // ['train', 'train']
 */
export const batchNorms = (net: Network): BatchNorm[] =>
  topoOrder(Object.values(net.outputs)).filter((n): n is BatchNorm => n._tag === 'BatchNorm')

/**
 * A checked network with new values for its parameters. Sound only when `params` has the same
 * names and sizes as `net.params` (the trainer's updates, which never resize a parameter) and
 * finite values (the trainer checks every step before it keeps one).
 * @example withParams(net, { ...net.params, 'head.b': Float64Array.of(0, 0) })
 */
export const withParams = <N extends Network>(net: Checked<N>, params: ParamValues): Checked<N> =>
  ({ ...net, params }) as Checked<N>

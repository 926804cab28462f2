/**
 * Output selection: running only the outputs one asks for, so that inference needs only the inputs
 * those outputs read. A classifier saved with `outputs: { output, loss }` reads labels only through
 * its loss; `selectOutputs(net, ['output'])` is the network without that head, which every
 * interpreter then runs on a feed of `x` alone.
 *
 * This is core, shared by the interpreters (the compiled interpreter's `outputs` option, the
 * label-free `predict`): it reads the IR and builds a smaller network, nothing more. The smaller
 * network is re-checked by `typecheck`, the one place that mints `Checked` (it cannot fail: a
 * subgraph of a checked network is well typed; a failure would be sbnkit's bug).
 */
import * as E from 'fp-ts/lib/Either.js'
import { InternalError, draw } from '../dsl/dslErrors.js'
import type { Checked, Input, Loss, Network, Node } from '../dsl/node.js'
import { typecheck } from '../dsl/typecheck.js'
import { topoOrder } from '../dsl/fold.js'
import type { RunError } from './runErrors.js'

// ---------------------------------------------------------------------------------------------
// Model

/** The output heads of a network that is read for predictions, by convention (docs/model-format.md). */
export const PREDICTION_OUTPUT = 'output'

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * The output nodes named `names`, or `MissingOutput` for the first name the network lacks.
 * @example outputNodes(net, ['output']) // right([head])
 */
export const outputNodes = (net: Network, names: readonly string[]): E.Either<RunError, readonly Node[]> => {
  const nodes: Node[] = []
  for (const name of names) {
    const node = Object.hasOwn(net.outputs, name) ? net.outputs[name] : undefined
    if (node === undefined) return E.left({ _tag: 'MissingOutput', name, expected: 'an output to run', available: Object.keys(net.outputs) })
    nodes.push(node)
  }
  return E.right(nodes)
}

/**
 * The inputs the named outputs read (each input once, in topological order): what a feed must
 * hold to run them.
 * @example E.map((xs: readonly Input[]) => xs.map((x) => x.name))(requiredInputs(net, ['output'])) // right(['x'])
 */
export const requiredInputs = (net: Network, names: readonly string[]): E.Either<RunError, readonly Input[]> =>
  E.map((roots: readonly Node[]) => {
    const seen = new Set<string>()
    return topoOrder(roots).filter((n): n is Input => n._tag === 'Input' && !seen.has(n.name) && seen.add(n.name) !== undefined)
  })(outputNodes(net, names))

/**
 * The network restricted to the named outputs (and the parameters they use): the same nodes, so
 * every interpreter gives those outputs the same values, bit for bit, while the feed needs only
 * `requiredInputs(net, names)`. The very same network when every output is kept.
 * @example
 * const head = selectOutputs(net, ['output'])   // Either<RunError, Checked<Network>>
 * // E.isRight(head) && compile(head.right, { backend: 'wasm', mode: 'mode' }) runs on { x } alone
 */
export const selectOutputs = (net: Checked<Network>, names: readonly string[]): E.Either<RunError, Checked<Network>> => {
  const nodes = outputNodes(net, names)
  if (E.isLeft(nodes)) return nodes
  if (names.length === 0) return E.left({ _tag: 'InvalidOption', option: 'outputs', expected: 'at least one output name', found: 'none' })
  const all = Object.keys(net.outputs)
  if (all.length === names.length && all.every((n) => names.includes(n))) return E.right(net)
  const outputs = Object.fromEntries(names.map((name, i) => [name, nodes.right[i]!]))
  const used = new Set(topoOrder(nodes.right).flatMap((n) => (n._tag === 'Param' ? [n.name] : [])))
  const params = Object.fromEntries(Object.entries(net.params).filter(([name]) => used.has(name)))
  const checked = typecheck({ outputs, params })
  if (E.isLeft(checked)) throw new InternalError(`selectOutputs: a subnetwork of a checked network failed to check: ${draw(checked.left)}`)
  return E.right(checked.right)
}

/**
 * The loss head of a network (`outputs.loss`) when it has one: what turns the prediction head's
 * values into a predictive distribution (softmax for `softmax-ce`, σ for `logistic-nll`).
 */
export const lossHead = (net: Network): Loss | undefined => {
  const l = Object.hasOwn(net.outputs, 'loss') ? net.outputs['loss'] : undefined
  return l?._tag === 'Loss' ? l : undefined
}

/** The loss output of a network (`outputs.loss`), which must be a Loss node. */
export const lossOutput = (net: Network): E.Either<RunError, Loss> => {
  const l = lossHead(net)
  return l !== undefined
    ? E.right(l)
    : E.left({ _tag: 'MissingOutput', name: 'loss', expected: 'a loss head', available: Object.keys(net.outputs) })
}

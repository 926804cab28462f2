/**
 * Gradients by parameter name: the form in which the exact interpreter, every gradient estimator
 * and the optimizers exchange them. A reverse pass (`backward.ts`) gives gradients by node; these
 * sum its Param nodes' gradients into one zero-initialised array per parameter.
 */
import type { Checked, Network, Node } from '../../dsl/node.js'
import type { NDArray } from '../ndarray.js'

/** Gradients by parameter name, zero-initialised for every parameter of the network. */
export type ParamGrads = Record<string, Float64Array>

export const zeroGrads = (net: Checked<Network>): ParamGrads =>
  Object.fromEntries(Object.entries(net.params).map(([k, v]) => [k, new Float64Array(v.length)]))

/** Adds the Param-node gradients of a reverse pass into `acc`. */
export const addParamGrads = (acc: ParamGrads, grads: ReadonlyMap<Node, NDArray>): void => {
  for (const [node, g] of grads) {
    if (node._tag !== 'Param') continue
    const into = acc[node.name]!
    for (let i = 0; i < g.data.length; i++) into[i]! += g.data[i]!
  }
}

/** Shared plumbing of the exact interpreter: gradient accumulation by parameter name, fixed states. */
import type { Binarize, Checked, Network, Node } from '../../dsl/node.js'
import type { NDArray } from '../ndarray.js'
import type { BinarizeRule } from '../reference/forward.js'
import { modeRule } from '../reference/sampling.js'

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

/** Binarize rule for enumeration: the given state of each enumerated site; sign for `none`. */
export const fixedRule = (fixed: ReadonlyMap<Binarize, NDArray>): BinarizeRule => (node, input) =>
  fixed.get(node) ?? modeRule(node, input)

/** Bit `b` of a (possibly > 2³¹) non-negative integer. */
export const bit = (x: number, b: number): number => Math.floor(x / 2 ** b) % 2

/**
 * Generic steps: a node the lowering has no specialised kernel for (real matrix products,
 * pooling, losses, batch norm in training mode, sampling a real tensor…) runs the core's own
 * forward rule (`reference/rules.ts`) on views of the compiled program's memory, so a fallback is
 * bit-exact by construction; the plan lists every one of them with its reason.
 *
 * Some rules have an in-place twin that writes straight into the step's output buffer with the
 * same IEEE operations in the same order (`float-steps.ts`; for binarize, the core's own
 * `binarizeInto`): allocating a fresh array per step for a real convolution or a large sampled
 * tensor cost more than its arithmetic. The table `inPlace` says which; every other tag goes
 * through the core rule and a copy.
 */
import type { Binarize, Node, NodeOf, Shape, SiteId, Tag } from '../../dsl/node.js'
import { children } from '../../dsl/node.js'
import type { Noise } from '../../dsl/noise.js'
import { concreteShape } from '../../dsl/shape.js'
import type { Key } from '../../dsl/random.js'
import type { NDArray } from '../ndarray.js'
import { referenceProducts } from '../reference/ops.js'
import type { RuleEnv } from '../reference/rules.js'
import { batchNormStats, forwardRule } from '../reference/rules.js'
import { binarizeInto } from '../reference/sampling.js'
import { addInto, batchNormInto, conv2dInto, poolInto } from './float-steps.js'
import type { StepEnv } from './plan.js'

/** Where a float64 tensor lives: its buffer and its symbolic shape. */
export interface F64Loc {
  readonly buffer: number
  readonly shape: Shape
}

/** A float64 tensor of the memory as an NDArray (a view, no copy). */
export const read = (env: StepEnv, loc: F64Loc): NDArray => {
  const shape = concreteShape(loc.shape, env.rows)
  const size = shape.reduce((a, b) => a * b, 1)
  return { shape, data: new Float64Array(env.views.buffer, env.addr(loc.buffer), size) }
}

const write = (env: StepEnv, loc: F64Loc, value: Float64Array): void => {
  env.views.f64.set(value, env.addr(loc.buffer) / 8)
}

/** Rules computed straight into the output buffer, bit-identical to the core's (float-steps.ts). */
type InPlace<K extends Tag> = (node: NodeOf<K>, args: readonly NDArray[], out: Float64Array, env: StepEnv, sampling: boolean) => void
const inPlace: { readonly [K in Tag]?: InPlace<K> } = {
  Add: (_, [lhs, rhs], out) => addInto(lhs!, rhs!, out),
  Conv2d: (n, [input, kernel], out) => conv2dInto(input!, kernel!, n.stride, n.padding, n.padValue, out),
  Pool: (n, [input], out) => poolInto(n.op, input!, n.window, n.stride, out),
  BatchNorm: (n, [input, gamma, beta, mean, variance], out) =>
    batchNormInto(input!, { gamma: gamma!, beta: beta!, ...batchNormStats(n, input!, mean!, variance!) }, n.eps, out),
  // The core's binarize rule (sampleRule / modeRule) itself, into the buffer.
  Binarize: (n, [input], out, env, sampling) => { binarizeInto(n.noise, input!.data, keyOf(env, n.noise, n.site, sampling), out) },
}

/** Tags whose value is another buffer seen differently, or a constant: no step. */
const noStep: ReadonlySet<Tag> = new Set<Tag>(['Input', 'Param', 'Const', 'Reshape'])

/**
 * The generic step of a node from its children's locations, or undefined for nodes that need no
 * step (inputs, parameters, constants, reshapes). `sampling` selects the binarize rule: the
 * sampling rule at the step's site key, or sign (the mode network).
 */
export const genericStep = (
  node: Node,
  kids: readonly F64Loc[],
  out: F64Loc,
  sampling: boolean,
): ((env: StepEnv) => void) | undefined => {
  if (noStep.has(node._tag)) return undefined
  const args = (env: StepEnv): NDArray[] => kids.map((k) => read(env, k))
  const into = inPlace[node._tag] as InPlace<Tag> | undefined
  if (into !== undefined) return (env) => into(node as NodeOf<Tag>, args(env), read(env, out).data, env, sampling)
  const roles = children(node).map(([role]) => role)
  return (env) => {
    const values = args(env)
    const named = Object.fromEntries(roles.map((role, i) => [role, values[i]!]))
    // Leaves and binarize nodes have their own steps: the rule reads no data, parameters or draws.
    const ruleEnv: RuleEnv = { batch: env.rows, feed: {}, params: {}, products: referenceProducts, binarize: (b, input) => binarized(env, b, input, sampling) }
    write(env, out, forwardRule(node, named, ruleEnv).value.data)
  }
}

/** The binarize rule of a compiled pass: the sampling rule at the site's key, or sign. */
const binarized = (env: StepEnv, b: Binarize, input: NDArray, sampling: boolean): NDArray => ({
  shape: input.shape,
  data: binarizeInto(b.noise, input.data, keyOf(env, b.noise, b.site, sampling), new Float64Array(input.data.length)),
})

/** The site key of a sampled stochastic unit; none (sign) in the mode network or for noise `none`. */
const keyOf = (env: StepEnv, noise: Noise, site: SiteId, sampling: boolean): Key | undefined =>
  sampling && noise.family !== 'none' ? env.siteKey(site) : undefined

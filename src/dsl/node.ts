/**
 * The closed intermediate representation of sbnkit: one `_tag` union of primitives.
 *
 * A network is a DAG of these nodes. Every interpreter (shapes, summary, exact, Monte Carlo,
 * gradient estimators, compiled) is a total rule table over `Node['_tag']`, so adding a primitive
 * here makes the compiler list every interpreter that lacks a rule for it.
 *
 * Composites (`dense`, `sbinary`, `mlp`, …) are sugar built from these in `composites.ts`;
 * interpreters never see them.
 */
import type { Noise } from './noise.js'

// ---------------------------------------------------------------------------------------------
// Types carried by every node

/** A dimension: a size, or the symbolic batch axis (allowed only as the leading axis). */
export type Dim = number | 'batch'
/** A tensor shape, row-major; `[]` is a scalar. */
export type Shape = readonly Dim[]
/** `real` is float64; `binary` is a tensor of ±1; `index` holds class labels 0..k−1. */
export type DType = 'real' | 'binary' | 'index'
/** The computed type stored on every node. */
export interface TensorType {
  readonly shape: Shape
  readonly dtype: DType
}

/** A stochastic site's identity: the PRNG folds it in, so draws are a function of (key, site, index). */
export type SiteId = string & { readonly SiteId: unique symbol }
export const siteId = (s: string): SiteId => s as SiteId

/** How a parameter is initialised by `initParams` (a value, not a side effect). */
export type Init =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'constant'; readonly value: number }
  /** Glorot/Xavier uniform on the first (fan-in) and last (fan-out) axes. */
  | { readonly kind: 'glorot' }
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }

interface Base<T extends string> {
  readonly _tag: T
  readonly type: TensorType
  /** A human name for error paths and summaries (set by composites: `dense1`, `conv2`). */
  readonly label?: string
}

// ---------------------------------------------------------------------------------------------
// Leaves: named data inputs, named real parameters, scalar constants

export interface Input extends Base<'Input'> {
  readonly name: string
}
export interface Param extends Base<'Param'> {
  readonly name: string
  readonly init: Init
  /** False for state that gradients do not update (batch-norm running statistics). */
  readonly trainable: boolean
}
export interface Const extends Base<'Const'> {
  readonly value: number
}

// ---------------------------------------------------------------------------------------------
// Linear algebra: matrix product of a [m,k] (or [batch,k]) by [k,n]; broadcasting add and multiply

export interface MatMul extends Base<'MatMul'> {
  readonly lhs: Node
  readonly rhs: Node
}
export interface Add extends Base<'Add'> {
  readonly lhs: Node
  readonly rhs: Node
}
export interface Mul extends Base<'Mul'> {
  readonly lhs: Node
  readonly rhs: Node
}

// ---------------------------------------------------------------------------------------------
// Elementwise nonlinearities, one parameterised primitive

export const unaryOps = ['tanh', 'sigmoid', 'hardtanh', 'relu', 'neg', 'abs', 'exp', 'log'] as const
export type UnaryOp = (typeof unaryOps)[number]
export interface Unary extends Base<'Unary'> {
  readonly op: UnaryOp
  readonly arg: Node
}

// ---------------------------------------------------------------------------------------------
// Spatial ops on NCHW tensors. Padding cells read `padValue` (0 for real nets; ±1 keeps binary
// inputs binary, which the compiled interpreter needs to stay in XNOR arithmetic).

export interface Conv2d extends Base<'Conv2d'> {
  readonly input: Node
  /** [outChannels, inChannels, kh, kw] */
  readonly kernel: Node
  readonly stride: readonly [number, number]
  readonly padding: readonly [number, number]
  readonly padValue: number
}
export interface Pool extends Base<'Pool'> {
  readonly op: 'max' | 'avg'
  readonly input: Node
  readonly window: readonly [number, number]
  readonly stride: readonly [number, number]
}

// ---------------------------------------------------------------------------------------------
// Shape plumbing: reshape keeps the element count (and the batch axis, if any)

export interface Reshape extends Base<'Reshape'> {
  readonly input: Node
  /** The target shape (equal to `type.shape` once checked). */
  readonly shape: Shape
}

// ---------------------------------------------------------------------------------------------
// Batch normalisation over axis 1 (features of [batch,c], channels of [batch,c,h,w]).
// `train` normalises with the batch statistics; `inference` with the running statistics.

export interface BatchNorm extends Base<'BatchNorm'> {
  readonly input: Node
  readonly gamma: Node
  readonly beta: Node
  readonly runningMean: Node
  readonly runningVar: Node
  readonly mode: 'train' | 'inference'
  readonly eps: number
  /** Weight of the new batch statistic in the running average (used by training loops). */
  readonly momentum: number
}

// ---------------------------------------------------------------------------------------------
// The stochastic binary unit: x = sign(input − Z), Z from `noise` (MATH.md §2), or the
// deterministic sign for noise `none`. A batch-free input (a parameter) is a Bernoulli weight
// tensor drawn once per forward pass; an input with a batch axis is drawn per example.

export interface Binarize extends Base<'Binarize'> {
  readonly input: Node
  readonly noise: Noise
  readonly site: SiteId
}

// ---------------------------------------------------------------------------------------------
// Loss heads, reduced by the mean over the batch to a scalar.
// softmax-ce: logits [batch,k], target index [batch]; logistic-nll: logits [batch] or [batch,1],
// target ±1 of the same shape; squared: prediction and real target of equal shape.

export const lossOps = ['softmax-ce', 'logistic-nll', 'squared'] as const
export type LossOp = (typeof lossOps)[number]
export interface Loss extends Base<'Loss'> {
  readonly op: LossOp
  readonly logits: Node
  readonly target: Node
}

// ---------------------------------------------------------------------------------------------

export type Node =
  | Input
  | Param
  | Const
  | MatMul
  | Add
  | Mul
  | Unary
  | Conv2d
  | Pool
  | Reshape
  | BatchNorm
  | Binarize
  | Loss

export type Tag = Node['_tag']
export type NodeOf<K extends Tag> = Extract<Node, { readonly _tag: K }>

export const tags: readonly Tag[] = [
  'Input', 'Param', 'Const', 'MatMul', 'Add', 'Mul', 'Unary', 'Conv2d', 'Pool', 'Reshape',
  'BatchNorm', 'Binarize', 'Loss',
]

/** The child fields of each primitive, by role, in evaluation order. */
export const childRoles = {
  Input: [],
  Param: [],
  Const: [],
  MatMul: ['lhs', 'rhs'],
  Add: ['lhs', 'rhs'],
  Mul: ['lhs', 'rhs'],
  Unary: ['arg'],
  Conv2d: ['input', 'kernel'],
  Pool: ['input'],
  Reshape: ['input'],
  BatchNorm: ['input', 'gamma', 'beta', 'runningMean', 'runningVar'],
  Binarize: ['input'],
  Loss: ['logits', 'target'],
} as const satisfies { readonly [K in Tag]: readonly (keyof NodeOf<K>)[] }

export type ChildRole<K extends Tag> = (typeof childRoles)[K][number]

/** The children of a node, with their roles, in evaluation order. */
export const children = (node: Node): ReadonlyArray<readonly [string, Node]> => {
  const roles: readonly string[] = childRoles[node._tag]
  const record = node as unknown as Readonly<Record<string, Node>>
  return roles.map((r) => [r, record[r] as Node] as const)
}

// ---------------------------------------------------------------------------------------------
// A network: named outputs over one DAG, plus the values of its parameters.

/** Row-major values of a parameter tensor. */
export type ParamValues = Readonly<Record<string, Float64Array>>

export interface Network {
  /** Named roots. By convention `loss` is a Loss node and `output` the prediction head. */
  readonly outputs: Readonly<Record<string, Node>>
  readonly params: ParamValues
}

/** A network that `typecheck` has validated; the only kind interpreters accept. */
export type Checked<N extends Network = Network> = N & { readonly Checked: unique symbol }

/**
 * `typecheck` is the only way to mint `Checked<Network>`. It re-derives every node's type from
 * its children (the shapes interpreter, `typeRules`), checks dtypes and static attributes, the
 * uniqueness of input names, parameter names and site ids, and that every parameter has finite
 * values of the right size. It returns the first error found, with the path of the node.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Algebra } from './fold.js'
import { dispatch, foldEither } from './fold.js'
import type { DslError, Path } from './dslErrors.js'
import { unreachable } from './dslErrors.js'
import type { Checked, DType, Init, Network, Node, TensorType } from './node.js'
import { children } from './node.js'
import { isStochastic } from './noise.js'
import { brand } from './checked.js'
import {
  batchNormShape, broadcastShape, conv2dShape, lossShape, matmulShape, poolShape, reshapeShape, showShape, sizeOf,
  validShape,
} from './shape.js'

/** A failure of one node, before its path is known. */
type Failure = DslError extends infer D ? (D extends { readonly path: Path } ? Omit<D, 'path'> : never) : never
type Typed = E.Either<Failure, TensorType>

const shapeFail = (op: string) => (message: string): Failure => ({ _tag: 'ShapeMismatch', op, message })
const ok = (dtype: DType) => (r: E.Either<string, readonly (number | 'batch')[]>, op: string): Typed =>
  E.bimap(shapeFail(op), (shape: TensorType['shape']): TensorType => ({ shape, dtype }))(r)

const needDType = (op: string, t: TensorType, allowed: readonly DType[]): E.Either<Failure, TensorType> =>
  allowed.includes(t.dtype) ? E.right(t) : E.left({ _tag: 'DTypeMismatch', op, expected: allowed, found: t.dtype })

const attr = (op: string, attribute: string, good: boolean, expected: string, found: unknown): E.Either<Failure, void> =>
  good ? E.right(undefined) : E.left({ _tag: 'InvalidAttribute', op, attribute, expected, found: String(found) })

const initIsFinite = (init: Init): boolean => Object.values(init).every((v) => typeof v !== 'number' || Number.isFinite(v))
const posInts = (xs: readonly number[]): boolean => xs.every((x) => Number.isInteger(x) && x > 0)
const natInts = (xs: readonly number[]): boolean => xs.every((x) => Number.isInteger(x) && x >= 0)
const numeric: readonly DType[] = ['real', 'binary']

const seq = (...checks: ReadonlyArray<E.Either<Failure, unknown>>): E.Either<Failure, void> => {
  for (const c of checks) if (E.isLeft(c)) return c
  return E.right(undefined)
}
const then = (checks: E.Either<Failure, void>, t: () => Typed): Typed => (E.isLeft(checks) ? checks : t())

/** The shapes interpreter: each node's type from its children's types, or why it has none. */
export const typeRules: Algebra<Typed> = {
  Input: (n) => E.bimap(shapeFail('Input'), () => n.type)(validShape(n.type.shape)),
  Param: (n) =>
    then(
      seq(
        attr('Param', 'shape', !n.type.shape.includes('batch'), 'free of the batch axis', showShape(n.type.shape)),
        attr('Param', 'dtype', n.type.dtype === 'real', 'real (binarize a parameter for binary weights)', n.type.dtype),
        attr('Param', 'init', initIsFinite(n.init), 'an initialiser with finite numbers', JSON.stringify(n.init)),
      ),
      () => E.bimap(shapeFail('Param'), () => n.type)(validShape(n.type.shape)),
    ),
  Const: (n) => then(attr('Const', 'value', Number.isFinite(n.value), 'finite', n.value), () => E.right(n.type)),
  MatMul: (_, { lhs, rhs }) =>
    E.chain(([l, r]: [TensorType, TensorType]) => ok('real')(matmulShape(l.shape, r.shape), 'MatMul'))(
      E.sequenceArray([E.chain((t: TensorType) => needDType('MatMul', t, numeric))(lhs), E.chain((t: TensorType) => needDType('MatMul', t, numeric))(rhs)]) as E.Either<Failure, [TensorType, TensorType]>,
    ),
  Add: (_, { lhs, rhs }) => elementwise('Add', lhs, rhs, () => 'real'),
  Mul: (_, { lhs, rhs }) => elementwise('Mul', lhs, rhs, (a, b) => (a === 'binary' && b === 'binary' ? 'binary' : 'real')),
  Unary: (n, { arg }) =>
    E.map((t: TensorType): TensorType => ({ shape: t.shape, dtype: n.op === 'neg' && t.dtype === 'binary' ? 'binary' : 'real' }))(
      E.chain((t: TensorType) => needDType('Unary', t, numeric))(arg),
    ),
  Conv2d: (n, { input, kernel }) =>
    then(
      seq(
        attr('Conv2d', 'stride', posInts(n.stride), 'positive integers', n.stride.join('x')),
        attr('Conv2d', 'padding', natInts(n.padding), 'non-negative integers', n.padding.join('x')),
        attr('Conv2d', 'padValue', Number.isFinite(n.padValue), 'finite', n.padValue),
        E.chain((t: TensorType) => needDType('Conv2d', t, numeric))(input),
        E.chain((t: TensorType) => needDType('Conv2d', t, numeric))(kernel),
      ),
      () => ok('real')(conv2dShape(get(input).shape, get(kernel).shape, n.stride, n.padding), 'Conv2d'),
    ),
  Pool: (n, { input }) =>
    then(
      seq(
        attr('Pool', 'window', posInts(n.window), 'positive integers', n.window.join('x')),
        attr('Pool', 'stride', posInts(n.stride), 'positive integers', n.stride.join('x')),
        E.chain((t: TensorType) => needDType('Pool', t, numeric))(input),
      ),
      () => ok(n.op === 'max' ? get(input).dtype : 'real')(poolShape(get(input).shape, n.window, n.stride), 'Pool'),
    ),
  Reshape: (n, { input }) =>
    then(seq(input), () =>
      ok(get(input).dtype)(E.chain((t: readonly (number | 'batch')[]) => reshapeShape(get(input).shape, t))(validShape(n.shape)), 'Reshape')),
  BatchNorm: (n, { input, gamma, beta, runningMean, runningVar }) =>
    then(
      seq(
        attr('BatchNorm', 'eps', n.eps > 0 && Number.isFinite(n.eps), 'a positive number', n.eps),
        attr('BatchNorm', 'momentum', n.momentum >= 0 && n.momentum <= 1, 'in [0, 1]', n.momentum),
        E.chain((t: TensorType) => needDType('BatchNorm', t, numeric))(input),
        gamma, beta, runningMean, runningVar,
      ),
      () => {
        for (const s of [gamma, beta, runningMean, runningVar]) {
          const r = batchNormShape(get(input).shape, get(s).shape)
          if (E.isLeft(r)) return E.left(shapeFail('BatchNorm')(r.left))
        }
        return E.right({ shape: get(input).shape, dtype: 'real' })
      },
    ),
  Binarize: (n, { input }) =>
    then(
      seq(
        isStochastic(n.noise)
          ? attr('Binarize', 'noise scale', n.noise.scale > 0 && Number.isFinite(n.noise.scale), 'a positive finite number', n.noise.scale)
          : E.right(undefined),
        attr('Binarize', 'site', n.site.length > 0, 'a non-empty id', '""'),
        E.chain((t: TensorType) => needDType('Binarize', t, numeric))(input),
      ),
      () => E.right({ shape: get(input).shape, dtype: 'binary' }),
    ),
  Loss: (n, { logits, target }) =>
    then(
      seq(
        E.chain((t: TensorType) => needDType('Loss', t, numeric))(logits),
        E.chain((t: TensorType) =>
          needDType('Loss', t, n.op === 'softmax-ce' ? ['index'] : n.op === 'logistic-nll' ? ['binary'] : numeric))(target),
      ),
      () => ok('real')(lossShape(n.op, get(logits).shape, get(target).shape), 'Loss'),
    ),
}

const get = (t: Typed): TensorType => {
  return E.isLeft(t) ? unreachable('children are checked first') : t.right
}

const elementwise = (op: string, lhs: Typed, rhs: Typed, dtype: (a: DType, b: DType) => DType): Typed =>
  then(seq(E.chain((t: TensorType) => needDType(op, t, numeric))(lhs), E.chain((t: TensorType) => needDType(op, t, numeric))(rhs)), () =>
    ok(dtype(get(lhs).dtype, get(rhs).dtype))(broadcastShape(get(lhs).shape, get(rhs).shape), op))

/**
 * The path of a node, computed on demand: a breadth-first pass records only each node's first
 * parent and role (linear in the network), and a path is rebuilt by walking up when an error
 * needs it, so checking a deep network does not build a path per node.
 */
export const pathFinder = (outputs: Network['outputs']): ((node: Node) => Path) => {
  const parent = new Map<Node, { readonly from: Node | undefined; readonly step: string }>()
  const queue: Node[] = []
  for (const [name, n] of Object.entries(outputs)) if (!parent.has(n)) { parent.set(n, { from: undefined, step: name }); queue.push(n) }
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!
    for (const [role, child] of children(node))
      if (!parent.has(child)) { parent.set(child, { from: node, step: child.label ?? role }); queue.push(child) }
  }
  // Iterative: the chain of first parents is as long as the network is deep.
  const pathOf = (node: Node): Path => {
    const up: Array<{ readonly node: Node; readonly step: string }> = []
    for (let n: Node | undefined = node; n !== undefined; ) {
      const link = parent.get(n)
      if (link === undefined) break
      up.push({ node: n, step: link.step })
      n = link.from
    }
    const path: string[] = []
    for (let i = up.length - 1; i >= 0; i--) {
      // A labelled node names its own step; its children's steps follow that label.
      const label = up[i + 1]?.node.label
      if (path.length > 1 && label !== undefined) path[path.length - 1] = label
      path.push(up[i]!.step)
    }
    return path
  }
  return pathOf
}

const sameType = (a: TensorType, b: TensorType): boolean => a.dtype === b.dtype && showShape(a.shape) === showShape(b.shape)

/** A typecheck failure with the node it concerns (none for whole-network errors). */
export interface Located {
  readonly error: DslError
  readonly node: Node | undefined
}

/** Validates a network; the only way to obtain `Checked<Network>`. */
export const typecheck = <N extends Network>(net: N): E.Either<DslError, Checked<N>> =>
  E.mapLeft((l: Located) => l.error)(typecheckLocated(net))

/**
 * `typecheck`, with the failing node beside the error, so a decoder can point at the node's
 * place in its file without comparing paths (linear in the network).
 */
export const typecheckLocated = <N extends Network>(net: N): E.Either<Located, Checked<N>> => {
  const fail = (error: DslError, node?: Node): E.Either<Located, never> => E.left({ error, node })
  const roots = Object.values(net.outputs)
  if (roots.length === 0) return fail({ _tag: 'NoOutputs' })
  const at = pathFinder(net.outputs)
  const names = { input: new Map<string, Node>(), parameter: new Map<string, Node>(), site: new Map<string, Node>() }
  // Each node's type from its children's (checked first), compared with the type it stores.
  const check = (node: Node, kids: Readonly<Record<string, TensorType>>): E.Either<Located, TensorType> => {
    const args = Object.fromEntries(Object.entries(kids).map(([role, t]) => [role, E.right(t)]))
    const derived = dispatch(typeRules, node, args, undefined)
    if (E.isLeft(derived)) return fail({ ...derived.left, path: at(node) } as DslError, node)
    if (!sameType(derived.right, node.type)) {
      return fail({
        _tag: 'ShapeMismatch', op: node._tag, path: at(node),
        message: `stored type ${node.type.dtype}${showShape(node.type.shape)} differs from derived ${derived.right.dtype}${showShape(derived.right.shape)}`,
      }, node)
    }
    const named: readonly ['input' | 'parameter' | 'site', string] | undefined =
      node._tag === 'Input' ? ['input', node.name] : node._tag === 'Param' ? ['parameter', node.name] : node._tag === 'Binarize' ? ['site', node.site] : undefined
    if (named !== undefined) {
      const [kind, name] = named
      const first = names[kind].get(name)
      // Inputs of one name and type are the same data. Parameters are shared by sharing the node
      // (model files keep that identity); two distinct Param nodes of one name are an error, so
      // parallel layers that got the same derived name are never silently tied.
      const tied = first !== undefined && kind === 'input' && sameType(first.type, node.type)
      if (first !== undefined && first !== node && !tied)
        return fail({ _tag: 'DuplicateName', kind, name, path: at(node), firstAt: at(first) }, node)
      if (first === undefined) names[kind].set(name, node)
    }
    return E.right(derived.right)
  }
  const types = foldEither(check, roots)
  if (E.isLeft(types)) return types
  for (const [name, node] of names.parameter) {
    const values = Object.hasOwn(net.params, name) ? net.params[name] : undefined
    if (values === undefined) return fail({ _tag: 'Unbound', kind: 'parameter', name, path: at(node) }, node)
    const expected = sizeOf(node.type.shape)
    if (values.length !== expected)
      return fail({ _tag: 'ParamSizeMismatch', name, path: at(node), shape: node.type.shape as number[], expected, found: values.length }, node)
    const bad = values.findIndex((v) => !Number.isFinite(v))
    if (bad >= 0) return fail({ _tag: 'NonFiniteParameter', name, index: bad, value: values[bad]! }, node)
  }
  for (const name of Object.keys(net.params)) if (!names.parameter.has(name)) return fail({ _tag: 'UnusedParameter', name })
  return E.right(brand(net))
}

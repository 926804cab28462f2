/**
 * An interpreter is a total rule table run by one fold. `Algebra<R>` has one rule per node tag,
 * so adding a primitive to the IR makes the compiler list every interpreter that lacks a rule.
 * The fold is memoised on node identity: a shared node is evaluated once, so it is one value
 * and, for a random node, one random variable.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { ChildRole, Node, NodeOf, Tag } from './node.js'
import { children } from './node.js'

/** The evaluated children of a node of tag K, by role. */
export type Args<K extends Tag, R> = { readonly [r in ChildRole<K>]: R }
export type Rule<K extends Tag, R> = (node: NodeOf<K>, args: Args<K, R>) => R
export type Algebra<R> = { readonly [K in Tag]: Rule<K, R> }
/**
 * The general form of a rule table: from a node and its children's values (A) to a result (R),
 * given an environment (what the rules read besides their arguments). An `Algebra<R>` is one.
 */
export type RuleTable<A, R, Env = undefined> = { readonly [K in Tag]: (node: NodeOf<K>, args: Args<K, A>, env: Env) => R }

/**
 * The one dispatch: applies the rule of `node`'s tag. It holds the single cast of the rule tables
 * (TypeScript cannot correlate a node's tag with the entry of a mapped type at one call site).
 */
export const dispatch = <A, R, Env>(table: RuleTable<A, R, Env>, node: Node, args: Readonly<Record<string, A>>, env: Env): R =>
  (table[node._tag] as (n: Node, a: Readonly<Record<string, A>>, e: Env) => R)(node, args, env)

/**
 * Every node reachable from `roots`, children before parents, each once (by identity).
 * Iterative, so a network thousands of layers deep does not overflow the stack.
 */
export const topoOrder = (roots: readonly Node[], leaves?: { has(n: Node): boolean }): Node[] => {
  const order: Node[] = []
  const state = new Map<Node, 'open' | 'done'>()
  const stack: Array<{ node: Node; next: number }> = []
  for (const root of roots) {
    if (state.has(root)) continue
    stack.push({ node: root, next: 0 })
    state.set(root, 'open')
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const kids = leaves?.has(top.node) === true ? [] : children(top.node)
      if (top.next < kids.length) {
        const child = kids[top.next++]![1]
        if (!state.has(child)) {
          state.set(child, 'open')
          stack.push({ node: child, next: 0 })
        }
      } else {
        stack.pop()
        state.set(top.node, 'done')
        order.push(top.node)
      }
    }
  }
  return order
}

/**
 * Runs `step` over the DAG below `roots`, children first, each node once (memoised on identity);
 * returns the value of every reachable node. Nodes in `preset` take the given value and are not
 * descended into (a cut of the DAG).
 */
export const foldWith = <R>(
  step: (node: Node, args: Readonly<Record<string, R>>) => R,
  roots: readonly Node[],
  preset?: ReadonlyMap<Node, R>,
  /** `topoOrder(roots, preset)` when the caller already has it (hot loops). */
  order: readonly Node[] = topoOrder(roots, preset),
): Map<Node, R> => {
  const values = new Map<Node, R>()
  for (const node of order) {
    const given = preset?.get(node)
    if (given !== undefined) {
      values.set(node, given)
      continue
    }
    const args: Record<string, R> = {}
    for (const [role, child] of children(node)) args[role] = values.get(child) as R
    values.set(node, step(node, args))
  }
  return values
}

/**
 * Runs an algebra over the DAG below `roots`; returns the value of every reachable node.
 * Nodes in `preset` take the given value and are not descended into (a cut of the DAG).
 */
export const fold = <R>(
  algebra: Algebra<R>,
  roots: readonly Node[],
  preset?: ReadonlyMap<Node, R>,
  order: readonly Node[] = topoOrder(roots, preset),
): Map<Node, R> => foldWith((node, args) => dispatch(algebra, node, args, undefined), roots, preset, order)

/**
 * `foldWith` for a step that can fail: stops at the first failure (children are visited first,
 * so a step only ever sees its children's values, never a failure) and returns it.
 */
export const foldEither = <Err, R>(
  step: (node: Node, args: Readonly<Record<string, R>>) => E.Either<Err, R>,
  roots: readonly Node[],
): E.Either<Err, Map<Node, R>> => {
  const values = new Map<Node, R>()
  for (const node of topoOrder(roots)) {
    const args: Record<string, R> = {}
    for (const [role, child] of children(node)) args[role] = values.get(child) as R
    const r = step(node, args)
    if (E.isLeft(r)) return r
    values.set(node, r.right)
  }
  return E.right(values)
}

/** Runs an algebra and returns the value of one root. */
export const foldOne = <R>(algebra: Algebra<R>, root: Node): R => fold(algebra, [root]).get(root) as R

/**
 * The longest chain of operands in a topologically ordered network (0 for leaves alone), in one
 * pass without recursion, so it is safe on networks of any depth.
 * @example depthOf(topoOrder([pipe(x, dense(3), dense(2))])) // the number of operand links on the longest path
 */
export const depthOf = (order: readonly Node[]): number => {
  const depth = new Map<Node, number>()
  let most = 0
  for (const n of order) {
    let d = 0
    for (const [, c] of children(n)) d = Math.max(d, (depth.get(c) ?? 0) + 1)
    depth.set(n, d)
    most = Math.max(most, d)
  }
  return most
}

/**
 * Routing: which optimizer updates which parameter, by explicit rules. A parameter is `latent`
 * when a binarize node reads it (the η of Bernoulli weights, trained by a recipe), `state` when
 * it is not trainable (batch-norm running statistics, updated by the loop's running averages and
 * never by an optimizer), and `real` otherwise. Rules match by kind or by name; the first rule
 * that matches a parameter owns it.
 *
 * Routing is strict, because a silent no-op is the worst failure of a training setup: a rule
 * that owns no parameter, a trainable parameter that no rule owns, and a rule naming a state
 * parameter are all errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network, Node, Param } from '../dsl/node.js'
import { topoOrder } from '../dsl/fold.js'
import type { Optimizer, OptimizerState, Tensors } from './optimizers.js'

// ---------------------------------------------------------------------------------------------
// Model

/** latent: read by a Binarize; state: not trainable (never updated by an optimizer); real: the rest. */
export type ParamKind = 'latent' | 'real' | 'state'

export interface Rule {
  readonly match: { readonly kind: ParamKind } | { readonly name: string | RegExp }
  readonly optimizer: Optimizer
  /** A name for messages and logs (default: the match, e.g. `kind latent`, `name /^conv/`). */
  readonly label?: string
}

export interface Routing {
  /** Parameter name → index of the rule that owns it (first match wins). State params are absent. */
  readonly assignment: Readonly<Record<string, number>>
  readonly rules: readonly Rule[]
}

/** Rules are numbered from 1 in messages; `rule` fields hold that number. */
export type RoutingError =
  | { readonly _tag: 'RuleMatchesNothing'; readonly rule: number; readonly label: string; readonly parameters: readonly string[] }
  | { readonly _tag: 'RuleShadowed'; readonly rule: number; readonly label: string; readonly owners: readonly (readonly [string, number])[] }
  | { readonly _tag: 'StateRouted'; readonly rule: number; readonly label: string; readonly state: readonly string[] }
  | { readonly _tag: 'Unrouted'; readonly unrouted: readonly string[]; readonly kinds: Readonly<Record<string, ParamKind>> }

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The kind of every parameter of a network. Weights reached through reshapes count as read by
 * the binarize (the latent convention applies elementwise). A name shared by tied nodes is
 * `state` if any of them is non-trainable, else `latent` if any of them is binarized.
 * @example
 * paramKinds(net) // { 'dense1.W': 'latent', 'dense1.b': 'real', 'bn1.mean': 'state', … }
 */
export const paramKinds = (net: Checked<Network>): Readonly<Record<string, ParamKind>> => {
  const order = topoOrder(Object.values(net.outputs))
  const binarized = new Set<string>()
  for (const n of order) if (n._tag === 'Binarize') for (const p of paramsUnderReshapes(n.input)) binarized.add(p.name)
  const kinds: Record<string, ParamKind> = Object.create(null) as Record<string, ParamKind> // names are data ("constructor")
  for (const n of order) {
    if (n._tag !== 'Param') continue
    const kind: ParamKind = !n.trainable ? 'state' : binarized.has(n.name) ? 'latent' : 'real'
    if (kinds[n.name] !== 'state') kinds[n.name] = kind
  }
  return kinds
}

/**
 * Assigns every trainable parameter to the first rule that matches it, or says what is wrong.
 * @example
 * route(net, [{ match: { kind: 'latent' }, optimizer: bop() }, { match: { kind: 'real' }, optimizer: adam() }])
 */
export const route = (net: Checked<Network>, rules: readonly Rule[]): E.Either<RoutingError, Routing> => {
  const kinds = paramKinds(net)
  const names = Object.keys(kinds)
  const trainable = names.filter((n) => kinds[n] !== 'state')
  const assignment: Record<string, number> = Object.create(null) as Record<string, number> // names are data ("constructor")
  for (const [i, rule] of rules.entries()) {
    const label = ruleLabel(rule)
    const m = rule.match
    const state = 'kind' in m ? (m.kind === 'state' ? names.filter((n) => kinds[n] === 'state') : []) : typeof m.name === 'string' && kinds[m.name] === 'state' ? [m.name] : []
    if (state.length > 0 || ('kind' in m && m.kind === 'state')) return E.left({ _tag: 'StateRouted', rule: i + 1, label, state })
    const matched = trainable.filter((n) => matches(m, n, kinds))
    if (matched.length === 0) return E.left({ _tag: 'RuleMatchesNothing', rule: i + 1, label, parameters: names.map((n) => `${n} (${kinds[n]})`) })
    const fresh = matched.filter((n) => assignment[n] === undefined)
    if (fresh.length === 0) return E.left({ _tag: 'RuleShadowed', rule: i + 1, label, owners: matched.map((n) => [n, assignment[n]! + 1] as const) })
    for (const n of fresh) assignment[n] = i
  }
  const unrouted = trainable.filter((n) => assignment[n] === undefined)
  if (unrouted.length > 0) return E.left({ _tag: 'Unrouted', unrouted, kinds })
  return E.right({ assignment, rules })
}

/**
 * The rules `{ kind: 'latent' } → latent`, `{ kind: 'real' } → real`, keeping only the kinds the
 * network has (so a network without real parameters does not get a rule that matches nothing).
 * @example
 * route(net, standardRules(net, { latent: r.optimizer, real: adam() }))
 */
export const standardRules = (net: Checked<Network>, opts: { readonly latent: Optimizer; readonly real: Optimizer }): Rule[] => {
  const present = new Set(Object.values(paramKinds(net)))
  return (['latent', 'real'] as const).filter((k) => present.has(k)).map((kind) => ({ match: { kind }, optimizer: opts[kind] }))
}

// ---------------------------------------------------------------------------------------------
// Combinators

/** The parameters of one rule, by index. */
const subset = (routing: Routing, rule: number, values: Tensors): Record<string, Float64Array> => {
  const out: Record<string, Float64Array> = {}
  for (const [name, i] of Object.entries(routing.assignment)) {
    if (i !== rule) continue
    const v = values[name]
    if (v === undefined) throw new RangeError(`routing: no value for parameter "${name}"`)
    out[name] = v
  }
  return out
}

/**
 * One optimizer state per rule, for the parameters it owns.
 * @example
 * const states = initRouted(routing, net.params)
 */
export const initRouted = (routing: Routing, params: Tensors): readonly OptimizerState[] =>
  routing.rules.map((r, i) => r.optimizer.init(subset(routing, i, params)))

/**
 * One step of every rule's optimizer on the parameters it owns, all with learning rate lr.
 * Parameters no rule owns (state) pass through unchanged (the same arrays).
 * @example
 * const { params, states: next } = stepRouted(routing, params, grads, states, 0.01)
 */
export const stepRouted = (
  routing: Routing, params: Tensors, grads: Tensors, states: readonly OptimizerState[], lr: number,
): { readonly params: Tensors; readonly states: readonly OptimizerState[] } => {
  if (states.length !== routing.rules.length) throw new RangeError(`stepRouted: ${states.length} states for ${routing.rules.length} rules`)
  const out: Record<string, Float64Array> = { ...params }
  const next = routing.rules.map((r, i) => {
    const step = r.optimizer.step(subset(routing, i, params), subset(routing, i, grads), states[i]!, lr)
    Object.assign(out, step.params)
    return step.state
  })
  return { params: out, states: next }
}

/**
 * `stepRouted` computed in place, for a loop that owns its buffers: overwrites the arrays of the
 * routed params and the slots of `states`, returns the next states. Bit-identical to `stepRouted`.
 * @example
 * states = stepRoutedInPlace(routing, params, grads, states, 0.01)
 */
export const stepRoutedInPlace = (
  routing: Routing, params: Readonly<Record<string, Float64Array>>, grads: Tensors, states: readonly OptimizerState[], lr: number,
): readonly OptimizerState[] => {
  if (states.length !== routing.rules.length) throw new RangeError(`stepRoutedInPlace: ${states.length} states for ${routing.rules.length} rules`)
  return routing.rules.map((r, i) => r.optimizer.stepInPlace(subset(routing, i, params), subset(routing, i, grads), states[i]!, lr))
}

// ---------------------------------------------------------------------------------------------
// Rules: messages

/**
 * Renders a routing error as one line: which rule, what it matched, what exists.
 * @example
 * drawRoutingError(e) // 'rule 2 (name /^conv/) matches no parameter; parameters are: dense1.W (latent), …'
 */
export const drawRoutingError = (e: RoutingError): string => {
  switch (e._tag) {
    case 'RuleMatchesNothing':
      return `rule ${e.rule} (${e.label}) matches no parameter; parameters are: ${e.parameters.join(', ') || 'none'}`
    case 'RuleShadowed':
      return `rule ${e.rule} (${e.label}) only matches parameters owned by earlier rules (${e.owners.map(([n, r]) => `${n} by rule ${r}`).join(', ')}); remove it or move it before them`
    case 'StateRouted':
      return `rule ${e.rule} (${e.label}) routes state parameters to an optimizer${e.state.length > 0 ? ` (${e.state.join(', ')})` : ''}; state (batch-norm running statistics) is updated by the training loop, never by an optimizer`
    case 'Unrouted':
      return `no rule matches the trainable parameter${e.unrouted.length > 1 ? 's' : ''} ${e.unrouted.map((n) => `${n} (${e.kinds[n]})`).join(', ')}; add a rule for ${kindsOf(e)}`
  }
}

// ---------------------------------------------------------------------------------------------
// Utilities

const kindsOf = (e: Extract<RoutingError, { _tag: 'Unrouted' }>): string =>
  [...new Set(e.unrouted.map((n) => e.kinds[n]))].map((k) => `kind ${k}`).join(' and ')

const ruleLabel = (r: Rule): string =>
  r.label ?? ('kind' in r.match ? `kind ${r.match.kind}` : typeof r.match.name === 'string' ? `name "${r.match.name}"` : `name ${String(r.match.name)}`)

const matches = (m: Rule['match'], name: string, kinds: Readonly<Record<string, ParamKind>>): boolean => {
  if ('kind' in m) return kinds[name] === m.kind
  if (typeof m.name === 'string') return m.name === name
  // A global or sticky RegExp keeps lastIndex between calls; test a fresh copy.
  return new RegExp(m.name.source, m.name.flags.replace(/[gy]/g, '')).test(name)
}

/** The params a node reads elementwise: itself if a Param, else through chains of Reshape. */
const paramsUnderReshapes = (n: Node): Param[] => (n._tag === 'Param' ? [n] : n._tag === 'Reshape' ? paramsUnderReshapes(n.input) : [])

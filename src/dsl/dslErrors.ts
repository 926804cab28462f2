/**
 * Errors are values: every failure a user can cause while building, checking or loading a network
 * is a `DslError`, rendered by the one function `draw`. Each says where (a path of node labels
 * and roles, outermost first), what was expected and what was found.
 *
 * Shape sentences are written once in `shape.ts` and reused verbatim by the type-level twins in
 * `types/`, so the compile-time and run-time messages match.
 */
import type { DType } from './node.js'

/** Where a node sits: output name, then labels and child roles down to the node. */
export type Path = readonly string[]

export type DslError =
  /** A shape rule failed; `message` is the shared sentence (`inner dims differ (784 vs 512)`). */
  | { readonly _tag: 'ShapeMismatch'; readonly path: Path; readonly op: string; readonly message: string }
  | {
      readonly _tag: 'DTypeMismatch'
      readonly path: Path
      readonly op: string
      readonly expected: readonly DType[]
      readonly found: DType
    }
  /** A static attribute out of range (stride 0, a negative scale, eps ≤ 0, …). */
  | {
      readonly _tag: 'InvalidAttribute'
      readonly path: Path
      readonly op: string
      readonly attribute: string
      readonly expected: string
      readonly found: string
    }
  /** Two different nodes share an input name, a parameter name or a site id. */
  | {
      readonly _tag: 'DuplicateName'
      readonly path: Path
      readonly kind: 'input' | 'parameter' | 'site'
      readonly name: string
      readonly firstAt: Path
    }
  /** A node needs a value that nobody provides (a parameter without values, an input without data). */
  | { readonly _tag: 'Unbound'; readonly path: Path; readonly kind: 'input' | 'parameter'; readonly name: string }
  /** Parameter values given for a name no node uses. */
  | { readonly _tag: 'UnusedParameter'; readonly name: string }
  | {
      readonly _tag: 'ParamSizeMismatch'
      readonly path: Path
      readonly name: string
      readonly shape: readonly number[]
      readonly expected: number
      readonly found: number
    }
  | { readonly _tag: 'NonFiniteParameter'; readonly name: string; readonly index: number; readonly value: number }
  | { readonly _tag: 'NoOutputs' }

/**
 * A path as `output > head > lhs`; a path deeper than 12 steps (a network thousands of layers
 * deep) keeps its first 4 and last 6 steps, so one message stays one readable line.
 */
export const showPath = (path: Path): string =>
  path.length === 0 ? 'network'
  : (path.length <= 12 ? path : [...path.slice(0, 4), `… (${path.length - 10} more) …`, ...path.slice(-6)]).join(' > ')
const where = showPath
const showShape = (s: readonly (number | string)[]): string => `[${s.join(', ')}]`

/** Renders an error as one line: what, where, expected, found. */
export const draw = (e: DslError): string => {
  switch (e._tag) {
    case 'ShapeMismatch':
      return `${e.op} at ${where(e.path)}: ${e.message}`
    case 'DTypeMismatch':
      return `${e.op} at ${where(e.path)}: expected dtype ${e.expected.join(' or ')}, found ${e.found}`
    case 'InvalidAttribute':
      return `${e.op} at ${where(e.path)}: ${e.attribute} must be ${e.expected}, found ${e.found}`
    case 'DuplicateName':
      return `${e.kind} name "${e.name}" at ${where(e.path)} is already used by a different node at ${where(e.firstAt)}; give one of them another name`
    case 'Unbound':
      return e.kind === 'parameter'
        ? `parameter "${e.name}" at ${where(e.path)} has no values (expected an entry params.${e.name})`
        : `input "${e.name}" at ${where(e.path)} is not bound (expected data for "${e.name}")`
    case 'UnusedParameter':
      return `params.${e.name}: no node of the network uses a parameter named "${e.name}"`
    case 'ParamSizeMismatch':
      return `params.${e.name} at ${where(e.path)}: expected ${e.expected} values for shape ${showShape(e.shape)}, found ${e.found}`
    case 'NonFiniteParameter':
      return `params.${e.name}[${e.index}]: expected a finite number, found ${e.value}`
    case 'NoOutputs':
      return 'network: expected at least one output, found none'
  }
}

/** Renders several errors, one per line. */
export const drawAll = (es: readonly DslError[]): string => es.map(draw).join('\n')

// Our own bugs: defined in the base layer so that src/threads may throw them too.
export { InternalError, unreachable } from '../base/internalError.js'

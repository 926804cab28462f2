/**
 * Our own bugs, the one error that is thrown rather than returned: a broken invariant of sbnkit
 * is an `InternalError`, never a user's mistake (those are values: `DslError`, `RunError`, …).
 * This module is the base layer of docs/architecture.md: it imports nothing, and every layer,
 * the worker pool of `src/threads` included, may import it. `dsl/dslErrors.ts` re-exports both
 * names for the modules that already import them from there.
 */

/** Thrown only for sbnkit's own bugs (a broken invariant), never for user input. */
export class InternalError extends Error {
  override readonly name = 'InternalError'
}

/**
 * Marks a path that an invariant of sbnkit makes impossible; reaching it is our bug, thrown as an
 * `InternalError` that says which invariant broke.
 * @example if (v === undefined) return unreachable('an input is bound before evaluation')
 */
export const unreachable = (invariant: string): never => {
  throw new InternalError(`unreachable: ${invariant}`)
}

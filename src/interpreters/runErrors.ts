/**
 * Errors of running a checked network on data: values with one renderer, like `DslError`.
 * Each names where (the input or site), what was expected and what was found.
 */
import { showBytes } from './budget.js'

export type RunError =
  | { readonly _tag: 'EmptyData' }
  | { readonly _tag: 'MissingInput'; readonly name: string; readonly expected: string }
  | { readonly _tag: 'InputShapeMismatch'; readonly name: string; readonly expected: string; readonly found: readonly number[] }
  | { readonly _tag: 'NonFiniteInput'; readonly name: string; readonly index: number; readonly value: number }
  | { readonly _tag: 'LabelOutOfRange'; readonly name: string; readonly index: number; readonly value: number; readonly expected: string }
  | { readonly _tag: 'MissingOutput'; readonly name: string; readonly expected: string; readonly available: readonly string[] }
  /** Exact enumeration would visit more joint states than the budget allows. */
  | {
      readonly _tag: 'EnumerationTooLarge'
      readonly sites: readonly { readonly site: string; readonly units: number }[]
      readonly states: number
      readonly budget: number
    }
  /** A computation would allocate more memory than its budget (`interpreters/budget.ts`). */
  | { readonly _tag: 'MemoryTooLarge'; readonly what: string; readonly bytes: number; readonly limit: number }
  | { readonly _tag: 'Unsupported'; readonly interpreter: string; readonly what: string; readonly fix: string }
  | { readonly _tag: 'InvalidOption'; readonly option: string; readonly expected: string; readonly found: string }

const shape = (s: readonly number[]): string => `[${s.join(', ')}]`
const big = (n: number): string => (Number.isFinite(n) && n < 1e15 ? n.toLocaleString('en-US') : `2^${Math.log2(n).toFixed(1)}`)

/**
 * The one sentence of an invalid option, whichever interpreter refuses it (the compiler prefixes
 * its name: `compile: option threads: expected …`).
 * @example drawInvalidOption({ option: 'samples', expected: 'an integer ≥ 1', found: '0' }) // 'option samples: expected an integer ≥ 1, found 0'
 */
export const drawInvalidOption = (e: { readonly option: string; readonly expected: string; readonly found: string }): string =>
  `option ${e.option}: expected ${e.expected}, found ${e.found}`

export const drawRunError = (e: RunError): string => {
  switch (e._tag) {
    case 'EmptyData':
      return 'data: expected at least one example, found an empty dataset'
    case 'MissingInput':
      return `data.${e.name}: expected ${e.expected} for input "${e.name}" of the network, found no such array`
    case 'InputShapeMismatch':
      return `data.${e.name}: expected shape ${e.expected} to match input "${e.name}" of the network, found ${shape(e.found)}`
    case 'NonFiniteInput':
      return `data.${e.name}[${e.index}]: expected a finite number, found ${e.value}`
    case 'LabelOutOfRange':
      return `data.${e.name}[${e.index}]: expected ${e.expected}, found ${e.value}`
    case 'MissingOutput':
      return `network: expected an output "${e.name}" (${e.expected}), found outputs ${e.available.map((a) => `"${a}"`).join(', ') || 'none'}`
    case 'EnumerationTooLarge': {
      const sites = e.sites.map((s) => `${s.site} (${s.units} units)`).join(', ')
      // Under the budget, the refusal comes from the width limit: states are 32-bit indices.
      return e.states > e.budget
        ? `exact: enumeration needs ${big(e.states)} joint states, over the budget of ${big(e.budget)} (stochastic sites: ${sites}); use the Monte Carlo interpreter, a smaller network, or raise the budget`
        : `exact: enumeration needs ${big(e.states)} joint states and a site (or the weights together) of more than 30 binary units, which cannot be enumerated (stochastic sites: ${sites}); use the Monte Carlo interpreter or a smaller network`
    }
    case 'MemoryTooLarge':
      return `${e.what} would need ${showBytes(e.bytes)}; the limit is ${showBytes(e.limit)} (a smaller batch or network, or a larger memory budget)`
    case 'Unsupported':
      return `${e.interpreter}: ${e.what} is not supported; ${e.fix}`
    case 'InvalidOption':
      return drawInvalidOption(e)
  }
}

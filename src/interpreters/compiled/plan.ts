/**
 * The lowered program: buffers, a linear list of steps, and where the inputs and outputs live.
 * A step is a kernel of the IR (emitted by the chosen back end), a generic typed-array loop (a
 * fallback the plan names with its reason), or a choice between two steps made at run time.
 */
import type { SiteId } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import type { BufferSpec, Kernel } from './kernels.js'
import type { MemoryViews as Views } from '../../wasm/memory.js'

/** Typed views of the linear memory (re-created when it grows): the back end's one view set. */
export type { Views }

/** What a generic step sees when it runs. */
export interface StepEnv {
  readonly views: Views
  /** Examples in this run. */
  readonly rows: number
  /**
   * The index of this run's first example in the whole set its draws are numbered over (0 for a
   * set run at once): per-example draws of a site start at offset × (draws per example).
   */
  readonly offset: number
  /** Byte address of a buffer. */
  readonly addr: (buffer: number) => number
  /** The key of a stochastic site in this pass (sampling modes only). */
  readonly siteKey: (site: SiteId) => Key
}

export type Step =
  | { readonly _tag: 'Kernel'; readonly kernel: Kernel }
  /** A fallback loop over float64 buffers, with the reason the node was not compiled further. */
  | {
      readonly _tag: 'Generic'
      readonly label: string
      readonly reason: string
      /** The buffers it reads (so a run can tell which steps an input feeds, infer.ts). */
      readonly reads: readonly number[]
      readonly run: (env: StepEnv) => void
    }
  /** Runs `test` (a kernel returning 0 or 1), then the steps `then` if it returned 1, else `otherwise`. */
  | {
      readonly _tag: 'Choice'
      readonly test: Kernel
      readonly then: readonly Step[]
      readonly otherwise: readonly Step[]
      readonly why: string
    }

export interface InputSlot {
  readonly name: string
  readonly buffer: number
}

export interface OutputSlot {
  readonly name: string
  readonly buffer: number
  /** Concrete shape after the batch is known: 'batch' replaced by the row count. */
  readonly shape: readonly (number | 'batch')[]
}

export interface Plan {
  readonly buffers: readonly BufferSpec[]
  readonly steps: readonly Step[]
  readonly inputs: readonly InputSlot[]
  readonly outputs: readonly OutputSlot[]
  /** Stochastic sites drawn in a pass (empty for the mode network). */
  readonly sites: readonly SiteId[]
}

/** One line per step: the kernel or fallback, for `Compiled.describe()`. */
export const describeStep = (s: Step): string => {
  switch (s._tag) {
    case 'Kernel':
      return `kernel ${s.kernel._tag} ${s.kernel.label}`
    case 'Generic':
      return `generic ${s.label} (${s.reason})`
    case 'Choice':
      return `choice ${s.test._tag} ${s.test.label}: ${s.then.map(describeStep).join('; ')} | otherwise ${s.otherwise.map(describeStep).join('; ')} (${s.why})`
  }
}

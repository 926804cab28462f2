/**
 * Optimizers as values: `init` builds a state, `step` maps (params, grads, state, lr) to new
 * params and a new state. Nothing is mutated: every step allocates fresh arrays, so a caller can
 * keep the previous parameters (for a rollback after a NaN loss, or a checkpoint) for free.
 *
 * State is plain data (a step counter and Float64Array slots per parameter), so checkpoints can
 * store it through `encodeState` / `decodeState` and a resumed run continues bit-identically.
 *
 * Conventions follow the usual libraries so that hyper-parameters carry over:
 * SGD momentum is `v ← μv + g; θ ← θ − lr·v` (Nesterov: `θ ← θ − lr·(g + μv)`), and Adam is
 * Kingma & Ba with bias correction and ε outside the square root.
 */
import { InternalError } from '../dsl/errors.js'

import type { OptimizerState } from './optim/state.js'

export { decodeState, encodeState } from './optim/state.js'
export type { EncodedState, OptimizerState } from './optim/state.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Named float64 tensors (parameters, gradients), row-major. */
export type Tensors = Readonly<Record<string, Float64Array>>

export interface Optimizer {
  /** A readable description with the hyper-parameters, e.g. `adam(0.9,0.999)`, `sgd(momentum=0.9)`. */
  readonly name: string
  /** A fresh state for these parameters (slots of zeros). */
  readonly init: (params: Tensors) => OptimizerState
  /**
   * One step on the given params (only those keys; slots of other keys are carried over), with
   * learning rate lr: new params and state. `state.step` counts calls.
   */
  readonly step: (params: Tensors, grads: Tensors, state: OptimizerState, lr: number) => { readonly params: Tensors; readonly state: OptimizerState }
}

// ---------------------------------------------------------------------------------------------
// Constructors

export interface SgdOptions {
  /** Heavy-ball momentum μ in [0, 1) (default 0: no slot is kept). */
  readonly momentum?: number
  /** Nesterov's look-ahead form of momentum (needs momentum > 0). */
  readonly nesterov?: boolean
  /** Coupled L2 weight decay λ: the gradient becomes g + λθ (before momentum). */
  readonly weightDecay?: number
}

/**
 * Stochastic gradient descent with optional momentum and L2 weight decay.
 * @example
 * const opt = sgd({ momentum: 0.9 })
 * const { params } = opt.step({ w: Float64Array.of(1) }, { w: Float64Array.of(0.5) }, opt.init({ w: Float64Array.of(1) }), 0.1)
 */
export const sgd = (opts: SgdOptions = {}): Optimizer => {
  const mu = opts.momentum ?? 0
  const nesterov = opts.nesterov ?? false
  const wd = opts.weightDecay ?? 0
  check('sgd', 'momentum', mu, mu >= 0 && mu < 1, 'in [0, 1)')
  check('sgd', 'weightDecay', wd, wd >= 0 && Number.isFinite(wd), 'finite and ≥ 0')
  if (nesterov && mu === 0) throw new RangeError('sgd: nesterov needs momentum > 0')
  const parts = [mu > 0 ? `momentum=${mu}` : '', nesterov ? 'nesterov' : '', wd > 0 ? `wd=${wd}` : ''].filter((s) => s !== '')
  return {
    name: parts.length === 0 ? 'sgd' : `sgd(${parts.join(',')})`,
    init: (params) => initSlots(params, mu > 0 ? 1 : 0),
    step: (params, grads, state, lr) =>
      stepEach(params, grads, state, mu > 0 ? 1 : 0, (theta, g, slots, out, outSlots) => {
        const v = slots[0]
        const vOut = outSlots[0]
        for (let i = 0; i < theta.length; i++) {
          const gi = g[i]! + wd * theta[i]!
          if (v === undefined || vOut === undefined) {
            out[i] = theta[i]! - lr * gi
            continue
          }
          const vi = mu * v[i]! + gi
          vOut[i] = vi
          out[i] = theta[i]! - lr * (nesterov ? gi + mu * vi : vi)
        }
      }),
  }
}

export interface AdamOptions {
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  /** Weight decay λ: coupled (g + λθ fed to the moments, as torch.optim.Adam) unless `decoupled`. */
  readonly weightDecay?: number
  /** AdamW: apply the decay directly, θ ← θ − lr·(adam step + λθ), outside the moments. */
  readonly decoupled?: boolean
}

/**
 * Adam (Kingma & Ba) with bias correction: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * θ ← θ − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) and t the step number from 1.
 * @example
 * const opt = adam() // adam(0.9,0.999)
 */
export const adam = (opts: AdamOptions = {}): Optimizer => {
  const b1 = opts.beta1 ?? 0.9
  const b2 = opts.beta2 ?? 0.999
  const eps = opts.eps ?? 1e-8
  const wd = opts.weightDecay ?? 0
  const decoupled = opts.decoupled ?? false
  check('adam', 'beta1', b1, b1 >= 0 && b1 < 1, 'in [0, 1)')
  check('adam', 'beta2', b2, b2 >= 0 && b2 < 1, 'in [0, 1)')
  check('adam', 'eps', eps, eps > 0 && Number.isFinite(eps), 'finite and > 0')
  check('adam', 'weightDecay', wd, wd >= 0 && Number.isFinite(wd), 'finite and ≥ 0')
  const extra = wd > 0 ? `,${decoupled ? 'decoupled-wd' : 'wd'}=${wd}` : ''
  return {
    name: `adam(${b1},${b2}${eps === 1e-8 ? '' : `,eps=${eps}`}${extra})`,
    init: (params) => initSlots(params, 2),
    step: (params, grads, state, lr) => {
      const t = state.step + 1
      const c1 = 1 - b1 ** t
      const c2 = 1 - b2 ** t
      return stepEach(params, grads, state, 2, (theta, g, [m, v], out, [mOut, vOut]) => {
        if (m === undefined || v === undefined || mOut === undefined || vOut === undefined) throw new InternalError('adam: two slots expected')
        for (let i = 0; i < theta.length; i++) {
          const gi = decoupled ? g[i]! : g[i]! + wd * theta[i]!
          const mi = b1 * m[i]! + (1 - b1) * gi
          const vi = b2 * v[i]! + (1 - b2) * gi * gi
          mOut[i] = mi
          vOut[i] = vi
          const update = mi / c1 / (Math.sqrt(vi / c2) + eps)
          out[i] = theta[i]! - lr * (decoupled ? update + wd * theta[i]! : update)
        }
      })
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Combinators

/**
 * `inner` followed by clipping every parameter to [lo, hi] (projected gradient descent on a box).
 * With uniform weight noise this is mirror descent on the mean weight (MATH.md §4, the BNN clip).
 * @example
 * const bnnOpt = clipped(sgd(), -1, 1)
 */
export const clipped = (inner: Optimizer, lo: number, hi: number): Optimizer => {
  if (!(lo < hi)) throw new RangeError(`clipped: expected lo < hi, found [${lo}, ${hi}]`)
  return {
    name: `clip[${lo},${hi}](${inner.name})`,
    init: inner.init,
    step: (params, grads, state, lr) => {
      const r = inner.step(params, grads, state, lr)
      // The inner step allocated fresh arrays, so clipping them in place keeps the step pure.
      for (const w of Object.values(r.params)) for (let i = 0; i < w.length; i++) w[i] = Math.min(hi, Math.max(lo, w[i]!))
      return r
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Utilities

// Hyper-parameters are set by code (the recipe and CLI parsers validate user input first), so an
// out-of-range value here is a caller's bug.
const check = (opt: string, field: string, value: number, ok: boolean, expected: string): void => {
  if (!ok) throw new RangeError(`${opt}: ${field} must be ${expected}, found ${value}`)
}

/** A state with `count` zero slots per parameter. */
export const initSlots = (params: Tensors, count: number): OptimizerState => ({
  step: 0,
  slots: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, Array.from({ length: count }, () => new Float64Array(p.length))])),
})

/** The per-parameter kernel of an optimizer: reads theta, g, slots; writes out and outSlots. */
export type Kernel = (
  theta: Float64Array, g: Float64Array, slots: readonly (Float64Array | undefined)[], out: Float64Array, outSlots: readonly (Float64Array | undefined)[],
) => void

/**
 * Runs `kernel` on every parameter of `params` with fresh output arrays; slots of parameters not
 * stepped are carried over. A missing gradient or slot, or a length mismatch, is a caller's bug
 * (the training loop builds all three from the same network) and throws.
 */
export const stepEach = (
  params: Tensors, grads: Tensors, state: OptimizerState, slotCount: number, kernel: Kernel,
): { readonly params: Tensors; readonly state: OptimizerState } => {
  const outParams: Record<string, Float64Array> = {}
  const outSlots: Record<string, readonly Float64Array[]> = { ...state.slots }
  for (const [name, theta] of Object.entries(params)) {
    const g = grads[name]
    if (g === undefined) throw new RangeError(`optimizer step: no gradient for parameter "${name}"`)
    if (g.length !== theta.length) throw new RangeError(`optimizer step: gradient of "${name}" has ${g.length} values, the parameter ${theta.length}`)
    const slots = state.slots[name]
    if (slots === undefined || slots.length !== slotCount || slots.some((s) => s.length !== theta.length))
      throw new RangeError(`optimizer step: the state has no ${slotCount} slot(s) of ${theta.length} values for "${name}" (was it initialised with other parameters?)`)
    const out = new Float64Array(theta.length)
    const fresh = slots.map((s) => new Float64Array(s.length))
    kernel(theta, g, slots, out, fresh)
    outParams[name] = out
    outSlots[name] = fresh
  }
  return { params: outParams, state: { step: state.step + 1, slots: outSlots } }
}

/**
 * Optimizers as values: `init` builds a state, `step` maps (params, grads, state, lr) to new
 * params and a new state. Nothing is mutated: `step` allocates fresh arrays, so a caller can
 * keep the previous parameters (for a rollback after a NaN loss, or a checkpoint) for free.
 * Each optimizer is one in-place update rule; `step` runs it on copies, and `stepInPlace` runs it on
 * the caller's own buffers (same bits, no copies) for a loop that owns them.
 *
 * State is plain data (a step counter and Float64Array slots per parameter), so checkpoints can
 * store it through `encodeState` / `decodeState` and a resumed run continues bit-identically.
 *
 * Conventions follow the usual libraries so that hyper-parameters carry over:
 * SGD momentum is `v ← μv + g; θ ← θ − lr·v` (Nesterov: `θ ← θ − lr·(g + μv)`), and Adam is
 * Kingma & Ba with bias correction and ε outside the square root.
 */
import { InternalError } from '../dsl/dslErrors.js'
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
   * learning rate lr: new params and state; the inputs are not changed. `state.step` counts calls.
   */
  readonly step: (params: Tensors, grads: Tensors, state: OptimizerState, lr: number) => { readonly params: Tensors; readonly state: OptimizerState }
  /**
   * The same step computed in place, for a loop that owns its buffers: overwrites the arrays of
   * `params` and the slot arrays of `state`, and returns the next state (the same slot arrays,
   * step + 1). Bit-identical to `step`; it saves copying every parameter on every batch.
   */
  readonly stepInPlace: (params: Readonly<Record<string, Float64Array>>, grads: Tensors, state: OptimizerState, lr: number) => OptimizerState
  /**
   * The optimizer as plain data, for a copy rebuilt in another thread (data parallelism steps
   * ranges of every parameter there: `train/parallel/optimizer.ts`). Present only on optimizers
   * whose step updates each element from that element's own values and slots; absent on one made
   * from an arbitrary rule.
   */
  readonly spec?: OptimizerSpec
}

/** `Optimizer.spec`: the constructors below and their arguments. */
export type OptimizerSpec =
  | { readonly kind: 'sgd'; readonly options: SgdOptions }
  | { readonly kind: 'adam'; readonly options: AdamOptions }
  | { readonly kind: 'clipped'; readonly inner: OptimizerSpec; readonly lo: number; readonly hi: number }
  | { readonly kind: 'perParameterLr'; readonly inner: OptimizerSpec; readonly scales: Readonly<Record<string, number>> }

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
  return withSpec({ kind: 'sgd', options: { ...opts } }, fromUpdateRule(parts.length === 0 ? 'sgd' : `sgd(${parts.join(',')})`, mu > 0 ? 1 : 0, (theta, g, slots, lr) => {
    const n = theta.length
    const v = slots[0]
    // One loop per variant keeps the hot loops free of per-element branches.
    if (v === undefined) {
      for (let i = 0; i < n; i++) theta[i] = theta[i]! - lr * (g[i]! + wd * theta[i]!)
    } else if (nesterov) {
      for (let i = 0; i < n; i++) {
        const gi = g[i]! + wd * theta[i]!
        const vi = mu * v[i]! + gi
        v[i] = vi
        theta[i] = theta[i]! - lr * (gi + mu * vi)
      }
    } else {
      for (let i = 0; i < n; i++) {
        const vi = mu * v[i]! + g[i]! + wd * theta[i]!
        v[i] = vi
        theta[i] = theta[i]! - lr * vi
      }
    }
  }))
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
  return withSpec({ kind: 'adam', options: { ...opts } }, fromUpdateRule(`adam(${b1},${b2}${eps === 1e-8 ? '' : `,eps=${eps}`}${extra})`, 2, (theta, g, [m, v], lr, t) => {
    if (m === undefined || v === undefined) throw new InternalError('adam: two slots expected')
    // m̂/(√v̂ + ε) = (m/c1)/(√v·(1/√c2) + ε): the corrections hoisted out of the loop.
    const inv1 = 1 / (1 - b1 ** t)
    const invSqrt2 = 1 / Math.sqrt(1 - b2 ** t)
    const coupled = decoupled ? 0 : wd
    const direct = decoupled ? wd : 0
    for (let i = 0; i < theta.length; i++) {
      const gi = g[i]! + coupled * theta[i]!
      const mi = b1 * m[i]! + (1 - b1) * gi
      const vi = b2 * v[i]! + (1 - b2) * gi * gi
      m[i] = mi
      v[i] = vi
      theta[i] = theta[i]! - lr * ((mi * inv1) / (Math.sqrt(vi) * invSqrt2 + eps) + direct * theta[i]!)
    }
  }))
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
  const made = withCopies(`clip[${lo},${hi}](${inner.name})`, inner.init, (params, grads, state, lr) => {
    const next = inner.stepInPlace(params, grads, state, lr)
    for (const w of Object.values(params)) for (let i = 0; i < w.length; i++) w[i] = Math.min(hi, Math.max(lo, w[i]!))
    return next
  })
  return inner.spec === undefined ? made : withSpec({ kind: 'clipped', inner: inner.spec, lo, hi }, made)
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

/**
 * The per-parameter update of an optimizer, in place: theta and the slots are overwritten.
 * `t` is the step number, from 1.
 */
export type UpdateRule = (theta: Float64Array, g: Float64Array, slots: readonly (Float64Array | undefined)[], lr: number, t: number) => void

/**
 * An optimizer from its in-place update rule and slot count. A missing gradient or slot, or a length
 * mismatch, is a caller's bug (the training loop builds all three from the same network) and
 * throws before anything is written.
 */
export const fromUpdateRule = (name: string, slotCount: number, rule: UpdateRule): Optimizer =>
  withCopies(name, (params) => initSlots(params, slotCount), (params, grads, state, lr) => {
    for (const [key, theta] of Object.entries(params)) {
      const g = grads[key]
      if (g === undefined) throw new RangeError(`optimizer step: no gradient for parameter "${key}"`)
      if (g.length !== theta.length) throw new RangeError(`optimizer step: gradient of "${key}" has ${g.length} values, the parameter ${theta.length}`)
      const slots = state.slots[key]
      if (slots === undefined || slots.length !== slotCount || slots.some((s) => s.length !== theta.length))
        throw new RangeError(`optimizer step: the state has no ${slotCount} slot(s) of ${theta.length} values for "${key}" (was it initialised with other parameters?)`)
    }
    const t = state.step + 1
    for (const [key, theta] of Object.entries(params)) rule(theta, grads[key]!, state.slots[key]!, lr, t)
    return { step: t, slots: state.slots }
  })

/** `opt` with its `spec` (for an elementwise optimizer only: see `Optimizer.spec`). */
export const withSpec = (spec: OptimizerSpec, opt: Optimizer): Optimizer => ({ ...opt, spec })

/** The pure `step` of an in-place step: it runs on copies of the params and of their slots. */
export const withCopies = (name: string, init: Optimizer['init'], stepInPlace: Optimizer['stepInPlace']): Optimizer => ({
  name,
  init,
  stepInPlace,
  step: (params, grads, state, lr) => {
    const copies: Record<string, Float64Array> = {}
    const slots: Record<string, readonly Float64Array[]> = { ...state.slots }
    for (const [key, theta] of Object.entries(params)) {
      copies[key] = theta.slice()
      const own = state.slots[key]
      if (own !== undefined) slots[key] = own.map((s) => s.slice())
    }
    return { params: copies, state: stepInPlace(copies, grads, { step: state.step, slots }, lr) }
  },
})

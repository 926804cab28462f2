/**
 * The generic steps that draw per-example activations, numbered as if the run were rows
 * offset.. of a larger batch (StepEnv `offset`): element i of a per-example tensor of `per`
 * values per example draws index offset·per + i of its site key — what the Monte Carlo
 * interpreter draws on the whole set at once. So a set evaluated in chunks gets the same bits as
 * in one run, on the kernels (FillRandom, execute.ts `drawStart`) and on these fallbacks alike.
 */
import type { Binarize, SiteId } from '../../dsl/node.js'
import type { Noise } from '../../dsl/noise.js'
import { sizeOf } from '../../dsl/shape.js'
import { signsInto } from '../reference/sampling.js'
import type { UnitFn } from './fuseEpilogue.js'
import type { F64Loc } from './generic.js'
import { read } from './generic.js'
import { packRows } from './layout.js'
import type { WordBits } from './layout.js'
import type { StepEnv } from './plan.js'

/** The first draw of this run's rows: offset × draws per example (0 for batch-free tensors). */
const firstDraw = (env: StepEnv, perExample: number): number => env.offset * perExample

/**
 * The sampling rule over a per-example float64 tensor (a binarize that no kernel fuses), or the
 * sign in the mode network.
 */
export const binarizeStep = (b: Binarize, src: F64Loc, out: F64Loc, sampling: boolean) => {
  const perExample = b.type.shape[0] === 'batch' ? sizeOf(b.type.shape.slice(1)) : 0
  return (env: StepEnv): void => {
    const pre = read(env, src).data
    const dst = read(env, out).data
    if (!sampling) for (let i = 0; i < pre.length; i++) dst[i] = pre[i]! >= 0 ? 1 : -1
    else signsInto(env.siteKey(b.site), firstDraw(env, perExample), pre, b.noise, dst)
  }
}

/**
 * The unfused epilogue: pre-activations a_j(dot) from a float64 dot product [rows, N], the
 * binarize rule (sign, or sampling at `site`), packed into the rows of `bits`.
 */
export const epilogueStep = (units: readonly UnitFn[], dot: F64Loc, bits: number, noise: Noise, site: SiteId, sampling: boolean, wordBits: WordBits) =>
  (env: StepEnv): void => {
    const d = read(env, dot).data
    const n = units.length
    const pre = new Float64Array(d.length)
    for (let i = 0; i < d.length; i++) pre[i] = units[i % n]!(d[i]!)
    const signs = new Float64Array(d.length)
    if (!sampling || noise.family === 'none') for (let i = 0; i < pre.length; i++) signs[i] = pre[i]! >= 0 ? 1 : -1
    else signsInto(env.siteKey(site), firstDraw(env, n), pre, noise, signs)
    packRows(signs, env.rows, n, wordBits, env.views.i32, env.addr(bits) / 4)
  }

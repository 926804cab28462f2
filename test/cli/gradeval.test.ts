/**
 * `sbnkit gradeval`, in process: the JSON report on stdout (reproducible apart from `timing`),
 * its per-group statistics, the {0,1} coding, the lab along training, and argument errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { gradevalPreset } from '../../src/estimators/analysis/preset.js'
import { toZeroOne } from '../../src/dsl/codings.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { cliRunner } from './run.js'

const sbnkit = (...argv: string[]) => cliRunner((s) => s)(argv)

interface Group {
  readonly mean: number[]; readonly stderr: number[]; readonly perDrawVariance: number[]; readonly variance: number
  readonly biasNorm: number; readonly biasNormStderr: number; readonly noiseFloor: number; readonly relativeBias: number
  readonly byM: ReadonlyArray<{ readonly M: number; readonly cosine: number }>
}
interface Report {
  readonly format: string; readonly exactLoss: number; readonly groups: Record<string, string[]>; readonly exact: Record<string, number[]>
  readonly estimators: Record<string, { readonly layers: Record<string, Group> }>; readonly timing?: unknown
}

const withoutTiming = (text: string): string => {
  const j = JSON.parse(text) as Record<string, unknown>
  delete j['timing']
  return JSON.stringify(j)
}

describe('sbnkit gradeval --json', () => {
  it('prints the report on stdout; apart from timing it is the same on every run', async () => {
    const args = ['gradeval', '--preset', '--draws', '12', '--estimators', 'exact,psa,reinforce:loo:2', '--json']
    const [a, b] = [await sbnkit(...args), await sbnkit(...args)]
    expect(a.code).toBe(0)
    expect(withoutTiming(a.out)).toBe(withoutTiming(b.out))
    const r = JSON.parse(a.out) as Report
    expect(r.format).toBe('sbnkit-gradeval/2')
    expect(Object.keys(r.estimators)).toEqual(['exact', 'psa', 'reinforce:loo:2'])
    expect(Object.keys(r.timing as object)).toEqual(['seconds'])
  })

  it('per group: mean ± stderr, per-draw variance, bias norm ± stderr and noise floor, consistent with each other', async () => {
    const r = JSON.parse((await sbnkit('gradeval', '--preset', '--draws', '30', '--estimators', 'exact,muprop', '--json')).out) as Report
    for (const [group, names] of Object.entries(r.groups)) {
      const truth = r.exact[group]!
      const size = truth.length
      expect(names.length).toBeGreaterThan(0)
      const ex = r.estimators['exact']!.layers[group]!
      // The exact estimator is evaluated once and stands for every draw: its mean is the truth up to
      // the rounding of summing N copies and dividing by N, its spread is rounding only.
      ex.mean.forEach((m, i) => expect(Math.abs(m - truth[i]!)).toBeLessThanOrEqual(1e-15))
      for (const v of [ex.biasNorm, ex.noiseFloor, ...ex.stderr]) expect(v).toBeLessThanOrEqual(1e-15)
      const mp = r.estimators['muprop']!.layers[group]!
      for (const v of [mp.mean, mp.stderr, mp.perDrawVariance]) expect(v).toHaveLength(size)
      // stderr_i = sqrt(v_i / N); the floor is sqrt(Σ v_i / N); the bias norm is ‖m − g‖.
      mp.stderr.forEach((s, i) => expect(Math.abs(s - Math.sqrt(mp.perDrawVariance[i]! / 30))).toBeLessThanOrEqual(1e-15))
      expect(Math.abs(mp.noiseFloor - Math.sqrt(mp.perDrawVariance.reduce((t, v) => t + v, 0) / 30))).toBeLessThanOrEqual(1e-12)
      expect(Math.abs(mp.biasNorm - Math.hypot(...mp.mean.map((m, i) => m - truth[i]!)))).toBeLessThanOrEqual(1e-12)
    }
  })

  it('--coding zero-one: the same exact expected loss, and the exact gradient of the {0,1} parameters', async () => {
    const pm = JSON.parse((await sbnkit('gradeval', '--preset', '--draws', '2', '--estimators', 'exact', '--json')).out) as Report
    const zo = JSON.parse((await sbnkit('gradeval', '--preset', '--draws', '2', '--estimators', 'exact', '--coding', 'zero-one', '--json')).out) as Report
    // Same function, so the same exact loss up to the rounding of W/2 and 1ᵀW (a few ulps).
    expect(Math.abs(pm.exactLoss - zo.exactLoss)).toBeLessThanOrEqual(1e-12)
    const preset = gradevalPreset()
    if (E.isLeft(preset)) throw new Error('preset')
    const converted = toZeroOne(preset.right.net)
    if (E.isLeft(converted)) throw new Error('conversion')
    const g = exact(converted.right, preset.right.feed, { grad: true })
    if (E.isLeft(g)) throw new Error('exact')
    expect(zo.exact['layer2']!.slice(0, 25)).toEqual([...g.right.grad!['layer2.W']!])
  })

  it('--train 0,1 runs the lab on the initial network and after one epoch', async () => {
    const r = await sbnkit('gradeval', '--preset', '--draws', '5', '--estimators', 'st', '--train', '0,1', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.out) as { format: string; epochs: Array<{ epoch: number; trainLoss?: number; exactLoss: number }> }
    expect(j.format).toBe('sbnkit-gradeval-along/1')
    expect(j.epochs.map((e) => [e.epoch, e.trainLoss === undefined])).toEqual([[0, true], [1, false]])
    expect(j.epochs[1]!.exactLoss).not.toBe(j.epochs[0]!.exactLoss)
  })

  it('bad arguments are clear errors (exit 2)', async () => {
    const runs = [
      await sbnkit('gradeval', '--preset', '--train', '5,2'),
      await sbnkit('gradeval', '--preset', '--coding', 'ternary'),
      await sbnkit('gradeval', '--preset', '--estimators', 'gumbel-st:0'),
      await sbnkit('gradeval', '--preset', '--estimators', 'reinforce:loo:1'),
    ]
    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2])
    expect(runs.map((r) => r.err.split(';')[0])).toMatchInlineSnapshot(`
      [
        "sbnkit gradeval: --train expects ascending non-negative integers separated by commas (epochs), found 5,2
      ",
        "sbnkit gradeval: --coding expects plus-minus or zero-one, found ternary
      ",
        "sbnkit gradeval: unknown estimator "gumbel-st:0"",
        "sbnkit gradeval: unknown estimator "reinforce:loo:1"",
      ]
    `)
  })
})

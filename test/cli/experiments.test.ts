/**
 * The results page of `sbnkit experiments` (src/cli/experiments.ts): the table's rows, budgets and
 * mean ± std over seeds, from results given here (training a row is measured in docs, not here).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cifarLine, curveChart, mergeResults, resultsTable } from '../../src/cli/experiments.js'
import type { RunResult } from '../../src/cli/experimentRuns.js'
import { deployedMode, rows } from '../../src/cli/experimentRuns.js'
import { experiments } from '../../src/cli/experiments.js'
import { STANDARD_RECIPE } from '../../src/train/standard.js'
import { memoryIo } from '../../src/cli/io.js'

const result = (row: string, seed: number, mode: number, over: Partial<RunResult> = {}): RunResult => ({
  row, seed, epochs: 3, steps: 860, trainExamples: 55000, testExamples: 10000, testMode: mode - 0.03, testModeRecalibrated: mode,
  testEnsemble: mode - 0.01, seconds: 600, curve: [{ epoch: 1, trainLoss: 1, valMode: 0.9, valEnsemble: 0.91 }], ...over,
})

describe('sbnkit experiments: the results table', () => {
  const plan = { rows: rows.map((r) => r.id), seeds: [0, 1], epochs: { mnist: 3, 'fashion-mnist': 3 }, lr: 0.1 }
  const table = resultsTable(plan, [
    result('mnist/mlp/st-md', 0, 0.955), result('mnist/mlp/st-md', 1, 0.957),
    result('mnist/mlp/st-md-b256', 0, 0.965, { epochs: 8, steps: 215, seconds: 1200 }),
    result('fashion-mnist/conv/st-md', 0, 0.9, { epochs: 1, seconds: 1800, cpuSeconds: 660, members: 4 }),
    result('mnist/mlp/bnn-b256', 0, 0.97, { epochs: 16, steps: 215, seconds: 180, cpuSeconds: 120, loadAverage: { min: 4.2, max: 6.84 } }),
    result('mnist/mlp/bnn-b256', 1, 0.97, { epochs: 16, steps: 215, seconds: 180, cpuSeconds: 120, loadAverage: { min: 3.5, max: 5 } }),
  ])
  const line = (id: string): string => table.split('\n').find((l) => l.includes(rows.find((r) => r.id === id)!.label) && l.includes(id.split('/')[0]!))!

  it('gives each row its budget and the mean ± std over seeds', () => {
    expect(line('mnist/mlp/st-md')).toBe('| mnist | mlp:256,256 | matched ST + mirror descent | 3 epochs × 860 steps of 64, 10 min | 95.60 ± 0.14 | 92.60 ± 0.14 | 94.60 ± 0.14 | 0, 1 |')
    expect(line('mnist/mlp/st-md-b256')).toBe('| mnist | mlp:256,256 | matched ST + mirror descent, batch 256, lr 0.2 (npm start) | 8 epochs × 215 steps of 256, 20 min | 96.50 (1 seed) | 93.50 (1 seed) | 95.50 (1 seed) | 0 |')
  })

  it('says a test ensemble of other than 16 members, and the CPU time when the runs recorded it', () => {
    expect(line('fashion-mnist/conv/st-md')).toBe('| fashion-mnist | vgg-mnist:0.5 | matched ST + mirror descent (batch norm re-estimated) | 1 epoch × 860 steps of 64, 30 min (11.0 CPU-min) | 90.00 (1 seed) | 87.00 (1 seed) | 89.00 (1 seed) (4 members) | 0 |')
  })

  it('gives the range of the load average over the runs that recorded it', () => {
    expect(line('mnist/mlp/bnn-b256')).toContain('| 16 epochs × 215 steps of 256, 3 min (2.0 CPU-min, load 3.5–6.8) |')
  })

  it('deploys the batch-norm statistics that score better on validation, never chosen on test', () => {
    const t = resultsTable(plan, [
      result('mnist/mlp/st-md', 0, 0.95, { validationMode: { trained: 0.97, recalibrated: 0.96 } }), // training BN: 0.95 − 0.03
      result('mnist/mlp/st-md', 1, 0.95, { validationMode: { trained: 0.96, recalibrated: 0.96 } }), // a tie: re-estimated
    ])
    expect(t.split('\n').find((l) => l.includes('| matched ST + mirror descent |'))).toContain('| 93.50 ± 2.12 | 92.00 ± 0.00 |')
    expect(deployedMode(result('x', 0, 0.95))).toBe(0.95) // older results: re-estimated
    expect(deployedMode(result('x', 0, 0.95, { validationMode: { trained: 0.9, recalibrated: 0.91 } }))).toBe(0.95)
  })

  it('lists every planned row, with the budget it will have when not run yet', () => {
    expect(table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---')).length).toBe(1 + rows.length)
    expect(line('fashion-mnist/mlp/bnn')).toMatch(/\| 3 epochs of batch 64 \(not run yet\) \| — \| — \| — \| — \|$/)
    expect(line('fashion-mnist/mlp/st-md-b256')).toMatch(/\| 16 epochs of batch 256 \(not run yet\) \| — \| — \| — \| — \|$/)
  })

  it('the npm start rows train with the standard recipe on both datasets', () => {
    for (const dataset of ['mnist', 'fashion-mnist']) {
      const r = rows.find((x) => x.id === `${dataset}/mlp/st-md-b256`)!
      expect(r).toMatchObject({ preset: 'mlp:256,256', anneal: 1, epochs: STANDARD_RECIPE.epochs, settings: { recipe: 'md', estimator: 'st', batch: STANDARD_RECIPE.batch, lr: STANDARD_RECIPE.lr } })
    }
  })

  it('plots a row\'s curves and says the CIFAR projection in one sentence', () => {
    expect(curveChart(rows[0]!, [result('mnist/mlp/st-md', 0, 0.955)])).toMatch(/^<svg/)
    expect(cifarLine({ preset: 'vgg-small', batch: 8, stepSeconds: 20, stepCpuSeconds: 9.2, trainImages: 45000, epochSeconds: 51750, data: 'random' }))
      .toBe('vgg-small: one training step at batch 8 took 9.2 s of CPU time (20.0 s wall; on a shared machine; random); an epoch of 45000 images is projected at 14.4 h of one core (0.6 days).')
  })
})

describe('sbnkit experiments: options', () => {
  it.each([['--threads', '0'], ['--threads', '1.5'], ['--threads', 'x'], ['--rows', 'mnist/mlp/nope'], ['--seeds', '1,x'], ['--cifar-batch', '0'], ['--cifar-steps', '2.5'], ['--cifar-width', 'x'], ['--cifar-width', '0']])('%s %s: exit 2 with the usage', async (flag, value) => {
    const io = memoryIo()
    expect(await experiments([flag, value, '--out', '/nonexistent-sbnkit-dir'], io)).toBe(2)
    expect(io.stderr()).toMatch(/^experiments: .*\n\nusage: sbnkit experiments/)
  })
})

describe('sbnkit experiments: where the results go', () => {
  it('creates a missing --out folder (nested) and writes the table there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sbnkit-exp-'))
    const out = join(dir, 'a', 'b')
    const io = memoryIo()
    expect(await experiments(['--rows', 'none', '--seeds', 'none', '--out', out], io)).toBe(0)
    expect(await readFile(join(out, 'experiments-table.md'), 'utf8')).toMatch(/^\| dataset \| network \|/)
    expect(JSON.parse(await readFile(join(out, 'experiments.json'), 'utf8'))).toMatchObject({ format: 'sbnkit-experiments/2', results: [] })
    await rm(dir, { recursive: true, force: true })
  })

  it('says the results were not saved, and exits 1, when --out cannot be a folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sbnkit-exp-'))
    const file = join(dir, 'file')
    await writeFile(file, 'not a folder')
    const io = memoryIo()
    expect(await experiments(['--rows', 'none', '--seeds', 'none', '--out', join(file, 'out')], io)).toBe(1)
    expect(io.stderr()).toMatch(/^experiments: the results were not saved: cannot create the output folder .*file\/out\/img \(ENOTDIR/)
    await rm(dir, { recursive: true, force: true })
  })
})

describe('sbnkit experiments: the CIFAR-10 projection', () => {
  it('measures several VGG-small steps on images in the binary format and projects from the steps after the first', async () => {
    const out = await mkdtemp(join(tmpdir(), 'sbnkit-cifar-'))
    const io = memoryIo()
    expect(await experiments(['--rows', 'none', '--seeds', 'none', '--cifar', '--cifar-width', '0.125', '--cifar-batch', '2', '--cifar-steps', '3', '--out', out], io)).toBe(0)
    expect(io.stdout()).toMatch(/^cifar10: vgg-small:0\.125: a training step at batch 2 took \d+\.\d s of CPU time \(\d+\.\d s wall; the median of steps 2–3, on a shared machine; the first step, with compilation and first allocations, took \d+\.\d s of CPU; 6 random images in the CIFAR-10 binary format/)
    expect(io.stderr()).toContain('cifar10: step 3/3:')
    const saved = JSON.parse(await readFile(join(out, 'experiments.json'), 'utf8')) as { cifar: { steps: number; batch: number; epochSeconds: number; stepCpuSeconds: number } }
    expect(saved.cifar).toMatchObject({ steps: 3, batch: 2 })
    expect(saved.cifar.epochSeconds).toBeCloseTo((saved.cifar.stepCpuSeconds * 45000) / 2, 6)
    await rm(out, { recursive: true, force: true })
  }, 60_000)
})

describe('sbnkit experiments: two regenerations at once', () => {
  it('law: saving merges this process\'s runs into the file\'s (same row and seed: replaced in place; new: appended), so neither loses a run', () => {
    const a = result('mnist/mlp/st-md', 0, 0.95)
    const b = result('mnist/mlp/st-md', 1, 0.95)
    const bNew = result('mnist/mlp/st-md', 1, 0.96)
    const c = result('fashion-mnist/mlp/st-md', 0, 0.85)
    expect(mergeResults([a, b], [bNew, c])).toEqual([a, bNew, c])
    expect(mergeResults([], [c])).toEqual([c])
    expect(mergeResults([a, c], [])).toEqual([a, c])
  })
})

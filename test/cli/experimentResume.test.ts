/**
 * `sbnkit experiments` keeps a checkpoint per epoch of the run in progress (src/cli/experimentResume.ts):
 * a run stopped after its first epoch (here: the second checkpoint cannot be written) continues
 * from that checkpoint, and its result equals the uninterrupted run's but for the seconds and load average. A tiny
 * row (mlp:8 on 256 MNIST training images, 2 epochs) keeps it quick.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDirName } from '../../src/cli/experimentResume.js'
import type { RowSpec, RunResult } from '../../src/cli/experimentRuns.js'
import { runRow } from '../../src/cli/experimentRuns.js'
import { memoryIo } from '../../src/cli/io.js'

let dir = ''
const at = (...names: string[]): string => join(dir, ...names)
const spec: RowSpec = {
  id: 'mnist/tiny/st-md', label: 'tiny', dataset: 'mnist', preset: 'mlp:8', anneal: 1, epochs: 2, testMembers: 2,
  settings: { recipe: 'md', estimator: 'st', batch: 64, limit: 256, ensemble: 2 },
}
const run = (work: string): Promise<E.Either<string, RunResult>> => runRow(spec, 0, 2, 0.1, memoryIo(), at('cache'), 1, at(work))
const timeless = ({ seconds: _s, cpuSeconds: _c, loadAverage: _l, ...rest }: RunResult): Omit<RunResult, 'seconds' | 'cpuSeconds' | 'loadAverage'> => rest

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-exp-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sbnkit experiments: a checkpoint per epoch of the run in progress', () => {
  it('law: a run stopped after epoch 1 and continued ≡ the uninterrupted run (but for its seconds and load average); finished runs leave no directory', async () => {
    const whole = await run('a')
    if (E.isLeft(whole)) throw new Error(whole.left)
    expect(whole.right.curve.length).toBe(2)
    expect(await readdir(at('a'))).toEqual([])

    // The second checkpoint cannot be written: a directory stands where its state file goes.
    const runDir = at('b', runDirName(spec.id, 0))
    await mkdir(join(runDir, 'ckpt-000002.state.json'), { recursive: true })
    await writeFile(join(runDir, 'ckpt-000002.state.json', 'blocker'), '')
    const stopped = await run('b')
    expect(E.isLeft(stopped) && stopped.left).toMatch(/checkpoint/)
    expect(await stat(join(runDir, 'checkpoint')).then(() => true, () => false)).toBe(true)
    await rm(join(runDir, 'ckpt-000002.state.json'), { recursive: true })

    const continued = await run('b')
    if (E.isLeft(continued)) throw new Error(continued.left)
    expect(timeless(continued.right)).toEqual(timeless(whole.right))
    expect(continued.right.seconds).toBeGreaterThan(0)
    expect(await readdir(at('b'))).toEqual([])
  })

  it('a damaged checkpoint is an error naming the directory to delete', async () => {
    const runDir = at('c', runDirName(spec.id, 0))
    await mkdir(runDir, { recursive: true })
    await writeFile(join(runDir, 'checkpoint'), 'ckpt-000009\n')
    const r = await run('c')
    expect(E.isLeft(r) && r.left).toContain(`(delete ${runDir} to start this run again)`)
  })
})

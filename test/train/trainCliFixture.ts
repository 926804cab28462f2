/**
 * `sbnkit train` run in-process on the tiny task of loopFixtures.ts: a scratch directory holding
 * its train.json and val.json, and the flags of a tiny MLP run into `--out DIR/<name>`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import { memoryIo } from '../../src/cli/io.js'
import { trainCommandWith } from '../../src/cli/train.js'
import { writeDataFile } from '../../src/data/file.js'
import { fileIo } from '../../src/train/checkpoint.js'
import { task } from './loopFixtures.js'

export interface TrainCli {
  /** A path inside the scratch directory. */
  readonly at: (...names: string[]) => string
  /** `sbnkit train ARGV`: exit code, stdout and stderr. */
  readonly run: (...argv: string[]) => Promise<{ readonly code: number; readonly out: string; readonly err: string }>
  /** The flags of a tiny run (mlp:7, batch 8, fast products) writing to `out`, then `extra`. */
  readonly tiny: (out: string, ...extra: string[]) => string[]
  /** For beforeAll: makes the directory and writes the data files. */
  readonly setup: () => Promise<void>
  /** For afterAll: removes the directory. */
  readonly teardown: () => Promise<void>
}

export const trainCli = (prefix: string): TrainCli => {
  let dir = ''
  const at = (...names: string[]): string => join(dir, ...names)
  return {
    at,
    run: async (...argv) => {
      const io = memoryIo()
      const code = await trainCommandWith({ signals: () => () => undefined, checkpointIo: fileIo, cacheDir: () => at('cache') })(argv, io)
      return { code, out: io.stdout(), err: io.stderr() }
    },
    tiny: (out, ...extra) => [
      '--preset', 'mlp:7', '--dataset', at('train.json'), '--validation', at('val.json'), '--batch', '8', '--ensemble', '3',
      '--lr', '0.05', '--schedule', 'constant', '--no-batch-norm', '--log-every', '0', '--products', 'fast', '--out', at(out), ...extra,
    ],
    setup: async () => {
      dir = await mkdtemp(join(tmpdir(), prefix))
      for (const [name, feed] of [['train.json', task(48)], ['val.json', task(24, 1000)]] as const)
        expect(E.isRight(await writeDataFile(at(name), feed))).toBe(true)
    },
    teardown: () => rm(dir, { recursive: true, force: true }),
  }
}

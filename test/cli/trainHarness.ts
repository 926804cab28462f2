/**
 * The in-process `sbnkit train` harness of the CLI tests: dependencies that install no signal
 * handlers and keep the cache in the test's folder, and a runner returning the exit code and the
 * outputs made portable by the caller's `portable`.
 */
import type { Io } from '../../src/cli/io.js'
import { memoryIo } from '../../src/cli/io.js'
import type { TrainDeps } from '../../src/cli/train.js'
import { trainCommandWith } from '../../src/cli/train.js'
import { fileIo } from '../../src/train/checkpoint.js'

type MemoryIo = Io & { stdout: () => string; stderr: () => string }

export const trainHarness = (at: (...names: string[]) => string, portable: (s: string) => string) => {
  const quietDeps = (over: Partial<TrainDeps> = {}): TrainDeps => ({
    signals: () => () => undefined, checkpointIo: fileIo, cacheDir: () => at('cache'), ...over,
  })
  const run = async (argv: string[], deps: TrainDeps = quietDeps(), io: MemoryIo = memoryIo()) => {
    const code = await trainCommandWith(deps)(argv, io)
    return { code, out: portable(io.stdout()), err: portable(io.stderr()) }
  }
  return { quietDeps, run }
}

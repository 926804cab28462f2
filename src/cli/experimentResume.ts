/**
 * Checkpoints inside one run of `sbnkit experiments`: a run (one row, one seed) writes a
 * checkpoint after every epoch into its own directory under the work directory
 * (`<work>/<row>-seed<k>/`, the checkpoint files of src/train/checkpoint.ts), with the wall and
 * CPU seconds spent so far (`spent.json`). A regeneration that was stopped in the middle of a run
 * continues it from its last epoch bit-identically (the same keys, step counter and optimizer
 * state as an uninterrupted run), and the row's budget counts the time of both parts.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { ModelError } from '../dsl/codec.js'
import { drawModelErrors } from '../dsl/codec.js'
import { writeFileAtomic } from '../io/files.js'
import type { Restored } from '../train/checkpoint.js'
import { checkpointStore, fileIo, POINTER, readCheckpoint } from '../train/checkpoint.js'
import type { Checkpoint } from '../train/loop.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Seconds of training spent by the earlier parts of a run. */
export interface Spent {
  readonly seconds: number
  readonly cpuSeconds: number
}

/** A run's directory, and what an earlier, stopped part of it left there. */
export interface RunDir {
  readonly dir: string
  readonly restored?: Restored
  readonly spent: Spent
}

const SPENT = 'spent.json'
const nothing: Spent = { seconds: 0, cpuSeconds: 0 }

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * The directory of one run under `work`: `mnist/mlp/st-md-b256`, seed 1 → `mnist-mlp-st-md-b256-seed1`.
 * @example runDirName('mnist/mlp/st-md', 0) // 'mnist-mlp-st-md-seed0'
 */
export const runDirName = (row: string, seed: number): string => `${row.replaceAll('/', '-')}-seed${seed}`

/**
 * Opens the run directory `dir`: its last checkpoint and the seconds spent before it, or a fresh
 * start when it holds no checkpoint. A damaged checkpoint is an error naming the file (delete the
 * directory to start the run again).
 */
export const openRunDir = async (dir: string): Promise<E.Either<string, RunDir>> => {
  if (!(await stat(join(dir, POINTER)).then(() => true, () => false))) {
    const made = await mkdir(dir, { recursive: true }).then(() => '', (e: unknown) => String(e))
    return made === '' ? E.right({ dir, spent: nothing }) : E.left(`${dir}: cannot make the run's directory (${made})`)
  }
  const r = await readCheckpoint(join(dir, POINTER))
  if (E.isLeft(r)) return E.left(`${r.left} (delete ${dir} to start this run again)`)
  const text = await readFile(join(dir, SPENT), 'utf8').catch(() => '')
  // An unreadable spent.json (it is written atomically, so only a hand edit makes one) loses only the earlier parts' seconds.
  const j = ((): Partial<Spent> => { try { return JSON.parse(text) as Partial<Spent> } catch { return {} } })()
  const spent = typeof j.seconds === 'number' && typeof j.cpuSeconds === 'number' ? { seconds: j.seconds, cpuSeconds: j.cpuSeconds } : nothing
  return E.right({ dir, restored: r.right, spent })
}

/**
 * The checkpoint hook of a run in `run`: stores each checkpoint and the seconds spent so far
 * (`now()`: this part's wall and CPU seconds, added to the earlier parts').
 */
export const checkpointHook = (run: RunDir, now: () => Spent): ((c: Checkpoint) => Promise<E.Either<string, void>>) => {
  const store = checkpointStore(run.dir, run.restored ?? { generation: 0 }, fileIo)
  return async (c) => {
    const w = await store.save(c)
    if (E.isLeft(w)) return w
    const t = now()
    const spent: Spent = { seconds: run.spent.seconds + t.seconds, cpuSeconds: run.spent.cpuSeconds + t.cpuSeconds }
    return E.mapLeft((e: ModelError) => drawModelErrors([e]))(await writeFileAtomic(join(run.dir, SPENT), `${JSON.stringify(spent)}\n`))
  }
}

/** Removes a finished run's directory (its result is in experiments.json). */
export const removeRunDir = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true })

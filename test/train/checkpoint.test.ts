/**
 * Checkpoints on disk: the exact round trip (a run resumed from the files is bit-identical), a
 * crash between any two writes and a full disk leave the previous checkpoint complete and
 * current, old generations are removed except the best, and unreadable checkpoints are errors
 * naming the file.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CheckpointIo, Restored } from '../../src/train/checkpoint.js'
import { checkpointStore, fileIo, readCheckpoint } from '../../src/train/checkpoint.js'
import type { Checkpoint, TrainResult } from '../../src/train/loop.js'
import { train } from '../../src/train/loop.js'
import { right, sameBits, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-ckpt-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const ok = <A>(r: E.Either<unknown, A>): A => right(r)
const restore = async (path = join(dir, 'checkpoint')): Promise<Restored> => ok(await readCheckpoint(path))

/** The file I/O of a process that dies after `survive` writes: nothing after that happens. */
const crashingIo = (survive: number): CheckpointIo => {
  let writes = 0
  let dead = false
  return {
    write: async (path, data) => {
      if (dead || writes++ >= survive) {
        dead = true
        return E.left('the process died')
      }
      return fileIo.write(path, data)
    },
    remove: async (path) => (dead ? undefined : fileIo.remove(path)),
    list: async (d) => (dead ? [] : fileIo.list(d)),
  }
}

/** Trains `epochs` epochs writing checkpoints into `dir`; returns the in-memory checkpoints too. */
const run = async (epochs: number, io: CheckpointIo = fileIo, over = {}, hidden = 5): Promise<{ r: TrainResult; saved: Checkpoint[] }> => {
  const store = checkpointStore(dir, { generation: 0 }, io)
  const saved: Checkpoint[] = []
  const r = await train(tinyNet({ kind: 'mlp', hidden: [hidden] }), tinyData(), tinyConfig({ epochs, ...over }), {
    checkpoint: async (c) => {
      const w = await store.save(c)
      if (E.isRight(w)) saved.push(c)
      return w
    },
  })
  return { r: ok(r), saved }
}

describe('checkpoints', () => {
  it('round trip: the files give back the parameters and state bit for bit, and a resumed run equals the whole run', async () => {
    const whole = ok(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 2 })))
    const { saved } = await run(1)
    const back = await restore()
    expect(back.generation).toBe(1)
    expect(sameBits(back.net.params, saved[0]!.net.params)).toBe(true)
    expect(back.state.optimizer).toEqual(saved[0]!.state.optimizer)
    expect(back.state.best?.epoch).toBe(1)
    expect(sameBits(back.state.best!.params, saved[0]!.state.best!.params)).toBe(true)
    const { best, ...rest } = back.state
    const { best: best0, ...rest0 } = saved[0]!.state
    expect(rest).toEqual(rest0)
    const resumed = ok(await train(back.net, tinyData(), tinyConfig({ epochs: 2 }), {}, back.state))
    expect(sameBits(resumed.last.params, whole.last.params)).toBe(true)
    expect(sameBits(resumed.net.params, whole.net.params)).toBe(true)
  })

  it('the pointer may be given as the directory', async () => {
    await run(1)
    expect((await restore(dir)).generation).toBe(1)
  })

  it('a crash between any two writes of generation 2 leaves generation 1 complete and current', async () => {
    // 200 hidden units: 1200 latent weights go to the side file, so a save is four writes.
    for (let survive = 0; survive < 4; survive++) {
      await rm(dir, { recursive: true, force: true })
      await mkdir(dir)
      const first = await run(1, fileIo, {}, 200)
      const before = first.saved[0]!
      // The second run's store starts at generation 1 and dies during its first save.
      const store = checkpointStore(dir, { generation: 1, bestGeneration: 1 }, crashingIo(survive))
      const w = await store.save({ ...before, state: { ...before.state, epoch: 2 } })
      expect(E.isLeft(w)).toBe(true)
      const back = await restore()
      expect(back.generation, `crash after ${survive} writes`).toBe(1)
      expect(back.state.epoch).toBe(1)
      expect(sameBits(back.net.params, before.net.params)).toBe(true)
      // The files the dead process left behind do not disturb the next save.
      expect(E.isRight(await checkpointStore(dir, { generation: 1, bestGeneration: 1 }).save(before))).toBe(true)
      expect((await restore()).generation).toBe(2)
    }
  })

  it('a full disk while writing the state: a clear message, the previous checkpoint intact, no stray files', async () => {
    await run(1)
    const full: CheckpointIo = {
      ...fileIo,
      write: async (path, data) =>
        path.endsWith('.state.json') ? E.left(`${path}: cannot write the file (no space left on the device)`) : fileIo.write(path, data),
    }
    const store = checkpointStore(dir, { generation: 1, bestGeneration: 1 }, full)
    const c = (await restore())
    const w = await store.save({ net: c.net, state: c.state, best: false })
    expect(E.isLeft(w) && w.left.replace(dir, '<dir>')).toBe('<dir>/ckpt-000002.state.json: cannot write the file (no space left on the device)')
    expect((await restore()).generation).toBe(1)
    expect((await readdir(dir)).sort()).toEqual(['checkpoint', 'ckpt-000001.json', 'ckpt-000001.state.json'])
  })

  it('keeps only the current generation and the best one', async () => {
    // lr 1e-12: the first epoch stays the best, so generation 1 is kept beside the current one.
    await run(3, fileIo, { lr: 1e-12 })
    expect((await readdir(dir)).sort()).toEqual([
      'checkpoint', 'ckpt-000001.json', 'ckpt-000001.state.json', 'ckpt-000003.json', 'ckpt-000003.state.json',
    ])
    const back = await restore()
    expect(back).toMatchObject({ generation: 3, bestGeneration: 1 })
    expect(back.state.best?.epoch).toBe(1)
  })

  it('large parameters go to a side file named by the generation', async () => {
    const store = checkpointStore(dir, { generation: 0 })
    const net = tinyNet({ kind: 'mlp', hidden: [200] })
    const r = await train(net, tinyData(), tinyConfig({ epochs: 1 }), { checkpoint: store.save })
    expect(E.isRight(r)).toBe(true)
    expect((await readdir(dir)).sort()).toEqual(['checkpoint', 'ckpt-000001.bin', 'ckpt-000001.json', 'ckpt-000001.state.json'])
    expect(sameBits((await restore()).net.params, E.isRight(r) ? r.right.last.params : {})).toBe(true)
  })

  it('unreadable checkpoints are errors naming the file', async () => {
    const strip = (e: E.Either<string, unknown>): string => (E.isLeft(e) ? e.left.replaceAll(dir, '<dir>') : 'right')
    expect(strip(await readCheckpoint(join(dir, 'checkpoint')))).toBe('<dir>/checkpoint: cannot read the file (no such file or directory)')
    await writeFile(join(dir, 'checkpoint'), '{"format": "sbnkit-model/1"}')
    expect(strip(await readCheckpoint(dir))).toBe('<dir>/checkpoint: expected a checkpoint pointer {"format": "sbnkit-checkpoint/1", "generation", "model", "state"}')
    await run(1)
    await writeFile(join(dir, 'checkpoint'), '{"format": "sbnkit-checkpoint/1", "generation": 7, "model": "ckpt-000001.json", "state": "ckpt-000001.state.json"}')
    expect(strip(await readCheckpoint(dir))).toBe('<dir>/ckpt-000001.state.json: belongs to generation 1, but <dir>/checkpoint names generation 7')
    await writeFile(join(dir, 'ckpt-000001.state.json'), '{"format": "sbnkit-train-state/1", "generation": 7, "model": "ckpt-000001.json", "trainer": {"epoch": -1}}')
    expect(strip(await readCheckpoint(dir))).toBe('<dir>/ckpt-000001.state.json: trainer.epoch: expected a whole number ≥ 0, found -1')
  })

  it('a tampered state is refused: garbage history, a truncated optimizer slot, a slot of no parameter', async () => {
    await run(1)
    const strip = (e: E.Either<string, unknown>): string => (E.isLeft(e) ? e.left.replaceAll(dir, '<dir>') : 'right')
    const statePath = join(dir, 'ckpt-000001.state.json')
    const good = JSON.parse(await readFile(statePath, 'utf8')) as { history: unknown[]; optimizer: { slots: Record<string, string[]> }[] }
    expect(strip(await readCheckpoint(dir))).toBe('right')
    const tamper = async (edit: (s: typeof good) => void): Promise<string> => {
      const s = structuredClone(good)
      edit(s)
      await writeFile(statePath, JSON.stringify(s))
      return strip(await readCheckpoint(dir))
    }
    expect(await tamper((s) => { s.history = [42] })).toBe('<dir>/ckpt-000001.state.json: history[0]: expected an epoch record { "type": "epoch", … }, found 42')
    expect(await tamper((s) => { s.history = [{ type: 'epoch', epoch: 1, step: 'x' }] })).toBe('<dir>/ckpt-000001.state.json: history[0].step: expected a whole number ≥ 0, found "x"')
    const [name, slots] = Object.entries(good.optimizer[0]!.slots)[0]!
    // One float64 fewer in the first slot of the first parameter (still valid base64 of float64s).
    const shorter = Buffer.from(slots[0]!, 'base64').subarray(8).toString('base64')
    expect(await tamper((s) => { s.optimizer[0]!.slots[name]![0] = shorter }))
      .toMatch(new RegExp(`^<dir>/ckpt-000001.state.json: optimizer\\[0\\].slots.${name.replace('.', '\\.')}\\[0\\]: expected (\\d+) values \\(the parameter's size\\), found \\d+$`))
    expect(await tamper((s) => { s.optimizer[0]!.slots['ghost.W'] = slots })).toBe('<dir>/ckpt-000001.state.json: optimizer[0].slots: names "ghost.W", which is no parameter of the model')
  })
})

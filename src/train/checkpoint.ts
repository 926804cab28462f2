/**
 * Checkpoints of a training run in a directory, consistent after a crash at any point.
 *
 * Checkpoint generation g is three or four files, each written atomically (temporary file,
 * fsync, rename; `writeFileAtomic`):
 *
 *   ckpt-<g>.bin         the large parameters (little-endian float64, checksummed by the JSON)
 *   ckpt-<g>.json        the network in the model file format (`sbnkit check`/`sample` read it)
 *   ckpt-<g>.state.json  the trainer state: epoch, step, optimizer state (exact), best epoch…
 *   checkpoint           the pointer: which generation is current (written last)
 *
 * in that order. A generation's files have names no other generation uses, so until the pointer
 * is renamed into place it names the previous generation, whose files are untouched: a crash (or
 * a full disk) between any two writes leaves the previous checkpoint complete and current. Files
 * of older generations are removed only after the pointer moves, except those of the generation
 * holding the best parameters on validation, which the state names.
 */
import { readdir, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { readModelFile, readText, writeFileAtomic } from '../io/files.js'
import { drawModelError, drawModelErrors, encodeModel } from '../dsl/codec.js'
import type { Checked, Network, ParamValues } from '../dsl/node.js'
import type { EpochRecord } from './log.js'
import type { Checkpoint, TrainerState } from './loop.js'
import type { EncodedState, OptimizerState } from './optimizers.js'
import { decodeState, encodeState } from './optimizers.js'

// ---------------------------------------------------------------------------------------------
// Model

export const POINTER = 'checkpoint'
export const POINTER_FORMAT = 'sbnkit-checkpoint/1'
export const STATE_FORMAT = 'sbnkit-train-state/1'

/** The file operations a store needs; injected in tests to simulate a full disk or a crash. */
export interface CheckpointIo {
  /** Writes a whole file atomically; Left is a one-line reason. */
  readonly write: (path: string, data: string | Uint8Array) => Promise<E.Either<string, void>>
  readonly remove: (path: string) => Promise<void>
  readonly list: (dir: string) => Promise<readonly string[]>
}

/** The real file system. */
export const fileIo: CheckpointIo = {
  write: async (path, data) => E.mapLeft(drawModelError)(await writeFileAtomic(path, data)),
  remove: (path) => rm(path, { force: true }).catch(() => undefined),
  list: (dir) => readdir(dir).catch(() => []),
}

/** What a checkpoint directory holds: the current generation and the one with the best parameters. */
export interface StorePosition {
  readonly generation: number
  readonly bestGeneration?: number
}

/** A checkpoint read back: the network (with the checkpoint's parameters) and the trainer state. */
export interface Restored extends StorePosition {
  readonly net: Checked<Network>
  readonly state: TrainerState
  readonly dir: string
}

/** The JSON of `ckpt-<g>.state.json`. */
interface StateJson {
  readonly format: string
  readonly generation: number
  readonly model: string
  readonly best: { readonly epoch: number; readonly score: number; readonly generation: number; readonly model: string } | null
  readonly trainer: Omit<TrainerState, 'optimizer' | 'best' | 'history' | 'config'>
  readonly optimizer: readonly EncodedState[]
  readonly history: readonly EpochRecord[]
  readonly config: Readonly<Record<string, string | number>>
}

const base = (g: number): string => `ckpt-${String(g).padStart(6, '0')}`
const files = (g: number) => ({ side: `${base(g)}.bin`, model: `${base(g)}.json`, state: `${base(g)}.state.json` })
const generationOf = (file: string): number | undefined => {
  const m = /^ckpt-(\d+)\./.exec(file)
  return m === null ? undefined : Number(m[1])
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The state file's JSON. */
const stateJson = (g: number, state: TrainerState, bestGeneration: number | undefined): string => {
  const { optimizer, best, history, config, ...trainer } = state
  const json: StateJson = {
    format: STATE_FORMAT, generation: g, model: files(g).model,
    best: best === undefined || bestGeneration === undefined
      ? null
      : { epoch: best.epoch, score: best.score, generation: bestGeneration, model: files(bestGeneration).model },
    trainer, optimizer: optimizer.map(encodeState), history, config,
  }
  return `${JSON.stringify(json, null, 1)}\n`
}

/**
 * Writes checkpoints into `dir` (which must exist), continuing after `from` (the position of a
 * checkpoint resumed from; generation 0 for a new run). `save` fits `TrainHooks.checkpoint`.
 * This is the impure shell of training: it remembers the last generation written.
 * @example const store = checkpointStore('runs/a', { generation: 0 }); await train(net, data, config, { checkpoint: store.save })
 */
export const checkpointStore = (dir: string, from: StorePosition, io: CheckpointIo = fileIo) => {
  let position = from
  const save = async (c: Checkpoint): Promise<E.Either<string, void>> => {
    const g = position.generation + 1
    const f = files(g)
    const bestGeneration = c.best ? g : c.state.best === undefined ? undefined : position.bestGeneration
    const encoded = encodeModel(c.net, { sideFile: f.side })
    const writes: Array<readonly [string, string | Uint8Array]> = [
      ...(encoded.side === undefined ? [] : [[f.side, encoded.side] as const]),
      [f.model, encoded.json],
      [f.state, stateJson(g, c.state, bestGeneration)],
      [POINTER, `${JSON.stringify({ format: POINTER_FORMAT, generation: g, model: f.model, state: f.state })}\n`],
    ]
    for (const [name, data] of writes) {
      const w = await io.write(join(dir, name), data)
      if (E.isLeft(w)) {
        // The pointer still names the previous generation; drop this one's finished files.
        if (name !== POINTER) for (const extra of Object.values(f)) await io.remove(join(dir, extra))
        return E.left(w.left)
      }
    }
    position = bestGeneration === undefined ? { generation: g } : { generation: g, bestGeneration }
    for (const name of await io.list(dir)) {
      const k = generationOf(name)
      if (k !== undefined && k !== g && k !== bestGeneration) await io.remove(join(dir, name))
    }
    return E.right(undefined)
  }
  return { dir, save, position: (): StorePosition => position }
}

export type CheckpointStore = ReturnType<typeof checkpointStore>

// ---------------------------------------------------------------------------------------------
// Reading

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)
const isCount = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0
const isNumber = (u: unknown): u is number => typeof u === 'number' && Number.isFinite(u)

const readJson = async (path: string, what: string): Promise<E.Either<string, unknown>> => {
  const text = await readText(path, what)
  if (E.isLeft(text)) return E.left(drawModelErrors([text.left]))
  try {
    return E.right(JSON.parse(text.right) as unknown)
  } catch {
    return E.left(`${path}: is not valid JSON; expected ${what}`)
  }
}

/** Checks the trainer part of a state file; the message names the field. */
const decodeTrainer = (u: unknown, file: string): E.Either<string, StateJson['trainer']> => {
  if (!isObject(u)) return E.left(`${file}: trainer: expected an object, found ${typeof u}`)
  for (const k of ['epoch', 'step', 'globalStep', 'sinceBest'] as const)
    if (!isCount(u[k])) return E.left(`${file}: trainer.${k}: expected a whole number ≥ 0, found ${JSON.stringify(u[k])}`)
  for (const k of ['baseline', 'epochLoss'] as const)
    if (!isNumber(u[k])) return E.left(`${file}: trainer.${k}: expected a finite number, found ${JSON.stringify(u[k])}`)
  const s = u['sinceLog']
  if (!isObject(s) || !isNumber(s['sum']) || !isCount(s['count']))
    return E.left(`${file}: trainer.sinceLog: expected { "sum": number, "count": whole number }, found ${JSON.stringify(s)}`)
  return E.right(u as unknown as StateJson['trainer'])
}

/** Checks the epoch records of a state file (they feed the curves and early stopping on resume). */
const decodeHistory = (u: unknown, file: string): E.Either<string, EpochRecord[]> => {
  if (!Array.isArray(u)) return E.left(`${file}: history: expected an array of epoch records, found ${typeof u}`)
  for (const [i, r] of u.entries()) {
    const at = `${file}: history[${i}]`
    if (!isObject(r) || r['type'] !== 'epoch') return E.left(`${at}: expected an epoch record { "type": "epoch", … }, found ${JSON.stringify(r)?.slice(0, 60)}`)
    for (const k of ['epoch', 'step'] as const) if (!isCount(r[k])) return E.left(`${at}.${k}: expected a whole number ≥ 0, found ${JSON.stringify(r[k])}`)
    for (const k of ['trainLoss', 'lr', 'seconds'] as const) if (typeof r[k] !== 'number') return E.left(`${at}.${k}: expected a number, found ${JSON.stringify(r[k])}`)
    if (r['bestEpoch'] !== undefined && !isCount(r['bestEpoch'])) return E.left(`${at}.bestEpoch: expected a whole number ≥ 0, found ${JSON.stringify(r['bestEpoch'])}`)
    const v = r['validation']
    if (v !== undefined && !(isObject(v) && isCount(v['examples']) && isObject(v['mode']) && isObject(v['ensemble'])))
      return E.left(`${at}.validation: expected { "examples", "mode", "ensemble" }, found ${JSON.stringify(v)?.slice(0, 60)}`)
  }
  return E.right(u as EpochRecord[])
}

/** Every optimizer slot belongs to a parameter of the model and has its number of values. */
const checkSlots = (optimizer: readonly OptimizerState[], params: ParamValues, file: string): E.Either<string, void> => {
  for (const [i, o] of optimizer.entries())
    for (const [name, list] of Object.entries(o.slots)) {
      const p = Object.hasOwn(params, name) ? params[name] : undefined
      if (p === undefined) return E.left(`${file}: optimizer[${i}].slots: names "${name}", which is no parameter of the model`)
      for (const [j, slot] of list.entries())
        if (slot.length !== p.length) return E.left(`${file}: optimizer[${i}].slots.${name}[${j}]: expected ${p.length} values (the parameter's size), found ${slot.length}`)
    }
  return E.right(undefined)
}

/**
 * Reads the checkpoint a pointer file names (`DIR/checkpoint`, or `DIR` itself), with the best
 * parameters if the state names them. Every failure is one line naming the file.
 * @example const r = await readCheckpoint('runs/a/checkpoint') // right({ net, state, generation, dir })
 */
export const readCheckpoint = async (path: string): Promise<E.Either<string, Restored>> => {
  const isDir = await readdir(path).then(() => true, () => false)
  const pointerPath = isDir ? join(path, POINTER) : path
  const dir = dirname(pointerPath)
  const pointer = await readJson(pointerPath, `a checkpoint pointer (${POINTER_FORMAT}) written by sbnkit train`)
  if (E.isLeft(pointer)) return pointer
  const p = pointer.right
  if (!isObject(p) || p['format'] !== POINTER_FORMAT || !isCount(p['generation']) || typeof p['state'] !== 'string' || typeof p['model'] !== 'string')
    return E.left(`${pointerPath}: expected a checkpoint pointer {"format": "${POINTER_FORMAT}", "generation", "model", "state"}`)
  const generation = p['generation']
  const statePath = join(dir, basename(p['state']))
  const raw = await readJson(statePath, `a training state (${STATE_FORMAT})`)
  if (E.isLeft(raw)) return raw
  const s = raw.right
  if (!isObject(s) || s['format'] !== STATE_FORMAT) return E.left(`${statePath}: expected "format": "${STATE_FORMAT}"`)
  if (s['generation'] !== generation || s['model'] !== p['model'])
    return E.left(`${statePath}: belongs to generation ${JSON.stringify(s['generation'])}, but ${pointerPath} names generation ${generation}`)
  const trainer = decodeTrainer(s['trainer'], statePath)
  if (E.isLeft(trainer)) return trainer
  if (!Array.isArray(s['optimizer'])) return E.left(`${statePath}: optimizer: expected an array of optimizer states`)
  const optimizer: OptimizerState[] = []
  for (const o of s['optimizer']) {
    const d = decodeState(o)
    if (E.isLeft(d)) return E.left(`${statePath}: ${d.left}`)
    optimizer.push(d.right)
  }
  const history = decodeHistory(s['history'], statePath)
  if (E.isLeft(history)) return history
  if (!isObject(s['config'])) return E.left(`${statePath}: expected "config" (an object)`)
  const modelPath = join(dir, basename(p['model']))
  const net = await readModelFile(modelPath)
  if (E.isLeft(net)) return E.left(drawModelErrors(net.left, modelPath))
  const slots = checkSlots(optimizer, net.right.params, statePath)
  if (E.isLeft(slots)) return slots
  const state: TrainerState = {
    ...trainer.right, optimizer, history: history.right, config: s['config'] as Record<string, string | number>,
  }
  const best = s['best']
  if (best === null || best === undefined) return E.right({ net: net.right, state, generation, dir })
  if (!isObject(best) || !isCount(best['epoch']) || !isCount(best['generation']) || typeof best['model'] !== 'string')
    return E.left(`${statePath}: best: expected { "epoch", "score", "generation", "model" } or null`)
  const bestPath = join(dir, basename(best['model']))
  const bestNet = await readModelFile(bestPath)
  if (E.isLeft(bestNet)) return E.left(drawModelErrors(bestNet.left, bestPath))
  if (!isNumber(best['score'])) return E.left(`${statePath}: best.score: expected a finite number, found ${JSON.stringify(best['score'])}`)
  const score = best['score']
  return E.right({
    net: net.right, dir, generation, bestGeneration: best['generation'],
    state: { ...state, best: { epoch: best['epoch'], score, params: bestNet.right.params } },
  })
}

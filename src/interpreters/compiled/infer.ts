/**
 * `Compiled.infer`: a compiled network run on the typed arrays users have, with outputs in the
 * form they ask for, at the speed of the kernels.
 *
 * Inputs: float64, float32, int8 or uint8 arrays (`{ shape, data }`), or packed bits
 * (`{ form: 'bits', shape, data }`, see packedBits.ts). Where the plan allows (entries.ts), int8 and
 * float32 ±1 are packed and validated by one vectorised kernel, uint8 pixels are staged as bytes,
 * and packed bits are copied; otherwise the values are converted into the network's float64
 * buffer in place (no copy on the caller's side) and checked as `run` checks them.
 * Outputs: 'float64' (as `run`), 'float32', 'classes' (the arg-max of each row, first on ties) or
 * 'bits' (a binary output, packed), fresh or written into caller buffers (`into`).
 * The same bits as `run` in every mode: only conversions are replaced, never a computation.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Input, Network } from '../../dsl/node.js'
import type { Key } from '../../dsl/random.js'
import { topoOrder } from '../../dsl/fold.js'
import { bindShapes, checkLabels, firstNonFinite } from '../bind.js'
import type { RunError } from '../runErrors.js'
import type { BitsExit, Entries } from './entries.js'
import { stepsFor } from './entries.js'
import type { Executor } from './execute.js'
import type { WordBits } from './layout.js'
import { bytesPerExample, bytesRow, rowWords32 } from './layout.js'
import type { PackedBits } from './packedBits.js'
import { isPackedBits, packedRowWords } from './packedBits.js'
import type { PassResult, Passes } from './passes.js'
import type { Plan, Step } from './plan.js'

export type TypedValues = Float64Array | Float32Array | Int8Array | Uint8Array
export type InferInput = { readonly shape: readonly number[]; readonly data: TypedValues } | PackedBits
export type OutputForm = 'float64' | 'float32' | 'classes' | 'bits'
export type InferOutput =
  | { readonly form: 'float64'; readonly shape: readonly number[]; readonly data: Float64Array }
  | { readonly form: 'float32'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly form: 'classes'; readonly shape: readonly number[]; readonly data: Int32Array }
  | PackedBits

export interface InferOptions {
  /** The pass key (`sample`) or run key (`ensemble`); ignored by the mode network. */
  readonly key?: Key
  /** The index of the first row in a larger set whose draws this run reproduces (`run`'s `offset`). */
  readonly offset?: number
  /** The outputs to return and their forms (default: every output as float64). */
  readonly outputs?: Readonly<Record<string, OutputForm>>
  /** Caller buffers to write outputs into (of the form's type and exact length). */
  readonly into?: Readonly<Record<string, Float64Array | Float32Array | Int32Array>>
}

export type Infer = (inputs: Readonly<Record<string, InferInput>>, opts?: InferOptions) => E.Either<RunError, Readonly<Record<string, InferOutput>>>

const bad = (what: string, fix: string): E.Either<RunError, never> => E.left({ _tag: 'Unsupported', interpreter: 'compiled', what, fix })

/** The arg-max of each row of a [rows, c] array (the first maximum on ties). */
const argmaxRows = (v: Float64Array, rows: number, c: number, out: Int32Array): void => {
  for (let r = 0; r < rows; r++) {
    let best = 0
    for (let j = 1; j < c; j++) if (v[r * c + j]! > v[r * c + best]!) best = j
    out[r] = best
  }
}

export interface InferContext {
  readonly net: Checked<Network>
  readonly plan: Plan
  readonly entries: Entries
  readonly executor: Executor
  readonly passes: Passes
  readonly wordBits: WordBits
  readonly ensemble: boolean
}

/** How an input entered the memory: through an entry (whose plan step is then replaced) or the general path. */
type Entered =
  | { readonly via: 'general' }
  | { readonly via: 'bits'; readonly step: Step }
  | { readonly via: 'bytes'; readonly step: Step; readonly stage: Step }
  | { readonly via: 'conv'; readonly step: Step; readonly replacement: Step }

const notPm1 = (name: string, i: number, v: number): E.Either<RunError, never> => bad(`data.${name}[${i}] = ${v} for an input of dtype binary`, 'feed ±1 values, or declare the input real')

/** Packed bits into a binary input: copied into the packed buffer of its entry, else unpacked to ±1. */
const enterBits = (c: InferContext, inp: Input, x: PackedBits, rows: number, at: number): E.Either<RunError, Entered> => {
  if (inp.type.dtype !== 'binary') return bad(`packed bits for input ${inp.name} of dtype ${inp.type.dtype}`, 'pass packed bits only to binary inputs')
  const ex = c.executor
  const v = ex.views()
  const n = x.shape.slice(1).reduce((a, b) => a * b, 1)
  const per = packedRowWords(n)
  if (x.data.length !== rows * per) return bad(`data.${inp.name} has ${x.data.length} words, packed bits of shape [${x.shape.join(', ')}] need ${rows * per}`, 'pack the whole batch with packBits')
  const tail = n % 32
  if (tail !== 0) for (let r = 0; r < rows; r++) if (x.data[r * per + per - 1]! >>> tail !== 0) return bad(`data.${inp.name} row ${r} has bits set beyond its ${n} features`, 'keep padding bits zero (packBits does)')
  const entry = c.entries.bits.get(inp.name)
  if (entry === undefined) {
    for (let i = 0; i < rows * n; i++) {
      const r = Math.floor(i / n), j = i % n
      v.f64[at / 8 + i] = (x.data[r * per + (j >>> 5)]! >>> (j & 31)) & 1 ? 1 : -1
    }
    return E.right({ via: 'general' })
  }
  const stride = rowWords32(n, c.wordBits)
  const dst = ex.addr(entry.dst) / 4
  if (stride === per) v.i32.set(x.data, dst)
  else
    for (let r = 0; r < rows; r++) {
      v.i32.set(x.data.subarray(r * per, (r + 1) * per), dst + r * stride)
      v.i32.fill(0, dst + r * stride + per, dst + (r + 1) * stride)
    }
  return E.right({ via: 'bits', step: entry.step })
}

/** A typed array into an input: an entry kernel where the plan has one for it, else float64 in place. */
const enterValues = (c: InferContext, inp: Input, x: { readonly shape: readonly number[]; readonly data: TypedValues }, at: number): E.Either<RunError, Entered> => {
  const ex = c.executor
  const v = ex.views()
  const data = x.data
  const size = x.shape.reduce((a, b) => a * b, 1)
  if (data.length !== size) return bad(`data.${inp.name} has ${data.length} values, shape [${x.shape.join(', ')}] needs ${size}`, 'pass as many values as the shape holds')
  if (inp.type.dtype === 'binary' && data instanceof Uint8Array) return bad(`a Uint8Array for input ${inp.name} of dtype binary (it cannot hold −1)`, 'pass ±1 as Int8Array, Float32Array or Float64Array, or packed bits')
  const bits = c.entries.bits.get(inp.name)
  if (bits !== undefined && (data instanceof Int8Array || data instanceof Float32Array)) {
    if (data instanceof Int8Array) v.i8.set(data, at)
    else v.f32.set(data, at / 4)
    const i = ex.call(data instanceof Int8Array ? bits.int8 : bits.float32) as number
    return i >= 0 ? notPm1(inp.name, i, data[i]!) : E.right({ via: 'bits', step: bits.step })
  }
  const conv = c.entries.convs.get(inp.name)
  if (conv !== undefined && data instanceof Uint8Array) {
    // Each example's bytes in its row of the convolution's uint8 buffer (the float64 input is not placed).
    const rows = data.length / conv.n
    const to = ex.addr(conv.u8)
    const stride = bytesRow(conv.n)
    for (let r = 0; r < rows; r++) v.u8.set(data.subarray(r * conv.n, (r + 1) * conv.n), to + stride * r)
    return E.right({ via: 'conv', step: conv.step, replacement: conv.replacement })
  }
  const bytes = c.entries.bytes.get(inp.name)
  if (bytes !== undefined && data instanceof Uint8Array) {
    // Each example's bytes straight into the bytes layout; the stage (the plan's first step) sums
    // each row and zeroes its padding in place. The float64 input buffer is not placed (`unused`).
    const n = bytes.stage.k
    const to = ex.addr(bytes.stage.bytes)
    const stride = bytesPerExample(n)
    for (let r = 0; r < data.length / n; r++) v.u8.set(data.subarray(r * n, (r + 1) * n), to + stride * r)
    return E.right({ via: 'bytes', step: bytes.step, stage: bytes.stageStep })
  }
  // The general path: the values converted into the float64 buffer, checked as `run` checks them.
  if (data instanceof Float64Array || data instanceof Float32Array) {
    const i = firstNonFinite(data)
    if (i >= 0) return E.left({ _tag: 'NonFiniteInput', name: inp.name, index: i, value: data[i]! })
  }
  if (inp.type.dtype === 'binary')
    for (let i = 0; i < data.length; i++) {
      const y = data[i]!
      if (y * y !== 1) return notPm1(inp.name, i, y)
    }
  v.f64.set(data, at / 8)
  return E.right({ via: 'general' })
}

type Into = Float64Array | Float32Array | Int32Array | undefined

const wrongInto = (name: string, into: Into, type: string, length: number): E.Either<RunError, never> =>
  E.left({ _tag: 'InvalidOption', option: `into.${name}`, expected: `a ${type} of ${length} elements`, found: into === undefined ? 'none' : `a ${into.constructor.name} of ${into.length}` })

/** The output `name` in `form`, into the caller's buffer when given. */
const emit = (c: InferContext, name: string, form: OutputForm, ran: PassResult, exit: BitsExit | undefined, into: Into): E.Either<RunError, InferOutput> => {
  const ex = c.executor
  const rows = ex.rows()
  const shape = ran.shape(name)
  if (form === 'bits') {
    const n = shape.slice(1).reduce((a, b) => a * b, 1)
    const per = packedRowWords(n)
    if (into !== undefined && !(into instanceof Int32Array && into.length === rows * per)) return wrongInto(name, into, 'Int32Array', rows * per)
    const out = (into as Int32Array | undefined) ?? new Int32Array(rows * per)
    if (exit !== undefined) {
      const stride = rowWords32(n, c.wordBits)
      const src = ex.addr(exit.src) / 4
      const i32 = ex.views().i32
      if (stride === per) out.set(i32.subarray(src, src + rows * per))
      else for (let r = 0; r < rows; r++) out.set(i32.subarray(src + r * stride, src + r * stride + per), r * per)
    } else {
      const values = ran.values(name)
      out.fill(0)
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) if (values[r * n + j]! >= 0) out[r * per + (j >>> 5)]! |= 1 << (j & 31)
    }
    return E.right({ form: 'bits', shape, data: out })
  }
  const values = ran.values(name)
  if (form === 'float64') {
    if (into !== undefined && !(into instanceof Float64Array && into.length === values.length)) return wrongInto(name, into, 'Float64Array', values.length)
    const out = (into as Float64Array | undefined) ?? new Float64Array(values.length)
    out.set(values)
    return E.right({ form, shape, data: out })
  }
  if (form === 'float32') {
    if (into !== undefined && !(into instanceof Float32Array && into.length === values.length)) return wrongInto(name, into, 'Float32Array', values.length)
    const out = (into as Float32Array | undefined) ?? new Float32Array(values.length)
    out.set(values)
    return E.right({ form, shape, data: out })
  }
  if (shape.length !== 2) return E.left({ _tag: 'InvalidOption', option: `outputs.${name}`, expected: 'classes only for a [N, C] output', found: `shape [${shape.join(', ')}]` })
  const [n, k] = shape as [number, number]
  if (into !== undefined && !(into instanceof Int32Array && into.length === n)) return wrongInto(name, into, 'Int32Array', n)
  const out = (into as Int32Array | undefined) ?? new Int32Array(n)
  argmaxRows(values, n, k, out)
  return E.right({ form, shape: [n], data: out })
}

/** The inputs' names and shapes as a key, or undefined when a shape is not an array of integers. */
const shapeKey = (inputs: Readonly<Record<string, InferInput | undefined>>): string | undefined => {
  let key = ''
  for (const [name, x] of Object.entries(inputs)) {
    const shape: unknown = x?.shape
    if (!Array.isArray(shape)) return undefined
    key += `${name}:`
    for (const d of shape as unknown[]) {
      if (!Number.isSafeInteger(d)) return undefined
      key += `${d as number},`
    }
    key += ';'
  }
  return key
}

export const makeInfer = (c: InferContext): Infer => {
  const ex = c.executor
  const outputDtype = new Map(Object.entries(c.net.outputs).map(([n, node]) => [n, node.type.dtype]))
  const bufferOf = new Map(c.plan.outputs.map((o) => [o.name, o.buffer]))
  const stepsCache = new Map<string, readonly Step[]>()
  const roots = Object.values(c.net.outputs)
  // Per call, the two walks over the network cost about as much as a 1024-unit layer at batch 1:
  // the shapes check is kept per input-shape signature (a few recent ones), and the label check
  // runs only if some loss reads an input.
  type Shapes = Extract<ReturnType<typeof bindShapes>, { readonly _tag: 'Right' }>
  const boundCache = new Map<string, Shapes>()
  const labelled = topoOrder(roots).some((n) => n._tag === 'Loss' && n.target._tag === 'Input')
  // Per call, the JavaScript around the kernels is a few µs, 5 % of a batch-1 4096² layer: no
  // closures or lookups the call does not need (bench/batch1.ts times infer beside the kernel).
  const defaultForms: Readonly<Record<string, OutputForm>> = Object.fromEntries(c.passes.names.map((n) => [n, 'float64' as const]))
  const slotOf = new Map(c.plan.inputs.map((s) => [s.name, s]))

  return (inputs, opts = {}) => {
    const formList = Object.entries(opts.outputs ?? defaultForms)
    for (const [name, form] of formList) {
      if (!c.passes.names.includes(name)) return E.left({ _tag: 'MissingOutput', name, expected: `an output to return as ${form}`, available: c.passes.names })
      if (!['float64', 'float32', 'classes', 'bits'].includes(form)) return E.left({ _tag: 'InvalidOption', option: `outputs.${name}`, expected: "'float64', 'float32', 'classes' or 'bits'", found: String(form) })
      if (form === 'bits' && (c.ensemble || outputDtype.get(name) !== 'binary'))
        return E.left({ _tag: 'InvalidOption', option: `outputs.${name}`, expected: c.ensemble ? 'a float form: ensemble outputs are means' : 'a float form or classes: the output is not binary', found: "'bits'" })
    }
    const shapes = shapeKey(inputs)
    let bound = shapes === undefined ? undefined : boundCache.get(shapes)
    if (bound === undefined) {
      const b = bindShapes(c.net, (name) => inputs[name]?.shape)
      if (E.isLeft(b)) return b
      if (boundCache.size >= 8) boundCache.clear()
      if (shapes !== undefined) boundCache.set(shapes, b)
      bound = b
    }
    const rows = bound.right.batch
    // uint8 inputs entering an 8-bit first layer leave the float64 input and branch unplaced, and
    // those entering a first convolution the float64 input; the convolutions' uint8 buffers are
    // placed only for them.
    const unused = new Set<number>(c.entries.idle)
    for (const inp of bound.right.inputs) {
      const x = inputs[inp.name]
      const u8 = x !== undefined && !isPackedBits(x) && x.data instanceof Uint8Array
      const entry = c.entries.bytes.get(inp.name)
      if (entry !== undefined && u8) entry.unused.forEach((b) => unused.add(b))
      const conv = c.entries.convs.get(inp.name)
      if (conv !== undefined && u8) {
        unused.delete(conv.u8)
        conv.unused.forEach((b) => unused.add(b))
      }
    }
    try {
      ex.prepare(rows, unused)
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      return bad(`a batch of ${rows} (${err.message})`, 'run the data in smaller batches')
    }
    // Inputs in; the plan's steps with the entries' conversions replaced (cached per signature).
    const skip = new Set<Step>()
    const integer = new Map<Step, Step>()
    const replace = new Map<Step, Step>()
    let signature = ''
    for (const inp of bound.right.inputs) {
      const x = inputs[inp.name]!
      const slot = slotOf.get(inp.name)
      if (slot === undefined) continue
      const at = ex.addr(slot.buffer)
      const entered = isPackedBits(x) ? enterBits(c, inp, x, rows, at) : enterValues(c, inp, x, at)
      if (E.isLeft(entered)) return entered
      if (entered.right.via === 'bits') skip.add(entered.right.step)
      if (entered.right.via === 'bytes') integer.set(entered.right.step, entered.right.stage)
      if (entered.right.via === 'conv') replace.set(entered.right.step, entered.right.replacement)
      signature += `${entered.right.via}:${inp.name};`
    }
    const label = !labelled ? undefined : checkLabels(roots, (name) => {
      const at = ex.addr(c.plan.inputs.find((s) => s.name === name)!.buffer) / 8
      return ex.views().f64.subarray(at, at + inputs[name]!.shape.reduce((a, b) => a * b, 1))
    })
    if (label !== undefined) return E.left(label)
    // Packed outputs leave from the kernel's bits when nothing else needs their unpacked values.
    const exits = new Map<string, BitsExit>()
    for (const [name, form] of formList) {
      const exit = form === 'bits' ? c.entries.exits.get(name) : undefined
      if (exit === undefined) continue
      let shared = false
      for (const [m, f] of formList) shared ||= m !== name && f !== 'bits' && bufferOf.get(m) === bufferOf.get(name)
      if (!shared) {
        skip.add(exit.step)
        exits.set(name, exit)
        signature += `exit:${name};`
      }
    }
    let steps = stepsCache.get(signature)
    if (steps === undefined) {
      steps = stepsFor(c.plan, skip, integer, replace)
      stepsCache.set(signature, steps)
    }
    const offset = opts.offset ?? 0
    if (!(Number.isSafeInteger(offset) && offset >= 0))
      return E.left({ _tag: 'InvalidOption', option: 'offset', expected: "an integer ≥ 0 (the index of the inputs' first row in the whole set)", found: String(offset) })
    let ran: ReturnType<typeof c.passes.run>
    try {
      ran = c.passes.run(steps, opts.key, offset)
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      return bad(err.message, 'number the draws of a smaller set')
    }
    if (E.isLeft(ran)) return ran
    const result: Record<string, InferOutput> = {}
    for (const [name, form] of formList) {
      const o = emit(c, name, form, ran.right, exits.get(name), opts.into?.[name])
      if (E.isLeft(o)) return o
      result[name] = o.right
    }
    return E.right(result)
  }
}

/**
 * Where typed-array inputs can enter a plan, and packed outputs leave it, without float64.
 *
 * A binary input whose float64 buffer is read only by one `PackSign` can be packed straight from
 * int8 or float32 ±1 (a `PackPm1` entry kernel, which also validates) or copied from packed bits;
 * a real input read only by the 8-bit choice of a first layer (`PackBytes`) can take uint8 pixels
 * written straight into the bytes layout (`StageBytes` then sums each row in place, split across
 * threads by rows like the products); they are always integers in [0, 255], so the choice is
 * known to take its integer branch, and neither the float64 input buffer nor the buffers only
 * its float64 branch uses are needed (`BytesEntry.unused`, left unplaced for such a call). A binary output written only by an `Unpack` can be copied out as bits.
 * A real image input read only by a first convolution with an int16 path (`RealConv.signs`) can
 * take uint8 pixels written into the convolution's own bytes buffer (`RealConv.u8`, left
 * unplaced by other calls: `Entries.idle`), which its twin (`RealConv.bytes`) widens straight into
 * the int16 grid: uint8 values are integers in [0, 255], so the int16 path is the one `run` takes,
 * and the float64 input is not placed.
 * `stepsFor` then gives the plan's steps with those conversions removed (and the convolution
 * replaced by its twin); everything else runs as in `run`, so the results are the same bits.
 */
import type { Kernel, PackPm1, StageBytes } from './kernels.js'
import { buffersOf } from './kernels.js'
import type { Plan, Step } from './plan.js'

export interface BitsEntry {
  readonly input: string
  /** The top-level `PackSign` step the entry replaces. */
  readonly step: Step
  readonly n: number
  /** The packed buffer the entry writes (PackSign's destination). */
  readonly dst: number
  readonly int8: PackPm1
  readonly float32: PackPm1
}

export interface BytesEntry {
  readonly input: string
  /** The top-level choice whose integer branch the entry selects. */
  readonly step: Extract<Step, { readonly _tag: 'Choice' }>
  readonly stage: StageBytes
  /** The stage as a step, run first in place of the choice (row-local, so split across threads like the products). */
  readonly stageStep: Step
  /**
   * Per-example buffers such a call never touches, so they need no space (execute.ts
   * `placeBuffers`): the float64 input, and every buffer used only in the choice's float64
   * branch (for the MNIST MLP its 4096 float64 sums per example: 32 KB of the 41 KB).
   */
  readonly unused: readonly number[]
}

/** A real image input read only by a `RealConv` with an int16 path: uint8 pixels enter its bytes twin. */
export interface ConvEntry {
  readonly input: string
  /** The top-level `RealConv` step the entry replaces. */
  readonly step: Step
  /** The same convolution reading the uint8 values from its `u8` buffer (`RealConv.bytes`). */
  readonly replacement: Step
  /** Values per example. */
  readonly n: number
  /** The buffer the values are written into (`RealConv.u8`), each example at `bytesRow(n)`. */
  readonly u8: number
  /** The float64 input, which such a call leaves unplaced. */
  readonly unused: readonly number[]
}

export interface BitsExit {
  readonly output: string
  /** The top-level `Unpack` step that can be skipped. */
  readonly step: Step
  readonly src: number
  readonly n: number
}

export interface Entries {
  readonly bits: ReadonlyMap<string, BitsEntry>
  readonly bytes: ReadonlyMap<string, BytesEntry>
  readonly convs: ReadonlyMap<string, ConvEntry>
  readonly exits: ReadonlyMap<string, BitsExit>
  /** Per-example buffers only an entry writes (`ConvEntry.u8`): unplaced unless a call enters through them. */
  readonly idle: readonly number[]
  /** The entry kernels, to be built after the plan's. */
  readonly kernels: readonly Kernel[]
}

/** How many of the steps (at any depth) and outputs use each buffer. */
const usesOf = (steps: readonly Step[], outputs: Plan['outputs']): Map<number, number> => {
  const uses = new Map<number, number>()
  const use = (b: number): void => {
    uses.set(b, (uses.get(b) ?? 0) + 1)
  }
  const walk = (steps: readonly Step[]): void => {
    for (const s of steps) {
      if (s._tag === 'Kernel') buffersOf(s.kernel).forEach(use)
      else if (s._tag === 'Generic') s.reads.forEach(use)
      else {
        buffersOf(s.test).forEach(use)
        walk(s.then)
        walk(s.otherwise)
      }
    }
  }
  walk(steps)
  for (const o of outputs) use(o.buffer)
  return uses
}

/** The entries and exits of a plan (`bytes`: whether its 8-bit layers use the bytes layout). */
export const entriesOf = (plan: Plan, bytes: boolean): Entries => {
  const uses = usesOf(plan.steps, plan.outputs)
  const bitsIn = new Map<string, BitsEntry>()
  const bytesIn = new Map<string, BytesEntry>()
  const convs = new Map<string, ConvEntry>()
  const exits = new Map<string, BitsExit>()
  const kernels: Kernel[] = []
  for (const slot of plan.inputs) {
    for (const s of plan.steps) {
      // Entered here only if nothing else reads the input (the choice's own float64 branch aside).
      const alone = uses.get(slot.buffer) === usesOf([s], []).get(slot.buffer)
      if (!alone) continue
      if (s._tag === 'Kernel' && s.kernel._tag === 'PackSign' && s.kernel.src === slot.buffer && s.kernel.geometry.form === 'rows') {
        const { n } = s.kernel.geometry
        const make = (from: PackPm1['from']): PackPm1 => ({ _tag: 'PackPm1', label: `${slot.name} ${from}`, src: slot.buffer, dst: s.kernel._tag === 'PackSign' ? s.kernel.dst : -1, n, from })
        const entry: BitsEntry = { input: slot.name, step: s, n, dst: s.kernel.dst, int8: make('int8'), float32: make('float32') }
        bitsIn.set(slot.name, entry)
        kernels.push(entry.int8, entry.float32)
      }
      if (bytes && s._tag === 'Choice' && s.test._tag === 'PackBytes' && s.test.x === slot.buffer) {
        const stage: StageBytes = { _tag: 'StageBytes', label: `${slot.name} uint8`, src: s.test.bytes, bytes: s.test.bytes, k: s.test.k }
        const otherwise = usesOf(s.otherwise, [])
        const only = [...otherwise].filter(([b, n]) => uses.get(b) === n).map(([b]) => b)
        bytesIn.set(slot.name, { input: slot.name, step: s, stage, stageStep: { _tag: 'Kernel', kernel: stage }, unused: [slot.buffer, ...only.filter((b) => b !== slot.buffer)] })
        kernels.push(stage)
      }
      if (bytes && s._tag === 'Kernel' && s.kernel._tag === 'RealConv' && s.kernel.x === slot.buffer && s.kernel.u8 !== undefined) {
        const twin: Kernel = { ...s.kernel, label: `${s.kernel.label} uint8`, x: s.kernel.u8, bytes: true }
        convs.set(slot.name, { input: slot.name, step: s, replacement: { _tag: 'Kernel', kernel: twin }, n: s.kernel.c * s.kernel.ih * s.kernel.iw, u8: s.kernel.u8, unused: [slot.buffer] })
        kernels.push(twin)
      }
    }
  }
  for (const o of plan.outputs) {
    if (uses.get(o.buffer) !== 2) continue
    for (const s of plan.steps)
      if (s._tag === 'Kernel' && s.kernel._tag === 'Unpack' && s.kernel.dst === o.buffer && s.kernel.geometry.form === 'rows')
        exits.set(o.name, { output: o.name, step: s, src: s.kernel.src, n: s.kernel.geometry.n })
  }
  const idle: number[] = []
  for (const s of plan.steps) if (s._tag === 'Kernel' && s.kernel._tag === 'RealConv' && s.kernel.u8 !== undefined) idle.push(s.kernel.u8)
  return { bits: bitsIn, bytes: bytesIn, convs, exits, idle, kernels }
}

/**
 * The plan's steps with the given entries' conversions removed, the given exits' unpacking
 * skipped, the given choices replaced by their stage step and integer branch (`integer`: choice →
 * stage), and the given steps replaced by their entries' twins.
 */
export const stepsFor = (plan: Plan, skip: ReadonlySet<Step>, integer: ReadonlyMap<Step, Step>, replace: ReadonlyMap<Step, Step> = new Map()): readonly Step[] =>
  plan.steps.flatMap((s) => {
    if (skip.has(s)) return []
    const stage = integer.get(s)
    return stage !== undefined && s._tag === 'Choice' ? [stage, ...s.then] : [replace.get(s) ?? s]
  })

/**
 * Binding data to a checked network: every Input node must get an array of its declared shape
 * (leading batch axis of a common size N ≥ 1), finite values, class indices within the range of
 * the softmax head that reads them, and ±1 where a logistic head reads them.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Input, Loss, Network, Node } from '../dsl/node.js'
import { showShape } from '../dsl/shape.js'
import { topoOrder } from '../dsl/fold.js'
import type { RunError } from './runErrors.js'
import type { Feed } from './ndarray.js'

export interface Bound {
  readonly feed: Feed
  readonly batch: number
}

/** The first index whose value fails the check, or −1 (a plain loop: bind runs on every batch). */
const firstIndex = (data: ArrayLike<number>, bad: (v: number) => boolean): number => {
  for (let i = 0; i < data.length; i++) if (bad(data[i]!)) return i
  return -1
}

/** The first non-finite value's index, or −1: the check every batch of every input goes through. */
export const firstNonFinite = (data: ArrayLike<number>): number => {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i
  return -1
}

const inputsOf = (roots: readonly Node[]): Input[] => topoOrder(roots).filter((n): n is Input => n._tag === 'Input')
const lossesOf = (roots: readonly Node[]): Loss[] => topoOrder(roots).filter((n): n is Loss => n._tag === 'Loss')

/**
 * The inputs the roots read and their common batch size, from the shapes alone (`shapeOf(name)`,
 * undefined when missing): the shape half of `bind`, shared with the compiled `infer`, whose
 * inputs are typed arrays rather than float64 NDArrays.
 */
export const bindShapes = (
  net: Checked<Network>,
  shapeOf: (name: string) => readonly number[] | undefined,
  roots: readonly Node[] = Object.values(net.outputs),
): E.Either<RunError, { readonly inputs: readonly Input[]; readonly batch: number }> => {
  const inputs = inputsOf(roots)
  let batch: number | undefined
  for (const inp of inputs) {
    const shape = shapeOf(inp.name)
    const declared = inp.type.shape
    const expected = declared[0] === 'batch' ? `[N, ${declared.slice(1).join(', ')}]`.replace(', ]', ']') : showShape(declared)
    if (shape === undefined) return E.left({ _tag: 'MissingInput', name: inp.name, expected: `an array of shape ${expected}` })
    if (declared[0] === 'batch') {
      if (shape[0] === 0) return E.left({ _tag: 'EmptyData' })
      batch ??= shape[0]
    }
    const ok = shape.length === declared.length && declared.every((d, i) => (d === 'batch' ? shape[i] === batch : shape[i] === d))
    if (!ok) return E.left({ _tag: 'InputShapeMismatch', name: inp.name, expected: expected.replace('N', String(batch ?? 'N')), found: shape })
  }
  return E.right({ inputs, batch: batch ?? 1 })
}

/** The label checks of `bind` (class indices in range, ±1 labels) on the targets' values. */
export const checkLabels = (roots: readonly Node[], valuesOf: (name: string) => ArrayLike<number>): RunError | undefined => {
  for (const l of lossesOf(roots)) {
    if (l.target._tag !== 'Input') continue
    const data = valuesOf(l.target.name)
    if (l.op === 'softmax-ce') {
      const k = l.logits.type.shape[1] as number
      const bad = firstIndex(data, (v) => !(Number.isInteger(v) && v >= 0 && v < k))
      if (bad >= 0) return { _tag: 'LabelOutOfRange', name: l.target.name, index: bad, value: data[bad]!, expected: `a class index in 0..${k - 1}` }
    } else if (l.op === 'logistic-nll') {
      const bad = firstIndex(data, (v) => v !== 1 && v !== -1)
      if (bad >= 0) return { _tag: 'LabelOutOfRange', name: l.target.name, index: bad, value: data[bad]!, expected: 'a label of +1 or -1' }
    }
  }
  return undefined
}

/** Checks `feed` against the inputs the given roots (default: all outputs) read. */
export const bind = (net: Checked<Network>, feed: Feed, roots: readonly Node[] = Object.values(net.outputs)): E.Either<RunError, Bound> => {
  const shapes = bindShapes(net, (name) => feed[name]?.shape, roots)
  if (E.isLeft(shapes)) return shapes
  for (const inp of shapes.right.inputs) {
    const data = feed[inp.name]!.data
    const bad = firstNonFinite(data)
    if (bad >= 0) return E.left({ _tag: 'NonFiniteInput', name: inp.name, index: bad, value: data[bad]! })
  }
  const label = checkLabels(roots, (name) => feed[name]!.data)
  return label === undefined ? E.right({ feed, batch: shapes.right.batch }) : E.left(label)
}

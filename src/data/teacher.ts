/**
 * Teacher–student data: random inputs labelled by a teacher, a function from a feed of inputs to
 * labels. Any labeller plugs in (a random SBN run by an interpreter, say); `randomSignTeacher`
 * is a self-contained default, a random deterministic sign network
 * h₀ = x, hₗ = sign(Wₗ hₗ₋₁ + bₗ) with standard normal weights, whose last layer gives ±1 labels
 * (one output) or the index of the largest pre-activation (several outputs).
 *
 * Without biases the default teacher is odd, f(−x) = −f(x) (up to ties at 0, which have
 * probability 0 with normal weights), so for any input distribution symmetric about 0 each ±1
 * label has probability exactly 1/2.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Feed, NDArray } from '../interpreters/ndarray.js'
import { sizeOfShape } from '../interpreters/ndarray.js'
import type { DataError } from './dataErrors.js'
import { invalidData } from './dataErrors.js'
import { normal, seededKey, stream } from './prng.js'
import { sign } from '../interpreters/reference/sampling.js'

/** Labels for a batch of inputs: the label array's first dimension is the batch size. */
export type Teacher<Err = never> = (inputs: Feed) => E.Either<Err, NDArray>

/** Input coordinates: `sign` ±1 with probability 1/2, `normal` N(0, 1), `uniform` U[−1, 1). */
export type InputDistribution = 'sign' | 'normal' | 'uniform'

export interface TeacherStudentOptions {
  /** Number of examples. */
  readonly n: number
  /** Shape of one input example, e.g. [8] for x of shape [n, 8]. */
  readonly inputShape: readonly number[]
  readonly inputs?: InputDistribution
  readonly inputName?: string
  readonly labelName?: string
}

const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1

/**
 * Draws `n` inputs (stream of seededKey(seed, 'teacher-inputs'), row-major) and labels them.
 * @example teacherStudentData(t.label, 1, { n: 500, inputShape: [8] }) // right({ x: [500, 8], y: [500] })
 */
export const teacherStudentData = <Err>(
  teacher: Teacher<Err>,
  seed: number,
  options: TeacherStudentOptions,
): E.Either<Err | DataError, Feed> => {
  const { n, inputShape, inputs = 'sign', inputName = 'x', labelName = 'y' } = options
  if (!positiveInt(n)) return E.left(invalidData('n', `expected a positive integer, found ${n}`))
  if (inputShape.length === 0 || !inputShape.every(positiveInt)) {
    return E.left(invalidData('inputShape', `expected positive integer sizes, found [${inputShape.join(', ')}]`))
  }
  const k = seededKey(seed, 'teacher-inputs')
  if (E.isLeft(k)) return k
  const s = stream(k.right)
  const x = new Float64Array(n * sizeOfShape(inputShape))
  for (let i = 0; i < x.length; i++) {
    x[i] = inputs === 'sign' ? (s.uint32() < 0x80000000 ? 1 : -1) : inputs === 'normal' ? normal(s) : 2 * s.float() - 1
  }
  const feed: Feed = { [inputName]: { shape: [n, ...inputShape], data: x } }
  const labels = teacher(feed)
  if (E.isLeft(labels)) return labels
  if (labels.right.shape[0] !== n) {
    return E.left(invalidData('teacher', `expected labels with ${n} rows, found shape [${labels.right.shape.join(', ')}]`))
  }
  return E.right({ ...feed, [labelName]: labels.right })
}

/** A random sign network, its parameters visible for tests and reports. */
export interface SignTeacher {
  /** Layer widths, input first: [d, h₁, …, out]. */
  readonly widths: readonly number[]
  /** Wₗ row-major [widths[l+1], widths[l]] and bₗ, l = 0 … L−1. */
  readonly weights: readonly Float64Array[]
  readonly biases: readonly Float64Array[]
  /** The labeller: ±1 for one output, class index 0..out−1 for several. Reads input `x`. */
  readonly label: Teacher<DataError>
}

export interface SignTeacherOptions {
  readonly widths: readonly number[]
  /** Standard normal biases (default false: an odd, balanced teacher). */
  readonly bias?: boolean
  readonly inputName?: string
}

/**
 * A random sign network teacher with N(0, 1) weights from stream(seededKey(seed, 'teacher')),
 * drawn layer by layer, Wₗ row-major, then bₗ when `bias` is set.
 * @example randomSignTeacher(3, { widths: [8, 16, 1] }) // right({ widths, weights, biases, label })
 */
export const randomSignTeacher = (seed: number, options: SignTeacherOptions): E.Either<DataError, SignTeacher> => {
  const { widths, bias = false, inputName = 'x' } = options
  if (widths.length < 2 || !widths.every(positiveInt)) {
    return E.left(invalidData('widths', `expected at least two positive integer widths [input, …, output], found [${widths.join(', ')}]`))
  }
  const k = seededKey(seed, 'teacher')
  if (E.isLeft(k)) return k
  const s = stream(k.right)
  const weights: Float64Array[] = []
  const biases: Float64Array[] = []
  for (let l = 0; l + 1 < widths.length; l++) {
    const w = new Float64Array(widths[l]! * widths[l + 1]!)
    for (let i = 0; i < w.length; i++) w[i] = normal(s)
    const b = new Float64Array(widths[l + 1]!)
    if (bias) for (let i = 0; i < b.length; i++) b[i] = normal(s)
    weights.push(w)
    biases.push(b)
  }
  const d = widths[0]!
  const out = widths[widths.length - 1]!
  const label: Teacher<DataError> = (feed) => {
    const x = feed[inputName]
    if (x === undefined) return E.left(invalidData(`inputs.${inputName}`, 'missing (the teacher reads this input)'))
    const n = x.shape[0] ?? 0
    if (x.data.length !== n * d) return E.left(invalidData(`inputs.${inputName}`, `expected ${d} values per row, found shape [${x.shape.join(', ')}]`))
    const y = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      let h = x.data.subarray(r * d, (r + 1) * d)
      for (let l = 0; l < weights.length; l++) {
        const w = weights[l]!
        const next = new Float64Array(widths[l + 1]!)
        for (let j = 0; j < next.length; j++) {
          let a = biases[l]![j]!
          for (let i = 0; i < h.length; i++) a += w[j * h.length + i]! * h[i]!
          next[j] = l + 1 < weights.length ? sign(a) : a
        }
        h = next
      }
      // The last layer's pre-activations: the sign for one output, the first argmax for several.
      y[r] = out === 1 ? sign(h[0]!) : h.indexOf(Math.max(...h))
    }
    return E.right({ shape: [n], data: y })
  }
  return E.right({ widths, weights, biases, label })
}

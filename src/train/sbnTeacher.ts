/**
 * A stochastic binary network as the teacher of a teacher–student dataset (`teacherStudentData`
 * in src/data/teacher.ts): the labels of the inputs are drawn from the SBN itself, one sampled
 * forward pass with a key (every unit and weight drawn by the sampling rule), then the class of
 * the largest logit (softmax heads) or the sign of the logit (one-output heads). Drawing labels
 * from the model makes the Bayes-optimal predictor known: the teacher's own predictive
 * distribution, computable exactly for small teachers (`exact`).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import type { Teacher } from '../data/teacher.js'
import type { RunError } from '../interpreters/runErrors.js'
import { sampleRule } from '../interpreters/reference/sampling.js'
import type { NDArray } from '../interpreters/ndarray.js'
import { evaluate } from '../interpreters/reference/forward.js'
import { lossOutput } from '../interpreters/outputs.js'
import { sign } from '../interpreters/reference/sampling.js'

/** Labels from one sampled pass of `net` (its loss head's logits) with pass key `k`. */
export const sbnTeacher = (net: Checked<Network>, k: Key): Teacher<RunError> => (inputs) => {
  const l = lossOutput(net)
  if (E.isLeft(l)) return l
  const inputName = Object.keys(inputs)[0] ?? 'x'
  const x = inputs[inputName]!
  const batch = x.shape[0]!
  // Only the logits are evaluated, so the teacher needs no labels of its own.
  const ev = evaluate({ net, feed: inputs, batch, binarize: sampleRule(k) }, [l.right.logits])
  const logits = ev.values.get(l.right.logits)!
  const width = logits.data.length / batch
  const labels = new Float64Array(batch)
  for (let n = 0; n < batch; n++) {
    if (width === 1) labels[n] = sign(logits.data[n]!)
    else {
      let best = 0
      for (let j = 1; j < width; j++) if (logits.data[n * width + j]! > logits.data[n * width + best]!) best = j
      labels[n] = best
    }
  }
  return E.right({ shape: [batch], data: labels } satisfies NDArray)
}

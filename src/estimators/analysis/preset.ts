/**
 * The ready preset of the gradient-accuracy protocol (MATH.md §7): the two-dimensional dataset
 * (200 points) and the network real input 2 → three layers of 5 logistic(1) binary units → a
 * linear head with one output, under logistic NLL. Weights are real; parameters are drawn by
 * `initParams` (Glorot uniform weights, zero biases) from the seed.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { dense, logisticNll } from '../../dsl/composites.js'
import type { DslError } from '../../dsl/dslErrors.js'
import { initParams } from '../../dsl/init.js'
import type { Checked, Network, Node } from '../../dsl/node.js'
import { logistic } from '../../dsl/noise.js'
import { binarize, input } from '../../dsl/primitives.js'
import { key } from '../../dsl/random.js'
import { typecheck } from '../../dsl/typecheck.js'
import type { DataError } from '../../data/dataErrors.js'
import { gradevalData } from '../../data/gradevalData.js'
import type { Feed } from '../../interpreters/ndarray.js'

/** The outputs of the §7 network: `output` (the logit η) and `loss` (logistic NLL, ±1 labels). */
export const gradevalOutputs = (widths: readonly number[] = [5, 5, 5]): Network['outputs'] => {
  const x = input('x', ['batch', 2])
  const y = input('y', ['batch'], 'binary')
  let h: Node = x
  widths.forEach((w, i) => {
    const name = `layer${i + 1}`
    h = binarize(dense(w, { name })(h), logistic(1), `${name}.act`)
  })
  const output = dense(1, { name: 'head' })(h)
  return { output, loss: pipe(output, logisticNll(y)) }
}

export type PresetError = { readonly _tag: 'Dsl'; readonly error: DslError } | { readonly _tag: 'Data'; readonly error: DataError }

/** The §7 network with parameters drawn from `seed` and the dataset drawn from `dataSeed`. */
export const gradevalPreset = (seed = 0, dataSeed = 0): E.Either<PresetError, { readonly net: Checked<Network>; readonly feed: Feed }> => {
  const outputs = gradevalOutputs()
  const net = typecheck({ outputs, params: initParams(outputs, key(seed)) })
  if (E.isLeft(net)) return E.left({ _tag: 'Dsl', error: net.left })
  const feed = gradevalData(dataSeed)
  if (E.isLeft(feed)) return E.left({ _tag: 'Data', error: feed.left })
  return E.right({ net: net.right, feed: feed.right })
}

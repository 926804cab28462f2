/** `sbnkit demo`: builds a small SBN, checks it and prints it (the interim main job). */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { mlp, softmaxCrossEntropy } from '../dsl/composites.js'
import { draw } from '../dsl/errors.js'
import { input } from '../dsl/primitives.js'
import { typecheck } from '../dsl/typecheck.js'
import { initParams } from '../dsl/init.js'
import { key } from '../dsl/random.js'
import { renderSummary, summary } from '../interpreters/summary.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'

export const demo: Command = async (_argv, io) => {
  const x = input('x', ['batch', 784])
  const y = input('y', ['batch'], 'index')
  const logits = pipe(x, mlp({ hidden: [512, 512], outputs: 10 }))
  const lossNode = pipe(logits, softmaxCrossEntropy(y))
  const outputs = { output: logits, loss: lossNode }
  const checked = typecheck({ outputs, params: initParams(outputs, key(0)) })
  if (E.isLeft(checked)) {
    io.err(`${draw(checked.left)}\n`)
    return exitCode.failed
  }
  io.out('sbnkit demo: a 784 → 512 → 512 → 10 SBN with binary weights and logistic binary activations\n')
  io.out('typecheck: ok\n\n')
  io.out(renderSummary(summary(checked.right)))
  io.out('\n')
  return exitCode.ok
}

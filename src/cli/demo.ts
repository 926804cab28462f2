/** `sbnkit demo`: builds a small SBN, checks it and prints it (the interim main job). */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { mlp, softmaxCrossEntropy } from '../dsl/composites.js'
import { draw } from '../dsl/dslErrors.js'
import { input } from '../dsl/primitives.js'
import { typecheck } from '../dsl/typecheck.js'
import { initParams } from '../dsl/init.js'
import { key } from '../dsl/random.js'
import { renderSummary, summary } from '../interpreters/summary.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'

export const demoUsage = `usage: sbnkit demo

Builds the 784 → 512 → 512 → 10 SBN of the README (binary weights, logistic binary activations,
a real softmax head) with seeded parameters, typechecks it and prints its summary: parameters,
memory in bits, binary and real MACs, stochastic sites (docs/inspect.md). It reads and writes no
file. The live page that trains a network in the browser is \`npm run demo\` (README, "Browser").

exit status: 0 ok; 2 an unknown argument.
`

export const demo: Command = async (argv, io) => {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    io.out(demoUsage)
    return exitCode.ok
  }
  if (argv.length > 0) {
    io.err(`demo: expected no arguments, found ${JSON.stringify(argv[0])}\n\n${demoUsage}`)
    return exitCode.badInput
  }
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

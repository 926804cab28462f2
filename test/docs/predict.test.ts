/**
 * The example of docs/interpreters.md "Prediction without labels" runs here: the region between
 * `// example: predict` and `// end example` is, dedented, the doc's block without its imports
 * (which are checked against this file's), and the assertions check what the doc says.
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { dense, initParams, input, key, logistic, sbinary, softmaxCrossEntropy, typecheck } from 'sbnkit/dsl'
import { compile, predict } from 'sbnkit/interpreters'
import { expect, it } from 'vitest'

const doc = readFileSync(new URL('../../docs/interpreters.md', import.meta.url), 'utf8')
const self = readFileSync(new URL(import.meta.url), 'utf8')

it('the doc example is the code below, with the same imports', () => {
  const block = /<!-- example: predict -->\n```ts\n([\s\S]*?)\n```/.exec(doc)![1]!
  const m = /\n( *)\/\/ example: predict\n([\s\S]*?)\n *\/\/ end example/.exec(self)!
  // The region also hands the results to the assertions (`results.push`), which the doc leaves out.
  const region = m[2]!.split('\n').map((l) => l.slice(m[1]!.length)).filter((l) => !l.includes('results.push')).join('\n')
  expect(block.split('\n').filter((l) => !l.startsWith('import ') && l !== '').join('\n')).toBe(region.split('\n').filter((l) => l !== '').join('\n'))
  for (const line of block.split('\n').filter((l) => l.startsWith('import '))) expect(self).toContain(line)
})

it('predicts without labels with every interpreter', () => {
  const results: unknown[] = []
  // example: predict
  const x = input('x', ['batch', 2])
  const logits = pipe(x, dense(3, { name: 'l1' }), sbinary(logistic(1)), dense(2, { name: 'head' }))
  const outputs = { output: logits, loss: softmaxCrossEntropy(input('y', ['batch'], 'index'))(logits) }
  const net = typecheck({ outputs, params: initParams(outputs, key(0)) })
  const inputs = { x: { shape: [2, 2], data: Float64Array.of(0.5, -1, 1, 1) } } // no labels
  if (E.isRight(net)) {
    const mode = predict(net.right, inputs, { interpreter: 'mode' })                 // right({ predictive, classes })
    const ensemble = predict(net.right, inputs, { interpreter: 'ensemble', members: 16, key: key(1) })
    const exactly = predict(net.right, inputs, { interpreter: 'exact' })
    const compiled = compile(net.right, { backend: 'wasm', mode: 'mode', outputs: ['output'] })
    const logitsOut = E.isRight(compiled) ? compiled.right.run(inputs) : undefined  // right({ output })
    results.push(mode, ensemble, exactly, logitsOut)
  }
  // end example
  expect(results).toHaveLength(4)
  for (const r of results) expect(r !== undefined && E.isRight(r as E.Either<unknown, unknown>)).toBe(true)
})

/**
 * Prediction without labels on every interpreter: a feed of `x` alone runs the prediction head
 * (mode network, Monte Carlo ensemble, exact predictive, compiled with `outputs: ['output']`),
 * and each gives, bit for bit, what the same interpreter gives on the labelled feed.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import { key } from '../../src/dsl/random.js'
import { compile, drawCompileError } from '../../src/interpreters/compiled/index.js'
import type { BackendName, CompiledMode } from '../../src/interpreters/compiled/index.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { RunError } from '../../src/interpreters/runErrors.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { forward, monteCarlo } from '../../src/interpreters/montecarlo/index.js'
import type { Feed, NDArray } from '../../src/interpreters/ndarray.js'
import { requiredInputs, selectOutputs } from '../../src/interpreters/outputs.js'
import { predict } from '../../src/interpreters/prediction.js'
import { predictive } from '../../src/interpreters/reference/ops.js'
import { cliFeed, cliNet, goldenLayer } from './fixtures.js'

const right = <A>(e: E.Either<RunError, A>): A => {
  if (E.isLeft(e)) throw new Error(drawRunError(e.left))
  return e.right
}

const bits = (a: NDArray): number[] => Array.from(a.data)

/** The feed without its labels. */
const unlabelled = (feed: Feed): Feed => ({ x: feed['x']! })

const nets: readonly [string, Checked<Network>, Feed][] = [
  ['3-class softmax SBN with Bernoulli weights', cliNet, cliFeed],
  ['MATH.md §6 logistic layer', goldenLayer('logistic').net, goldenLayer('logistic').feed],
]

describe.each(nets)('predict without labels: %s', (_, net, feed) => {
  const x = unlabelled(feed)
  const loss = net.outputs['loss']!
  if (loss._tag !== 'Loss') throw new Error('fixture has a loss head')

  it('the prediction head reads x alone; the whole network reads the labels too', () => {
    expect(right(requiredInputs(net, ['output'])).map((i) => i.name)).toEqual(['x'])
    expect(right(requiredInputs(net, ['output', 'loss'])).map((i) => i.name)).toEqual(['x', 'y'])
  })

  it('mode network: predict on x ≡ the reference forward pass on the labelled feed (bit-exact)', () => {
    const want = predictive(loss.op, right(forward(net, feed, { mode: 'mode' })).values.get(loss.logits)!)
    expect(bits(right(predict(net, x, { interpreter: 'mode' })).predictive)).toEqual(bits(want))
  })

  it('Monte Carlo: the ensemble on x ≡ monteCarlo(...).ensemble.predictive with labels (bit-exact)', () => {
    const want = right(monteCarlo(net, feed, { samples: 8, key: key(5), ensemble: 8 })).ensemble.predictive
    expect(bits(right(predict(net, x, { interpreter: 'ensemble', members: 8, key: key(5) })).predictive)).toEqual(bits(want))
  })

  it('exact: the predictive distribution on x ≡ exact(...).predictive with labels (bit-exact)', () => {
    const want = right(exact(net, feed)).predictive
    expect(bits(right(predict(net, x, { interpreter: 'exact' })).predictive)).toEqual(bits(want))
  })

  it.each(['wasm', 'js', 'jitless'] as const)('compiled (%s): outputs ["output"] runs on x, ≡ the full compile on the labelled feed', (backend: BackendName) => {
    for (const mode of ['mode', 'sample'] as const satisfies readonly CompiledMode[]) {
      const full = compile(net, { backend, mode })
      const head = compile(net, { backend, mode, outputs: ['output'] })
      if (E.isLeft(full) || E.isLeft(head)) throw new Error(E.isLeft(full) ? drawCompileError(full.left) : 'head')
      const got = right(head.right.run(x, key(9)))
      expect(Object.keys(got)).toEqual(['output'])
      expect(bits(got['output']!)).toEqual(bits(right(full.right.run(feed, key(9)))['output']!))
    }
  })
})

describe('output selection errors', () => {
  it('a feed without labels is still refused where the labels are needed, naming them', () => {
    expect(E.isLeft(monteCarlo(cliNet, unlabelled(cliFeed), { samples: 2, key: key(0) }))).toBe(true)
    const full = compile(cliNet, { backend: 'js', mode: 'mode' })
    expect(E.isRight(full) && E.isLeft(full.right.run(unlabelled(cliFeed))) && drawRunError((full.right.run(unlabelled(cliFeed)) as E.Left<RunError>).left))
      .toMatchInlineSnapshot(`"data.y: expected an array of shape [N] for input "y" of the network, found no such array"`)
  })

  it('an unknown output is named with the ones that exist', () => {
    const c = compile(cliNet, { backend: 'js', mode: 'mode', outputs: ['logits'] })
    expect(E.isLeft(c) && drawCompileError(c.left)).toMatchInlineSnapshot(`"compile: option outputs: expected names among "output", "loss", found ["logits"]"`)
    const s = selectOutputs(cliNet, ['logits'])
    expect(E.isLeft(s) && drawRunError(s.left)).toMatchInlineSnapshot(`"network: expected an output "logits" (an output to run), found outputs "output", "loss""`)
  })

  it('selecting every output gives the very same network', () => {
    expect(right(selectOutputs(cliNet, ['loss', 'output']))).toBe(cliNet)
  })
})

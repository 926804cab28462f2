/**
 * Regression: a Bernoulli weight whose latent parameter sits exactly on the edge of a bounded
 * noise's support (uniform noise and η = ±s, which clipping to [−1, 1] produces all the time, see
 * MATH.md §4) has one state of probability 0 but a non-zero ∂P/∂η (p(±s) = ½ on the closed
 * interval). The exact interpreter skipped zero-probability weight states, dropping their
 * L(w)·∂P(w)/∂η term, so the gradient became −½·L(w = −1) instead of ½(L(+1) − L(−1)): not
 * the derivative from either side. The fix keeps such states. The law checked here: at η = −s the
 * exact gradient is the one-sided derivative from inside the support, (L(η + h) − L(η))/h, and at
 * η = +s the one from below; L is linear in η inside, so the difference quotient is exact up to
 * rounding (tolerance 1e-9 for h = 1e-4). Found by reading `exact/index.ts` while writing the laws;
 * fixed there (a zero-probability weight state is skipped only when its ∂P/∂η is 0 too).
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Checked, Network, Node } from '../../src/dsl/node.js'
import { children } from '../../src/dsl/node.js'
import { logistic, uniform } from '../../src/dsl/noise.js'
import { exact } from '../../src/interpreters/exact/index.js'
import { checked, tinyNet } from '../interpreters/fixtures.js'

const feed = { x: { shape: [2, 2], data: Float64Array.of(0.5, -1, 1, 0.25) }, y: { shape: [2], data: Float64Array.of(0, 2) } }

/** One hidden layer of 1 unit with uniform(1) Bernoulli weights η = (η₀, 0.3); logistic units. */
const lossAt = (eta0: number, grad: boolean) => {
  const net = tinyNet({ widths: [1], binaryWeights: [true], noise: logistic(1), head: 'softmax' }, {
    'l1.W': Float64Array.of(eta0, 0.3), 'l1.b': Float64Array.of(0.2),
    'head.W': Float64Array.of(1, -1, 0.5), 'head.b': Float64Array.of(0, 0.1, 0),
  })
  // tinyNet uses the activation noise for the weights too; rebuild the weights' noise as uniform.
  const r = exact(withWeightNoise(net), feed, { grad })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

/** The same network with every weight site's noise replaced by uniform(1). */
const withWeightNoise = (net: Checked<Network>): Checked<Network> => {
  const memo = new Map<Node, Node>()
  const go = (n: Node): Node => {
    const hit = memo.get(n)
    if (hit !== undefined) return hit
    const kids = Object.fromEntries(children(n).map(([role, c]) => [role, go(c)]))
    const copy = { ...n, ...kids } as Node
    const out = copy._tag === 'Binarize' && copy.type.shape[0] !== 'batch' ? { ...copy, noise: uniform(1) } : copy
    memo.set(n, out)
    return out
  }
  return checked({ outputs: Object.fromEntries(Object.entries(net.outputs).map(([k, v]) => [k, go(v)])), params: net.params })
}

describe('regression: exact gradient of a Bernoulli weight at the edge of a bounded noise', () => {
  const h = 1e-4
  it('η = −1 (P(w = +1) = 0): the derivative from inside the support', () => {
    const g = lossAt(-1, true).grad!['l1.W']![0]!
    const inside = (lossAt(-1 + h, false).loss - lossAt(-1, false).loss) / h
    expect(Math.abs(inside)).toBeGreaterThan(1e-3)
    expect(Math.abs(g - inside)).toBeLessThanOrEqual(1e-9)
  })

  it('η = +1 (P(w = −1) = 0): the derivative from inside the support', () => {
    const g = lossAt(1, true).grad!['l1.W']![0]!
    const inside = (lossAt(1, false).loss - lossAt(1 - h, false).loss) / h
    expect(Math.abs(g - inside)).toBeLessThanOrEqual(1e-9)
  })
})

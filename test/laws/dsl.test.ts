/**
 * Laws of the DSL over networks generated through the public constructors
 * (test/fixtures/models/arbitraries.ts): typecheck is idempotent, and when the reference
 * interpreter runs a checked network, every node's run-time value has its declared shape.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concreteShape } from '../../src/dsl/shape.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { key } from '../../src/dsl/random.js'
import { topoOrder } from '../../src/dsl/fold.js'
import { modeRule, sampleRule } from '../../src/interpreters/reference/sampling.js'
import { evaluate } from '../../src/interpreters/reference/forward.js'
import { randomFeed } from '../../src/cli/bench.js'
import { networkArb } from '../fixtures/models/arbitraries.js'

describe('DSL laws', () => {
  it('law: typecheck is idempotent (checking a checked network returns it unchanged)', () => {
    fc.assert(
      fc.property(networkArb, ({ net }) => {
        const again = typecheck(net)
        expect(E.isRight(again) && again.right).toBe(net)
      }),
      { numRuns: 60 },
    )
  })

  it('law: the run-time shape of every node equals its declared type (mode and sampled passes, batch 1–3)', () => {
    fc.assert(
      fc.property(networkArb, fc.integer({ min: 1, max: 3 }), fc.boolean(), ({ net }, batch, sampled) => {
        const feed = randomFeed(net, batch)
        const ev = evaluate({ net, feed, batch, binarize: sampled ? sampleRule(key(batch)) : modeRule })
        for (const node of topoOrder(Object.values(net.outputs))) {
          const value = ev.values.get(node)!
          expect(value.shape).toEqual(concreteShape(node.type.shape, batch))
          expect(value.data.length).toBe(concreteShape(node.type.shape, batch).reduce((a, b) => a * b, 1))
          if (node.type.dtype === 'binary' && node._tag === 'Binarize') for (const v of value.data) expect(Math.abs(v)).toBe(1)
        }
      }),
      { numRuns: 60 },
    )
  })
})

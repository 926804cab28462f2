/**
 * The deployed network (src/export/deploy.ts) rebuilt as a network (network.ts) computes the
 * original mode network's outputs bit for bit, on the compiled interpreters' generated dense and
 * conv networks, on every back end.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import type { BackendName } from '../../src/interpreters/compiled/index.js'
import { withBatchNormMode } from '../../src/train/modes.js'
import { arbConvNet, arbNet, build, buildConv } from '../interpreters/compiled/nets.js'
import { compiledOutput, expectBits, modeOutput, rebuilt } from './helpers.js'

const backends: readonly BackendName[] = ['wasm', 'js', 'jitless']

describe('deploy', () => {
  it('deployed dense nets ≡ mode network (bit-exact, every back end)', () => {
    fc.assert(
      fc.property(arbNet.filter((s) => s.head > 0 && s.layers.every((l) => l.unary !== 'abs')), (spec) => {
        const { net: trained, feed } = build(spec)
        const net = withBatchNormMode(trained, 'inference')
        const want = modeOutput(net, feed)
        const copy = rebuilt(net)
        expectBits(modeOutput(copy, feed), want, 'reference')
        for (const b of backends) expectBits(compiledOutput(copy, feed, b), want, b)
      }),
      { seed: 14, numRuns: 25 },
    )
  })

  it('deployed conv nets ≡ mode network (bit-exact, every back end)', () => {
    fc.assert(
      fc.property(arbConvNet, (spec) => {
        const { net, feed } = buildConv(spec)
        const want = modeOutput(net, feed)
        const copy = rebuilt(net)
        expectBits(modeOutput(copy, feed), want, 'reference')
        for (const b of backends) expectBits(compiledOutput(copy, feed, b), want, b)
      }),
      { seed: 14, numRuns: 15 },
    )
  })
})

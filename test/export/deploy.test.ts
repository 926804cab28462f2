/**
 * The deployed network (src/export/deploy.ts) rebuilt as a network (network.ts) computes the
 * original mode network's outputs bit for bit, on the compiled interpreters' generated dense and
 * conv networks, on every back end.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { deploy } from '../../src/export/deploy.js'
import { drawExportError } from '../../src/export/exportErrors.js'
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

describe('deploy refuses what it cannot express', () => {
  const refusal = (spec: Parameters<typeof build>[0]): string => {
    const d = deploy(withBatchNormMode(build(spec).net, 'inference'))
    return E.isLeft(d) ? drawExportError(d.left, 'model.json') : 'exported'
  }
  const layer = { width: 3, weightNoise: { family: 'none' }, bias: 'none', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } } as const
  const spec = { input: 'real', inputWidth: 2, layers: [layer], head: 2, loss: false, batch: 1, seed: 3 } as const

  it('pins the messages', () => {
    expect(refusal(spec)).toBe('exported')
    expect(refusal({ ...spec, layers: [{ ...layer, unary: 'abs' }] })).toMatchInlineSnapshot(`"model.json: cannot export Unary: expected a product followed by bias, scale, batch norm or a monotone function, found abs is not monotone"`)
    expect(refusal({ ...spec, head: 0 })).toMatchInlineSnapshot(`"model.json: cannot export output "output": expected an output of that name, found outputs "hidden""`)
  })
})

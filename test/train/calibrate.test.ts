import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mlp, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import { initParams } from '../../src/dsl/init.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import { input } from '../../src/dsl/primitives.js'
import { fillUnit, key } from '../../src/dsl/random.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { modeRule } from '../../src/interpreters/reference/sampling.js'
import { evaluate } from '../../src/interpreters/reference/forward.js'
import { recalibrateMode } from '../../src/train/calibrate.js'
import { withBatchNormMode } from '../../src/train/modes.js'

const net = (hidden: number[], batchNorm: boolean, seed: number): Checked<Network> => {
  const x = input('x', ['batch', 5])
  const y = input('y', ['batch'], 'index')
  const output = pipe(x, mlp({ hidden, outputs: 3, ...(batchNorm ? { batchNorm: 'inference' as const } : {}) }))
  const outputs = { output, loss: pipe(output, softmaxCrossEntropy(y)) }
  const r = typecheck({ outputs, params: initParams(outputs, key(seed)) })
  if (E.isLeft(r)) throw new Error('does not typecheck')
  return r.right
}

const feedOf = (rows: number, seed: number) => ({
  x: { shape: [rows, 5], data: fillUnit(key(seed), 0, new Float64Array(rows * 5)).map((u) => 4 * u - 2) },
  y: { shape: [rows], data: new Float64Array(rows) },
})

describe('recalibrateMode', () => {
  it('law: the recalibrated mode network in inference mode equals the mode network normalised by batch statistics (bit for bit)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 2, max: 40 }), fc.nat(1000), (hidden, rows, seed) => {
        const n = net(hidden, true, seed)
        const feed = feedOf(rows, seed)
        const r = recalibrateMode(n, feed)
        if (E.isLeft(r)) throw new Error('recalibration failed')
        const out = (m: Checked<Network>) => evaluate({ net: m, feed, batch: rows, binarize: modeRule }).values.get(m.outputs['output']!)!.data
        expect(Array.from(out(r.right))).toEqual(Array.from(out(withBatchNormMode(n, 'train'))))
        for (const [name, v] of Object.entries(n.params))
          if (!name.endsWith('.mean') && !name.endsWith('.var')) expect(r.right.params[name]).toBe(v)
      }),
      { numRuns: 40 },
    )
  })

  it('a network without batch norm is returned as it is; bad data is a RunError', () => {
    const plain = net([4], false, 1)
    expect(E.isRight(recalibrateMode(plain, feedOf(8, 1))) && recalibrateMode(plain, feedOf(8, 1))).toEqual(E.right(plain))
    const bn = net([4], true, 1)
    const bad = recalibrateMode(bn, { x: { shape: [3, 4], data: new Float64Array(12) } })
    expect(E.isLeft(bad) && bad.left._tag).toBe('InputShapeMismatch')
  })
})

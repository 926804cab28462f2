/**
 * `sbnkit convert`, end to end on generated networks: the converted file has the same exact
 * expected loss, and its exact gradient is the original's mapped by the chain rule, in both
 * directions (±1 → {0,1}: ∂L/∂W′ = ½(∂L/∂W + 1·∂L/∂b); {0,1} → ±1: ∂L/∂W = 2∂L/∂W′ − 1·∂L/∂b′;
 * biases unchanged). Layers that cannot be rewritten are clear errors (exit 2).
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import { encodeModel } from '../../src/dsl/codec.js'
import { toZeroOne } from '../../src/dsl/codings.js'
import { exact } from '../../src/interpreters/exact/index.js'
import type { Feed } from '../../src/interpreters/ndarray.js'
import { readModelFile, writeModelFile } from '../../src/io/files.js'
import { arbCase, buildSbn } from '../laws/sbn.js'
import { cliRunner } from './run.js'

let dir = ''
const at = (name: string): string => join(dir, name)
const sbnkit = (...argv: string[]) => cliRunner((s) => (dir === '' ? s : s.replaceAll(dir, '<tmp>')))(argv)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-convert-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

// Rounding of W·½ and 1ᵀW in sums of O(10) terms, and of the JSON round trip (exact for float64).
const TOL = 1e-12

const lossAndGrad = (net: Checked<Network>, feed: Feed): { loss: number; grad: Record<string, Float64Array> } => {
  const r = exact(net, feed, { grad: true, method: 'chain' })
  if (E.isLeft(r)) throw new Error('exact failed')
  return { loss: r.right.loss, grad: r.right.grad! }
}

const convertFile = async (from: Checked<Network>, coding: string, n: number): Promise<Checked<Network>> => {
  expect(E.isRight(await writeModelFile(at(`in${n}.json`), from))).toBe(true)
  const r = await sbnkit('convert', at(`in${n}.json`), '--coding', coding, '--out', at(`out${n}.json`))
  expect(r).toEqual({ code: 0, out: `wrote <tmp>/out${n}.json (${coding} coding)\n`, err: '' })
  const back = await readModelFile(at(`out${n}.json`))
  if (E.isLeft(back)) throw new Error('unreadable output')
  return back.right
}

/** The layers that read binary states: l2 … lL and the head (layer 1 reads the real input). */
const binaryReaders = (widths: readonly number[]): Array<readonly [string, string]> =>
  [...widths.slice(1).map((_, k) => [`l${k + 2}.W`, `l${k + 2}.b`] as const), ['head.W', 'head.b'] as const]

const cases = arbCase({ binaryFirstOnly: true, maxWeightBits: 4 })

describe('sbnkit convert', () => {
  it('law: ±1 → {0,1} keeps the exact expected loss and maps the gradient by the chain rule', async () => {
    let n = 0
    await fc.assert(fc.asyncProperty(cases, async (c) => {
      const pm = buildSbn(c.spec, c.params)
      const zo = await convertFile(pm, 'zero-one', n++)
      const a = lossAndGrad(pm, c.feed)
      const b = lossAndGrad(zo, c.feed)
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(TOL)
      for (const [W, bias] of binaryReaders(c.spec.widths)) {
        const units = a.grad[bias]!.length
        b.grad[W]!.forEach((v, i) => expect(Math.abs(v - 0.5 * (a.grad[W]![i]! + a.grad[bias]![i % units]!))).toBeLessThanOrEqual(TOL))
        b.grad[bias]!.forEach((v, j) => expect(Math.abs(v - a.grad[bias]![j]!)).toBeLessThanOrEqual(TOL))
      }
    }), { seed: 4501, numRuns: 15 })
  })

  it('law: {0,1} → ±1 keeps the exact expected loss and maps the gradient by the chain rule', async () => {
    let n = 100
    await fc.assert(fc.asyncProperty(cases, async (c) => {
      const built = toZeroOne(buildSbn(c.spec, c.params))
      if (E.isLeft(built)) throw new Error('fixture')
      const zo = built.right
      const pm = await convertFile(zo, 'plus-minus', n++)
      const a = lossAndGrad(zo, c.feed)
      const b = lossAndGrad(pm, c.feed)
      expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(TOL)
      for (const [W, bias] of binaryReaders(c.spec.widths)) {
        const units = a.grad[bias]!.length
        b.grad[W]!.forEach((v, i) => expect(Math.abs(v - (2 * a.grad[W]![i]! - a.grad[bias]![i % units]!))).toBeLessThanOrEqual(4 * TOL))
        b.grad[bias]!.forEach((v, j) => expect(Math.abs(v - a.grad[bias]![j]!)).toBeLessThanOrEqual(TOL))
      }
    }), { seed: 4502, numRuns: 15 })
  })

  it('bad arguments and layers that cannot be rewritten are clear errors (exit 2)', async () => {
    const spec = { inputs: 2, widths: [2, 2], binaryWeights: [false, true], noise: { family: 'logistic', scale: 1 }, weightNoise: { family: 'logistic', scale: 1 }, head: 'logistic', classes: 2, skip: false } as const
    const p = { 'l1.W': new Float64Array(4).fill(0.5), 'l1.b': new Float64Array(2), 'l2.W': new Float64Array(4).fill(0.25), 'l2.b': new Float64Array(2), 'head.W': new Float64Array(2).fill(1), 'head.b': new Float64Array(1) }
    expect(E.isRight(await writeModelFile(at('binary.json'), buildSbn(spec, p)))).toBe(true)
    const r = await sbnkit('convert', at('binary.json'), '--coding', 'zero-one', '--out', at('never.json'))
    expect(r.code).toBe(2)
    expect(r.err).toMatchInlineSnapshot(`
      "sbnkit convert: <tmp>/binary.json: toZeroOne at output > lhs > lhs > l2: the layer reads binary activation "l1.act" with Bernoulli ±1 weights (site "l2.W"): W is not a free real parameter, so it cannot absorb the factor ½ of s = (x + 1)/2 (W/2 would not be ±1); only layers with real weights have a {0,1} form
      "
    `)
    const bad = await sbnkit('convert', at('binary.json'), '--coding', 'ternary', '--out', at('never.json'))
    expect(bad.code).toBe(2)
    expect(bad.err.split('\n')[0]).toMatchInlineSnapshot(`"sbnkit convert: --coding expects zero-one or plus-minus, found "ternary""`)
  })
})

describe('docs/model-format.md: the {0,1} example', () => {
  it('is what `sbnkit convert mlp.json --coding zero-one` writes, byte for byte', async () => {
    const doc = readFileSync(new URL('../../docs/model-format.md', import.meta.url), 'utf8')
    const m = /<!-- example: convert mlp.json --coding zero-one -->\n```json\n([\s\S]*?)\n```/.exec(doc)
    if (m === null) throw new Error('no {0,1} example in docs/model-format.md')
    const mlp = await readModelFile(new URL('../fixtures/models/mlp.json', import.meta.url).pathname)
    if (E.isLeft(mlp)) throw new Error('fixture')
    const zo = toZeroOne(mlp.right)
    if (E.isLeft(zo)) throw new Error('conversion')
    expect(`${m[1]!}\n`).toBe(encodeModel(zo.right).json)
  })
})

/**
 * Law: the reverse rules of `backward.ts` equal central finite differences of the forward rules,
 * on deterministic networks that use every primitive except Binarize (whose reverse rule is the
 * caller's): broadcasting Add and Mul, convolutions with padding and padValue ≠ 0 (symmetric and
 * asymmetric stride/padding), every unary op, max and average pooling, reshape, batch
 * normalisation of 4-D and 2-D inputs in both modes, MatMul, and each of the three losses.
 */
import { pipe } from 'fp-ts/lib/function.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { avgPool, batchNorm, flatten, maxPool } from '../../../src/dsl/composites.js'
import type { Checked, LossOp, Network, Node, Param } from '../../../src/dsl/node.js'
import { add, constant, conv2d, input, loss, matmul, mul, param, unary } from '../../../src/dsl/primitives.js'
import { topoOrder } from '../../../src/dsl/fold.js'
import type { Feed } from '../../../src/interpreters/ndarray.js'
import { backward, meanWeights } from '../../../src/interpreters/reference/backward.js'
import { evaluate } from '../../../src/interpreters/reference/forward.js'
import { checked } from '../fixtures.js'

const BATCH = 3

/** x [b,2,5,5] → affine → conv(pad 1, padValue 0.7) → every unary → max/avg pool → conv(stride 2×1, pad 1×0, padValue −1) → bn → flatten → dense → bn → head. */
const deepNet = (mode: 'train' | 'inference', op: LossOp): { outputs: Network['outputs']; classes: number } => {
  const classes = op === 'softmax-ce' ? 3 : op === 'logistic-nll' ? 1 : 2
  const x = input('x', ['batch', 2, 5, 5])
  const z0 = add(mul(x, param('scale', [1, 2, 1, 1])), param('shift', [2, 1, 1]))
  const c1 = add(conv2d(z0, param('k1', [3, 2, 3, 3]), { padding: 1, padValue: 0.7 }), param('c1.b', [3, 1, 1]))
  const u = (name: Parameters<typeof unary>[0], v: Node): Node => unary(name, v)
  const mixed = [
    u('tanh', c1), u('sigmoid', c1), u('hardtanh', c1), u('relu', c1), u('neg', c1), u('abs', c1),
    u('exp', mul(c1, constant(0.2))), u('log', add(u('sigmoid', c1), constant(0.5))),
  ].reduce((a, b) => add(a, b))
  const pooled = pipe(mixed, maxPool(2, 1), avgPool(2, 2)) // [b,3,2,2]
  const c2 = conv2d(pooled, param('k2', [2, 3, 2, 2]), { stride: [2, 1], padding: [1, 0], padValue: -1 }) // [b,2,2,1]
  const flat = pipe(c2, batchNorm({ name: 'bn1', mode }), flatten()) // [b,4]
  const hidden = pipe(add(matmul(flat, param('d.W', [4, 3])), param('d.b', [3])), batchNorm({ name: 'bn2', mode }))
  const logits = mul(add(matmul(hidden, param('h.W', [3, classes])), param('h.b', [classes])), param('gain', [classes]))
  const target = op === 'softmax-ce' ? input('y', ['batch'], 'index') : op === 'logistic-nll' ? input('y', ['batch', 1], 'binary') : input('y', ['batch', 2])
  return { outputs: { loss: loss(op, logits, target) }, classes }
}

const paramsOf = (outputs: Network['outputs']): Param[] =>
  topoOrder(Object.values(outputs)).filter((n): n is Param => n._tag === 'Param')

// Unbiased, evenly spread values: fast-check's edge bias (zeros, equal values) would put ties of
// max-pool windows and zeros of relu/abs exactly on their kinks, where no derivative exists.
const value = fc.noBias(fc.integer({ min: -(2 ** 20), max: 2 ** 20 })).map((i) => (1.5 * i) / 2 ** 20)
const arr = (n: number) => fc.array(value, { minLength: n, maxLength: n })

/** Random parameters (running variances positive), data and a unit direction over trainable parameters. */
const arbCase = (mode: 'train' | 'inference', op: LossOp) => {
  const { outputs, classes } = deepNet(mode, op)
  const ps = paramsOf(outputs)
  const size = (p: Param): number => p.type.shape.reduce<number>((a, d) => a * (d as number), 1)
  const trainable = ps.filter((p) => p.trainable)
  const dirSize = trainable.reduce((a, p) => a + size(p), 0)
  const y = op === 'softmax-ce' ? fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: BATCH, maxLength: BATCH })
    : op === 'logistic-nll' ? fc.array(fc.constantFrom(1, -1), { minLength: BATCH, maxLength: BATCH }) : arr(BATCH * 2)
  return fc.record({ values: fc.tuple(...ps.map((p) => arr(size(p)))), x: arr(BATCH * 50), y, dir: arr(dirSize).filter((v) => v.some((t) => Math.abs(t) > 0.1)) })
    .map(({ values, x, y: ys, dir }) => {
      const params: Record<string, Float64Array> = Object.fromEntries(ps.map((p, i) =>
        [p.name, Float64Array.from(values[i]!, (v) => (p.name.endsWith('.var') ? 0.5 + Math.abs(v) : v))]))
      const norm = Math.hypot(...dir)
      let at = 0
      const d: Record<string, Float64Array> = Object.fromEntries(trainable.map((p) => {
        const part = Float64Array.from(dir.slice(at, at + size(p)), (t) => t / norm)
        at += size(p)
        return [p.name, part]
      }))
      const feed: Feed = {
        x: { shape: [BATCH, 2, 5, 5], data: Float64Array.from(x) },
        y: { shape: op === 'squared' ? [BATCH, 2] : op === 'logistic-nll' ? [BATCH, 1] : [BATCH], data: Float64Array.from(ys) },
      }
      return { outputs, params, feed, d }
    })
}

const lossValue = (net: Checked<Network>, feed: Feed): number =>
  evaluate({ net, feed, batch: BATCH, binarize: () => { throw new Error('no binarize node here') } }).values.get(net.outputs['loss']!)!.data[0]!

describe('reverse rules ≡ central finite differences on deterministic networks', () => {
  // h = 1e-5: truncation h²/6·|L‴| ≤ 2e-9 for |L‴| ≤ 1e3; rounding ≈ ε·Σ|terms|/h ≈ 1e-16·1e3/1e-5
  // = 1e-8. Tolerance 1e-6·(1 + |L| + |g·d|). Kinks (relu, abs, hardtanh, max-pool ties) are met
  // within h of one of ~10³ values with probability ~1e-2 over all runs; the seed is fixed.
  const H = 1e-5
  const TOL = 1e-6
  for (const mode of ['train', 'inference'] as const)
    for (const op of ['softmax-ce', 'logistic-nll', 'squared'] as const) {
      it(`law: g·d = (L(θ + hd) − L(θ − hd))/2h, batch norm in ${mode} mode, ${op} loss`, () => {
        fc.assert(fc.property(arbCase(mode, op), ({ outputs, params, feed, d }) => {
          const net = checked({ outputs, params })
          const lossNode = outputs['loss']!
          const ev = evaluate({ net, feed, batch: BATCH, binarize: () => { throw new Error('no binarize node here') } })
          const grads = backward(ev, [lossNode], { loss: new Map([[lossNode, meanWeights(BATCH)]]) }, () => undefined)
          let slope = 0
          for (const p of paramsOf(outputs).filter((q) => q.trainable)) grads.get(p)!.data.forEach((g, i) => (slope += g * d[p.name]![i]!))
          const at = (t: number): number => lossValue(checked({ outputs, params: Object.fromEntries(Object.entries(params).map(([k, v]) =>
            [k, d[k] === undefined ? v : v.map((x, i) => x + t * d[k]![i]!)])) }), feed)
          const fd = (at(H) - at(-H)) / (2 * H)
          const L = ev.values.get(lossNode)!.data[0]!
          expect(Math.abs(fd - slope), `fd ${fd} vs g·d ${slope}`).toBeLessThanOrEqual(TOL * (1 + Math.abs(L) + Math.abs(slope)))
        }), { seed: 4242, numRuns: 25 })
      })
    }

  it('every trainable parameter gets a gradient of its own shape, running statistics none', () => {
    const { outputs } = deepNet('train', 'squared')
    const c = fc.sample(arbCase('train', 'squared'), { seed: 1, numRuns: 1 })[0]!
    const net = checked({ outputs, params: c.params })
    const ev = evaluate({ net, feed: c.feed, batch: BATCH, binarize: () => { throw new Error('unused') } })
    const lossNode = outputs['loss']!
    const grads = backward(ev, [lossNode], { loss: new Map([[lossNode, meanWeights(BATCH)]]) }, () => undefined)
    for (const p of paramsOf(outputs)) {
      if (p.trainable) expect(grads.get(p)!.shape).toEqual(p.type.shape)
      else expect(grads.get(p)).toBeUndefined()
    }
  })
})

/**
 * Refitting the head of the mode network (src/train/refit.ts): only the head changes, the mode
 * network's training loss does not increase (a convex problem, descended from the trained head),
 * the same key gives the same bits, and a network without a softmax head is refused.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { key } from '../../src/dsl/random.js'
import { evaluateSet, feedDataset } from '../../src/train/evaluate.js'
import { refitHead } from '../../src/train/refit.js'
import { right, sameBits, task, tinyNet } from './loopFixtures.js'

const train = feedDataset(task(96))
const modeLoss = (net: ReturnType<typeof tinyNet>): number => right(evaluateSet(net, train, { members: 1, key: key(0) })).mode.loss

describe('refitHead', () => {
  it('changes only the head, and the mode network fits its training rows no worse', () => {
    const net = tinyNet({ kind: 'mlp', hidden: [7] }, true)
    const r = right(refitHead(net, train, { key: key(1), epochs: 20, batch: 16 }))
    for (const name of Object.keys(net.params).filter((n) => !n.startsWith('head.'))) expect(r.params[name], name).toBe(net.params[name])
    expect(sameBits({ w: r.params['head.W']! }, { w: net.params['head.W']! })).toBe(false)
    expect(modeLoss(r)).toBeLessThan(modeLoss(net))
  })

  it('law: the same key gives the same head, bit for bit', () => {
    const net = tinyNet()
    const a = right(refitHead(net, train, { key: key(2) }))
    const b = right(refitHead(net, train, { key: key(2) }))
    expect(sameBits(a.params, b.params)).toBe(true)
  })

  it('refuses a network whose loss is not a softmax over h·W + b', () => {
    const net = tinyNet()
    const noHead = { ...net, outputs: { ...net.outputs, loss: net.outputs['output']! } }
    const r = refitHead(noHead, train, { key: key(0) })
    expect(E.isLeft(r) && r.left).toBe('refitHead: the network has no softmax cross-entropy loss')
  })
})

import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { mlp, softmaxCrossEntropy } from '../../src/dsl/composites.js'
import { initParams } from '../../src/dsl/init.js'
import type { Checked, Network } from '../../src/dsl/node.js'
import type { Noise } from '../../src/dsl/noise.js'
import { logistic, none } from '../../src/dsl/noise.js'
import { input } from '../../src/dsl/primitives.js'
import { key } from '../../src/dsl/random.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { teacherStudentData } from '../../src/data/teacher.js'
import { forward } from '../../src/interpreters/montecarlo/index.js'
import { sbnTeacher } from '../../src/train/sbnTeacher.js'

const teacherNet = (activation: Noise): Checked<Network> => {
  const x = input('x', ['batch', 6])
  const y = input('y', ['batch'], 'index')
  const output = pipe(x, mlp({ hidden: [8], outputs: 3, activation, weightNoise: logistic(1) }))
  const outputs = { output, loss: pipe(output, softmaxCrossEntropy(y)) }
  const r = typecheck({ outputs, params: initParams(outputs, key(5)) })
  if (E.isLeft(r)) throw new Error('teacher does not typecheck')
  return r.right
}

describe('teacher–student data from a random SBN', () => {
  it('labels are class indices, one per input, and a fixed key gives the same dataset', () => {
    const net = teacherNet(logistic(1))
    const a = teacherStudentData(sbnTeacher(net, key(1)), 0, { n: 200, inputShape: [6] })
    const b = teacherStudentData(sbnTeacher(net, key(1)), 0, { n: 200, inputShape: [6] })
    if (E.isLeft(a) || E.isLeft(b)) throw new Error('generation failed')
    const y = a.right['y']!
    expect(y.shape).toEqual([200])
    for (const v of y.data) expect([0, 1, 2]).toContain(v)
    expect(Array.from(b.right['y']!.data)).toEqual(Array.from(y.data))
    const c = teacherStudentData(sbnTeacher(net, key(2)), 0, { n: 200, inputShape: [6] })
    expect(E.isRight(c) && Array.from(c.right['y']!.data)).not.toEqual(Array.from(y.data))
  })

  it('a teacher without activation noise labels by its sampled-weight network; with the pass key it equals forward()', () => {
    const net = teacherNet(none)
    const d = teacherStudentData(sbnTeacher(net, key(3)), 1, { n: 50, inputShape: [6] })
    if (E.isLeft(d)) throw new Error('generation failed')
    const ev = forward(net, d.right, { mode: 'sample', key: key(3) })
    if (E.isLeft(ev)) throw new Error('forward failed')
    const logits = ev.right.values.get(net.outputs['output']!)!
    const argmax = Array.from({ length: 50 }, (_, n) => [0, 1, 2].reduce((b, j) => (logits.data[n * 3 + j]! > logits.data[n * 3 + b]! ? j : b), 0))
    expect(Array.from(d.right['y']!.data)).toEqual(argmax)
  })
})

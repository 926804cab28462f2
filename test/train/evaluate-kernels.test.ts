/**
 * `train()` from the library trains with the fast kernels by default, like `sbnkit train`, and
 * takes the reference loops when asked; the choice is part of a run's fingerprint; the trainer's
 * evaluation runs on the compiled interpreter with the reference evaluation's scores.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { defaultProducts, referenceProductChoice } from '../../src/train/config.js'
import { fastProducts } from '../../src/train/fast/index.js'
import { train } from '../../src/train/loop.js'
import { right, sameBits, tinyConfig, tinyData, tinyNet } from './loopFixtures.js'

describe('train() kernels and evaluation', () => {
  it('defaults to the fast kernels where the host has them, bit for bit the same run as asking for them', async () => {
    const expected = E.isRight(fastProducts()) ? 'fast' : 'reference'
    expect(defaultProducts().name).toBe(expected)
    const byDefault = right(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 1 })))
    const asked = right(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 1, products: defaultProducts() })))
    expect(byDefault.state.config['kernels']).toBe(expected)
    expect(sameBits(byDefault.last.params, asked.last.params)).toBe(true)
  })

  it('takes the reference loops when asked, and refuses to resume a reference run with the default', async () => {
    const ref = right(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 1, products: referenceProductChoice })))
    expect(ref.state.config['kernels']).toBe('reference')
    if (defaultProducts().name === 'reference') return
    const resumed = await train(ref.last, tinyData(), tinyConfig({ epochs: 2 }), {}, ref.state)
    expect(resumed).toMatchObject(E.left({ _tag: 'ResumeMismatch', fields: [['kernels', 'reference', 'fast']] }))
  })

  it('evaluates on the compiled interpreter: same scores as the reference evaluation with the reference kernels, no note', async () => {
    const notes: string[] = []
    const compiled = right(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 2, products: referenceProductChoice, evaluation: 'compiled' }), { onNote: (m) => notes.push(m) }))
    const reference = right(await train(tinyNet(), tinyData(), tinyConfig({ epochs: 2, products: referenceProductChoice, evaluation: 'reference' })))
    expect(notes).toEqual([])
    expect(compiled.state.history.map((h) => h.validation)).toEqual(reference.state.history.map((h) => h.validation))
    expect(compiled.test).toEqual(reference.test)
  })
})

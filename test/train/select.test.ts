import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { memoryIo } from '../../src/cli/io.js'
import { validationScore } from '../../src/train/loop.js'

const v = (mode: number, ensemble: number) => ({
  examples: 10, mode: { loss: 0.5, accuracy: mode }, ensemble: { loss: 0.25, accuracy: ensemble, members: 16 },
})

describe('selection on validation: mode or ensemble', () => {
  it('validationScore reads the chosen predictor (negated loss where accuracy does not exist)', () => {
    expect(validationScore(v(0.7, 0.9))).toBe(0.7)
    expect(validationScore(v(0.7, 0.9), 'mode')).toBe(0.7)
    expect(validationScore(v(0.7, 0.9), 'ensemble')).toBe(0.9)
    expect(validationScore(v(Number.NaN, Number.NaN), 'ensemble')).toBe(-0.25)
  })

  it('sbnkit train rejects an unknown --select with exit 2', async () => {
    const io = memoryIo()
    const code = await main(['train', '--preset', 'mlp:4', '--dataset', 'mnist', '--out', '/tmp/sbnkit-select-test', '--select', 'best'], io)
    expect(code).toBe(2)
    expect(io.stderr()).toMatch(/select/)
  })
})

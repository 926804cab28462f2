/**
 * Hostile command lines: every count at absurd values, strict numbers, prototype names, control
 * characters, the one error boundary, and the CLI's help (did-you-mean, --version, help <cmd>).
 */
import { writeFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { escapeControls, reportThrown, shortError } from '../../src/cli/boundary.js'
import { memoryIo } from '../../src/cli/io.js'
import { jsonText, splitTiming } from '../../src/cli/json.js'
import { closest } from '../../src/cli/suggest.js'
import { parseBytes, showBytes } from '../../src/interpreters/budget.js'
import { explodingLoss, explodingMinibatch, hopelessLoss } from '../../src/train/divergence.js'
import type { EpochRecord } from '../../src/train/log.js'
import { chainModel, paddedConvModel, sbnkit, tempFolder, tinyData, tinyModel } from './fixtures.js'
import { longWork, progressIfLong } from '../../src/cli/progress.js'

const t = tempFolder()
afterAll(() => t.remove())
writeFileSync(t.at('tiny.json'), tinyModel())
writeFileSync(t.at('data.json'), tinyData())
writeFileSync(t.at('train.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: [[1, 2], [2, 1], [0, 1], [1, 0]], y: [0, 1, 0, 1] } }))
/** XOR of signs on 200 points in [−1, 1]² (a fixed linear congruential sequence). */
const xor = (): string => {
  let s = 1
  const u = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
  const x = Array.from({ length: 200 }, () => [2 * u() - 1, 2 * u() - 1] as const)
  return JSON.stringify({ format: 'sbnkit-data/1', inputs: { x, y: x.map(([a, b]) => (a * b > 0 ? 1 : 0)) } })
}
writeFileSync(t.at('xor.json'), xor())
const model = t.at('tiny.json')
const data = t.at('data.json')

/** Absurd values for a count: not decimal, padded, fractional, negative, huge, empty. */
const absurd = fc.oneof(
  fc.constantFrom('0x10', ' 7 ', '7 ', '1e9', '1e400', '-1', '+3', '1.5', '', 'NaN', 'Infinity', '9007199254740993', '１２'),
  fc.string({ maxLength: 6 }).filter((s) => !/^(0|[1-9]\d{0,5})$/.test(s)),
)

describe('every CLI count at absurd values: exit 2 naming the flag, nothing written', () => {
  const commands: ReadonlyArray<readonly [string, (v: string) => string[]]> = [
    ['--samples', (v) => ['sample', model, '--data', data, '--samples', v, '--seed', '1']],
    ['--seed', (v) => ['sample', model, '--data', data, '--samples', '4', '--seed', v]],
    ['--seed', (v) => ['gradeval', model, '--data', data, '--draws', '4', '--estimators', 'st', '--seed', v]],
    ['--ensemble', (v) => ['sample', model, '--data', data, '--samples', '4', '--seed', '1', '--ensemble', v]],
    ['--budget', (v) => ['exact', model, '--data', data, '--budget', v]],
    ['--batch', (v) => ['bench', model, '--batch', v]],
    ['--runs', (v) => ['bench', model, '--runs', v]],
    ['--draws', (v) => ['gradeval', model, '--data', data, '--draws', v, '--estimators', 'st']],
  ]
  it('law: a count that is not plain decimal digits in range is refused (exit 2, flag named)', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...commands), absurd, async ([flag, argv], v) => {
      const before = t.listing()
      const r = await sbnkit(...argv(v))
      expect(r.code, `${flag} ${JSON.stringify(v)}: ${r.err}`).toBe(2)
      expect(r.err).toContain(flag)
      expect(r.out).toBe('')
      expect(t.listing()).toBe(before)
    }), { seed: 15, numRuns: 60 })
  }, 120_000)

  it('huge counts in decimal digits meet the memory budget before any allocation', async () => {
    const r = await sbnkit('bench', model, '--batch', '1000000000', '--max-memory', '4GB')
    expect(r.code).toBe(2)
    expect(r.err).toBe('sbnkit bench: --batch 1000000000 (the network on 1000000000 examples) would need 32 GB; the limit is 4 GB (change it with --max-memory)\n')
    const s = await sbnkit('sample', model, '--data', data, '--samples', '9007199254740991', '--seed', '1', '--max-memory', '4GB')
    expect(s.code).toBe(2)
    expect(s.err.split('\n')[0]).toBe('sbnkit sample: --samples 9007199254740991 would need 216 PB; the limit is 4 GB (change it with --max-memory)')
    const g = await sbnkit('gradeval', model, '--data', data, '--draws', '1000000000000', '--estimators', 'st', '--max-memory', '4GB')
    expect(g.code).toBe(2)
    expect(g.err).toBe('sbnkit gradeval: --draws 1000000000000 would need 16 TB; the limit is 4 GB (change it with --max-memory)\n')
    expect((await sbnkit('check', model, '--max-memory', 'lots')).err).toBe('sbnkit: --max-memory expects a size such as 4GB, 512MB or a number of bytes, found "lots"\n')
  })

  it('strict numbers in train and gradeval --train: counts in decimal digits, reals in decimal', async () => {
    for (const [flag, value] of [['--epochs', '1e9'], ['--batch', ' 7 '], ['--seed', '0x10'], ['--lr', '0x10'], ['--lr', ' 0.1'], ['--momentum', 'Infinity'], ['--patience', '+3']] as const) {
      const r = await sbnkit('train', '--preset', 'mlp:4', '--dataset', t.at('train.json'), '--out', t.at('strict'), flag, value)
      expect(r.code, `${flag} ${value}: ${r.err}`).toBe(2)
      expect(r.err.split('\n')[0]).toMatch(new RegExp(`^sbnkit train: ${flag} expects .* found ${JSON.stringify(value).replace(/[+]/g, '\\+')}$`))
    }
    expect(t.listing()).not.toContain('strict')
    const g = await sbnkit('gradeval', model, '--data', data, '--train', '1,1e9', '--draws', '2')
    expect(g.code).toBe(2)
    expect(g.err).toContain('--train expects ascending non-negative integers separated by commas (epochs), found 1,1e9')
  })

  it('strict numbers: --seed 0x10 and " 7 " are refused, never reinterpreted', async () => {
    expect((await sbnkit('sample', model, '--data', data, '--samples', '4', '--seed', '0x10')).err.split('\n')[0])
      .toBe('sbnkit sample: --seed expects a whole number ≥ 0 in decimal digits, found "0x10"')
    expect((await sbnkit('sample', model, '--data', data, '--samples', ' 7 ', '--seed', '1')).err.split('\n')[0])
      .toBe('sbnkit sample: --samples expects a whole number ≥ 1 in decimal digits, found " 7 "')
  })

  it('extra positionals are refused', async () => {
    expect((await sbnkit('bench', model, model)).err).toBe('sbnkit bench: expected one model file, found 2 arguments\n(see sbnkit bench --help)\n')
  })
})

describe('one evaluation is checked against --max-memory; a long one shows its progress', () => {
  it('eval, gradeval, predict --exact on a 700-byte model that claims 38.4 GB per example: exit 2 before allocating', async () => {
    writeFileSync(t.at('conv.json'), paddedConvModel())
    writeFileSync(t.at('conv-data.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: [[[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]], y: { shape: [1, 1], values: [0] } } }))
    const conv = t.at('conv.json')
    const cases: ReadonlyArray<readonly [string[], RegExp]> = [
      [['eval', conv, '--dataset', t.at('conv-data.json')], /conv\.json: the network on 1 example would need 38\.4 GB; the limit is 4 GB \(change it with --max-memory\)\n$/],
      [['gradeval', conv, '--data', t.at('conv-data.json'), '--estimators', 'st', '--draws', '2'], /^sbnkit gradeval: \S+conv\.json: the estimators and the exact gradient on 1 examples would need 115 GB; the limit is 4 GB/],
      [['predict', conv, '--data', t.at('conv-data.json'), '--ensemble', '4', '--seed', '1'], /conv\.json: the network on 1 examples would need 38\.4 GB; the limit is 4 GB/],
    ]
    for (const [argv, message] of cases) {
      const before = t.listing()
      const r = await sbnkit(...argv, '--max-memory', '4GB')
      expect(r.code, r.err).toBe(2)
      expect(r.err).toMatch(message)
      expect(r.out).toBe('')
      expect(t.listing()).toBe(before)
    }
  })
  it('predict --exact checks every state of the widest layer at once, as exact does', async () => {
    // 20 stochastic units in one layer: 2^20 states of it per example.
    const wide = JSON.parse(tinyModel()) as { nodes: unknown[]; params: Record<string, unknown> }
    wide.nodes.splice(1, 3,
      { id: 'W', op: 'Param', name: 'W', shape: [2, 20], init: { kind: 'glorot' }, trainable: true },
      { id: 'a', op: 'MatMul', lhs: 'x', rhs: 'W' },
      { id: 'z', op: 'Binarize', input: 'a', noise: 'logistic(1)', site: 'z' },
      { id: 'V', op: 'Param', name: 'V', shape: [20, 1], init: { kind: 'glorot' }, trainable: true },
      { id: 'h', op: 'MatMul', lhs: 'z', rhs: 'V' })
    wide.params = { W: { shape: [2, 20], values: Array(40).fill(0.1) }, V: { shape: [20, 1], values: Array(20).fill(0.1) } }
    writeFileSync(t.at('wide.json'), JSON.stringify(wide))
    const r = await sbnkit('predict', t.at('wide.json'), '--data', data, '--exact', '--max-memory', '100MB')
    expect(r.code, r.err).toBe(2)
    expect(r.err).toMatch(/wide\.json: the network on 3 examples × 1048576 states would need \S+ GB; the limit is 100 MB/)
  })
  it('long runs of predict --ensemble, sample --samples and eval --ensemble draw a progress bar on stderr; short ones stay quiet', async () => {
    // A chain of 1000 negations on 1000 rows: 10⁶ values a pass, 100 passes: 10⁸ values (longWork).
    writeFileSync(t.at('chain1000.json'), chainModel(1000))
    writeFileSync(t.at('rows1000.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: Array.from({ length: 1000 }, (_, i) => [i / 1000]), y: Array.from({ length: 1000 }, (_, i) => [i % 2 === 0 ? 1 : -1]) } }))
    const chain = t.at('chain1000.json')
    const rows = t.at('rows1000.json')
    for (const [argv, label] of [
      [['predict', chain, '--data', rows, '--ensemble', '100', '--seed', '1'], 'predict'],
      [['sample', chain, '--data', rows, '--samples', '100', '--seed', '1'], 'sample'],
      [['eval', chain, '--dataset', rows, '--ensemble', '99'], 'eval'],
    ] as const) {
      const r = await sbnkit(...argv)
      expect(r.code, r.err).toBe(0)
      expect(r.err).toMatch(new RegExp(`^${label} \\[#{24}\\] 100/100 `, 'm'))
      expect(r.err.split('\n').filter((l) => l.startsWith(label)).length).toBeGreaterThanOrEqual(5)
    }
    const quiet = await sbnkit('predict', chain, '--data', rows, '--ensemble', '2', '--seed', '1')
    expect(quiet.err).toBe('')
  }, 120_000)
  it('progressIfLong: a bar only from longWork values on, whatever the clock', () => {
    const io = memoryIo()
    progressIfLong(io, 'x', 10, longWork - 1).done()
    expect(io.stderr()).toBe('')
    progressIfLong(io, 'x', 10, longWork).done()
    expect(io.stderr()).toMatch(/^x \[#{24}\] 10\/10 /)
  })
})

describe('names are data: prototype keys are ordinary names', () => {
  it('an input "__proto__", a parameter "constructor", a site "__proto__" run like any other', async () => {
    for (const [name, m, d] of [
      ['input', tinyModel({ input: '__proto__' }), tinyData('__proto__')],
      ['param', tinyModel({ param: 'constructor' }), tinyData()],
      ['site', tinyModel({ site: '__proto__' }), tinyData()],
    ] as const) {
      writeFileSync(t.at(`${name}.json`), m)
      writeFileSync(t.at(`${name}-data.json`), d)
      const e = await sbnkit('exact', t.at(`${name}.json`), '--data', t.at(`${name}-data.json`), '--grad', '--json')
      expect(e.code, e.err).toBe(0)
      expect(JSON.parse(e.out).loss).toBeCloseTo(1.1307, 3)
      const g = await sbnkit('gradeval', t.at(`${name}.json`), '--data', t.at(`${name}-data.json`), '--draws', '20', '--estimators', 'st')
      expect(g.code, g.err).toBe(0)
    }
  }, 60_000)
})

describe('control characters are escaped in every message and table', () => {
  it('a parameter name with ESC and BEL reaches the terminal escaped', async () => {
    writeFileSync(t.at('ctl.json'), tinyModel({ param: 'W\u001b]0;owned\u0007', label: 'lab\u001b[31m' }))
    const r = await sbnkit('check', t.at('ctl.json'))
    expect(r.code, r.err).toBe(0)
    expect(r.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
    expect(r.out).toContain('\\u001b')
  })
  it('law: escaped text holds no control character but tab and newline', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(escapeControls(`x${s}`)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
    }), { seed: 15 })
  })
})

describe('one error boundary', () => {
  it('user-caused file-system failures are exit 2, our bugs exit 1 with the stack only under --debug', () => {
    const io = memoryIo()
    const enotdir = Object.assign(new Error('ENOTDIR: not a directory, mkdir'), { code: 'ENOTDIR', syscall: 'mkdir', path: '/tmp/file/run' })
    expect(reportThrown(io, 'train', enotdir, false)).toBe(2)
    expect(reportThrown(io, 'train', new RangeError('Array buffer allocation failed'), false)).toBe(2)
    expect(reportThrown(io, 'train', new TypeError('x is undefined'), false)).toBe(1)
    expect(io.stderr()).toMatchInlineSnapshot(`
      "sbnkit train: /tmp/file/run: cannot mkdir (a part of the path is a file, not a folder)
      sbnkit train: the input asks for more memory than this machine can give (Array buffer allocation failed); use smaller sizes or counts
      sbnkit train: internal error, please report (a bug in sbnkit, not in your input): x is undefined
      (run with --debug for the stack trace)
      "
    `)
    const debug = memoryIo()
    reportThrown(debug, 'train', new TypeError('x is undefined'), true)
    expect(debug.stderr()).toMatch(/\n\s+at /)
  })

  it('train --out at a file or under a file: exit 2, one line, the file untouched', async () => {
    writeFileSync(t.at('a-file'), 'keep')
    const before = t.listing()
    const r = await sbnkit('train', '--preset', 'mlp:4', '--dataset', t.at('train.json'), '--out', t.at('a-file', 'run'), '--epochs', '1')
    expect(r.code, r.err).toBe(2)
    expect(r.err).toMatch(/a-file\/run: cannot mkdir \(a part of the path is a file, not a folder\)\n$/)
    expect(t.listing()).toBe(before)
  }, 30_000)

  it('usage errors are short, with one prefix and a pointer to the help', () => {
    expect(shortError('bench', 'bench: --runs expects x\n\nusage: sbnkit bench <model.json> [--runs N]\n')).toBe('sbnkit bench: --runs expects x\n(see sbnkit bench --help)\n')
  })
})

describe('the CLI helps', () => {
  it('--version, help <command>, did-you-mean for commands and flags', async () => {
    expect((await sbnkit('--version')).out).toMatch(/^sbnkit \d+\.\d+\.\d+\n$/)
    const help = await sbnkit('help', 'sample')
    expect(help.code).toBe(0)
    expect(help.out).toMatch(/^usage: sbnkit sample /)
    const trian = await sbnkit('trian')
    expect(trian.code).toBe(2)
    expect(trian.err).toBe('sbnkit: unknown command "trian"; did you mean "train"?\n(see sbnkit --help for the commands)\n')
    const flag = await sbnkit('sample', model, '--data', data, '--sample', '4', '--seed', '1')
    expect(flag.err).toBe('sbnkit sample: unknown option --sample; did you mean "--samples"?\n(see sbnkit sample --help)\n')
    expect(closest('xyzzy', ['train', 'sample'])).toBeUndefined()
  })
})

describe('results and runs', () => {
  it('JSON results keep wall-clock fields apart; --no-timing drops them', () => {
    const value = { loss: 0.5, history: [{ loss: 0.6, seconds: 1.25 }] }
    expect(splitTiming(value)).toEqual({ result: { loss: 0.5, history: [{ loss: 0.6 }] }, timing: { history: [{ seconds: 1.25 }] } })
    expect(jsonText({ timing: false }, value, 0)).toBe('{"loss":0.5,"history":[{"loss":0.6}]}\n')
  })
  it('divergence with a finite loss: over 100 × the first epoch\'s and growing', () => {
    const epochs = [2.3, 5, 400].map((trainLoss, i) => ({ type: 'epoch' as const, epoch: i + 1, step: 0, trainLoss, lr: 1, seconds: 0 }))
    expect(explodingLoss(epochs.slice(0, 1), 3)).toBeUndefined()
    expect(explodingLoss(epochs, 1e31)).toBe("the training loss 1.000e+31 is over 100 × the first epoch's (2.300) and still growing")
    expect(explodingLoss(epochs, 300)).toBeUndefined()
  })
  it('divergence within the first epoch: a minibatch loss over 100 × the running mean of the earlier ones (at least 1)', () => {
    expect(explodingMinibatch(0, 0, 1e30)).toBeUndefined()
    expect(explodingMinibatch(1, 1.478, 8.75e5)).toBe("the minibatch loss 8.750e+5 is over 100 × the mean of the run's earlier ones (1.478, counted as at least 1)")
    expect(explodingMinibatch(5, 0.001, 50)).toBeUndefined()
    expect(explodingMinibatch(5, 0.001, 101)).toBeDefined()
  })
  it('law: worse than guessing means over 10 × the guess\'s loss for 2 epochs in a row, never less', () => {
    const record = (trainLoss: number): EpochRecord => ({ type: 'epoch', epoch: 1, step: 0, trainLoss, lr: 1, seconds: 0 })
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 5 }), fc.double({ min: 0, max: 1e6, noNaN: true }), (earlier, loss) => {
      const fires = hopelessLoss(earlier.map(record), loss, Math.log(2)) !== undefined
      const last = earlier[earlier.length - 1]
      expect(fires).toBe(last !== undefined && last > 10 * Math.log(2) && loss > 10 * Math.log(2))
      expect(hopelessLoss(earlier.map(record), loss, undefined)).toBeUndefined() // a squared loss: no guess to compare with
    }), { seed: 15 })
    expect(hopelessLoss([record(20.98)], 17.63, Math.log(2))).toBe('the training loss was over 10 × the loss of a uniform guess (0.693 per example) for 2 epochs in a row (20.98, 17.63): the network does worse than guessing')
  })
  it('train --lr 10 on XOR: a finite loss far above a guess\'s is stopped after 2 epochs (exit 2); --lr 0.01 is not', async () => {
    // Plain Adam on the head: the standard recipe's fan-in rate (the default) tames this run.
    const bad = await sbnkit('train', '--preset', 'mlp:8', '--dataset', t.at('xor.json'), '--out', t.at('xor10'), '--epochs', '8', '--batch', '10', '--lr', '10', '--threads', '1', '--no-fan-in-lr')
    expect(bad.code, bad.err).toBe(2)
    expect(bad.err).toMatch(/training diverged at epoch 2, step 20 \(optimizer step 40 of the run\): the training loss was over 10 × the loss of a uniform guess \(0\.693 per example\) for 2 epochs in a row \(\S+, \S+\): the network does worse than guessing/)
    expect(bad.err).toContain('start a new run with a smaller learning rate (say --lr 0.01)')
    expect(t.listing()).not.toContain('xor10/model.json')
    const good = await sbnkit('train', '--preset', 'mlp:8', '--dataset', t.at('xor.json'), '--out', t.at('xor001'), '--epochs', '4', '--batch', '10', '--lr', '0.01', '--threads', '1')
    expect(good.code, good.err).toBe(0)
  }, 60_000)
  it('train --lr 1e6 and 1e30 on a tiny model: exit 2 within a few steps, no model written, a sane learning rate suggested', async () => {
    for (const lr of ['1e6', '1e30']) {
      const r = await sbnkit('train', '--preset', 'mlp:4', '--dataset', t.at('train.json'), '--out', t.at(`lr${lr}`), '--epochs', '3', '--batch', '2', '--lr', lr)
      expect(r.code, r.err).toBe(2)
      expect(r.err).toMatch(/sbnkit train: training diverged at epoch \d, step \d \(optimizer step \d of the run\): the minibatch loss \S+ is over 100 × the mean of the run's earlier ones/)
      expect(r.err).toContain('start a new run with a smaller learning rate (say --lr 0.01)')
      expect(t.listing()).not.toContain(`lr${lr}/model.json`)
    }
  }, 60_000)
  it('sizes are read and shown in decimal units', () => {
    expect([parseBytes('4GB'), parseBytes('512 MB'), parseBytes('1.5g'), parseBytes('2e9'), parseBytes('0x10')]).toEqual([4e9, 512e6, 1.5e9, 2e9, undefined])
    expect([showBytes(512), showBytes(12.8e9), showBytes(38.4e9)]).toEqual(['512 B', '12.8 GB', '38.4 GB'])
  })
})

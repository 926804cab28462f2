/**
 * Hostile files: deep and wide models and data, side-file links and special files, huge shape
 * claims, BOM and invalid UTF-8. Each case: exit 2 with a message naming the problem, the peak of
 * memory bounded (measured in process at its high-water mark, generously), and nothing written.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import {
  batchNormModel, chainModel, computedVarianceModel, cycleModel, deepData, paddedConvModel, peakMeter, reversedChain, sbnkit, shapeClaim, sideModel, tempFolder, tinyData, tinyModel, unboundChain,
} from './fixtures.js'

const MB = 1e6
const mkfifoSync = (path: string): void => void execFileSync('mkfifo', [path])
const t = tempFolder()
afterAll(() => t.remove())
writeFileSync(t.at('tiny.json'), tinyModel())
writeFileSync(t.at('data.json'), tinyData())

/** Runs a command that must fail with exit 2, nothing on stdout, no new file; returns stderr. */
const refused = async (argv: string[], bound = 256 * MB): Promise<string> => {
  const before = t.listing()
  const r = await sbnkit(...argv)
  expect(r.code, r.err).toBe(2)
  expect(r.out).toBe('')
  expect(r.err).not.toMatch(/\n\s+at /)
  expect(r.grew).toBeLessThan(bound)
  expect(t.listing()).toBe(before)
  return r.err
}

describe('memory is measured at its peak', () => {
  it('the meter sees 200 MB held only inside a synchronous stretch, gone by the end', () => {
    const peak = peakMeter()
    let held: Float64Array | undefined = new Float64Array(25e6).fill(1) // 200 MB, every page touched
    expect(held[held.length - 1]).toBe(1)
    held = undefined
    expect(held).toBeUndefined()
    expect(peak()).toBeGreaterThan(150 * MB)
  })
})

describe('deep and wide files (iteration, not recursion; linear time)', () => {
  it('a 100 000-node chain decodes in linear memory (check exits 0)', async () => {
    writeFileSync(t.at('chain100k.json'), chainModel(100_000, false))
    const r = await sbnkit('check', t.at('chain100k.json'), '--json')
    expect(r.code, r.err).toBe(0)
    // Quadratic paths took 717 MB at 10 000 nodes; linear decoding stays far below at 100 000.
    expect(r.grew).toBeLessThan(600 * MB)
  }, 120_000)

  it('a 100 000-level chain is sampled and benched: the interpreters and the compiler iterate', async () => {
    writeFileSync(t.at('chain100k-loss.json'), chainModel(100_000))
    writeFileSync(t.at('x1.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: [[1]], y: [[1]] } }))
    const s = await sbnkit('sample', t.at('chain100k-loss.json'), '--data', t.at('x1.json'), '--samples', '2', '--seed', '1', '--json')
    expect(s.code, s.err).toBe(0)
    expect(s.grew).toBeLessThan(1000 * MB)
    // The compiled plan has 100 000 steps: the per-step breakdown is bounded, the text lists 40.
    const b = await sbnkit('bench', t.at('chain100k-loss.json'), '--batch', '1', '--runs', '1')
    expect(b.code, b.err).toBe(0)
    expect(b.out.split('\n').length).toBeLessThan(50)
    expect(b.out).toMatch(/in the other 99,96\d steps, none slower than those above/)
  }, 180_000)

  it('convert on a 20 000-level chain: error paths are not built for every node (linear memory)', async () => {
    writeFileSync(t.at('chain20k.json'), chainModel(20_000))
    const c = await sbnkit('convert', t.at('chain20k.json'), '--coding', 'zero-one', '--out', t.at('chain20k-01.json'))
    expect(c.code, c.err).toBe(0)
    // Eager paths took 730 MB (resident) at 10 000 levels, quadratic in the depth.
    expect(c.grew).toBeLessThan(300 * MB)
  }, 120_000)

  it('hostile graphs 100 000 nodes long: a cycle, every reference forward, unbound parameters (exit 2, short messages)', async () => {
    writeFileSync(t.at('cycle.json'), cycleModel(100_000))
    const cycle = await refused(['check', t.at('cycle.json')], 600 * MB)
    expect(cycle).toMatch(/nodes\[1\]\.arg: node "n0" is part of a cycle: n0 → n99999 → n99998 → n99997 → n99996 → n99995 → … \(99990 more\) … → n4 → n3 → n2 → n1 → n0\n$/)
    writeFileSync(t.at('reversed.json'), reversedChain(100_000))
    const reversed = await refused(['check', t.at('reversed.json')], 600 * MB)
    expect(reversed.split('\n')).toHaveLength(12)
    expect(reversed).toMatch(/nodes: 99990 more child fields refer to nodes that come later; list every node after the nodes it uses\n$/)
    writeFileSync(t.at('unbound.json'), unboundChain(50_000))
    const unbound = await refused(['check', t.at('unbound.json')], 600 * MB)
    expect(unbound.split('\n')[0]).toMatch(/nodes\[1\]: parameter "p0" at output > lhs > lhs > lhs > … \(49991 more\) … > lhs > lhs > lhs > lhs > lhs > rhs has no values \(expected an entry params\.p0\)$/)
    expect(unbound).toMatch(/params: 49990 more parameters have no values \("p10", "p11", "p12", …\)\n$/)
    expect(unbound.length).toBeLessThan(5000)
  }, 180_000)

  it('data nested 100 000 levels: exit 2, the depth named', async () => {
    writeFileSync(t.at('deep.json'), deepData(100_000))
    expect(await refused(['sample', t.at('tiny.json'), '--data', t.at('deep.json'), '--samples', '2', '--seed', '1']))
      .toMatch(/inputs\.x: expected at most 32 nested levels \(dimensions\), found 100000\n$/)
  }, 60_000)

  it('a truncated file 100 000 arrays deep: the JSON error locator says where', async () => {
    writeFileSync(t.at('trunc.json'), deepData(100_000, true))
    expect(await refused(['exact', t.at('tiny.json'), '--data', t.at('trunc.json')]))
      .toMatch(/trunc\.json: not valid JSON: line 1, column 100041: the text ends inside an array \(is the file truncated\?\)\n$/)
  }, 60_000)

  it('a 200-byte shape claim of 2^30 values is checked before anything is allocated', async () => {
    writeFileSync(t.at('claim.json'), shapeClaim(30))
    expect(await refused(['sample', t.at('tiny.json'), '--data', t.at('claim.json'), '--samples', '2', '--seed', '1'], 64 * MB))
      .toMatch(/inputs\.x(\[0\])+\[1\]: expected 2 values like inputs\.x(\[0\])+, found 0\n/)
  })

  it('a 700-byte model whose padding claims 12.8 GB per example: the budget refuses it', async () => {
    writeFileSync(t.at('conv.json'), paddedConvModel())
    writeFileSync(t.at('conv-data.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: [[[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]], y: { shape: [1, 1], values: [0] } } }))
    for (const command of [['sample', '--samples', '2', '--seed', '1'], ['exact']]) {
      const err = await refused([command[0]!, t.at('conv.json'), '--data', t.at('conv-data.json'), ...command.slice(1), '--max-memory', '4GB'])
      expect(err).toMatch(/conv\.json: the network on 1 examples would need 38\.4 GB; the limit is 4 GB \(change it with --max-memory\)\n$/)
    }
    expect(await refused(['bench', t.at('conv.json'), '--max-memory', '4GB'])).toMatch(/would need 9\.83 TB; the limit is 4 GB/)
  })
})

describe('values the semantics cannot use', () => {
  it('a negative batch-norm running variance: exit 2 at decode, naming the parameter, the index and the value', async () => {
    writeFileSync(t.at('bn-ok.json'), batchNormModel([1, 0]))
    expect((await sbnkit('exact', t.at('bn-ok.json'), '--data', t.at('data.json'))).code).toBe(0)
    writeFileSync(t.at('bn.json'), batchNormModel([1, -0.5]))
    for (const command of [['exact'], ['sample', '--samples', '2', '--seed', '1']])
      expect(await refused([command[0]!, t.at('bn.json'), '--data', t.at('data.json'), ...command.slice(1)]))
        .toMatch(/bn\.json: params\.bn\.var\.values\[1\]: expected a running variance ≥ 0 \(runningVar of the BatchNorm at nodes\[5\], id "n"\), found -0\.5\n$/)
  })
  it('a running variance computed by other nodes: evaluated when the model is read; negative, or varying with the input, is exit 2', async () => {
    writeFileSync(t.at('bn-twice.json'), computedVarianceModel('twice'))
    expect((await sbnkit('exact', t.at('bn-twice.json'), '--data', t.at('data.json'))).code).toBe(0)
    writeFileSync(t.at('bn-neg.json'), computedVarianceModel('neg'))
    for (const command of [['exact'], ['sample', '--samples', '2', '--seed', '1'], ['predict']])
      expect(await refused([command[0]!, t.at('bn-neg.json'), '--data', t.at('data.json'), ...command.slice(1)]))
        .toMatch(/bn-neg\.json: nodes: runningVar of the BatchNorm at nodes\[6\], id "n": expected a running variance ≥ 0, found -1 at index 0 \(computed by the Unary at nodes\[5\], id "nv"\)\n$/)
    writeFileSync(t.at('bn-input.json'), computedVarianceModel('input'))
    expect(await refused(['check', t.at('bn-input.json')]))
      .toMatch(/runningVar of the BatchNorm at nodes\[7\], id "n": expected a running statistic computed from parameters and constants only, found one that depends on the input "x0"\n$/)
  })
  it('train --preset mlp:1000000000: refused before any parameter is drawn, nothing written', async () => {
    writeFileSync(t.at('train.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: [[1, 2], [2, 1], [0, 1], [1, 0]], y: [0, 1, 0, 1] } }))
    expect(await refused(['train', '--preset', 'mlp:1000000000', '--dataset', t.at('train.json'), '--out', t.at('huge'), '--max-memory', '4GB']))
      .toBe('sbnkit train: --preset mlp:1000000000 (9,000,000,002 parameters) with --batch 256 would need 25.3 TB; the limit is 4 GB (change it with --max-memory)\n')
    expect(await refused(['train', '--preset', 'mlp:4', '--batch', '1000000000', '--dataset', t.at('train.json'), '--out', t.at('huge'), '--max-memory', '4GB']))
      .toMatch(/with --batch 1000000000 would need 552 GB; the limit is 4 GB/)
  })
})

describe('side files: inside the model folder, regular files, bounded', () => {
  const model = (dir: string): string => {
    mkdirSync(t.at(dir))
    writeFileSync(t.at(dir, 'm.json'), sideModel())
    return t.at(dir, 'm.json')
  }
  it('a link to a file outside the folder (/etc/passwd) is refused without revealing its size', async () => {
    const m = model('link-out')
    symlinkSync('/etc/passwd', t.at('link-out', 'side.bin'))
    const err = await refused(['check', m])
    expect(err).toMatch(/sideFiles\.side\.bin: side file "side\.bin" resolves \(through a link\) outside the model file's folder; refused\n$/)
    expect(err).not.toMatch(/\d{3,} bytes/)
  })
  it('a link to /dev/zero, a FIFO and a directory are refused by kind, without reading (no hang)', async () => {
    const zero = model('zero')
    symlinkSync('/dev/zero', t.at('zero', 'side.bin'))
    expect(await refused(['check', zero])).toMatch(/outside the model file's folder; refused/)
    const fifo = model('fifo')
    mkfifoSync(t.at('fifo', 'side.bin'))
    expect(await refused(['check', fifo])).toMatch(/side file "side\.bin" is a FIFO \(named pipe\), not a regular file\n$/)
    const dir = model('dir')
    mkdirSync(t.at('dir', 'side.bin'))
    expect(await refused(['check', dir])).toMatch(/side file "side\.bin" is a directory, not a regular file\n$/)
  })
  it('the model file itself: a FIFO, a device, a directory', async () => {
    mkfifoSync(t.at('model.fifo'))
    expect(await refused(['check', t.at('model.fifo')])).toMatch(/model\.fifo: is a FIFO \(named pipe\), not a regular file; expected a JSON model file\n$/)
    expect(await refused(['check', '/dev/zero'])).toMatch(/^\/dev\/zero: is a device, not a regular file/)
    expect(await refused(['check', t.dir])).toMatch(/is a directory, not a regular file/)
  })
  it('a link to a file inside the folder is followed', async () => {
    const m = model('link-in')
    writeFileSync(t.at('link-in', 'real.bin'), new Uint8Array(new Float64Array([0.5, -0.25]).buffer))
    symlinkSync('real.bin', t.at('link-in', 'side.bin'))
    const r = await sbnkit('check', m)
    expect(r.code, r.err).toBe(0)
  })
  it('a side file in a linked folder that leads outside (sub → /etc) is refused', async () => {
    mkdirSync(t.at('link-dir'))
    const m = JSON.parse(sideModel('sub/passwd')) as { sideFiles: Record<string, { bytes: number }> }
    writeFileSync(t.at('link-dir', 'm.json'), JSON.stringify(m))
    symlinkSync('/etc', t.at('link-dir', 'sub'))
    expect(await refused(['check', t.at('link-dir', 'm.json')])).toMatch(/side file "sub\/passwd" resolves \(through a link\) outside the model file's folder; refused\n$/)
  })
  it('a 3 GB model file (sparse) is refused by its size before it is read', async () => {
    writeFileSync(t.at('huge.json'), '')
    truncateSync(t.at('huge.json'), 3e9)
    expect(await refused(['check', t.at('huge.json'), '--max-memory', '4GB'], 64 * MB)).toMatch(/huge\.json: is 3 GB; the limit for this file is 250 MB; expected a JSON model file\n$/)
    rmSync(t.at('huge.json'))
  })
  it('a side file larger than declared is refused before it is read', async () => {
    const m = model('big')
    writeFileSync(t.at('big', 'side.bin'), new Uint8Array(1 << 20))
    expect(await refused(['check', m])).toMatch(/side file "side\.bin" should have 16 bytes, found 1048576\n$/)
  })
})

describe('encodings', () => {
  it('a UTF-8 byte-order mark is skipped in model and data files', async () => {
    writeFileSync(t.at('bom-model.json'), `\uFEFF${tinyModel()}`)
    writeFileSync(t.at('bom-data.json'), `\uFEFF${tinyData()}`)
    const r = await sbnkit('exact', t.at('bom-model.json'), '--data', t.at('bom-data.json'))
    expect(r.code, r.err).toBe(0)
  })
  it('invalid UTF-8 is an error naming the byte and its offset', async () => {
    const text = Buffer.from(tinyData())
    text[40] = 0xff
    writeFileSync(t.at('bad-utf8.json'), text)
    expect(await refused(['exact', t.at('tiny.json'), '--data', t.at('bad-utf8.json')]))
      .toMatch(/bad-utf8\.json: cannot read the file \(it is not UTF-8 text \(byte 0xff at offset 40\)\)\n$/)
    writeFileSync(t.at('bad-utf8-model.json'), Buffer.concat([Buffer.from(tinyModel().slice(0, 30)), Buffer.from([0xff]), Buffer.from(tinyModel().slice(30))]))
    expect(await refused(['check', t.at('bad-utf8-model.json')])).toMatch(/is not UTF-8 text \(byte 0xff at offset 30\); expected a JSON model file\n$/)
  })
})

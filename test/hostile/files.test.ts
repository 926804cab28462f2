/**
 * Hostile files: deep and wide models and data, side-file links and special files, huge shape
 * claims, BOM and invalid UTF-8. Each case: exit 2 with a message naming the problem, memory
 * growth bounded (measured in process, generously), and nothing written.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { chainModel, deepData, paddedConvModel, sbnkit, shapeClaim, sideModel, tempFolder, tinyData, tinyModel } from './fixtures.js'

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

describe('deep and wide files (iteration, not recursion; linear time)', () => {
  it('a 100 000-node chain decodes in linear memory (check exits 0)', async () => {
    writeFileSync(t.at('chain100k.json'), chainModel(100_000, false))
    const r = await sbnkit('check', t.at('chain100k.json'), '--json')
    expect(r.code, r.err).toBe(0)
    // Quadratic paths took 717 MB at 10 000 nodes; linear decoding stays far below at 100 000.
    expect(r.grew).toBeLessThan(600 * MB)
  }, 120_000)

  it('a 30 000-level chain is sampled: the interpreters iterate', async () => {
    writeFileSync(t.at('chain30k.json'), chainModel(30_000))
    writeFileSync(t.at('x1.json'), JSON.stringify({ format: 'sbnkit-data/1', inputs: { x: [[1]], y: [[1]] } }))
    const s = await sbnkit('sample', t.at('chain30k.json'), '--data', t.at('x1.json'), '--samples', '2', '--seed', '1', '--json')
    expect(s.code, s.err).toBe(0)
  }, 120_000)

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

import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readModelFile, writeFileAtomic, writeModelFile } from '../../src/io/files.js'
import { drawModelErrors, encodeModel } from '../../src/dsl/codec.js'
import { print } from '../../src/dsl/print.js'
import { everyOp, fixturesDir, mlpExample } from '../fixtures/models/networks.js'
import { cliRunner } from './run.js'

const bad = join(fixturesDir, 'bad')

/** Runs `sbnkit …` in process; fixture paths are shown as `<fixtures>/…` so snapshots are portable. */
const sbnkit = (...argv: string[]) => cliRunner((s) => s.replaceAll(fixturesDir, '<fixtures>/'))(argv)

/** `sbnkit check` on a bad fixture: exit 2, nothing on stdout, no stack trace; returns stderr. */
const rejects = async (file: string): Promise<string> => {
  const r = await sbnkit('check', join(bad, file))
  expect(r.code).toBe(2)
  expect(r.out).toBe('')
  expect(r.err).not.toMatch(/\n\s+at /)
  return r.err
}

describe('sbnkit check: valid models', () => {
  it('prints the summary table of a valid model and exits 0', async () => {
    const r = await sbnkit('check', join(fixturesDir, 'mlp.json'))
    expect(r.code).toBe(0)
    expect(r.err).toBe('')
    expect(r.out).toMatchInlineSnapshot(`
      "<fixtures>/mlp.json: a valid sbnkit-model/1 model

      Layer   Kind              Output shape  Binary params  Real params  Memory (bits)  Binary MACs  Real MACs  Stochastic sites
      ------  ----------------  ------------  -------------  -----------  -------------  -----------  ---------  ----------------
      layer1  dense             [batch, 3]                6            3            102            0          6                 2
      head    dense             [batch, 2]                0            8            256            0          6                 0
      loss    loss(softmax-ce)  []                        0            0              0            0          0                 0
      ------  ----------------  ------------  -------------  -----------  -------------  -----------  ---------  ----------------
      Total                                               6           11            358            0         12                 2

      Parameters: 17 (6 binary at 1 bit, 11 real at 32 bits, of which 0 non-trainable)
      Memory: 358 bits = 45 bytes (0.04 KiB)
      MACs per example: 12 (0 binary, 12 real; 0.00% binary)
      Stochastic sites: 2 (1 weight, 1 activation)
      "
    `)
  })

  it('reads parameters from a side file next to the model', async () => {
    const r = await sbnkit('check', join(fixturesDir, 'every-op-side.json'))
    expect(r.code).toBe(0)
    expect(r.out).toContain('<fixtures>/every-op-side.json: a valid sbnkit-model/1 model')
    expect((await sbnkit('check', join(fixturesDir, 'tiny-side.json'))).code).toBe(0)
  })

  it('--json prints the summary as JSON', async () => {
    const r = await sbnkit('check', join(fixturesDir, 'every-op.json'), '--json')
    expect(r.code).toBe(0)
    const json = JSON.parse(r.out) as { format: string; total: { binaryParams: number } }
    expect(json.format).toBe('sbnkit-summary')
    expect(json.total.binaryParams).toBe(18)
  })

  it('--help prints the usage and exits 0; bad arguments exit 2 with the usage', async () => {
    const help = await sbnkit('check', '--help')
    expect(help.code).toBe(0)
    expect(help.out).toContain('usage: sbnkit check <model.json> [--json]')
    const none = await sbnkit('check')
    expect(none.code).toBe(2)
    expect(none.err.split('\n')[0]).toMatchInlineSnapshot(`"sbnkit check: expected one model file, found 0 arguments"`)
    const two = await sbnkit('check', 'a.json', 'b.json')
    expect(two.code).toBe(2)
    const flag = await sbnkit('check', '--jsn', 'a.json')
    expect(flag.code).toBe(2)
    expect(flag.err.split('\n')[0]).toMatchInlineSnapshot(`"sbnkit check: unknown option --jsn; did you mean "--json"?"`)
  })
})

describe('sbnkit check: bad model files give clear errors and exit 2, never a stack trace', () => {
  it('a missing file, a directory, an empty file, bytes that are not UTF-8', async () => {
    expect(await rejects('no-such-file.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/no-such-file.json: cannot read the file (no such file or directory)
      "
    `)
    expect(await rejects('.')).toMatchInlineSnapshot(`
      "<fixtures>/bad: is a directory, not a regular file; expected a JSON model file
      "
    `)
    expect(await rejects('empty.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/empty.json: is empty; expected a JSON model file
      "
    `)
    expect(await rejects('not-utf8.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/not-utf8.json: is not UTF-8 text (byte 0xff at offset 58); expected a JSON model file
      "
    `)
  })

  it('truncated JSON, and NaN written as a bare literal', async () => {
    expect(await rejects('truncated.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/truncated.json: invalid JSON: line 7, column 11: the text ends inside an object (is the file truncated?)
      "
    `)
    expect(await rejects('nan-literal.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/nan-literal.json: invalid JSON: line 13, column 39: expected a value, found NaN (JSON has no NaN or Infinity; write finite numbers)
      "
    `)
  })

  it('another format version', async () => {
    expect(await rejects('wrong-format.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/wrong-format.json: format: this file is "sbnkit-model/2", but this version of sbnkit reads only "sbnkit-model/1"
      "
    `)
  })

  it('wrong types (every one reported)', async () => {
    expect(await rejects('wrong-types.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/wrong-types.json: nodes[0].shape: expected a shape (an array of positive integers and "batch"), found "batch, 2"
      <fixtures>/bad/wrong-types.json: nodes[1].trainable: expected true or false, found "yes"
      <fixtures>/bad/wrong-types.json: nodes[3].rhs: expected a node id (a non-empty string), found 3
      <fixtures>/bad/wrong-types.json: params.W.values: expected an array of finite numbers, found "0.5, -0.25"
      "
    `)
  })

  it('wrong shapes: a params entry against its node, and operands that do not fit', async () => {
    expect(await rejects('wrong-shape.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/wrong-shape.json: params.W.shape: expected [2, 1] to match node W, found [2, 2]
      "
    `)
    expect(await rejects('shape-mismatch.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/shape-mismatch.json: nodes[3]: MatMul at output: inner dims differ (3 vs 2)
      "
    `)
  })

  it('unknown ops and unknown noise', async () => {
    expect(await rejects('unknown-op.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/unknown-op.json: nodes[3].op: unknown op "Dense"; expected one of Input, Param, Const, MatMul, Add, Mul, Unary, Conv2d, Pool, Reshape, BatchNorm, Binarize, Loss
      "
    `)
    expect(await rejects('unknown-noise.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/unknown-noise.json: nodes[2].noise: unknown noise family "gaussian"; expected one of logistic, uniform, triangular, normal, none
      "
    `)
  })

  it('duplicate names and duplicate ids', async () => {
    expect(await rejects('duplicate-names.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/duplicate-names.json: nodes[4]: input name "x" at loss > target is already used by a different node at output > lhs; give one of them another name
      "
    `)
    expect(await rejects('duplicate-ids.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/duplicate-ids.json: nodes[4].id: duplicate id "x" (first used at nodes[0])
      "
    `)
  })

  it('cycles, through several nodes or one', async () => {
    expect(await rejects('cycle.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/cycle.json: nodes[3].lhs: node "h" is part of a cycle: h → L → h
      "
    `)
    expect(await rejects('self-reference.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/self-reference.json: nodes[2].input: node "Wb" refers to itself (a cycle)
      "
    `)
  })

  it('NaN and Infinity parameter values', async () => {
    expect(await rejects('nan-string.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/nan-string.json: params.W.values[0]: expected a finite number, found "NaN" (JSON has no NaN or Infinity)
      "
    `)
    expect(await rejects('infinity.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/infinity.json: params.W.values[0]: expected a finite number, found Infinity (a numeric literal beyond the float64 range)
      "
    `)
  })

  it('side files: the wrong size, missing, offsets beyond the end, other contents', async () => {
    expect(await rejects('side-wrong-size.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/side-wrong-size.json: sideFiles.side-wrong-size.bin.bytes: side file "side-wrong-size.bin" should have 16 bytes, found 12
      "
    `)
    expect(await rejects('side-missing.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/side-missing.json: sideFiles.side-missing.bin: side file "side-missing.bin" was not found (it is looked up next to the model file)
      "
    `)
    expect(await rejects('side-offset.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/side-offset.json: params.W.offset: 2 values at offset 8 need bytes up to 24, but side file "side-offset.bin" has 16
      "
    `)
    expect(await rejects('side-checksum.json')).toMatchInlineSnapshot(`
      "<fixtures>/bad/side-checksum.json: sideFiles.side-checksum.bin.fnv1a32: side file "side-checksum.bin" has checksum 87d747ed, expected 08625a75; it belongs to another version of this model
      "
    `)
  })
})

describe('model files on disk (src/cli/files.ts)', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sbnkit-files-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writeModelFile then readModelFile gives the same network, with a side file, leaving no temporary files', async () => {
    const net = everyOp()
    const path = join(dir, 'model.json')
    const opts = { sideFile: 'model.bin', threshold: 4 }
    expect(await writeModelFile(path, net, opts)).toEqual(E.right(undefined))
    expect(await writeModelFile(path, net, opts)).toEqual(E.right(undefined)) // overwriting is fine
    expect((await readdir(dir)).sort()).toEqual(['model.bin', 'model.json'])
    const back = await readModelFile(path)
    if (E.isLeft(back)) throw new Error(drawModelErrors(back.left))
    expect(print(back.right)).toBe(print(net))
    expect(encodeModel(back.right, opts).json).toBe(encodeModel(net, opts).json)
  })

  it('a side file from another version of the model (an interrupted write) is an error, not wrong weights', async () => {
    const path = join(dir, 'pair.json')
    await writeModelFile(path, everyOp(), { sideFile: 'pair.bin', threshold: 4 })
    const other = encodeModel(everyOp(), { threshold: 4, sideFile: 'pair.bin' }).side ?? new Uint8Array()
    other[0] = (other[0] ?? 0) ^ 1
    await writeFileAtomic(join(dir, 'pair.bin'), other)
    const r = await readModelFile(path)
    expect(E.isLeft(r) && drawModelErrors(r.left)).toMatch(/^sideFiles\.pair\.bin\.fnv1a32: side file "pair\.bin" has checksum [0-9a-f]{8}, expected [0-9a-f]{8}; it belongs to another version of this model$/)
  })

  it('write failures and bad side file names are values', async () => {
    const missingDir = join(dir, 'no', 'such', 'dir', 'm.json')
    const r = await writeModelFile(missingDir, mlpExample())
    expect(E.isLeft(r) && drawModelErrors(r.left).replace(dir, '<tmp>')).toMatchInlineSnapshot(`"<tmp>/no/such/dir/m.json: cannot write the file (no such file or directory)"`)
    const name = await writeModelFile(join(dir, 'm.json'), mlpExample(), { sideFile: '../m.bin' })
    expect(E.isLeft(name) && drawModelErrors(name.left).replace(dir, '<tmp>')).toMatchInlineSnapshot(`"<tmp>/m.json: the side file must be a relative file name without ".." (such as "model.bin"), found "../m.bin""`)
  })
})

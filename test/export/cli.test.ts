/** `sbnkit export`: files written, and every user mistake a short pinned message with exit 2. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readModelFile } from '../../src/io/files.js'
import { loadPacked } from '../../src/export/index.js'
import { fixturesDir } from '../fixtures/models/networks.js'
import { cliRunner } from '../cli/run.js'
import { expectBits, modeOutput } from './helpers.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbnkit-export-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
const sbnkit = (...argv: string[]) => cliRunner((s) => s.replaceAll(dir, '<tmp>').replaceAll(fixturesDir, '<fixtures>/'))(argv)
const mlp = join(fixturesDir, 'mlp.json')

describe('sbnkit export', () => {
  it('writes a packed file that loads with the mode network\'s outputs', async () => {
    const out = join(dir, 'm.sbn')
    const r = await sbnkit('export', mlp, '--format', 'packed', '--out', out, '--real', 'f64')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatchInlineSnapshot(`
      "wrote <tmp>/m.sbn: 612 bytes (sbnkit-packed/1, binary weights at 1 bit, real head in float64); the model's summary counts 45 bytes of parameters
      "
    `)
    const net = await readModelFile(mlp)
    const c = loadPacked(new Uint8Array(await readFile(out)), 'js')
    if (E.isLeft(net) || E.isLeft(c)) throw new Error('unreadable')
    const feed = { x: { shape: [3, 2], data: Float64Array.of(0.5, -1, 2, 0.25, -0.125, 3) } }
    const got = c.right.run(feed)
    if (E.isLeft(got)) throw new Error('run')
    expectBits(got.right['output']!, modeOutput(net.right, { ...feed, y: { shape: [3], data: new Float64Array(3) } }), 'packed')
  })

  it('writes an ONNX file', async () => {
    const r = await sbnkit('export', mlp, '--format', 'onnx', '--out', join(dir, 'm.onnx'))
    expect(r.code).toBe(0)
    expect(r.out).toMatchInlineSnapshot(`
      "wrote <tmp>/m.onnx: 760 bytes (ONNX opset 13); the model's summary counts 45 bytes of parameters
      "
    `)
  })

  it('pins its messages', async () => {
    const first = async (...argv: string[]): Promise<string> => {
      const r = await sbnkit('export', ...argv)
      expect(r.code).toBe(2)
      expect(r.out).toBe('')
      expect(r.err).not.toMatch(/\n\s+at /)
      return r.err.split('\n')[0]!
    }
    expect(await first()).toMatchInlineSnapshot(`"sbnkit export: expected one model file, found 0 arguments"`)
    expect(await first(mlp, '--out', 'x')).toMatchInlineSnapshot(`"sbnkit export: expected --format packed or --format onnx"`)
    expect(await first(mlp, '--format', 'tflite', '--out', 'x')).toMatchInlineSnapshot(`"sbnkit export: --format expects packed or onnx, found "tflite""`)
    expect(await first(mlp, '--format', 'onnx')).toMatchInlineSnapshot(`"sbnkit export: expected --out FILE"`)
    expect(await first(mlp, '--format', 'onnx', '--out', 'x', '--real', 'f64')).toMatchInlineSnapshot(`"sbnkit export: --real applies to --format packed only"`)
    expect(await first(mlp, '--format', 'packed', '--out', 'x', '--real', 'f16')).toMatchInlineSnapshot(`"sbnkit export: --real expects f32 or f64, found "f16""`)
    expect(await first(mlp, '--format', 'packed', '--out', 'x', '--output', 'logits')).toMatchInlineSnapshot(`"<fixtures>/mlp.json: cannot export output "logits": expected an output of that name, found outputs "output", "loss""`)
    expect(await first(join(dir, 'missing.json'), '--format', 'packed', '--out', 'x')).toMatchInlineSnapshot(`"<tmp>/missing.json: cannot read the file (no such file or directory)"`)
    // A model whose hidden layer is real (tanh) has no sign layer for the head to read.
    const real = JSON.parse(await readFile(mlp, 'utf8')) as { nodes: Record<string, unknown>[] }
    real.nodes = real.nodes.map((n) => (n['id'] === 'binarize2' ? { id: 'binarize2', op: 'Unary', fn: 'tanh', arg: 'layer1' } : n))
    await writeFile(join(dir, 'real.json'), JSON.stringify(real))
    expect(await first(join(dir, 'real.json'), '--format', 'packed', '--out', 'x')).toMatchInlineSnapshot(`"<tmp>/real.json: cannot export Unary: expected a ±1 input to the head (a binarized layer or a binary input), found a real tensor"`)
  })
})

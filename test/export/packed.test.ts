/**
 * The packed format: round trips (packed → compiled ≡ mode network, bit for bit) on generated
 * dense and conv networks and on the presets, the size against the summary, and clear errors
 * for truncated, damaged and foreign files.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Checked, Network } from '../../src/dsl/node.js'
import type { BackendName } from '../../src/interpreters/compiled/index.js'
import { drawRunError } from '../../src/interpreters/runErrors.js'
import type { Feed, NDArray } from '../../src/interpreters/ndarray.js'
import { summary } from '../../src/interpreters/summary.js'
import { withBatchNormMode, withParams } from '../../src/train/modes.js'
import { crc32 } from '../../src/io/crc32.js'
import { decodePacked, deploy, drawExportError, encodePacked, loadPacked, readPacked } from '../../src/export/index.js'
import type { PackedOptions } from '../../src/export/index.js'
import { arbConvNet, arbNet, build, buildConv } from '../interpreters/compiled/nets.js'
import { expectBits, modeOutput, trainedPreset } from './helpers.js'

const backends: readonly BackendName[] = ['wasm', 'js', 'jitless']

const pack = (net: Checked<Network>, opts: PackedOptions = { real: 'f64' }): Uint8Array => {
  const d = deploy(net)
  if (E.isLeft(d)) throw new Error(drawExportError(d.left))
  return encodePacked(d.right, opts)
}

const loaded = (bytes: Uint8Array, feed: Feed, backend: BackendName): NDArray => {
  const c = loadPacked(bytes, backend)
  if (E.isLeft(c)) throw new Error('_tag' in c.left && c.left._tag === 'BadPackedFile' ? drawExportError(c.left) : JSON.stringify(c.left))
  const r = c.right.run(feed)
  if (E.isLeft(r)) throw new Error(drawRunError(r.left))
  return r.right['output']!
}

describe('packed format', () => {
  it('packed → compiled ≡ mode network on generated dense nets (bit-exact, every back end)', () => {
    fc.assert(
      fc.property(arbNet.filter((s) => s.head > 0 && s.layers.every((l) => l.unary !== 'abs')), (spec) => {
        const { net: trained, feed } = build(spec)
        const net = withBatchNormMode(trained, 'inference')
        const want = modeOutput(net, feed)
        const bytes = pack(net)
        for (const b of backends) expectBits(loaded(bytes, feed, b), want, b)
      }),
      { seed: 41, numRuns: 40 },
    )
  })

  it('packed → compiled ≡ mode network on generated conv nets (bit-exact, every back end)', () => {
    fc.assert(
      fc.property(arbConvNet, (spec) => {
        const { net, feed } = buildConv(spec)
        const want = modeOutput(net, feed)
        const bytes = pack(net)
        for (const b of backends) expectBits(loaded(bytes, feed, b), want, b)
      }),
      { seed: 41, numRuns: 30 },
    )
  })

  it('presets with batch norm (conv pools before its sign) round-trip bit-exact; float32 heads ≡ the rounded model', () => {
    const cases = [
      trainedPreset({ kind: 'mlp', hidden: [33, 20] }, [30], 5, 3),
      trainedPreset({ kind: 'conv', channels: [4, 6] }, [1, 12, 12], 3, 4),
    ]
    for (const { net, feed } of cases) {
      const want = modeOutput(net, feed)
      for (const b of backends) expectBits(loaded(pack(net), feed, b), want, b)
      // float32: the same as the model whose head parameters are rounded to float32.
      const rounded = withParams(net, { ...net.params, 'head.W': net.params['head.W']!.map(Math.fround), 'head.b': net.params['head.b']!.map(Math.fround) })
      expectBits(loaded(pack(net, {}), feed, 'wasm'), modeOutput(rounded, feed), 'float32 head')
    }
  })

  it('a 784→256→256→10 model packs to less than its summary\'s deployed bytes', () => {
    const { net } = trainedPreset({ kind: 'mlp', hidden: [256, 256] }, [784], 1, 5)
    const bytes = pack(net, {})
    expect(summary(net).total.bytes).toBe(53800)
    // 1 bit per binary weight (33 792 bytes with row padding), the folded thresholds
    // (256 f64 + 256 i32 + 512 i8) and the float32 head (10 280 bytes), a header and a manifest.
    expect(bytes.length).toBeGreaterThan(33792 + 10280)
    expect(bytes.length).toBeLessThan(53800)
  })

  it('crc32 is the IEEE CRC-32 (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
  })
})

describe('damaged packed files give clear errors', () => {
  const { net } = trainedPreset({ kind: 'mlp', hidden: [5] }, [3], 1, 6)
  const good = pack(net, {})
  const error = (bytes: Uint8Array): string => {
    const r = readPacked(bytes)
    return E.isLeft(r) ? drawExportError(r.left, 'm.sbn') : 'no error'
  }
  /** Rewrites the checksum so that a deliberate change reaches the checks behind it. */
  const resealed = (bytes: Uint8Array): Uint8Array => {
    const out = bytes.slice()
    new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true)
    return out
  }
  const manifestWith = (edit: (m: Record<string, unknown>) => void): Uint8Array => {
    const m = new DataView(good.buffer).getUint32(8, true)
    const json = JSON.parse(new TextDecoder().decode(good.subarray(12, 12 + m))) as Record<string, unknown>
    edit(json)
    const text = new TextEncoder().encode(JSON.stringify(json).padEnd(m, ' ').slice(0, m))
    const out = good.slice()
    out.set(text, 12)
    return resealed(out)
  }

  it('decodes the good file', () => {
    expect(error(good)).toBe('no error')
    expect(E.isRight(decodePacked(good))).toBe(true)
  })
  it('pins the messages', () => {
    expect(error(good.subarray(0, 10))).toMatchInlineSnapshot(`"m.sbn: the file: expected at least 16 bytes (an sbnkit-packed/1 header and checksum), found 10 bytes"`)
    expect(error(good.subarray(0, good.length - 7))).toMatchInlineSnapshot(`"m.sbn: byte 801: expected the CRC-32 of the file's first 801 bytes, 0x0b3db713 (the file is damaged or truncated), found 0x1fbddf21"`)
    expect(error(new TextEncoder().encode('PK\u0003\u0004 this is a zip file, not a model'))).toMatchInlineSnapshot(`"m.sbn: byte 0: expected the magic "SBNK" of an sbnkit-packed/1 file, found "PK\\u0003\\u0004""`)
    const flipped = good.slice()
    flipped[good.length - 20]! ^= 1
    expect(error(flipped)).toMatchInlineSnapshot(`"m.sbn: byte 808: expected the CRC-32 of the file's first 808 bytes, 0xcb8567be (the file is damaged or truncated), found 0x65edf62f"`)
    const v2 = good.slice()
    v2[4] = 2
    expect(error(resealed(v2))).toMatchInlineSnapshot(`"m.sbn: byte 4: expected format version 1, found version 2"`)
    expect(error(manifestWith((m) => { (m['layers'] as Record<string, unknown>[])[0]!['k'] = 0 }))).toMatchInlineSnapshot(`"m.sbn: manifest.layers[0].k: expected a positive integer, found 0"`)
    expect(error(manifestWith((m) => { (m['layers'] as Record<string, unknown>[])[0]!['k'] = 4 }))).toMatchInlineSnapshot(`"m.sbn: manifest.layers[0].weights: expected 5 rows of 4 bits, found 5 rows of 3 bits"`)
    expect(error(manifestWith((m) => { m['format'] = 'sbnkit-packed/9' }))).toMatchInlineSnapshot(`"m.sbn: manifest.format: expected one of "sbnkit-packed/1", found "sbnkit-packed/9""`)
  })
})

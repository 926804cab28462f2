import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { drawModelErrors } from '../../src/dsl/codec/modelErrors.js'
import { encodeModel, initParams, input, key, mlp, softmaxCrossEntropy, typecheck } from '../../src/dsl/index.js'
import { decodeModelBytes, encodeModelBytes } from '../../src/data/modelBytes.js'

const net = (() => {
  const x = input('x', ['batch', 40])
  const y = input('y', ['batch'], 'index')
  const logits = pipe(x, mlp({ hidden: [30], outputs: 3 }))
  const outputs = { output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) }
  const checked = typecheck({ outputs, params: initParams(outputs, key(3)) })
  if (E.isLeft(checked)) throw new Error('the fixture typechecks')
  return checked.right
})()

const errors = (r: E.Either<Parameters<typeof drawModelErrors>[0], unknown>): string => (E.isLeft(r) ? drawModelErrors(r.left) : 'decoded')

describe('model files from bytes (portable)', () => {
  it('law: decode ∘ encode = id on the canonical text, with and without a side file', () => {
    const plain = encodeModelBytes(net)
    expect(new TextDecoder().decode(plain.json)).toBe(encodeModel(net).json)
    const back = decodeModelBytes(plain.json)
    expect(E.isRight(back) && encodeModel(back.right).json).toBe(encodeModel(net).json)
    const split = encodeModelBytes(net, { sideFile: 'm.bin', threshold: 16 })
    expect(split.side).toBeDefined()
    const again = decodeModelBytes(split.json, { sideFiles: { 'm.bin': split.side! } })
    expect(E.isRight(again) && encodeModel(again.right).json).toBe(encodeModel(net).json)
  })

  it('a leading byte-order mark is dropped', () => {
    const { json } = encodeModelBytes(net)
    expect(E.isRight(decodeModelBytes(Uint8Array.of(0xef, 0xbb, 0xbf, ...json)))).toBe(true)
  })

  it('names the problem: invalid UTF-8, empty, not JSON, a missing side file', () => {
    expect(errors(decodeModelBytes(Uint8Array.of(0x7b, 0x20, 0xff, 0x7d), { file: 'a.json' }))).toMatchInlineSnapshot(
      `"a.json: is not UTF-8 text (byte 0xff at offset 2); expected a JSON model file"`,
    )
    expect(errors(decodeModelBytes(new Uint8Array(0)))).toMatchInlineSnapshot(`"model.json: is empty; expected a JSON model file"`)
    expect(errors(decodeModelBytes(new TextEncoder().encode('{"format": ')))).toMatch(/^model\.json: invalid JSON: line 1, column \d+/)
    const split = encodeModelBytes(net, { sideFile: 'm.bin', threshold: 16 })
    expect(errors(decodeModelBytes(split.json))).toMatch(/m\.bin/)
  })
})

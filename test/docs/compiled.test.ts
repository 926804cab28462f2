/**
 * The examples of docs/compiled.md run here: the `// example: <name>` … `// end example` region
 * below is, dedented, the body of the ```ts block after `<!-- example: <name> -->` in the doc, with
 * the doc's imports checked against this file's (the convention of test/docs/dsl.test.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { initParams, input, key, mlp, typecheck } from 'sbnkit/dsl'
import { compile, packBits, sliceFeed } from 'sbnkit/interpreters'
import { describe, expect, it } from 'vitest'
import { docExamples, importsOf } from './examples.js'

const { self, docBlock, region } = docExamples(new URL('../../docs/compiled.md', import.meta.url), import.meta.url)

describe('docs/compiled.md examples', () => {
  it('example infer is the code tested here, with the same imports', () => {
    const block = docBlock('infer')
    const body = block.split('\n').filter((l) => !l.startsWith('import ')).join('\n').trim()
    expect(body).toBe(region('infer').trim())
    const mine = new Set(importsOf(self))
    for (const i of importsOf(block).filter((i) => !i.startsWith('* as'))) expect(mine, i).toContain(i)
  })

  it('example offset is the code tested here, with the same imports', () => {
    const block = docBlock('offset')
    const body = block.split('\n').filter((l) => !l.startsWith('import ')).join('\n').trim()
    expect(body).toBe(region('offset').trim())
    const mine = new Set(importsOf(self))
    for (const i of importsOf(block).filter((i) => !i.startsWith('* as'))) expect(mine, i).toContain(i)
  })

  it('offset: a chunk run from its offset gives the rows of the whole run, bit for bit', () => {
    // example: offset
    const output = mlp({ hidden: [8], outputs: 2 })(input('x', ['batch', 4]))
    const net = typecheck({ outputs: { output }, params: initParams({ output }, key(0)) })
    if (E.isLeft(net)) throw new Error('typecheck')
    const c = compile(net.right, { backend: 'wasm', mode: 'sample' })
    if (E.isLeft(c)) throw new Error('compile')
    const feed = { x: { shape: [6, 4], data: Float64Array.from({ length: 24 }, (_, i) => Math.sin(i)) } }
    const whole = c.right.run(feed, key(7))                              // rows 0–5 at once
    const tail = c.right.run(sliceFeed(feed, 4, 6), key(7), { offset: 4 }) // rows 4–5 alone
    // tail's outputs are the last two rows of whole's, bit for bit
    // end example
    if (E.isLeft(whole) || E.isLeft(tail)) throw new Error('run')
    expect(Array.from(tail.right['output']!.data)).toEqual(Array.from(whole.right['output']!.data.slice(8)))
    const head = c.right.run(sliceFeed(feed, 4, 6), key(7))
    expect(E.isRight(head) && Array.from(head.right['output']!.data)).not.toEqual(Array.from(whole.right['output']!.data.slice(8)))
  })

  it('infer: uint8 pixels in, class indices into a reused buffer; packBits', () => {
    // example: infer
    const output = pipe(input('pixels', ['batch', 784]), mlp({ hidden: [256], outputs: 10, activation: { family: 'none' }, weightNoise: { family: 'none' } }))
    const net = typecheck({ outputs: { output }, params: initParams({ output }, key(0)) })
    if (E.isLeft(net)) throw new Error('typecheck')
    const c = compile(net.right, { backend: 'wasm', mode: 'mode' })
    if (E.isLeft(c)) throw new Error('compile')
    const images = new Uint8Array(64 * 784) // 64 images, 8-bit pixels as they come
    const classes = new Int32Array(64) // reused from call to call
    const r = c.right.infer({ pixels: { shape: [64, 784], data: images } }, { outputs: { output: 'classes' }, into: { output: classes } })
    // r: E.right({ output: { form: 'classes', shape: [64], data: classes } })
    const bits = packBits([2, 3], Int8Array.of(1, -1, 1, -1, -1, 1)) // E.right({ form: 'bits', shape: [2, 3], data: Int32Array [5, 4] })
    // end example
    expect(E.isRight(r) && r.right['output']).toEqual({ form: 'classes', shape: [64], data: classes })
    expect(E.isRight(r) && r.right['output']!.data).toBe(classes)
    expect(E.isRight(bits) && Array.from(bits.right.data)).toEqual([5, 4])
  })
})

/**
 * The examples of docs/dsl.md run here. Each `// example: <name>` … `// end example` region below
 * is, dedented, the body of the ```ts block after `<!-- example: <name> -->` in the doc (the doc's
 * import lines are checked against this file's imports), and the assertions after each region
 * check what the doc says the code does. Outputs quoted in ```text blocks after
 * `<!-- output: <name> -->` are compared with what the code prints.
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import {
  conv, dense, draw, flatten, initParams, input, key, logistic, matmul, maxPool, mlp, param, print, sbinary,
  softmaxCrossEntropy, typecheck,
} from 'sbnkit/dsl'
import type { Node, Shape, Tensor } from 'sbnkit/dsl'
import { describe, expect, it } from 'vitest'
import { mismatches } from '../types/mismatches.js'
import { assertType } from '../types/equal.js'
import type { Equal } from '../types/equal.js'

const doc = readFileSync(new URL('../../docs/dsl.md', import.meta.url), 'utf8')
const self = readFileSync(new URL(import.meta.url), 'utf8')

/** The fenced block of `lang` that follows `<!-- kind: name -->` in the doc. */
const docBlock = (kind: string, name: string, lang: string): string => {
  const m = new RegExp(`<!-- ${kind}: ${name} -->\\n\`\`\`${lang}\\n([\\s\\S]*?)\\n\`\`\``).exec(doc)
  if (m === null) throw new Error(`docs/dsl.md has no ${lang} block for ${kind} ${name}`)
  return m[1]!
}
/** The region of this file between `// example: name` and `// end example`, dedented. */
const region = (name: string): string => {
  const m = new RegExp(`\\n( *)// example: ${name}\\n([\\s\\S]*?)\\n *// end example`).exec(self)
  if (m === null) throw new Error(`no region ${name}`)
  const indent = m[1]!.length
  return m[2]!.split('\n').map((l) => l.slice(indent)).join('\n')
}
const importsOf = (text: string): Array<[string, string]> =>
  [...text.matchAll(/import (?:type )?\{([^}]*)\} from '([^']+)'/g)].flatMap((m) =>
    m[1]!.split(',').map((n) => n.trim()).filter((n) => n !== '').map((n): [string, string] => [n, m[2]!]))
const imported = new Set(importsOf(self).map(([n, from]) => `${n} from ${from}`))

describe('docs/dsl.md examples', () => {
  for (const name of ['build', 'shapes', 'mismatch', 'degrade', 'print', 'errors']) {
    it(`example ${name} is the code tested here, with the same imports`, () => {
      const block = docBlock('example', name, 'ts')
      const body = block.split('\n').filter((l) => !l.startsWith('import ')).join('\n').trim()
      expect(body).toBe(region(name).trim())
      for (const [n, from] of importsOf(block)) expect(imported, `${n} from ${from}`).toContain(`${n} from ${from}`)
    })
  }

  it('build: a small SBN for MNIST, checked', () => {
    // example: build
    const x = input('x', ['batch', 784])
    const y = input('y', ['batch'], 'index')
    const logits = pipe(
      x,
      dense(512, { weights: 'binary' }), // Tensor<['batch', 512]>
      sbinary(logistic(1)),
      dense(10), // Tensor<['batch', 10]>
    )
    const outputs = { output: logits, loss: pipe(logits, softmaxCrossEntropy(y)) }
    const net = typecheck({ outputs, params: initParams(outputs, key(0)) })
    const status = E.isRight(net) ? 'ok' : draw(net.left) // 'ok'
    // end example
    assertType<Equal<typeof logits, Tensor<['batch', 10]>>>()
    expect(status).toBe('ok')
  })

  it('shapes: every constructor knows its output shape', () => {
    // example: shapes
    const x = input('x', ['batch', 784]) // Tensor<['batch', 784]>
    const h = pipe(x, dense(512)) // Tensor<['batch', 512]>
    const img = input('img', ['batch', 1, 28, 28])
    const features = pipe(img, conv(8, 3, { padding: 1 }), sbinary(), maxPool(2), flatten()) // Tensor<['batch', 1568]>
    const logits = pipe(features, mlp({ hidden: [256], outputs: 10 })) // Tensor<['batch', 10]>
    // end example
    assertType<Equal<typeof x, Tensor<['batch', 784]>>>()
    assertType<Equal<typeof h, Tensor<['batch', 512]>>>()
    assertType<Equal<typeof features, Tensor<['batch', 1568]>>>()
    assertType<Equal<typeof logits, Tensor<['batch', 10]>>>()
    expect([h.type.shape, features.type.shape, logits.type.shape]).toEqual([['batch', 512], ['batch', 1568], ['batch', 10]])
  })

  it('mismatch: a compile error, and the same sentence from typecheck', () => {
    // example: mismatch
    const x = input('x', ['batch', 784])
    const W = param('W', [512, 10])
    // @ts-expect-error: MatMul: inner dims differ (784 vs 512)
    const bad = matmul(x, W)
    const checked = typecheck({ outputs: { out: bad }, params: {} })
    const message = E.isLeft(checked) ? draw(checked.left) : 'ok' // 'MatMul at out: inner dims differ (784 vs 512)'
    // end example
    expect(message).toBe('MatMul at out: inner dims differ (784 vs 512)')
  })

  it('degrade: shapes that are not literal are checked at run time', () => {
    // example: degrade
    const x = input('x', ['batch', 784])
    const width: number = Number('64') // read from a config file, say
    const wide = pipe(x, dense(width)) // Tensor<['batch', number]>
    const decoded: Node = wide // e.g. a node decoded from a model file
    const out = pipe(decoded, dense(10)) // Tensor<Shape>
    // end example
    assertType<Equal<typeof wide, Tensor<['batch', number]>>>()
    assertType<Equal<typeof out, Tensor<Shape>>>()
    expect(out.type.shape).toEqual(['batch', 10])
  })

  it('print: the network in A-normal form', () => {
    // example: print
    const x = input('x', ['batch', 4])
    const y = input('y', ['batch'], 'index')
    const logits = pipe(x, dense(3, { weights: 'binary' }), sbinary(), dense(2, { name: 'head' }))
    const text = print({ outputs: { loss: pipe(logits, softmaxCrossEntropy(y)) }, params: {} })
    // end example
    expect(text).toBe(docBlock('output', 'print', 'text'))
  })

  it('errors: what typecheck reports besides shapes', () => {
    // example: errors
    const x = input('x', ['batch', 4])
    const a = pipe(x, dense(2))
    const b = pipe(x, dense(3)) // also named dense1, with another shape
    const drawn = (outputs: Record<string, Node>, params = initParams(outputs, key(0))): string => {
      const r = typecheck({ outputs, params })
      return E.isLeft(r) ? draw(r.left) : 'ok'
    }
    const duplicate = drawn({ a, b })
    const unbound = drawn({ a }, {})
    // end example
    expect(`${duplicate}\n${unbound}`).toBe(docBlock('output', 'errors', 'text'))
  })

  it('the table of sentences lists only sentences that tsc and typecheck are tested to produce', () => {
    const table = doc.slice(doc.indexOf('<!-- sentences -->'), doc.indexOf('<!-- end sentences -->'))
    const rows = [...table.matchAll(/^\| `([A-Za-z0-9]+)` \| `([^`]+)` \|/gm)].map((m) => `${m[1]}: ${m[2]}`)
    expect(rows.length).toBeGreaterThan(20)
    const tested = new Set(mismatches.map(([s]) => s))
    for (const row of rows) expect(tested, row).toContain(row)
  })
})

/**
 * docs/export.md: its example runs (the region below is, dedented, the doc's ```ts block), and
 * the error messages it quotes are the ones the reader writes (pinned in packed.test.ts).
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { deploy, encodePacked, loadPacked, drawExportError } from 'sbnkit/export'
import { describe, expect, it } from 'vitest'
import { trainedPreset } from './helpers.js'

const doc = readFileSync(new URL('../../docs/export.md', import.meta.url), 'utf8')
const self = readFileSync(new URL(import.meta.url), 'utf8')

const docBlock = (name: string): string => {
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(doc)
  if (m === null) throw new Error(`docs/export.md has no ts block for example ${name}`)
  return m[1]!
}
const region = (name: string): string => {
  const m = new RegExp(`\\n( *)// example: ${name}\\n([\\s\\S]*?)\\n *// end example`).exec(self)
  if (m === null) throw new Error(`no region ${name}`)
  return m[2]!.split('\n').map((l) => l.slice(m[1]!.length)).join('\n')
}

describe('docs/export.md', () => {
  it('the loading example runs and gives logits', () => {
    const { net } = trainedPreset({ kind: 'mlp', hidden: [16] }, [784], 1, 2)
    let logits: number[] = []
    const console = { error: (s: string): void => void (logits = [Number.NaN, s.length]) }
    // example: load
    // net: a checked network (e.g. from readModelFile); bytes: what `sbnkit export` writes.
    const bytes = E.map(encodePacked)(deploy(net))
    const compiled = E.chainW((b: Uint8Array) => loadPacked(b, 'wasm'))(bytes)
    if (E.isRight(compiled)) {
      const out = compiled.right.run({ x: { shape: [1, 784], data: new Float64Array(784) } })
      // out: Either<RunError, { output: NDArray }> — the logits of the mode network
      if (E.isRight(out)) logits = Array.from(out.right['output']!.data)
    } else if (compiled.left._tag === 'NotExportable') console.error(drawExportError(compiled.left))
    // end example
    const code = region('load').split('\n').filter((l) => !l.includes('if (E.isRight(out)) logits')).join('\n')
    const docCode = docBlock('load').split('\n').filter((l) => !l.startsWith('import')).join('\n').trim()
    expect(code.trim()).toBe(docCode)
    expect(logits).toHaveLength(10)
    expect(logits.every(Number.isFinite)).toBe(true)
  })

  it('quotes the messages that packed.test.ts pins', () => {
    const tests = readFileSync(new URL('./packed.test.ts', import.meta.url), 'utf8')
    const quoted = /```text\n([\s\S]*?)\n```/.exec(doc.slice(doc.indexOf('## Errors')))![1]!.split('\n')
    for (const line of quoted) expect(tests.replaceAll('\\\\', '\\')).toContain(line)
  })
})

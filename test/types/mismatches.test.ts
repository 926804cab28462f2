/**
 * The compile-time and run-time errors of every shape rule say the same sentence.
 *
 * Compile time: `mismatches.ts` is compiled again, in memory, without its `@ts-expect-error`
 * comments; tsc must report, on the line after each comment, an error whose parameter type is
 * the quoted sentence (`… is not assignable to … type '"MatMul: inner dims differ (784 vs 512)"'`),
 * and nothing else. Run time: each program is built and `typecheck` must draw
 * `<Op> at <path>: <sentence>`.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { draw } from '../../src/dsl/dslErrors.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { mismatches } from './mismatches.js'

const here = dirname(fileURLToPath(import.meta.url))
const source = join(here, 'mismatches.ts')
const marker = /\/\/ @ts-expect-error: (.*)$/

/** Line (0-based) of each rejected expression → the error it must produce. */
const expectations = (text: string): Map<number, string> => {
  const out = new Map<number, string>()
  text.split('\n').forEach((line, i) => {
    const m = marker.exec(line)
    if (m !== null) out.set(i + 1, m[1]!)
  })
  return out
}

/** Compiles `text` as if it were `path`, with the project's options; its diagnostics by line. */
const diagnosticsOf = (path: string, text: string): Map<number, string[]> => {
  const config = ts.getParsedCommandLineOfConfigFile(join(here, '../../tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })
  if (config === undefined) throw new Error('tsconfig.json not found')
  const options = { ...config.options, types: [], noEmit: true }
  const host = ts.createCompilerHost(options)
  const read = host.getSourceFile.bind(host)
  host.getSourceFile = (file, lang, onError, fresh) =>
    file === path ? ts.createSourceFile(file, text, lang) : read(file, lang, onError, fresh)
  const program = ts.createProgram([path], options, host)
  const file = program.getSourceFile(path)
  if (file === undefined) throw new Error(`${path} was not compiled`)
  const byLine = new Map<number, string[]>()
  for (const d of [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]) {
    const line = d.start === undefined ? -1 : file.getLineAndCharacterOfPosition(d.start).line
    byLine.set(line, [...(byLine.get(line) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')])
  }
  return byLine
}

describe('shape mismatches', () => {
  const text = readFileSync(source, 'utf8')
  const expected = expectations(text)

  it('every case has its reasoned @ts-expect-error, and every comment names its case', () => {
    expect(expected.size).toBe(mismatches.length)
    expect([...expected.values()].sort()).toEqual(mismatches.map(([m]) => m).sort())
  })

  it('tsc states each sentence as the parameter type of the offending operand, and reports nothing else', () => {
    const stripped = text.split('\n').map((line) => line.replace(marker, '//')).join('\n')
    const found = diagnosticsOf(join(here, 'mismatches.stripped.ts'), stripped)
    for (const [line, sentence] of expected) {
      const messages = found.get(line) ?? []
      expect(messages, `line ${line + 1}: ${sentence}`).toHaveLength(1)
      expect(messages[0], `line ${line + 1}`).toContain(`type '"${sentence}"'`)
      expect(messages[0]).not.toMatch(/excessively deep|possibly infinite/)
    }
    expect([...found.keys()].filter((l) => !expected.has(l))).toEqual([])
  }, 60_000)

  describe('typecheck draws the same sentence at run time', () => {
    for (const [sentence, build] of mismatches) {
      it(sentence, () => {
        const [op, rule] = sentence.split(/: (.*)/s) as [string, string]
        const checked = typecheck({ outputs: { out: build() }, params: {} })
        expect(E.isLeft(checked)).toBe(true)
        if (E.isLeft(checked)) {
          const drawn = draw(checked.left)
          expect(drawn.startsWith(`${op} at `), drawn).toBe(true)
          expect(drawn.endsWith(`: ${rule}`), drawn).toBe(true)
        }
      })
    }
  })
})

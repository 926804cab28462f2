/**
 * The public API is a deliberate list: every name each entry point of package.json "exports"
 * offers (values and types) is checked in as `surface.txt`, so adding, removing or moving a
 * public name is a visible change to that file in the same commit (and to docs/ when a user
 * should know). Internals stay reachable by tests through their own paths, not the barrels.
 * Rewrite the list after a deliberate change with `SBNKIT_WRITE_SURFACE=1 npx vitest run test/api`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = resolve(__dirname, '../..')
const listFile = join(__dirname, 'surface.txt')

/** Entry point → the source file of its barrel, from package.json "exports". */
const entryPoints = (): [string, string][] => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { import?: string } | string> }
  return Object.entries(pkg.exports).flatMap(([name, v]): [string, string][] =>
    typeof v === 'string' || v.import === undefined ? [] : [[name, join(root, v.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))]])
}

/** One line per exported name: entry point, name, and whether it is a value or only a type. */
const surface = (): string[] => {
  const entries = entryPoints()
  const program = ts.createProgram(entries.map(([, f]) => f), {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true,
  })
  const checker = program.getTypeChecker()
  return entries.flatMap(([name, file]) => {
    const sf = program.getSourceFile(file)
    const mod = sf === undefined ? undefined : checker.getSymbolAtLocation(sf)
    if (mod === undefined) return [`${name}\t(missing: ${file})`]
    return checker.getExportsOfModule(mod).map((e) => {
      const target = (e.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(e) : e
      return `${name}\t${e.name}\t${(target.flags & ts.SymbolFlags.Value) !== 0 ? 'value' : 'type'}`
    }).sort()
  })
}

describe('the public API (package.json "exports")', () => {
  it('law: every entry point exports exactly the names of test/api/surface.txt', () => {
    const found = surface()
    if (process.env['SBNKIT_WRITE_SURFACE'] === '1') writeFileSync(listFile, `${found.join('\n')}\n`)
    const listed = readFileSync(listFile, 'utf8').split('\n').filter((l) => l !== '')
    expect(found.filter((l) => !listed.includes(l)), 'exported but not in surface.txt').toEqual([])
    expect(listed.filter((l) => !found.includes(l)), 'in surface.txt but not exported').toEqual([])
  }, 120_000)

  it('law: every public value is named in docs/ or the README (types follow the signatures that use them)', () => {
    const docs = [join(root, 'README.md'), ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f))]
      .map((f) => readFileSync(f, 'utf8')).join('\n')
    const named = (name: string): boolean => new RegExp(`(?<![A-Za-z0-9_$])${name.replace(/\$/g, '\\$')}(?![A-Za-z0-9_$])`).test(docs)
    const values = readFileSync(listFile, 'utf8').split('\n').map((l) => l.split('\t')).filter((c) => c[2] === 'value').map((c) => `${c[0]} ${c[1]}`)
    expect(values.filter((v) => !named(v.split(' ')[1]!))).toEqual([])
  })
})

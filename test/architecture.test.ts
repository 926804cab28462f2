/**
 * The import direction of docs/architecture.md, enforced: every relative import of every file
 * under src/ is read and classified by layer, so an interpreter that starts leaning on a sibling
 * (instead of on the core), or a DSL module that reaches up into the interpreters, fails here
 * with the offending file and import named.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = resolve(__dirname, '..')

const sources = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])

interface Edge { readonly from: string; readonly to: string; readonly typeOnly: boolean }

/** Every relative import or re-export of a file (static or dynamic), resolved to a src path. */
const importsOf = (file: string): Edge[] => {
  const text = readFileSync(join(root, file), 'utf8')
  const edges: Edge[] = []
  const add = (spec: string, typeOnly: boolean): void => {
    if (!spec.startsWith('.')) return
    edges.push({ from: file, to: relative(root, resolve(dirname(join(root, file)), spec)).replace(/\.js$/, '.ts'), typeOnly })
  }
  for (const m of text.matchAll(/^(import|export)(\s+type)?\s[^;'"]*?from\s+'([^']+)'/gms)) add(m[3]!, m[2] !== undefined)
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) add(m[1]!, false)
  return edges
}

const files = sources('src')

/** The public entry points (package.json "exports"): barrels above every layer, for users only. */
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { import?: string } | string> }
const entries = Object.values(pkg.exports).flatMap((v) => (typeof v === 'string' || v.import === undefined ? [] : [v.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')]))
const isEntry = (f: string): boolean => entries.includes(f)
const edges = files.flatMap(importsOf)

/** The core every interpreter stands on: the reference rules and the shared plumbing. */
const coreTop = ['ndarray', 'runErrors', 'bind', 'budget', 'outputs'].map((f) => `src/interpreters/${f}.ts`)
const isCore = (f: string): boolean => f.startsWith('src/interpreters/reference/') || coreTop.includes(f)
const isDsl = (f: string): boolean => f.startsWith('src/dsl/')
/** Infrastructure below every layer that carries no semantics: the worker-thread pool, the WebAssembly back end. */
const isThreads = (f: string): boolean => f.startsWith('src/threads/')
const isWasm = (f: string): boolean => f.startsWith('src/wasm/')
const isBase = (f: string): boolean => isThreads(f) || isWasm(f)
/** The base of every layer: our-bug errors (`InternalError`, `unreachable`); it imports nothing. */
const isRoot = (f: string): boolean => f.startsWith('src/base/')

/** Compositions: files above several interpreters that combine them (never imported by one). */
const compositions: readonly string[] = [
  'src/interpreters/prediction.ts', // exact or Monte Carlo, one prediction
  'src/estimators/gradient.ts', // chooses per-site, whole-network or the exact gradient
  'src/estimators/oracle.ts', // the exact gradient (the exact interpreter) as an estimator
]
const isComposition = (f: string): boolean => compositions.includes(f)

/** The interpreters: each may import the DSL, the core and its own files, never a sibling. */
const interpreters: Readonly<Record<string, (f: string) => boolean>> = {
  exact: (f) => f.startsWith('src/interpreters/exact/'),
  montecarlo: (f) => f.startsWith('src/interpreters/montecarlo/'),
  compiled: (f) => f.startsWith('src/interpreters/compiled/'),
  summary: (f) => f === 'src/interpreters/summary.ts',
  gradient: (f) => f.startsWith('src/estimators/') && !f.startsWith('src/estimators/analysis/') && !isComposition(f),
}
const interpreterOf = (f: string): string | undefined => (isEntry(f) ? undefined : Object.keys(interpreters).find((k) => interpreters[k]!(f)))

/**
 * Deliberate uses of one interpreter by another, each with its reason (docs/architecture.md).
 * Empty: what two interpreters share lives in the core, and what combines two is a composition.
 */
const allowed: ReadonlyArray<readonly [string, string, string]> = []
const isAllowed = (e: Edge): boolean => allowed.some(([from, to]) => e.from === from && e.to === to)

const show = (es: readonly Edge[]): string[] => es.map((e) => `${e.from} imports ${e.to}`)

describe('architecture: imports point downward (docs/architecture.md)', () => {
  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(100)
    expect(edges.length).toBeGreaterThan(500)
  })

  it('law: src/base imports nothing', () => {
    expect(show(edges.filter((e) => isRoot(e.from)))).toEqual([])
  })

  it('law: src/dsl imports nothing outside src/dsl (but src/base)', () => {
    expect(show(edges.filter((e) => isDsl(e.from) && !isEntry(e.from) && !isDsl(e.to) && !isRoot(e.to)))).toEqual([])
  })

  it('law: src/threads (the worker pool) imports nothing else of src (but src/base)', () => {
    expect(show(edges.filter((e) => isThreads(e.from) && !isThreads(e.to) && !isRoot(e.to)))).toEqual([])
  })

  it('law: src/wasm (the WebAssembly back end) imports nothing else of src (but src/base)', () => {
    expect(show(edges.filter((e) => isWasm(e.from) && !isWasm(e.to) && !isRoot(e.to)))).toEqual([])
  })

  it('law: the core imports only the DSL and the core (and src/base)', () => {
    expect(show(edges.filter((e) => isCore(e.from) && !isDsl(e.to) && !isCore(e.to) && !isRoot(e.to)))).toEqual([])
  })

  it('law: an interpreter imports only the DSL, the core and its own files (never a sibling)', () => {
    const bad = edges.filter((e) => {
      const from = interpreterOf(e.from)
      if (from === undefined || isDsl(e.to) || isCore(e.to) || isBase(e.to) || isRoot(e.to) || isAllowed(e)) return false
      return interpreterOf(e.to) !== from
    })
    expect(show(bad)).toEqual([])
  })

  it('law: the entry points (package.json "exports") are imported by no source file but another entry point', () => {
    expect(entries).toContain('src/index.ts')
    for (const f of entries) expect(files).toContain(f)
    expect(show(edges.filter((e) => isEntry(e.to) && !isEntry(e.from)))).toEqual([])
  })

  it('law: no interpreter, core or DSL file imports a composition', () => {
    const lower = (f: string): boolean => isDsl(f) || isCore(f) || interpreterOf(f) !== undefined
    expect(show(edges.filter((e) => lower(e.from) && isComposition(e.to)))).toEqual([])
    for (const f of compositions) expect(files).toContain(f)
  })

  it('law: nothing below the applications imports them (bench, train, cli, export, data, io, node)', () => {
    const apps = ['src/bench/', 'src/train/', 'src/cli/', 'src/export/', 'src/data/', 'src/io/', 'src/node/', 'src/plot/']
    const lower = (f: string): boolean => isDsl(f) || isCore(f) || interpreterOf(f) !== undefined || isComposition(f)
    expect(show(edges.filter((e) => lower(e.from) && apps.some((a) => e.to.startsWith(a))))).toEqual([])
  })

  it('law: one memory manager: only src/wasm creates or grows a WebAssembly memory', () => {
    const outside = files.filter((f) => !isWasm(f) && /\.Memory\(|\.grow\(/.test(readFileSync(join(root, f), 'utf8')))
    expect(outside).toEqual([])
  })

  it('law: Checked is minted in one file (dsl/checked.ts), used only by typecheck and the rewrites', () => {
    const casts = files.filter((f) => f !== 'src/dsl/checked.ts' && /as (unknown as )?Checked\b/.test(readFileSync(join(root, f), 'utf8')))
    expect(casts).toEqual([])
    const minters = edges.filter((e) => e.to === 'src/dsl/checked.ts' && !e.typeOnly).map((e) => e.from).sort()
    expect(minters).toEqual(['src/dsl/rewrite.ts', 'src/dsl/typecheck.ts'])
  })

  it('law: our bugs are InternalError (src/base), one wording: no plain Error but in the worker source string', () => {
    const plain = files.filter((f) => f !== 'src/threads/pool.ts' && /new Error\(/.test(readFileSync(join(root, f), 'utf8')))
    expect(plain).toEqual([])
    const prefixed = files.filter((f) => /new InternalError\([`'"]our bug/.test(readFileSync(join(root, f), 'utf8')))
    expect(prefixed).toEqual([])
  })

  it('law: no import cycles anywhere in src, type-only imports included', () => {
    const next = new Map<string, string[]>()
    for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to])
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (f: string, path: string[]): void => {
      state.set(f, 'open')
      for (const t of next.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...path.slice(path.indexOf(t)), t].join(' → '))
        else if (!state.has(t)) visit(t, [...path, t])
      }
      state.set(f, 'done')
    }
    for (const f of files) if (!state.has(f)) visit(f, [f])
    expect(cycles).toEqual([])
  })
})

/**
 * Files that share a basename on purpose: the same job in two back ends (one file per kernel in
 * each), and the barrels. Anything else with a second file of its name fails below, so a new
 * file gets a name that says what it does (docs/architecture.md, "Names").
 */
const sameJob: readonly (readonly string[])[] = [
  ['src/interpreters/compiled/kernels-js/conv.ts', 'src/interpreters/compiled/kernels-wasm/conv.ts'],
  ['src/interpreters/compiled/kernels-js/dense.ts', 'src/interpreters/compiled/kernels-wasm/dense.ts'],
  ['src/interpreters/compiled/kernels-js/epilogue.ts', 'src/interpreters/compiled/kernels-wasm/epilogue.ts'],
  ['src/interpreters/compiled/kernels-js/popcount.ts', 'src/wasm/popcount.ts'], // the popcount emitter of the JS back end and of WebAssembly
]

describe('architecture: names (docs/architecture.md)', () => {
  it('law: no two source files share a basename, but the barrels and the listed back-end twins', () => {
    const byName = new Map<string, string[]>()
    for (const f of files) {
      const name = f.slice(f.lastIndexOf('/') + 1)
      if (name !== 'index.ts') byName.set(name, [...(byName.get(name) ?? []), f])
    }
    const twins = (fs: readonly string[]): boolean => sameJob.some((t) => t.length === fs.length && fs.every((f) => t.includes(f)))
    const clashes = [...byName.values()].filter((fs) => fs.length > 1 && !twins(fs)).map((fs) => fs.join(' and '))
    expect(clashes).toEqual([])
  })
})

// Every entry point but `sbnkit/node` bundles for the browser: esbuild with `platform: 'browser'`
// resolves no Node built-in (`node:fs`, `node:path`, …), the bundle names no Node global
// (`Buffer`, `process`, `setImmediate`, …: each is replaced by a sentinel that must not appear in
// sbnkit's own code),
// and it evaluates in a context holding only what a page has.
import { readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown> }

/** The source file of an export path: `./train` → src/train/index.ts, `.` → src/index.ts. */
const source = (entry: string): string => new URL(entry === '.' ? 'src/index.ts' : `src/${entry.slice(2)}/index.ts`, root).pathname

const portable = Object.keys(pkg.exports).filter((e) => e !== './node' && e !== './package.json')

const nodeGlobals = ['Buffer', 'process', 'setImmediate', 'clearImmediate', '__dirname', '__filename', 'global']
const SENTINEL = '__sbnkit_node_global_'

const bundle = (entry: string, format: 'esm' | 'iife', ownCodeOnly = false) =>
  build({
    entryPoints: [source(entry)], bundle: true, platform: 'browser', format, write: false, logLevel: 'silent',
    ...(ownCodeOnly ? { packages: 'external' as const } : {}),
    ...(format === 'iife' ? { globalName: 'sbnkit' } : {}),
    define: Object.fromEntries(nodeGlobals.map((g) => [g, `${SENTINEL}${g}`])),
  })

/** What a page's global scope has that the bundles may touch (no Node globals). */
const pageGlobals = (): Record<string, unknown> => {
  const names = ['console', 'TextEncoder', 'TextDecoder', 'WebAssembly', 'setTimeout', 'clearTimeout', 'queueMicrotask',
    'MessageChannel', 'btoa', 'atob', 'performance', 'crypto']
  const host = globalThis as unknown as Record<string, unknown>
  return Object.fromEntries(names.map((n) => [n, host[n]]))
}

const buildErrors = async (entry: string): Promise<string[]> => {
  try {
    await bundle(entry, 'esm')
    return []
  } catch (err) {
    return (err as { errors: { text: string; location: { file: string } | null }[] }).errors.map((e) => `${e.location?.file ?? '?'}: ${e.text}`)
  }
}

describe('portable entry points bundle for the browser', () => {
  it('lists the portable entries (fails if the exports map lost them)', () => {
    expect(portable).toEqual(['.', './dsl', './interpreters', './estimators', './data', './train', './export'])
  })

  it.each(portable)('law: %s resolves no Node built-in and names no Node global', async (entry) => {
    expect(await buildErrors(entry)).toEqual([])
    // Our own code names no Node global; dependencies may feature-test them (protobufjs checks
    // `typeof global`), which the page-context evaluation below shows to be harmless.
    const text = (await bundle(entry, 'esm', true)).outputFiles[0]!.text
    expect(text.match(new RegExp(`${SENTINEL}\\w+`, 'g')) ?? []).toEqual([])
    expect(text).not.toContain('Dynamic require of')
  })

  it.each(portable)('law: %s evaluates in a page-like context without Node globals', async (entry) => {
    const code = (await bundle(entry, 'iife')).outputFiles[0]!.text
    const context = pageGlobals()
    runInNewContext(code, context)
    expect(Object.keys(context['sbnkit'] as object).length).toBeGreaterThan(0)
  })

  it('the check catches a Node-only entry: sbnkit/node does not bundle for the browser', async () => {
    const errors = await buildErrors('./node')
    expect(errors.some((e) => /Could not resolve "node:fs/.test(e))).toBe(true)
  })
})

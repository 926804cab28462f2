/**
 * The source of a Node worker thread started with `eval: true` that runs one entry module beside
 * its caller: the compiled `NAME.js` when the caller runs as JavaScript (dist/), or `NAME.ts`
 * after registering tsx's loader when it runs from its TypeScript sources (tsx, vitest), which a
 * development checkout has. Node's modules are reached through `process.getBuiltinModule`, never
 * imported, so that browser bundles can include the callers.
 */
import * as E from 'fp-ts/lib/Either.js'

/** A Node built-in module, or undefined outside Node. */
export const builtin = <T>(id: string): T | undefined =>
  (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(id) as T | undefined

/**
 * The worker source that imports `NAME.js` or `NAME.ts` beside `here` (the caller's
 * `import.meta.url`), or why it cannot be made.
 * @example workerSource(import.meta.url, 'worker') // right('import("file:///…/worker.js")') from dist/
 */
export const workerSource = (here: string, name: string): E.Either<string, string> => {
  if (!here.endsWith('.ts')) return E.right(`import(${JSON.stringify(new URL(`./${name}.js`, here).href)})`)
  const mod = builtin<{ readonly createRequire: (from: string) => { resolve: (id: string) => string } }>('node:module')
  const url = builtin<{ readonly pathToFileURL: (p: string) => URL }>('node:url')
  if (mod === undefined || url === undefined) return E.left('node:module is not available here')
  try {
    const pkg = mod.createRequire(here).resolve('tsx/package.json')
    const loader = url.pathToFileURL(pkg.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href
    return E.right(`import(${JSON.stringify(loader)}).then((m) => { m.register(); return import(${JSON.stringify(new URL(`./${name}.ts`, here).href)}) })`)
  } catch {
    return E.left('running from TypeScript sources needs tsx installed (npm ci) to start worker threads')
  }
}

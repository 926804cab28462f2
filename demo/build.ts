/**
 * `npm run demo`: bundles the live page (demo/main.ts and its worker demo/worker.ts) with esbuild
 * into demo/dist/, a static folder any web server can serve (a module worker does not start from
 * file://). `npm run demo -- --serve [PORT]` then serves it on http://localhost:PORT/ (default
 * 8123) until interrupted. The server sends the cross-origin isolation headers, without which a
 * page's workers have no SharedArrayBuffer and so no threads (docs/compiled.md, "Threads").
 */
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { dirname, extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
export const distDir = join(here, 'dist')

/**
 * Bundles page scripts for the browser: `entryPoints` (output name → source file) into `outdir`
 * as ES modules, then checks that no import of a Node built-in survived in any of them (it would
 * break the page). Used by the demo, the browser tests and bench/browserThreads.ts.
 */
export const bundlePage = async (
  entryPoints: Readonly<Record<string, string>>, outdir: string, opts: { readonly sourcemap?: boolean; readonly minify?: boolean } = {},
): Promise<void> => {
  await build({
    entryPoints: { ...entryPoints },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: opts.sourcemap ?? false,
    minify: opts.minify ?? false,
    logLevel: 'warning',
    // src/data/dataErrors.ts re-exports a helper of src/io/atomic.ts (Node's fs): unused here, so
    // tree-shaken, but esbuild must still resolve its imports. The check below makes sure that
    // no node: import survives in the bundle.
    external: ['node:*'],
  })
  for (const name of Object.keys(entryPoints)) {
    const file = join(outdir, `${name}.js`)
    const text = await readFile(file, 'utf8')
    // An import of a built-in (static or dynamic) would break the page; the thread pool's guarded
    // `process?.getBuiltinModule?.('node:…')` lookups are feature tests that find nothing there.
    const found = text.match(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']node:[a-z_/]+["']/)
    if (found !== null) throw new Error(`${file} imports ${found[0]}: a Node built-in reached the browser bundle`)
  }
}

/** Builds demo/dist/: index.html, main.js, worker.js (and source maps). */
export const buildDemo = async (): Promise<void> => {
  await mkdir(distDir, { recursive: true })
  await bundlePage({ main: join(here, 'main.ts'), worker: join(here, 'worker.ts') }, distDir, { sourcemap: true, minify: true })
  await copyFile(join(here, 'index.html'), join(distDir, 'index.html'))
}

const types: Readonly<Record<string, string>> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json', '.wasm': 'application/wasm' }

/**
 * Cross-origin isolation: the page and its workers may then use SharedArrayBuffer (and so
 * `compileAsync` with threads), and may load only same-origin or CORP/CORS-approved resources.
 */
export const isolationHeaders: Readonly<Record<string, string>> = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }

/** Serves `root` (demo/dist/) on `port` (0: any free port); resolves with the port once listening. */
export const serveDemo = (port: number, root = distDir): Promise<{ readonly port: number; readonly close: () => void }> =>
  new Promise((resolve) => {
    const server = createServer((req, res) => {
      const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0]!)))
      const file = path.endsWith('/') || path === root ? join(path, 'index.html') : path
      if (!file.startsWith(root)) return void res.writeHead(403).end()
      void stat(file)
        .then(() => readFile(file))
        .then((body) => res.writeHead(200, { ...isolationHeaders, 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body))
        .catch(() => res.writeHead(404).end('not found'))
    })
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      resolve({ port: typeof address === 'object' && address !== null ? address.port : port, close: () => server.close() })
    })
  })

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildDemo()
  process.stderr.write(`built ${distDir}\n`)
  const at = process.argv.indexOf('--serve')
  if (at >= 0) {
    const s = await serveDemo(Number(process.argv[at + 1] ?? 8123))
    process.stderr.write(`serving the demo on http://localhost:${s.port}/ (Ctrl-C stops)\n`)
  }
}

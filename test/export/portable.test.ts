/**
 * `sbnkit/export` is portable: bundled for the browser it imports no Node built-in (the packed
 * reader must run in a page from bytes) and needs no global a page lacks.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { expect, it } from 'vitest'

it('sbnkit/export bundles for the browser without Node built-ins', async () => {
  const r = await build({
    entryPoints: [fileURLToPath(new URL('../../src/export/index.ts', import.meta.url))],
    bundle: true, write: false, format: 'esm', platform: 'browser', logLevel: 'silent', metafile: true,
  })
  const text = r.outputFiles[0]!.text
  expect(text.match(/["']node:[a-z/]+["']/g) ?? []).toEqual([])
  // Bare Node globals (protobufjs's guarded `util.Buffer` / `global.process` probes are fine).
  expect(text).not.toMatch(/(?<![.\w])(Buffer|process|setImmediate)\./)
  // Node-only modules (the file reader src/io/read.ts, atomic writes) are not in the bundle.
  expect(Object.keys(r.metafile.inputs).filter((f) => /src\/io\/(read|atomic|files)\.ts$/.test(f))).toEqual([])
})

/**
 * The pack-and-install test (`npm run test:package`; too slow for `npm test`: it builds): packs
 * sbnkit as `npm publish` would, checks what the tarball holds, installs it into a fresh consumer
 * project (offline where npm's cache has the dependencies), imports every entry point, runs the
 * README's example, type-checks a TypeScript consumer against the shipped declarations, and runs
 * the bin. With `--git`, also installs from a git URL of this checkout (`npm i git+file://…`),
 * which must build `dist/` itself (the `prepare` script).
 *
 * Progress goes to stderr; the exit code is 0 when every check passed, 1 otherwise.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const failures: string[] = []
const step = (what: string): void => void process.stderr.write(`pack test: ${what}\n`)
const check = (ok: boolean, what: string): void => {
  if (!ok) failures.push(what)
  process.stderr.write(`  ${ok ? 'ok  ' : 'FAIL'} ${what}\n`)
}
const run = (cmd: string, args: readonly string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })

/** Every export path of the package, as a consumer imports it. */
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
const specifiers = Object.keys(pkg.exports).filter((e) => e !== './package.json').map((e) => (e === '.' ? 'sbnkit' : `sbnkit/${e.slice(2)}`))

/** The README's "Ten lines" example, verbatim: plain JavaScript inside a ts fence. */
const readmeExample = (): string => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const match = /## Ten lines\s+```ts\n([\s\S]*?)```/.exec(readme)
  if (match === null) throw new Error('README.md has no "Ten lines" example')
  return match[1]!
}

const consumerChecks = (dir: string, label: string): void => {
  step(`${label}: import every entry point`)
  writeFileSync(join(dir, 'entries.mjs'), [
    ...specifiers.map((s, i) => `import * as m${i} from '${s}'`),
    `const all = { ${specifiers.map((s, i) => `'${s}': Object.keys(m${i}).length`).join(', ')} }`,
    'console.log(JSON.stringify(all))',
  ].join('\n'))
  const counts = JSON.parse(run('node', ['entries.mjs'], dir)) as Record<string, number>
  for (const s of specifiers) check((counts[s] ?? 0) > 0, `${s} exports ${counts[s] ?? 0} names`)

  step(`${label}: run the README example`)
  writeFileSync(join(dir, 'readme.mjs'), readmeExample())
  const printed = run('node', ['readme.mjs'], dir)
  check(printed.includes("_tag: 'Right'") && printed.includes('loss'), 'README example prints two Right results with a loss')

  step(`${label}: type-check a TypeScript consumer against the shipped declarations`)
  writeFileSync(join(dir, 'consumer.ts'), [
    "import * as E from 'fp-ts/lib/Either.js'",
    "import { input, mlp, softmaxCrossEntropy, initParams, key, typecheck, predict, compile } from 'sbnkit'",
    "import { decodeModelBytes, encodeModelBytes } from 'sbnkit/data'",
    "import { trainingProducts } from 'sbnkit/train'",
    "import { readModelFile, writeModelFile } from 'sbnkit/node'",
    "const x = input('x', ['batch', 4]), y = input('y', ['batch'], 'index')",
    'const logits = mlp({ hidden: [3], outputs: 2 })(x)',
    'const outputs = { output: logits, loss: softmaxCrossEntropy(y)(logits) }',
    'const net = typecheck({ outputs, params: initParams(outputs, key(0)) })',
    'if (E.isRight(net)) {',
    '  const p = predict(net.right, { x: { shape: [1, 4], data: new Float64Array(4) } }, { interpreter: "mode" })',
    '  const c = compile(net.right, { backend: "js", mode: "mode", outputs: ["output"] })',
    '  const back = decodeModelBytes(encodeModelBytes(net.right).json)',
    '  const k = trainingProducts()',
    '  void [p, c, back, k, readModelFile, writeModelFile]',
    '}',
  ].join('\n'))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files: ['consumer.ts'],
  }))
  let typeErrors = ''
  try {
    run('node', [tsc, '-p', 'tsconfig.json'], dir)
  } catch (err) {
    typeErrors = String((err as { stdout?: string }).stdout ?? err)
  }
  check(typeErrors === '', `the consumer type-checks${typeErrors === '' ? '' : `:\n${typeErrors}`}`)

  step(`${label}: run the bin`)
  const bin = join(dir, 'node_modules', '.bin', 'sbnkit')
  check(run(bin, ['--help'], dir).includes('usage: sbnkit'), 'sbnkit --help prints the usage')
  check(run(bin, ['demo'], dir).length > 0, 'sbnkit demo runs')
}

const work = mkdtempSync(join(tmpdir(), 'sbnkit-pack-'))
try {
  step('npm pack (runs the prepare script: a fresh build)')
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[]
  const { filename, size, unpackedSize, files } = packed[0]!
  const paths = files.map((f) => f.path)
  step(`${filename}: ${paths.length} files, ${size} bytes packed, ${unpackedSize} unpacked`)
  check(paths.includes('LICENSE') && paths.includes('README.md') && paths.includes('package.json'), 'LICENSE, README.md and package.json are shipped')
  check(paths.includes('bin/sbnkit.js') && paths.includes('dist/cli/main.js') && paths.includes('dist/node/index.js'), 'the bin and every entry are shipped')
  check(!paths.some((p) => p.endsWith('.map')), 'no source maps (the sources are not shipped)')
  check(!paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.startsWith('bench/')), 'no sources, tests or benchmarks')
  check(!paths.some((p) => p.startsWith('docs/') && !/^docs\/[^/]+\.md$/.test(p)), 'docs: the markdown pages only (no images, experiment data)')

  const consumer = join(work, 'consumer')
  execFileSync('mkdir', ['-p', consumer])
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  step('npm i the tarball into a fresh project (--prefer-offline)')
  run('npm', ['i', join(work, filename), '--prefer-offline', '--no-audit', '--no-fund'], consumer)
  consumerChecks(consumer, 'tarball')

  if (process.argv.includes('--git')) {
    const gitConsumer = join(work, 'git-consumer')
    execFileSync('mkdir', ['-p', gitConsumer])
    writeFileSync(join(gitConsumer, 'package.json'), JSON.stringify({ name: 'git-consumer', private: true, type: 'module' }))
    step('npm i git+file:// of this checkout (npm clones, installs dev dependencies, runs prepare)')
    run('npm', ['i', `git+file://${root}`, '--prefer-offline', '--no-audit', '--no-fund'], gitConsumer)
    consumerChecks(gitConsumer, 'git install')
  }
} catch (err) {
  const e = err as { message?: string; stderr?: string }
  failures.push(`${e.message ?? String(err)}\n${e.stderr ?? ''}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}

if (failures.length > 0) {
  process.stderr.write(`pack test: ${failures.length} failed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`)
  process.exitCode = 1
} else process.stderr.write('pack test: every check passed\n')

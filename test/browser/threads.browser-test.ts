/**
 * Threads in a web page (src/threads/webWorkers.ts), in a real headless Chromium: inside a Web
 * Worker of a cross-origin isolated page, `compileAsync(net, { threads })` starts nested workers
 * and its runs equal one thread's bit for bit (and Node's); a worker that throws or exits gives a
 * `ThreadFailure`, a worker that cannot start an error value, and a synchronous start, or threads
 * on the page's main thread, a clear `ThreadsUnavailable`. Run by `npm run test:browser`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import type { Browser, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundlePage, serveDemo } from '../../demo/build.js'
import { initParams, input, key, mlp, typecheck } from '../../src/dsl/index.js'
import type { CompiledMode } from '../../src/interpreters/compiled/index.js'
import { compile, drawCompileError } from '../../src/interpreters/compiled/index.js'
import { docExamples, importsOf } from '../docs/examples.js'
import { arbConvNet, arbNet, build, buildConv } from '../interpreters/compiled/nets.js'
import type { ThreadsReply, ThreadsRequest } from './threads/protocol.js'

const executablePath = process.env['CHROMIUM'] ?? '/usr/bin/chromium'
const here = fileURLToPath(new URL('.', import.meta.url))

let browser: Browser
let page: Page
let server: { port: number; close: () => void }
let root = ''
const pageErrors: string[] = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbnkit-threads-page-'))
  await bundlePage({ page: join(here, 'threads/page.ts'), worker: join(here, 'threads/worker.ts') }, root)
  await writeFile(join(root, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>sbnkit threads</title><script type="module" src="./page.js"></script>\n')
  server = await serveDemo(0, root)
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
  page = await browser.newPage()
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => (m.type() === 'error' ? pageErrors.push(m.text()) : undefined))
  await page.goto(`http://127.0.0.1:${server.port}/`)
  await page.waitForFunction('globalThis.threadsTest !== undefined')
})

afterAll(async () => {
  await browser?.close()
  server?.close()
  if (root !== '') await rm(root, { recursive: true, force: true })
})

const ask = (request: ThreadsRequest): Promise<ThreadsReply> =>
  page.evaluate((r) => (globalThis as unknown as { threadsTest: { ask: (r: ThreadsRequest) => Promise<ThreadsReply> } }).threadsTest.ask(r), request)

const bytesOf = (data: ArrayLike<number>): number[] => Array.from(new Uint8Array(Float64Array.from(data).buffer))

/** The same network compiled in Node on one thread: its outputs as bytes. */
const inNode = (net: ThreadsRequest & { type: 'same' }): Record<string, number[]> => {
  const { net: checked, feed } = net.net.kind === 'dense' ? build(net.net.spec) : buildConv(net.net.spec)
  const c = compile(checked, { backend: 'wasm', mode: net.mode, samples: 3 })
  if (E.isLeft(c)) throw new TypeError(drawCompileError(c.left))
  const out = c.right.run(feed, key(3))
  if (E.isLeft(out)) throw new TypeError('run')
  return Object.fromEntries(Object.entries(out.right).map(([name, v]) => [name, bytesOf(v.data)]))
}

/** Runs the request in the page's worker and checks every thread count's outputs ≡ Node's one thread. */
const expectSame = async (request: ThreadsRequest & { type: 'same' }, what: string): Promise<readonly string[]> => {
  const reply = await ask(request)
  if (reply.type !== 'same') throw new TypeError(`${what}: ${JSON.stringify(reply)}`)
  const want = inNode(request)
  expect(reply.runs.map((r) => r.threads), what).toEqual(request.threads)
  for (const r of reply.runs) {
    expect(r.workers, `${what}: workers started for ${r.threads} threads`).toBe(r.threads - 1)
    expect(r.outputs, `${what} on ${r.threads} threads`).toEqual(want)
  }
  return reply.runs.at(-1)?.describe ?? []
}

const modes: readonly CompiledMode[] = ['mode', 'sample', 'ensemble']

describe('threads in a Web Worker of a page', () => {
  it('the test page is cross-origin isolated (the server sends COOP and COEP)', async () => {
    expect(await page.evaluate('globalThis.threadsTest.isolated')).toBe(true)
  })

  it('law: compileAsync with 2 and 3 threads ≡ one thread ≡ Node, bit for bit (generated dense and conv nets, every mode)', async () => {
    const dense = fc.sample(fc.tuple(arbNet, fc.integer({ min: 1, max: 12 }), fc.constantFrom(...modes)), { numRuns: 6, seed: 5151 })
    for (const [spec, batch, mode] of dense)
      await expectSame({ type: 'same', net: { kind: 'dense', spec: { ...spec, batch } }, mode, threads: [1, 2, 3] }, `dense ${mode} ${JSON.stringify(spec)}`)
    const conv = fc.sample(fc.tuple(arbConvNet, fc.integer({ min: 2, max: 5 }), fc.constantFrom(...modes)), { numRuns: 3, seed: 5152 })
    for (const [spec, batch, mode] of conv)
      await expectSame({ type: 'same', net: { kind: 'conv', spec: { ...spec, batch } }, mode, threads: [1, 2] }, `conv ${mode} ${JSON.stringify(spec)}`)
    expect(pageErrors).toEqual([])
  })

  it('law: at batch 1, large layers split by units on 3 threads ≡ one thread ≡ Node', async () => {
    const layer = { width: 700, weightNoise: { family: 'none' as const }, bias: 'integer' as const, scale: 'none' as const, batchNorm: 'none' as const, unary: 'none' as const, act: { family: 'none' as const } }
    const spec = { input: 'uint8' as const, inputWidth: 333, layers: [layer, { ...layer, width: 1030 }], head: 4, loss: false, batch: 1, seed: 11 }
    const describe = await expectSame({ type: 'same', net: { kind: 'dense', spec }, mode: 'mode', threads: [1, 3] }, 'split by units')
    expect(describe.filter((l) => l.startsWith('threads: split by units')).length).toBe(2)
  })

  it('the example of docs/compiled.md, "Threads", is the code run in the worker (same imports), and gives Node\'s bits', async () => {
    const { self, docBlock, region } = docExamples(new URL('../../docs/compiled.md', import.meta.url), new URL('threads/worker.ts', import.meta.url).href)
    const block = docBlock('threads-in-a-worker')
    expect(block.split('\n').filter((l) => !l.startsWith('import ')).join('\n').trim()).toBe(region('threads-in-a-worker').trim())
    const mine = new Set(importsOf(self))
    for (const i of importsOf(block)) expect(mine, i).toContain(i)
    const output = mlp({ hidden: [600], outputs: 3 })(input('x', ['batch', 4]))
    const net = typecheck({ outputs: { output }, params: initParams({ output }, key(0)) })
    if (E.isLeft(net)) throw new TypeError('typecheck')
    const c = compile(net.right, { backend: 'wasm', mode: 'mode' })
    const out = E.isRight(c) ? c.right.run({ x: { shape: [8, 4], data: Float64Array.from({ length: 32 }, (_, i) => Math.sin(i)) } }) : undefined
    if (out === undefined || E.isLeft(out)) throw new TypeError('node')
    expect(await ask({ type: 'doc' })).toEqual({ type: 'bytes', bytes: bytesOf(out.right['output']!.data) })
  })

  it('a worker whose call throws, or whose thread exits, gives a ThreadFailure naming it, and closes the pool', async () => {
    const thrown = await ask({ type: 'fail', how: 'throw' })
    expect(thrown).toEqual({ type: 'failure', worker: 2, reason: 'no function 5 in the call list (0 exported)', message: 'worker thread 2 failed: no function 5 in the call list (0 exported)', openAfter: false, firstJob: true })
    const exited = await ask({ type: 'fail', how: 'exit' })
    expect(exited).toMatchObject({ type: 'failure', worker: 2, reason: 'its thread exited (code 70)', openAfter: false, firstJob: true })
  })

  it('a worker that cannot instantiate the module: an error value, not a hang', async () => {
    expect(await ask({ type: 'start-fail' })).toEqual({ type: 'message', message: 'worker 1 did not start (the module could not be instantiated on the shared memory)' })
  })

  it('a synchronous compile with threads in a worker says to use compileAsync', async () => {
    const reply = await ask({ type: 'sync' })
    expect(reply.type === 'message' && reply.message).toMatch(/^compile: threads cannot start here \(in a Web Worker, threads start asynchronously: use compileAsync/)
  })

  it('a page that is not cross-origin isolated: compileAsync in its worker says which headers are missing', async () => {
    const plain = await browser.newPage()
    // The same server, its COOP and COEP headers removed on the way.
    await plain.route('**/*', async (route) => {
      const response = await route.fetch()
      const headers = Object.fromEntries(Object.entries(response.headers()).filter(([h]) => !h.startsWith('cross-origin-')))
      await route.fulfill({ response, headers })
    })
    await plain.goto(`http://127.0.0.1:${server.port}/`)
    await plain.waitForFunction('globalThis.threadsTest !== undefined')
    expect(await plain.evaluate('globalThis.threadsTest.isolated')).toBe(false)
    const reply = (await plain.evaluate(`globalThis.threadsTest.ask({ type: 'doc' })`)) as ThreadsReply
    await plain.close()
    expect(reply.type === 'message' && reply.message).toMatch(/SharedArrayBuffer is not available: the page is not cross-origin isolated \(serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp\)/)
  })

  it("threads on the page's main thread: ThreadsUnavailable from compile and compileAsync alike", async () => {
    const [sync, later] = (await page.evaluate('globalThis.threadsTest.mainThread()')) as string[]
    expect(sync).toMatch(/threads > 1 need a Web Worker: a page's main thread may not block/)
    expect(later).toBe(sync)
  })
})

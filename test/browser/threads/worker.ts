/**
 * The threads test's worker (bundled by threads.browser-test.ts): it compiles networks with
 * `compileAsync` on nested Web Workers and runs them, and makes pools fail on purpose.
 */
import * as E from 'fp-ts/lib/Either.js'
import { initParams, input, key, mlp, typecheck } from 'sbnkit/dsl'
import { compileAsync, drawCompileError } from 'sbnkit/interpreters'
import { compile } from '../../../src/interpreters/compiled/index.js'
import { build as buildMachine } from '../../../src/interpreters/compiled/machine.js'
import { drawRunError } from '../../../src/interpreters/runErrors.js'
import { EXIT_CALL, ThreadFailure } from '../../../src/threads/pool.js'
import { startWebPool } from '../../../src/threads/webWorkers.js'
import { build, buildConv } from '../../interpreters/compiled/nets.js'
import type { SameRun, ThreadsReply, ThreadsRequest } from './protocol.js'
import { tinyNet } from './protocol.js'

interface WorkerScope {
  onmessage: ((event: { readonly data: { readonly id: number; readonly request: ThreadsRequest } }) => void) | null
  postMessage(message: { readonly id: number; readonly reply: ThreadsReply }): void
}
const scope = globalThis as unknown as WorkerScope

/** Counts the Web Workers started (by the pools), to see that runs with threads did use some. */
let started = 0
const NativeWorker = (globalThis as unknown as { Worker: new (url: string, options: object) => object }).Worker
;(globalThis as unknown as { Worker: unknown }).Worker = function CountedWorker(url: string, options: object): object {
  started++
  return new NativeWorker(url, options)
}

const bytesOf = (data: ArrayLike<number>): number[] => Array.from(new Uint8Array(Float64Array.from(data).buffer))

const same = async (r: Extract<ThreadsRequest, { type: 'same' }>): Promise<ThreadsReply> => {
  const { net, feed } = r.net.kind === 'dense' ? build(r.net.spec) : buildConv(r.net.spec)
  const runs: SameRun[] = []
  for (const threads of r.threads) {
    const before = started
    const c = await compileAsync(net, { backend: 'wasm', mode: r.mode, samples: 3, threads })
    if (E.isLeft(c)) return { type: 'message', message: drawCompileError(c.left) }
    const out = c.right.run(feed, key(3))
    c.right.close()
    if (E.isLeft(out)) return { type: 'message', message: drawRunError(out.left) }
    runs.push({ threads, workers: started - before, outputs: Object.fromEntries(Object.entries(out.right).map(([name, v]) => [name, bytesOf(v.data)])), describe: c.right.describe() })
  }
  return { type: 'same', runs }
}

/** A shared memory and a module without exports, from the compiled back end. */
const sharedMachine = (): { readonly module: object; readonly memory: object } => {
  const m = buildMachine([], 'wasm', true)
  if (E.isLeft(m) || m.right.shared === undefined) throw new TypeError('no shared machine')
  return m.right.shared
}

const fail = async (how: 'throw' | 'exit'): Promise<ThreadsReply> => {
  const p = await startWebPool({ ...sharedMachine(), exports: [], workers: 2 })
  if (E.isLeft(p)) return { type: 'message', message: p.left }
  const pool = p.right
  let firstJob = false
  pool.run([Int32Array.of(0), Int32Array.of(0)], () => (firstJob = true))
  // Worker 2: a call of function 5 of a module without exports throws; EXIT_CALL exits.
  const bad = how === 'exit' ? Int32Array.of(1, EXIT_CALL, 1, 70) : Int32Array.of(1, 5, 0)
  try {
    pool.run([Int32Array.of(0), bad], () => undefined)
  } catch (err) {
    if (!(err instanceof ThreadFailure)) throw err
    return { type: 'failure', worker: err.worker, reason: err.reason, message: err.message, openAfter: pool.open(), firstJob }
  }
  pool.close()
  return { type: 'message', message: 'no failure' }
}

/** A module importing a function `env.f` the workers do not give: (type () → ()), (import "env" "f"). */
const needsF = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, 9, 1, 3, 0x65, 0x6e, 0x76, 1, 0x66, 0, 0)

/** The host's WebAssembly (typed here without the DOM's lib). */
const wasm = (globalThis as unknown as { readonly WebAssembly: { readonly Module: new (bytes: Uint8Array) => object } }).WebAssembly

/** The example of docs/compiled.md, "Threads": its output as bytes. */
const docExample = async (): Promise<ThreadsReply> => {
  // example: threads-in-a-worker
  // in worker.js, started by the page with new Worker('worker.js', { type: 'module' })
  const output = mlp({ hidden: [600], outputs: 3 })(input('x', ['batch', 4]))
  const net = typecheck({ outputs: { output }, params: initParams({ output }, key(0)) })
  if (E.isLeft(net)) throw new Error('typecheck')
  const c = await compileAsync(net.right, { backend: 'wasm', mode: 'mode', threads: 2 })
  if (E.isLeft(c)) throw new Error(drawCompileError(c.left)) // ThreadsUnavailable says why
  const feed = { x: { shape: [8, 4], data: Float64Array.from({ length: 32 }, (_, i) => Math.sin(i)) } }
  const out = c.right.run(feed) // synchronous: rows 0–3 here, rows 4–7 on a second worker
  c.right.close() // stops the workers
  // end example
  return E.isLeft(out) ? { type: 'message', message: drawRunError(out.left) } : { type: 'bytes', bytes: bytesOf(out.right['output']!.data) }
}

const answer = async (r: ThreadsRequest): Promise<ThreadsReply> => {
  switch (r.type) {
    case 'same':
      return same(r)
    case 'sync': {
      const { net } = build(tinyNet)
      const c = compile(net, { backend: 'wasm', mode: 'mode', threads: 2 })
      if (E.isRight(c)) c.right.close()
      return { type: 'message', message: E.isLeft(c) ? drawCompileError(c.left) : 'compiled' }
    }
    case 'doc':
      return docExample()
    case 'fail':
      return fail(r.how)
    case 'start-fail': {
      const p = await startWebPool({ module: new wasm.Module(needsF), memory: sharedMachine().memory, exports: [], workers: 2 })
      if (E.isRight(p)) p.right.close()
      return { type: 'message', message: E.isLeft(p) ? p.left : 'started' }
    }
  }
}

scope.onmessage = (event) => {
  const { id, request } = event.data
  void answer(request).then(
    (reply) => scope.postMessage({ id, reply }),
    (err: unknown) => scope.postMessage({ id, reply: { type: 'message', message: `the worker threw: ${String(err)}` } }),
  )
}

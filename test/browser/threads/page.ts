/**
 * The threads test's page (bundled by threads.browser-test.ts): `threadsTest.ask` sends a request
 * to the test's worker (worker.ts) and resolves with its reply; `threadsTest.mainThread` tries
 * threads on the page's main thread, which must be refused.
 */
import * as E from 'fp-ts/lib/Either.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { compileAsync } from '../../../src/interpreters/compiled/compileAsync.js'
import { build } from '../../interpreters/compiled/nets.js'
import type { ThreadsReply, ThreadsRequest } from './protocol.js'
import { tinyNet } from './protocol.js'

interface PageWorker {
  onmessage: ((event: { readonly data: { readonly id: number; readonly reply: ThreadsReply } }) => void) | null
  onerror: ((event: { readonly message?: string }) => void) | null
  postMessage(message: { readonly id: number; readonly request: ThreadsRequest }): void
}
interface PageScope {
  readonly Worker: new (url: string, options: { readonly type: 'module' }) => PageWorker
  readonly crossOriginIsolated: boolean
  threadsTest?: unknown
}
const scope = globalThis as unknown as PageScope

const waiting = new Map<number, (reply: ThreadsReply) => void>()
let worker: PageWorker | undefined
let next = 0

const ask = (request: ThreadsRequest): Promise<ThreadsReply> =>
  new Promise((resolve) => {
    if (worker === undefined) {
      worker = new scope.Worker('worker.js', { type: 'module' })
      worker.onmessage = (event) => {
        waiting.get(event.data.id)?.(event.data.reply)
        waiting.delete(event.data.id)
      }
      worker.onerror = (event) => {
        for (const r of waiting.values()) r({ type: 'message', message: `the worker failed: ${event.message ?? '?'}` })
        waiting.clear()
      }
    }
    const id = ++next
    waiting.set(id, resolve)
    worker.postMessage({ id, request })
  })

/** What `compile` and `compileAsync` say to threads 2 on the main thread. */
const mainThread = async (): Promise<readonly string[]> => {
  const { net } = build(tinyNet)
  const sync = compile(net, { backend: 'wasm', mode: 'mode', threads: 2 })
  const later = await compileAsync(net, { backend: 'wasm', mode: 'mode', threads: 2 })
  return [sync, later].map((c) => {
    if (E.isLeft(c)) return drawCompileError(c.left)
    c.right.close()
    return 'compiled'
  })
}

scope.threadsTest = { ask, mainThread, isolated: scope.crossOriginIsolated }

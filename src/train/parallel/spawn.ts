/**
 * Starting a data-parallel worker on Node's worker_threads. The worker runs worker.ts (or the
 * compiled worker.js beside this file); when sbnkit runs from its TypeScript sources (tsx,
 * vitest), the worker first registers tsx's loader, which a development checkout has. The worker
 * says "ready" once it has rebuilt the network and its kernels, or why it could not; later
 * failures come through a MessagePort read synchronously (`receiveMessageOnPort`).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TeamData } from './teamData.js'

export interface NodeWorkerLike {
  /** Resolves with undefined once the worker is ready, or with why it did not start. */
  readonly ready: (timeoutMs: number) => Promise<string | undefined>
  readonly terminate: () => Promise<number>
}

interface NodeWorker {
  unref(): void
  terminate(): Promise<number>
  on(event: 'message' | 'error' | 'exit', listener: (x: unknown) => void): void
}
interface NodePort { close(): void; unref?(): void }
interface WorkerThreads {
  readonly Worker: new (source: string, opts: { readonly eval: true; readonly workerData: unknown; readonly transferList: readonly unknown[] }) => NodeWorker
  readonly MessageChannel: new () => { readonly port1: NodePort; readonly port2: NodePort }
  readonly receiveMessageOnPort: (port: NodePort) => { readonly message: unknown } | undefined
}

const builtin = <T>(id: string): T | undefined =>
  (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(id) as T | undefined

/** The worker's entry module, and tsx's loader when running from sources. */
const entry = (): E.Either<string, { readonly url: string; readonly loader?: string }> => {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return E.right({ url: new URL('./worker.js', here).href })
  const mod = builtin<{ readonly createRequire: (from: string) => { resolve: (id: string) => string } }>('node:module')
  const url = builtin<{ readonly pathToFileURL: (p: string) => URL }>('node:url')
  if (mod === undefined || url === undefined) return E.left('node:module is not available here')
  try {
    const pkg = mod.createRequire(here).resolve('tsx/package.json')
    return E.right({ url: new URL('./worker.ts', here).href, loader: url.pathToFileURL(pkg.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href })
  } catch {
    return E.left('running from TypeScript sources needs tsx installed (npm ci) to start worker threads')
  }
}

/** Starts one worker with `data`, or says why it cannot. */
export const workerStart = (data: Omit<TeamData, 'port'>): E.Either<string, { readonly worker: NodeWorkerLike; readonly message: () => string | undefined }> => {
  const wt = builtin<WorkerThreads>('node:worker_threads')
  if (wt === undefined) return E.left('worker_threads are not available here')
  const where = entry()
  if (E.isLeft(where)) return where
  const { url, loader } = where.right
  const load = `import(${JSON.stringify(url)})`
  const source = loader === undefined ? `${load}.catch((e) => { throw e })` : `import(${JSON.stringify(loader)}).then((m) => { m.register(); return ${load} })`
  const { port1, port2 } = new wt.MessageChannel()
  const worker = new wt.Worker(source, { eval: true, workerData: { ...data, port: port2 }, transferList: [port2] })
  let state: string | undefined | null = null
  const waiters: ((why: string | undefined) => void)[] = []
  const settle = (why: string | undefined): void => {
    if (state !== null) return
    state = why
    for (const w of waiters) w(why)
  }
  worker.on('message', (m) => settle(m === 'ready' ? undefined : String(m)))
  worker.on('error', (e) => settle(e instanceof Error ? e.message : String(e)))
  worker.on('exit', (code) => settle(`its thread exited (code ${String(code)})`))
  worker.unref()
  port1.unref?.()
  const message = (): string | undefined => {
    const m = wt.receiveMessageOnPort(port1)?.message
    return typeof m === 'string' ? m : undefined
  }
  const ready = (timeoutMs: number): Promise<string | undefined> =>
    state !== null
      ? Promise.resolve(state)
      : new Promise((resolve) => {
        const t = setTimeout(() => settle('timed out'), timeoutMs)
        waiters.push((why) => {
          clearTimeout(t)
          resolve(why)
        })
      })
  return E.right({ worker: { ready, terminate: () => { port1.close(); return worker.terminate() } }, message })
}

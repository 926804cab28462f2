/**
 * Starting a data-parallel worker on Node's worker_threads. The worker runs worker.ts (or the
 * compiled worker.js beside this file); when sbnkit runs from its TypeScript sources (tsx,
 * vitest), the worker first registers tsx's loader, which a development checkout has. The worker
 * says "ready" once it has rebuilt the network and its kernels, or why it could not; later
 * failures come through a MessagePort read synchronously (`receiveMessageOnPort`).
 */
import * as E from 'fp-ts/lib/Either.js'
import { builtin, workerSource } from '../../threads/workerSource.js'
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

/** Starts one worker with `data`, or says why it cannot. */
export const workerStart = (data: Omit<TeamData, 'port'>): E.Either<string, { readonly worker: NodeWorkerLike; readonly message: () => string | undefined }> => {
  const wt = builtin<WorkerThreads>('node:worker_threads')
  if (wt === undefined) return E.left('worker_threads are not available here')
  const source = workerSource(import.meta.url, 'worker')
  if (E.isLeft(source)) return source
  const { port1, port2 } = new wt.MessageChannel()
  const worker = new wt.Worker(source.right, { eval: true, workerData: { ...data, port: port2 }, transferList: [port2] })
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

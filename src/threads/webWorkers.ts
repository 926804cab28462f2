/**
 * The thread pool of pool.ts on Web Workers, for a network compiled inside a Web Worker of a page.
 * The workers run pool.ts's own worker source (`WORKER_SOURCE`) behind a small prelude that gives
 * it what it reads from Node (`workerData`, a port for the failure message, `process.on('exit')`
 * and `process.exit`), and the jobs use the same control words, so a job computes the same bits
 * as on Node and as on one thread.
 *
 * What differs is the start, measured in headless Chromium: a nested worker does not boot, nor
 * receive a message holding a `SharedArrayBuffer` or a `WebAssembly.Memory`, while its parent
 * blocks in `Atomics.wait` (a synchronous start waits for ever). Once a worker has its memory,
 * the jobs themselves (Atomics only) run while the parent blocks. So the start is asynchronous
 * (`startWebPool` returns a Promise, bounded by `START_TIMEOUT`), and `run` stays synchronous.
 * A failure message is written into a small shared buffer per worker (a `MessagePort` cannot be
 * read synchronously in a browser).
 *
 * Where: in a dedicated Web Worker of a cross-origin isolated page (COOP `same-origin` and COEP
 * `require-corp`, for `SharedArrayBuffer`). A page's main thread may not block, so it is refused.
 *
 * @example
 * const pool = await startWebPool({ module, memory, exports: ['k0'], workers: 2 })
 * if (E.isRight(pool)) pool.right.run([list1, list2], () => mine())
 */
import * as E from 'fp-ts/lib/Either.js'
import type { PoolSpec, ThreadPool } from './pool.js'
import { EXTRA_WORDS, FAILED, POSTED, READY, SLOT, START_TIMEOUT, WORKER_SOURCE, drive } from './pool.js'

/** UTF-16 code units of a worker's failure message (longer messages are cut). */
const MESSAGE = 1024

/**
 * A web worker's source: wait for the pool's data, then run pool.ts's worker with `process`
 * standing in for Node's (exit: report, close the worker, unwind its job with a non-Error value).
 */
export const WEB_WORKER_SOURCE = `
self.onmessage = (event) => {
  self.onmessage = null
  const { text: webText, ...webData } = event.data
  const webChars = new Uint16Array(webText)
  const webPort = { postMessage: (s) => {
    const n = Math.min(s.length, webChars.length - 1)
    for (let i = 0; i < n; i++) webChars[i + 1] = s.charCodeAt(i)
    webChars[0] = n
  } }
  const webOnExit = []
  const webStop = { exit: true }
  globalThis.process = {
    getBuiltinModule: () => ({ workerData: { ...webData, port: webPort } }),
    on: (name, f) => { if (name === 'exit') webOnExit.push(f) },
    exit: (code) => { for (const f of webOnExit) f(code); self.close(); throw webStop },
  }
  {
${WORKER_SOURCE}
  }
}
`

/** The slice of the DOM's `Worker` the pool uses. */
interface WebWorker {
  postMessage(message: unknown): void
  terminate(): void
  addEventListener(type: 'error', listener: (event: { readonly message?: string; preventDefault(): void }) => void): void
}
interface WebGlobals {
  readonly WorkerGlobalScope?: abstract new () => unknown
  readonly document?: unknown
  readonly Worker?: new (url: string, options: { readonly name: string }) => WebWorker
  readonly crossOriginIsolated?: boolean
  readonly Blob?: new (parts: string[], options: { readonly type: string }) => object
  readonly URL?: { createObjectURL?: (blob: object) => string; revokeObjectURL?: (url: string) => void }
}
const web = globalThis as WebGlobals

/**
 * Where this code runs, as far as threads care: a Web Worker, a page's main thread, or neither
 * (Node, or another runtime: pool.ts decides there).
 * @example webHost() // 'worker' inside `new Worker(...)` of a page
 */
export const webHost = (): 'worker' | 'page' | undefined => {
  if (typeof web.WorkerGlobalScope === 'function' && globalThis instanceof web.WorkerGlobalScope) return 'worker'
  if (typeof web.document === 'object' && web.document !== null) return 'page'
  return undefined
}

/**
 * Why a pool of Web Workers cannot start here, or undefined when it can.
 * @example webRefusal() // on a page's main thread: 'threads > 1 need a Web Worker: …'
 */
export const webRefusal = (): string | undefined => {
  const host = webHost()
  if (host === undefined) return 'this is not a web page or a Web Worker'
  if (host === 'page')
    return "threads > 1 need a Web Worker: a page's main thread may not block (Atomics.wait), so compile and run the network in a worker (docs/compiled.md, \"Threads\")"
  if (typeof SharedArrayBuffer === 'undefined' || web.crossOriginIsolated === false)
    return 'SharedArrayBuffer is not available: the page is not cross-origin isolated (serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)'
  if (typeof web.Worker !== 'function') return 'this worker cannot start workers of its own (no Worker constructor in a worker)'
  if (typeof web.Blob !== 'function' || typeof web.URL?.createObjectURL !== 'function') return 'this worker cannot make a Blob URL for the workers'
  return undefined
}

/** Resolves after `ms` milliseconds (the parent must return to its event loop for a worker to boot). */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Starts `spec.workers` Web Workers on the module and its shared memory; resolves once every one
 * has instantiated the module, or with why one did not (within `START_TIMEOUT` ms).
 */
export const startWebPool = async (spec: PoolSpec): Promise<E.Either<string, ThreadPool>> => {
  const refused = webRefusal()
  if (refused !== undefined) return E.left(refused)
  const control = new SharedArrayBuffer(4 * (SLOT * spec.workers + EXTRA_WORDS))
  const ctl = new Int32Array(control)
  const texts = Array.from({ length: spec.workers }, () => new Uint16Array(new SharedArrayBuffer(2 * (MESSAGE + 1))))
  const url = web.URL!.createObjectURL!(new web.Blob!([WEB_WORKER_SOURCE], { type: 'text/javascript' }))
  const threads: WebWorker[] = []
  const scriptErrors: (string | undefined)[] = []
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    for (let w = 0; w < spec.workers; w++) {
      Atomics.store(ctl, w * SLOT + POSTED, -1)
      Atomics.notify(ctl, w * SLOT + POSTED)
    }
    for (const t of threads) t.terminate()
    web.URL?.revokeObjectURL?.(url)
  }
  try {
    for (let w = 0; w < spec.workers; w++) {
      const t = new web.Worker!(url, { name: `sbnkit thread ${w + 1}` })
      t.addEventListener('error', (event) => {
        scriptErrors[w] = event.message ?? 'its script failed'
        event.preventDefault()
      })
      threads.push(t)
      t.postMessage({ module: spec.module, memory: spec.memory, control, slot: w, exports: spec.exports, text: texts[w]!.buffer })
    }
  } catch (err) {
    close()
    return E.left(`the workers could not be started (${String(err)})`)
  }
  const messageOf = (w: number): string | undefined => {
    const chars = texts[w]!
    const n = chars[0]!
    return n > 0 ? String.fromCharCode(...chars.subarray(1, 1 + n)) : undefined
  }
  const deadline = Date.now() + START_TIMEOUT
  for (let w = 0; w < spec.workers; ) {
    const ready = Atomics.load(ctl, w * SLOT + READY)
    const failed = Atomics.load(ctl, w * SLOT + FAILED) !== 0
    if (ready === 1 && !failed) {
      w++
      continue
    }
    const why = failed
      ? (messageOf(w) ?? 'it failed')
      : ready < 0
        ? 'the module could not be instantiated on the shared memory'
        : scriptErrors[w] !== undefined
          ? `its script failed: ${scriptErrors[w]}`
          : Date.now() > deadline
            ? `timed out after ${START_TIMEOUT / 1000} s`
            : undefined
    if (why !== undefined) {
      close()
      return E.left(`worker ${w + 1} did not start (${why})`)
    }
    await pause(2)
  }
  return E.right(drive(ctl, spec.workers, messageOf, close, () => closed))
}

/**
 * `compileAsync`: `compile` for hosts where worker threads start only asynchronously — a Web
 * Worker of a page, where a nested worker does not boot while its parent blocks (see
 * src/threads/webWorkers.ts). It resolves once every worker runs, so the network it returns splits
 * its runs over them from the first call; `run` and `infer` stay synchronous. On Node it is
 * `compile` (whose start is synchronous there), in a Promise.
 *
 * @example
 * // inside a Web Worker of a cross-origin isolated page
 * const c = await compileAsync(net, { backend: 'wasm', mode: 'mode', threads: 4 })
 * if (E.isRight(c)) postMessage(c.right.run(feed))
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network } from '../../dsl/node.js'
import { laterStarts, nodeThreads } from '../../threads/startThreads.js'
import { webRefusal } from '../../threads/webWorkers.js'
import type { Compiled, CompileOptions } from './compiled.js'
import type { CompileError } from './machine.js'
import { compile, compileWith } from './index.js'

/**
 * Compiles a checked network, and with `threads > 1` in a Web Worker, starts its workers before
 * resolving: `ThreadsUnavailable` says why they could not (a page's main thread, a page that is
 * not cross-origin isolated, a worker that did not start within 20 s).
 */
export const compileAsync = async (net: Checked<Network>, opts: CompileOptions): Promise<E.Either<CompileError, Compiled>> => {
  const threads = opts.threads ?? 1
  // One thread, a wrong option (compile says which) or Node: compile as it is.
  if (!(Number.isInteger(threads) && threads > 1 && threads <= 64) || opts.backend !== 'wasm' || nodeThreads()) return compile(net, opts)
  const refused = webRefusal()
  // Refused before the shared memory is made: it too needs cross-origin isolation.
  if (refused !== undefined) return E.left({ _tag: 'ThreadsUnavailable', message: refused })
  const later = laterStarts()
  const compiled = compileWith(later.start)(net, opts)
  if (E.isLeft(compiled)) return compiled
  const started = await later.started()
  if (E.isRight(started)) return compiled
  compiled.right.close()
  return E.left({ _tag: 'ThreadsUnavailable', message: started.left })
}

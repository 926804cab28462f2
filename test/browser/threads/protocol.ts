/** The messages between the threads test's page (page.ts) and its worker (worker.ts). */
import type { CompiledMode } from '../../../src/interpreters/compiled/index.js'
import type { ConvNetSpec, NetSpec } from '../../interpreters/compiled/nets.js'

export type ThreadsRequest =
  /** Compile one generated network with compileAsync for each thread count and run it (key 3). */
  | { readonly type: 'same'; readonly net: { readonly kind: 'dense'; readonly spec: NetSpec } | { readonly kind: 'conv'; readonly spec: ConvNetSpec }; readonly mode: CompiledMode; readonly threads: readonly number[] }
  /** The example of docs/compiled.md, "Threads". */
  | { readonly type: 'doc' }
  /** `compile` (synchronous) with threads 2 in the worker. */
  | { readonly type: 'sync' }
  /** A pool of 2 Web Workers whose worker 2 throws or exits in its second job. */
  | { readonly type: 'fail'; readonly how: 'throw' | 'exit' }
  /** A pool whose module cannot be instantiated by its workers. */
  | { readonly type: 'start-fail' }

export interface SameRun {
  readonly threads: number
  /** Web Workers started by compileAsync. */
  readonly workers: number
  /** Every output's float64 values as bytes. */
  readonly outputs: Readonly<Record<string, number[]>>
  readonly describe: readonly string[]
}

export type ThreadsReply =
  | { readonly type: 'same'; readonly runs: readonly SameRun[] }
  | { readonly type: 'message'; readonly message: string }
  | { readonly type: 'bytes'; readonly bytes: readonly number[] }
  | { readonly type: 'failure'; readonly worker: number; readonly reason: string; readonly message: string; readonly openAfter: boolean; readonly firstJob: boolean }

/** One small dense layer, for the refusals (the network does not matter there). */
export const tinyNet: NetSpec = { input: 'binary', inputWidth: 5, layers: [{ width: 3, weightNoise: { family: 'none' }, bias: 'none', scale: 'none', batchNorm: 'none', unary: 'none', act: { family: 'none' } }], head: 0, loss: false, batch: 2, seed: 1 }

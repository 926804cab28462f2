/**
 * The entry of the main job's worker thread (started by startSide.ts; never imported): loads the
 * run's held-out sets as the main thread did (from the same cache), rebuilds the kernels
 * single-threaded, then answers each posted job with `runJob`, in the order posted.
 */
import * as E from 'fp-ts/lib/Either.js'
import { parentPort, workerData } from 'node:worker_threads'
import { referenceProducts } from '../interpreters/reference/ops.js'
import { drawRunError } from '../interpreters/runErrors.js'
import { fastProducts } from '../train/fast/index.js'
import type { JobContext, SideJob, WorkerSetup } from './startSide.js'
import { runJob } from './startSide.js'
import { loadData } from './trainSetup.js'

const setup = workerData as WorkerSetup

const context = async (): Promise<E.Either<string, JobContext>> => {
  const data = await loadData(setup.settings, 'flat', setup.cacheDir)
  if (E.isLeft(data)) return data
  const kernels = setup.kernels === 'fast' ? E.mapLeft(drawRunError)(fastProducts()) : E.right(referenceProducts)
  return E.map((k: JobContext['kernels']): JobContext => ({ data: data.right.data, kernels: k }))(kernels)
}

const ready = context()
// Every message waits for the same promise, so the jobs run in the order they were posted.
parentPort?.on('message', (m: { readonly id: number; readonly job: SideJob }) => {
  void ready.then((ctx) => parentPort?.postMessage({ id: m.id, result: E.isLeft(ctx) ? ctx : runJob(m.job, ctx.right) }))
})

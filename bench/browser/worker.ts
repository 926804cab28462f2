/**
 * The worker of bench/browserThreads.ts, bundled for Chromium: compiles the MLP
 * 784→1024→1024→10 (mode network, 8-bit integer pixels) with `compileAsync` for each thread count
 * and times `run()` on a batch in interleaved rounds; posts the ms per run, per thread count.
 */
import * as E from 'fp-ts/lib/Either.js'
import { initParams, input, key, mlp, typecheck } from '../../src/dsl/index.js'
import { compileAsync } from '../../src/interpreters/compiled/compileAsync.js'
import { drawCompileError } from '../../src/interpreters/compiled/index.js'
import type { Compiled } from '../../src/interpreters/compiled/index.js'

export interface BenchRequest {
  readonly threads: readonly number[]
  readonly batch: number
  readonly rounds: number
  /** Runs per timing. */
  readonly runs: number
}
export type BenchReply = { readonly ms: readonly (readonly number[])[] } | { readonly error: string }

interface Scope {
  onmessage: ((event: { readonly data: BenchRequest }) => void) | null
  postMessage(reply: BenchReply | { readonly progress: string }): void
}
const scope = globalThis as unknown as Scope
const now = (): number => (globalThis as unknown as { performance: { now(): number } }).performance.now()

const bench = async (r: BenchRequest): Promise<BenchReply> => {
  const output = mlp({ hidden: [1024, 1024], outputs: 10 })(input('x', ['batch', 784]))
  const net = typecheck({ outputs: { output }, params: initParams({ output }, key(0)) })
  if (E.isLeft(net)) return { error: 'typecheck' }
  const feed = { x: { shape: [r.batch, 784], data: Float64Array.from({ length: r.batch * 784 }, (_, i) => (i * 37) % 256) } }
  const cs: Compiled[] = []
  for (const threads of r.threads) {
    const c = await compileAsync(net.right, { backend: 'wasm', mode: 'mode', threads })
    if (E.isLeft(c)) return { error: drawCompileError(c.left) }
    cs.push(c.right)
    for (let i = 0; i < 3; i++) c.right.run(feed)
  }
  const ms = cs.map(() => [] as number[])
  for (let round = 0; round < r.rounds; round++) {
    cs.forEach((c, t) => {
      const t0 = now()
      for (let i = 0; i < r.runs; i++) c.run(feed)
      ms[t]!.push((now() - t0) / r.runs)
    })
    scope.postMessage({ progress: `round ${round + 1}/${r.rounds}` })
  }
  for (const c of cs) c.close()
  return { ms }
}

scope.onmessage = (event) => {
  void bench(event.data).then(scope.postMessage, (err: unknown) => scope.postMessage({ error: String(err) }))
}
